/**
 * Backfill against the real stack: a producer-written "month" (every slot of one day, then a sparse
 * rest of the month, a few records per file, with invalid records) is ingested with exact counts; a
 * second run adds nothing; a run stopped by Ctrl-C and then killed mid-way resumes and ends with the same
 * exact counts; a --from/--to backfill lists and fetches only the files in range.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CopyObjectCommand, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES, type ObjectRef } from "../../src/core/model.ts";
import { type Slot, slotsInRange } from "../../src/core/twingate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { CheckpointState } from "../../src/runtimes/backfill/checkpoint.ts";
import { listPlan, parseRange } from "../../src/runtimes/backfill/range.ts";
import type { BackfillSummary } from "../../src/runtimes/backfill/run.ts";
import { runBackfill } from "../../src/runtimes/backfill/run.ts";
import type { ProduceSummary } from "../../src/tools/produce/run.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { produceFiles, s3Pipeline } from "../helpers/history.ts";
import { type CliHandle, type CliRun, countDocs, startCli } from "../helpers/processes.ts";
import {
  type AwsClients,
  awsClients,
  dropPrefix,
  opensearchClient,
  stackAvailable,
  uniqueName,
} from "../helpers/stack.ts";

const silent = createLogger("silent");
const DAY = 86_400_000;
const JULY = Date.parse("2025-07-01T00:00:00Z");

let aws: AwsClients;
let os: Client;
let bucket: string;
let produced: ProduceSummary;
let outside: string[];
let dir: string;

/** Every 5-minute slot of July 1st's first 3 hours, then one slot a day to the end of the month. */
function monthSlots(): Slot[] {
  const dense = slotsInRange(JULY, JULY + 3 * 3_600_000);
  const sparse: Slot[] = [];
  for (let t = JULY + DAY; t < JULY + 31 * DAY; t += 24 * 3_600_000)
    sparse.push({ startMs: t, endMs: t + 300_000 });
  return [...dense, ...sparse];
}

function startBackfill(args: string[]): CliHandle {
  return startCli(["backfill", "--json", ...args]);
}

function backfillCli(args: string[]): Promise<CliRun> {
  return startBackfill(args).done;
}

async function readCheckpoint(path: string): Promise<CheckpointState | undefined> {
  try {
    return JSON.parse(await readFile(path, "utf8")) as CheckpointState;
  } catch {
    return undefined;
  }
}

