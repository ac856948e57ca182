import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { S3Client } from "@aws-sdk/client-s3";
import { DeadlineError } from "../../src/platform/util/deadline.ts";
import { emptyListingStats, listDir, listS3 } from "../../src/runtimes/backfill/listing.ts";
import {
  classifyKey,
  compareKeys,
  listPlan,
  minuteName,
  parseRange,
  slotLabel,
} from "../../src/runtimes/backfill/range.ts";

const NOW = Date.parse("2025-08-10T12:34:56Z");
const ms = (iso: string) => Date.parse(iso);

describe("parseRange", () => {
  it("a date-only --to includes that day", () => {
    const r = parseRange({ from: "2025-07-01", to: "2025-07-31" }, NOW);
    assert.equal(r.fromMs, ms("2025-07-01T00:00:00Z"));
    assert.equal(r.toMs, ms("2025-08-01T00:00:00Z"));
  });
  it("a time --to is exclusive, as given", () => {
    const r = parseRange({ from: "2025-07-01T10:00:00Z", to: "2025-07-01T12:00:00+00:00" }, NOW);
    assert.equal(r.toMs, ms("2025-07-01T12:00:00Z"));
  });
  it("--since is [now - d, now)", () => {
    assert.deepEqual(parseRange({ since: "7d" }, NOW), { fromMs: NOW - 7 * 86_400_000, toMs: NOW });
  });
  it("either side may be open", () => {
    assert.deepEqual(parseRange({}, NOW), {});
    assert.deepEqual(parseRange({ from: "2025-07-01" }, NOW), { fromMs: ms("2025-07-01T00:00:00Z") });
  });
  it("refuses empty ranges and mixed forms", () => {
    assert.throws(
      () => parseRange({ from: "2025-07-02", to: "2025-07-01T00:00:00Z" }, NOW),
      /empty time range/,
    );
    assert.throws(() => parseRange({ since: "1d", from: "2025-07-01" }, NOW), /cannot be combined/);
    assert.throws(() => parseRange({ since: "soon" }, NOW), /duration/);
    assert.throws(() => parseRange({ from: "yesterday" }, NOW), /not a time/);
  });
});

describe("names", () => {
  it("slot labels and minute prefixes", () => {
    assert.equal(slotLabel(ms("2025-07-25T18:20:00Z")), "2025-07-25T18:20:00+00:00");
    assert.equal(minuteName(ms("2025-07-25T18:20:59Z")), "2025-07-25T18:20");
  });
  it("compares as UTF-8 bytes like S3", () => {
    // U+FF5E sorts before U+1F600 in UTF-16 code units? No: surrogates (D83D) sort before FF5E in JS,
    // but after it in UTF-8 bytes (EF.. < F0..).
    assert.ok("\u{1F600}" < "\uFF5E");
    assert.ok(compareKeys("\u{1F600}", "\uFF5E") > 0);
  });
});

describe("listPlan and classifyKey", () => {
  const july = parseRange({ from: "2025-07-10", to: "2025-07-10" }, NOW); // the whole day

  it("takes in-range names (json and json.gz) wherever they sit under the prefix, skips others", () => {
    const p = listPlan("twingate/", july);
    const verdicts = [
      "twingate/2025-07-10T00:00:00+00:00.json",
      "twingate/2025-07-10T00:05:00+00:00.json.gz",
      "twingate/2025-07-10T00:07-notes.txt",
      "twingate/2025-07-10T23:55:00+00:00.json",
      "twingate/2025-07-10T23:59:59Z.json",
      "twingate/2025-07-11T00:00:00+00:00.json",
      "twingate/2025-07-09T23:55:00+00:00.json",
      "twingate/README.md",
      "twingate/network_access/2025-07-10T12:00:00+00:00.json",
      "twingate/2025/07/10/2025-07-10T12:00:00+00:00.json",
      "twingate/0archive/2025-07-10T12:00:00+00:00.json",
    ].map((k) => classifyKey(k, p));
    assert.deepEqual(verdicts, [
      "take",
      "take",
      "skip-name",
      "take",
      "take",
      "out-of-range",
      "out-of-range",
      "skip-name",
      "take",
      "take",
      "take",
    ]);
    assert.deepEqual(p, {
      prefix: "twingate/",
      allKeys: false,
      fromSlotMs: ms("2025-07-10T00:00:00Z"),
      toMs: ms("2025-07-11T00:00:00Z"),
    });
  });

  it("a name in the window whose instant is outside (another offset) is out of range", () => {
    const p = listPlan("", july);
    assert.equal(classifyKey("2025-07-10T01:00:00+02:00.json", p), "out-of-range");
    assert.equal(classifyKey("2025-07-10T03:00:00+02:00.json", p), "take");
  });

  it("the lower bound is the slot holding --from", () => {
    const p = listPlan("", { fromMs: ms("2025-07-10T00:07:30Z"), toMs: ms("2025-07-10T01:00:00Z") });
    assert.equal(classifyKey("2025-07-10T00:05:00+00:00.json", p), "take");
    assert.equal(classifyKey("2025-07-10T00:00:00+00:00.json", p), "out-of-range");
  });

  it("an upper bound inside a minute filters by instant", () => {
    const p = listPlan("", { toMs: ms("2025-07-10T00:00:30Z") });
    assert.equal(classifyKey("2025-07-10T00:00:00+00:00.json", p), "take");
    assert.equal(classifyKey("2025-07-10T00:00:45Z.json", p), "out-of-range");
    assert.equal(classifyKey("2025-07-10T00:01:00+00:00.json", p), "out-of-range");
  });

  it("--all-keys takes names that are not Twingate's", () => {
    const p = listPlan("logs/", july, true);
    assert.equal(classifyKey("logs/2025-07-10-export.ndjson", p), "take");
    assert.equal(classifyKey("logs/2025-07-10T00:05:00+00:00.json", p), "take");
  });

  it("no range: the whole prefix", () => {
    const p = listPlan("x/", {});
    assert.equal(classifyKey("x/zzz/2019-01-01T00:00:00+00:00.json", p), "take");
    assert.equal(classifyKey("x/zzz/notes.txt", p), "skip-name");
  });
});

