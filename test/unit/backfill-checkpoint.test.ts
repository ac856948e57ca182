import assert from "node:assert/strict";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import {
  addTotals,
  CheckpointError,
  CheckpointFile,
  type CheckpointState,
  CoalescingSaver,
  checkpointId,
  defaultCheckpointPath,
  emptyTotals,
  ProgressTracker,
} from "../../src/runtimes/backfill/checkpoint.ts";

describe("ProgressTracker", () => {
  it("moves the watermark only over keys done at the front", () => {
    const t = new ProgressTracker();
    for (const k of ["a", "b", "c", "d"]) t.taken(k);
    t.completed("b");
    t.completed("d");
    assert.equal(t.watermark, undefined);
    assert.deepEqual(t.doneKeys(), ["b", "d"]);
    assert.deepEqual(t.unfinished(), ["a", "c"]);
    t.completed("a");
    assert.equal(t.watermark, "b");
    assert.deepEqual(t.doneKeys(), ["d"]);
    t.completed("c");
    assert.equal(t.watermark, "d");
    assert.deepEqual(t.doneKeys(), []);
    assert.deepEqual(t.unfinished(), []);
  });

  it("resumes: keys at or below the watermark and keys done beyond it are done", () => {
    const t = new ProgressTracker({ watermark: "k05", done: ["k08"] });
    assert.ok(t.isDone("k01"));
    assert.ok(t.isDone("k05"));
    assert.ok(!t.isDone("k06"));
    assert.ok(t.isDone("k08"));
    t.taken("k06");
    t.taken("k07");
    t.completed("k07");
    t.completed("k06");
    assert.equal(t.watermark, "k07");
    // k08 was done by the earlier run and is never taken again: it stays in the set beyond the watermark.
    assert.deepEqual(t.doneKeys(), ["k08"]);
  });

  it("a failed key holds the watermark back", () => {
    const t = new ProgressTracker();
    t.taken("a");
    t.taken("b");
    t.completed("b");
    assert.equal(t.watermark, undefined);
    assert.deepEqual(t.unfinished(), ["a"]);
  });

  it("refuses keys out of listing order", () => {
    const t = new ProgressTracker();
    t.taken("b");
    assert.throws(() => t.taken("a"), /out of order/);
  });

  it("stays correct across many keys (compaction of the queue)", () => {
    const t = new ProgressTracker();
    const keys = Array.from({ length: 5000 }, (_, i) => `k${String(i).padStart(5, "0")}`);
    for (const k of keys) t.taken(k);
    // complete in pairs swapped: 1,0,3,2,...
    for (let i = 0; i < keys.length; i += 2) {
      t.completed(keys[i + 1]!);
      assert.equal(t.watermark, i === 0 ? undefined : keys[i - 1]);
      t.completed(keys[i]!);
      assert.equal(t.watermark, keys[i + 1]);
    }
    assert.deepEqual(t.doneKeys(), []);
  });
});

describe("checkpoint identity and totals", () => {
  it("depends on source and range as given", () => {
    const a = checkpointId({ source: "s3://b/", from: "2025-07-01", to: "2025-07-31", allKeys: false });
    assert.equal(
      a,
      checkpointId({ source: "s3://b/", from: "2025-07-01", to: "2025-07-31", allKeys: false }),
    );
    assert.notEqual(
      a,
      checkpointId({ source: "s3://c/", from: "2025-07-01", to: "2025-07-31", allKeys: false }),
    );
    assert.notEqual(
      a,
      checkpointId({ source: "s3://b/", from: "2025-07-02", to: "2025-07-31", allKeys: false }),
    );
    assert.notEqual(
      a,
      checkpointId({ source: "s3://b/", from: "2025-07-01", to: "2025-07-31", allKeys: true }),
    );
    assert.equal(defaultCheckpointPath(a, "/tmp/x"), `/tmp/x/.twingate-backfill-${a}.json`);
  });
  it("adds totals", () => {
    const t = emptyTotals();
    addTotals(t, {
      ...emptyTotals(),
      files: 1,
      records: 3,
      byEventType: { dns_filtering: 2 },
      rejectedByReason: { x: 1 },
    });
    addTotals(t, { ...emptyTotals(), files: 1, records: 2, byEventType: { dns_filtering: 1, audit_log: 1 } });
    assert.equal(t.files, 2);
    assert.equal(t.records, 5);
    assert.deepEqual(t.byEventType, { dns_filtering: 3, audit_log: 1 });
    assert.deepEqual(t.rejectedByReason, { x: 1 });
  });
});