/** Polls the checkpoint file (progress, not time) until it records at least `files` objects done. */
async function untilCheckpointHas(run: CliHandle, path: string, files: number): Promise<void> {
  for (;;) {
    const cp = await readCheckpoint(path);
    if (cp && cp.totals.files >= files) return;
    if (run.exited()) throw new Error(`backfill exited before ${files} files:\n${(await run.done).stderr}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function assertIndexedExactly(prefix: string): Promise<void> {
  for (const t of EVENT_TYPES) {
    assert.equal(await countDocs(os, `${prefix}-${t}-*`), produced.by_event_type[t], `documents of ${t}`);
  }
  assert.equal(
    await countDocs(os, `${prefix}-quarantine-*`),
    produced.faults["invalid"],
    "quarantine documents",
  );
}

/** The exit-code rule: records rejected (quarantined) are problems found, exit 1 (the data has a tenth invalid). */
function rejectsExit(): number {
  return produced.faults["invalid"] ? 1 : 0;
}

function assertSummaryMatches(t: BackfillSummary["total"]): void {
  assert.equal(t.records, produced.records);
  assert.equal(t.indexed, produced.valid);
  assert.deepEqual(
    Object.fromEntries(Object.entries(t.byEventType).sort()),
    Object.fromEntries(
      Object.entries(produced.by_event_type)
        .filter(([, n]) => n > 0)
        .sort(),
    ),
  );
  assert.deepEqual(
    t.rejectedByReason,
    produced.faults["invalid"] ? { schema_invalid: produced.faults["invalid"] } : {},
  );
}

describe("backfill", { skip: !stackAvailable() && "needs the local stack (npm test)" }, () => {
  before(async () => {
    aws = awsClients();
    os = opensearchClient();
    bucket = uniqueName("e2e-backfill");
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    produced = await produceFiles(aws.s3, bucket, monthSlots(), { seed: 7 });
    // Keys the July range must not read: a June and an August file, and a name that is not Twingate's.
    const extra = await produceFiles(
      aws.s3,
      bucket,
      [
        { startMs: JULY - 300_000, endMs: JULY },
        { startMs: JULY + 31 * DAY, endMs: JULY + 31 * DAY + 300_000 },
      ],
      { seed: 8 },
    );
    outside = extra.files.map((f) => f.key);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "tg/README.txt", Body: "not a sync file" }),
    );
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "tg/2025-07-05-notes.txt", Body: "not a sync file" }),
    );
    dir = await mkdtemp(join(tmpdir(), "e2e-backfill-"));
  });

  const prefixes: string[] = [];
  after(async () => {
    aws?.destroy();
    for (const p of prefixes) await dropPrefix(os, p);
    await os?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function freshPrefix(what: string): Promise<string> {
    const prefix = uniqueName(`e2e-bf-${what}`);
    prefixes.push(prefix);
    await runSetup(os, { indexPrefix: prefix, replicas: 0 }, silent);
    return prefix;
  }

  it("ingests a month exactly; a second run adds nothing", async () => {
    const prefix = await freshPrefix("month");
    const checkpoint = join(dir, "month.json");
    const args = [
      ...["--bucket", bucket, "--prefix", "tg/", "--from", "2025-07-01", "--to", "2025-07-31"],
      ...["--index-prefix", prefix, "--checkpoint", checkpoint, "--concurrency", "8"],
    ];
    const first = await backfillCli(args);
    assert.equal(first.code, rejectsExit(), first.stderr);
    const s1 = JSON.parse(first.stdout) as BackfillSummary;
    assert.equal(s1.listing.taken, produced.files.length);
    assert.equal(s1.listing.skippedName, 2, "the notes file and README.txt are skipped and counted");
    assert.equal(s1.run.files, produced.files.length);
    assertSummaryMatches(s1.run);
    assert.equal(s1.run.duplicates, 0);
    await assertIndexedExactly(prefix);
    await assert.rejects(stat(checkpoint), /ENOENT/, "a complete run removes its checkpoint");

    const second = await backfillCli(args);
    assert.equal(second.code, rejectsExit(), second.stderr);
    const s2 = JSON.parse(second.stdout) as BackfillSummary;
    assert.equal(s2.run.files, produced.files.length);
    assert.equal(
      s2.run.duplicates,
      produced.valid + (produced.faults["invalid"] ?? 0),
      "everything was already there",
    );
    await assertIndexedExactly(prefix);
  });

  it("stopped with Ctrl-C, then killed mid-way, resumes and ends with the same exact counts", async () => {
    const prefix = await freshPrefix("resume");
    const checkpoint = join(dir, "resume.json");
    const args = [
      "--bucket",
      bucket,
      "--prefix",
      "tg/",
      "--from",
      "2025-07-01",
      "--to",
      "2025-07-31",
      "--index-prefix",
      prefix,
      "--checkpoint",
      checkpoint,
      "--concurrency",
      "1",
    ];
    const total = produced.files.length;

    // 1. Ctrl-C: stops cleanly, checkpoint saved, exit 130.
    const interrupted = startBackfill(args);
    await untilCheckpointHas(interrupted, checkpoint, 10);
    interrupted.kill("SIGINT");
    const r1 = await interrupted.done;
    assert.equal(r1.code, 130, r1.stderr);
    const s1 = JSON.parse(r1.stdout) as BackfillSummary;
    assert.equal(s1.interrupted, true);
    assert.ok(s1.run.files < total, "stopped before the end");
    const cp1 = (await readCheckpoint(checkpoint))!;
    assert.equal(cp1.totals.files, s1.run.files, "the checkpoint holds exactly what was done");

    // 2. Resumed, then SIGKILLed mid-way: no chance to save anything at exit.
    const killed = startBackfill(args);
    await untilCheckpointHas(killed, checkpoint, s1.run.files + 10);
    killed.kill("SIGKILL");
    const r2 = await killed.done;
    assert.equal(r2.signal, "SIGKILL");
    const cp2 = (await readCheckpoint(checkpoint))!;
    assert.ok(cp2.totals.files < total, "killed before the end");

    // 3. Resumes where it stopped and finishes.
    const r3 = await backfillCli(args);
    assert.equal(r3.code, rejectsExit(), r3.stderr);
    const s3 = JSON.parse(r3.stdout) as BackfillSummary;
    assert.equal(s3.resumed, true);
    assert.ok(s3.run.files < total, `resumed, not restarted (${s3.run.files} of ${total})`);
    assert.ok(s3.run.files >= total - cp2.totals.files);
    await assertIndexedExactly(prefix);
    await assert.rejects(stat(checkpoint), /ENOENT/);
  });

  it("--from/--to fetches only files in range, also in sub-folders and under a prefix without its slash", async () => {
    const prefix = await freshPrefix("range");
    const range = parseRange({ from: "2025-07-10", to: "2025-07-12T12:00:01Z" }, Date.now());
    const name = (k: string) => k.slice(k.lastIndexOf("/") + 1);
    const inRange = produced.files
      .map((f) => f.key)
      .filter((k) => {
        const t = Date.parse(name(k).slice(0, 25));
        return t >= range.fromMs! && t < range.toMs!;
      });
    assert.equal(inRange.length, 3, "one file a day: the 10th, 11th and 12th");
    // The same files in layouts where a range's listing shortcut (StartAfter at its first minute, a stop
    // at its last) loses them: date folders, per-stream folders, a folder sorting before the names.
    const layouts = (k: string) => {
      const n = name(k);
      return [
        `sub/${n.slice(0, 4)}/${n.slice(5, 7)}/${n.slice(8, 10)}/${n}`,
        `sub/network_access/${n}`,
        `sub/0archive/${n}`,
      ];
    };
    const copies = produced.files.flatMap((f) => layouts(f.key).map((to) => ({ from: f.key, to })));
    for (const c of copies)
      await aws.s3.send(
        new CopyObjectCommand({ Bucket: bucket, Key: c.to, CopySource: `${bucket}/${c.from}` }),
      );

    const pipeline = s3Pipeline(os, aws.s3, prefix);
    const fetched: string[] = [];
    const ingest = (ref: ObjectRef, signal?: AbortSignal) => {
      fetched.push(ref.key);
      return pipeline.ingest(ref, signal);
    };
    for (const [p, want] of [
      ["tg/", inRange],
      ["sub", inRange.flatMap(layouts)], // no trailing slash
    ] as const) {
      fetched.length = 0;
      const summary = await runBackfill({
        source: { kind: "s3", s3: aws.s3, bucket },
        plan: listPlan(p, range),
        range,
        concurrency: 2,
        ingest,
        logger: silent,
        pageSize: 7,
      });
      assert.deepEqual(fetched.sort(), [...want].sort(), p);
      assert.equal(summary.listing.taken, want.length);
      assert.equal(summary.run.files, want.length);
    }
    for (const k of outside) assert.ok(!fetched.includes(k));
  });

  it("refuses an unwritable checkpoint before reading anything", async () => {
    // (AUTO_SETUP may install its templates first: dropped after, with the others)
    const unused = uniqueName("e2e-bf-unused");
    prefixes.push(unused);
    const r = await backfillCli([
      "--bucket",
      bucket,
      "--prefix",
      "tg/",
      "--from",
      "2025-07-01",
      "--checkpoint",
      join(dir, "no-such-folder", "cp.json"),
      "--index-prefix",
      unused,
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot write the checkpoint .*no-such-folder/);
    assert.equal(await countDocs(os, `${unused}-*`), 0);
  });

  it("--dry-run lists what would be read and its size, and reads nothing", async () => {
    const r = await backfillCli(["--bucket", bucket, "--prefix", "tg/", "--since", "36500d", "--dry-run"]);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { objects: { key: string; size: number }[]; bytes: number };
    assert.equal(s.objects.length, produced.files.length + outside.length);
    assert.equal(
      s.bytes,
      [...produced.files].reduce((n, f) => n + f.bytes, 0) +
        s.objects.filter((o) => outside.includes(o.key)).reduce((n, o) => n + o.size, 0),
    );
  });
});