describe("listS3: a page whose answer never comes", () => {
  const page = {
    Contents: [{ Key: "2025-07-25T18:20:00+00:00.json", Size: 10 }],
    IsTruncated: false,
  };
  /** An S3 client whose ListObjectsV2 answers follow `answers` (undefined: never answers). */
  const fakeS3 = (answers: (typeof page | undefined)[]) => {
    let calls = 0;
    const s3 = {
      // Ignores its abort signal, as a wedged SDK call may: the deadline must settle without its help.
      send: () => {
        const a = answers[calls++];
        return a === undefined ? new Promise(() => undefined) : Promise.resolve(a);
      },
    } as unknown as S3Client;
    return { s3, calls: () => calls };
  };
  const list = async (s3: S3Client) => {
    const keys: string[] = [];
    const plan = listPlan("", {});
    for await (const o of listS3(s3, "b", plan, emptyListingStats(), { deadlineMs: 50 })) keys.push(o.key);
    return keys;
  };

  it("is asked again, and the listing goes on", async () => {
    const f = fakeS3([undefined, undefined, page]);
    assert.deepEqual(await list(f.s3), ["2025-07-25T18:20:00+00:00.json"]);
    assert.equal(f.calls(), 3);
  });

  it("fails the listing with a DeadlineError after 3 attempts instead of waiting forever", async () => {
    const f = fakeS3([]);
    await assert.rejects(
      list(f.s3),
      (e: Error) => e instanceof DeadlineError && /ListObjectsV2/.test(e.message),
    );
    assert.equal(f.calls(), 3);
  });
});

describe("listDir", () => {
  it("walks nested folders and follows links to files and folders, once each, skipping broken links and state files", async () => {
    const { mkdtemp, mkdir, writeFile, symlink, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const base = await mkdtemp(join(tmpdir(), "listdir-"));
    try {
      const root = join(base, "root");
      const staging = join(base, "staging");
      await mkdir(join(root, "2025", "07"), { recursive: true });
      await mkdir(staging);
      const name = (m: number) => `2025-07-10T00:${String(m).padStart(2, "0")}:00+00:00.json`;
      await writeFile(join(root, name(0)), "{}");
      await writeFile(join(root, "2025", "07", name(5)), "{}");
      await writeFile(join(root, ".twingate-backfill-state.json"), "{}");
      await writeFile(join(staging, name(10)), "{}");
      await writeFile(join(staging, name(15)), "{}");
      await symlink(join(staging, name(10)), join(root, name(20))); // a linked file, under its link's name
      await symlink(staging, join(root, "staged")); // a linked folder
      await symlink(root, join(root, "2025", "loop")); // a link to an ancestor
      await symlink(join(base, "gone"), join(root, "broken.json")); // a broken link
      const stats = emptyListingStats();
      const got = await listDir(root, listPlan("", {}), stats);
      const rel = got.map((o) =>
        o.key
          .slice(root.length + 1)
          .split("\\")
          .join("/"),
      );
      assert.deepEqual(rel, [
        name(0),
        name(20),
        `2025/07/${name(5)}`,
        `staged/${name(10)}`,
        `staged/${name(15)}`,
      ]);
      assert.equal(stats.seen, 5);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});