describe("CheckpointFile", async () => {
  const dir = await mkdtemp(join(tmpdir(), "cp-test-"));
  after(() => rm(dir, { recursive: true, force: true }));
  const state: CheckpointState = {
    version: 1,
    id: "abc",
    source: "s3://b/",
    range: { fromMs: 1 },
    allKeys: false,
    watermark: "k1",
    done: ["k3"],
    totals: emptyTotals(),
    updatedAt: new Date(0).toISOString(),
  };

  it("round-trips and removes", async () => {
    const f = new CheckpointFile(join(dir, "a.json"));
    assert.equal(await f.load(), undefined);
    await f.write(state);
    assert.deepEqual(await f.load(), state);
    await f.remove();
    assert.equal(await f.load(), undefined);
  });

  it("refuses a file that is not a checkpoint", async () => {
    const p = join(dir, "bad.json");
    await writeFile(p, "{not json");
    await assert.rejects(new CheckpointFile(p).load(), CheckpointError);
    await writeFile(p, JSON.stringify({ hello: 1 }));
    await assert.rejects(new CheckpointFile(p).load(), /not a backfill checkpoint/);
  });

  it("an unwritable folder fails up front with a clear error", async (t) => {
    if (process.getuid?.() === 0) return t.skip("root can write anywhere");
    const ro = join(dir, "ro");
    await import("node:fs/promises").then((fs) => fs.mkdir(ro));
    await chmod(ro, 0o500);
    const f = new CheckpointFile(join(ro, "cp.json"));
    await assert.rejects(f.checkWritable(), /not writable/);
    await assert.rejects(f.write(state), /cannot write the checkpoint/);
    await chmod(ro, 0o700);
  });

  it("a missing folder fails up front", async () => {
    const f = new CheckpointFile(join(dir, "nope", "cp.json"));
    await assert.rejects(f.checkWritable(), CheckpointError);
  });

  it("a failed write leaves the previous checkpoint intact", async () => {
    const p = join(dir, "keep.json");
    const f = new CheckpointFile(p);
    await f.write(state);
    const bad = { ...state, totals: { ...state.totals, files: 1n } } as unknown as CheckpointState; // BigInt: JSON throws
    await assert.rejects(f.write(bad), /cannot write the checkpoint/);
    assert.deepEqual(JSON.parse(await readFile(p, "utf8")), state);
  });
});

describe("CoalescingSaver", () => {
  it("never overlaps writes and writes the latest state after the last request", async () => {
    let running = 0;
    let maxRunning = 0;
    let value = 0;
    const written: number[] = [];
    let release: (() => void) | undefined;
    const saver = new CoalescingSaver(
      async () => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        const v = value;
        await new Promise<void>((r) => {
          release = r;
        });
        written.push(v);
        running--;
      },
      () => assert.fail("no error expected"),
    );
    value = 1;
    saver.request();
    value = 2;
    saver.request();
    value = 3;
    saver.request();
    release!();
    await new Promise((r) => setImmediate(r));
    release!();
    const flushed = saver.flush();
    await new Promise((r) => setImmediate(r));
    release!();
    await flushed;
    assert.equal(maxRunning, 1);
    assert.deepEqual(written, [1, 3, 3]);
  });

  it("keeps the first error and reports it once", async () => {
    const errors: unknown[] = [];
    const saver = new CoalescingSaver(
      async () => {
        throw new Error("disk full");
      },
      (e) => errors.push(e),
    );
    saver.request();
    saver.request();
    await assert.rejects(saver.flush(), /disk full/);
    assert.equal(errors.length, 1);
  });
});
