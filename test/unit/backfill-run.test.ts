import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../src/core/model.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { CheckpointFile, type CheckpointState } from "../../src/runtimes/backfill/checkpoint.ts";
import { listPlan } from "../../src/runtimes/backfill/range.ts";
import { runBackfill } from "../../src/runtimes/backfill/run.ts";

const silent = createLogger("silent");
const NAMES = Array.from(
  { length: 12 },
  (_, i) => `2025-07-25T${String(10 + i).padStart(2, "0")}:00:00+00:00.json`,
);

function result(ref: ObjectRef): IngestResult {
  return {
    bucket: ref.bucket,
    key: ref.key,
    notFound: false,
    records: 2,
    indexed: 2,
    duplicates: 0,
    rejected: 0,
    byEventType: { audit_log: 2 },
    rejectedByReason: {},
    bytes: 10,
    durationMs: 1,
  };
}

/** A checkpoint file whose writes fail once the state holds more than `okFiles` objects done. */
class FlakyCheckpoint extends CheckpointFile {
  constructor(
    path: string,
    private readonly okFiles: number,
  ) {
    super(path);
  }
  override async write(state: CheckpointState): Promise<void> {
    if (state.totals.files > this.okFiles) throw new Error("cannot write the checkpoint: disk full");
    return super.write(state);
  }
}

describe("runBackfill (folder, fake pipeline)", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "bf-run-"));
    await mkdir(join(dir, "files"));
    for (const n of NAMES) await writeFile(join(dir, "files", n), "{}");
    await writeFile(join(dir, "files", "notes.txt"), "x");
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const plan = listPlan("", {});
  const base = { source: { kind: "dir" as const, dir: "" }, plan, range: {}, logger: silent };

  it("ingests every Twingate file once, skips others, and removes its checkpoint when complete", async () => {
    const seen: string[] = [];
    const file = new CheckpointFile(join(dir, "cp-ok.json"));
    const s = await runBackfill({
      ...base,
      source: { kind: "dir", dir: join(dir, "files") },
      concurrency: 3,
      ingest: async (ref) => {
        seen.push(ref.key);
        return result(ref);
      },
      checkpoint: { file, id: "x", sourceLabel: "dir" },
    });
    assert.equal(seen.length, NAMES.length);
    assert.equal(new Set(seen).size, NAMES.length);
    assert.equal(s.listing.skippedName, 1);
    assert.equal(s.run.files, NAMES.length);
    assert.equal(s.run.records, 2 * NAMES.length);
    assert.deepEqual(s.run.byEventType, { audit_log: 2 * NAMES.length });
    assert.equal(await file.load(), undefined);
  });

  it("a checkpoint write failure mid-run stops cleanly; the last good checkpoint resumes the rest", async () => {
    const path = join(dir, "cp-flaky.json");
    const flaky = new FlakyCheckpoint(path, 3);
    const first: string[] = [];
    const s1 = await runBackfill({
      ...base,
      source: { kind: "dir", dir: join(dir, "files") },
      concurrency: 1,
      ingest: async (ref) => {
        first.push(ref.key);
        await new Promise((r) => setImmediate(r));
        return result(ref);
      },
      checkpoint: { file: flaky, id: "x", sourceLabel: "dir" },
    });
    assert.match(s1.stopReason ?? "", /disk full/);
    assert.ok(first.length > 3);
    const saved = (await new CheckpointFile(path).load())!;
    const savedFiles = saved.totals.files;
    assert.ok(savedFiles <= 3);

    const second: string[] = [];
    const s2 = await runBackfill({
      ...base,
      source: { kind: "dir", dir: join(dir, "files") },
      concurrency: 2,
      ingest: async (ref) => {
        second.push(ref.key);
        return result(ref);
      },
      checkpoint: { file: new CheckpointFile(path), id: "x", sourceLabel: "dir", resume: saved },
    });
    assert.equal(s2.stopReason, undefined);
    // Everything not saved as done is read again (nothing lost); nothing saved as done is read again.
    assert.deepEqual(
      second.sort(),
      NAMES.slice(savedFiles).map((n) => join(dir, "files", n)),
    );
    assert.equal(s2.total.files, NAMES.length);
  });

  it("a failing object stays unfinished: the checkpoint is kept and holds back the watermark", async () => {
    const path = join(dir, "cp-fail.json");
    const bad = join(dir, "files", NAMES[2]!);
    const s = await runBackfill({
      ...base,
      source: { kind: "dir", dir: join(dir, "files") },
      concurrency: 2,
      ingest: async (ref) => {
        if (ref.key === bad) throw new Error("boom");
        return result(ref);
      },
      checkpoint: { file: new CheckpointFile(path), id: "x", sourceLabel: "dir" },
    });
    assert.deepEqual(s.failed, [{ key: bad, error: "boom" }]);
    const saved = (await new CheckpointFile(path).load())!;
    assert.equal(saved.watermark, join(dir, "files", NAMES[1]!));
    assert.equal(saved.done.length, NAMES.length - 3);
  });

  it("an aborted run leaves in-flight objects unfinished and reports an interruption", async () => {
    const controller = new AbortController();
    let n = 0;
    const s = await runBackfill({
      ...base,
      source: { kind: "dir", dir: join(dir, "files") },
      concurrency: 1,
      signal: controller.signal,
      ingest: async (ref, signal) => {
        if (++n === 4) {
          controller.abort(new Error("Ctrl-C"));
          signal?.throwIfAborted();
        }
        return result(ref);
      },
      checkpoint: { file: new CheckpointFile(join(dir, "cp-abort.json")), id: "x", sourceLabel: "dir" },
    });
    assert.equal(s.interrupted, true);
    assert.equal(s.run.files, 3);
    assert.deepEqual(s.failed, []);
    assert.equal((await new CheckpointFile(join(dir, "cp-abort.json")).load())!.totals.files, 3);
  });
});
