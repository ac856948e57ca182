import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { parseNotification } from "../../src/core/notifications/index.ts";
import { AwsS3RecordSchema } from "../../src/core/notifications/schemas.ts";
import { createLogger } from "../../src/platform/logger.ts";
import {
  CheckpointFile,
  type CheckpointState,
  type CheckpointStore,
  resolveCheckpointLocation,
} from "../../src/runtimes/backfill/checkpoint.ts";
import {
  fixedObjects,
  notificationBody,
  RatePacer,
  runEnqueue,
  sendBatch,
} from "../../src/runtimes/backfill/enqueue.ts";
import { emptyListingStats, type ListedObject } from "../../src/runtimes/backfill/listing.ts";

const silent = createLogger("silent");
const QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/tg";

function objects(n: number): ListedObject[] {
  const out: ListedObject[] = [];
  for (let i = 0; i < n; i++) {
    const t = new Date(Date.UTC(2025, 6, 1) + i * 300_000).toISOString().replace(".000Z", "+00:00");
    out.push({ key: `tg/${t}.json`, size: 100 + i, etag: `"e${i}"` });
  }
  return out;
}

/** Keys announced by SendMessageBatch calls (every entry of every call, accepted or not). */
function announced(sqs: ReturnType<typeof mockClient>): string[][] {
  return sqs.commandCalls(SendMessageBatchCommand).map((c) =>
    (c.args[0].input.Entries ?? []).map((e) => {
      const n = parseNotification(e.MessageBody!);
      assert.equal(n.kind, "objects");
      return n.kind === "objects" ? n.objects[0]!.key : "";
    }),
  );
}

class MemoryCheckpoint implements CheckpointStore {
  readonly path = "memory";
  state: CheckpointState | undefined;
  writes = 0;
  async load() {
    return this.state;
  }
  async checkWritable() {}
  async write(s: CheckpointState) {
    this.writes++;
    this.state = structuredClone(s);
  }
  async remove() {
    this.state = undefined;
  }
}

describe("backfill --enqueue: the message", () => {
  it("is an S3 event notification the parser takes like a live one (AWS shape, key encoded as S3 does)", () => {
    const key = "tg/sub dir/2025-07-25T18:20:00+00:00.json";
    const body = notificationBody(
      "acme-logs",
      { key, size: 48213, etag: '"5f36"' },
      { region: "eu-west-1", eventTime: new Date("2026-01-02T03:04:05Z") },
    );
    const msg = JSON.parse(body) as { Records: unknown[] };
    assert.equal(msg.Records.length, 1);
    assert.ok(AwsS3RecordSchema.safeParse(msg.Records[0]).success, "passes the AWS record schema");
    assert.match(body, /sub\+dir\/2025-07-25T18%3A20%3A00%2B00%3A00\.json/);
    const n = parseNotification(body);
    assert.deepEqual(n, {
      kind: "objects",
      source: "s3",
      skipped: [],
      objects: [{ bucket: "acme-logs", key, size: 48213, etag: "5f36" }],
    });
  });
});

describe("RatePacer", () => {
  it("spaces batches to the rate, the first at once", async () => {
    let now = 0;
    const waits: number[] = [];
    const pacer = new RatePacer(
      100,
      () => now,
      async (ms) => {
        waits.push(ms);
        now += ms;
      },
    );
    await pacer.take(10);
    await pacer.take(10);
    await pacer.take(10);
    assert.deepEqual(waits, [100, 100]);
    now += 1000; // idle: no catching up in a burst
    await pacer.take(10);
    assert.deepEqual(waits, [100, 100]);
  });

  it("0 is no limit", async () => {
    const pacer = new RatePacer(
      0,
      () => 0,
      async () => assert.fail("waited"),
    );
    await pacer.take(10);
    await pacer.take(10);
  });
});

describe("sendBatch", () => {
  it("sends again only the entries SQS refused, and gives up on the sender's fault", async () => {
    const sqs = mockClient(SQSClient);
    sqs
      .on(SendMessageBatchCommand)
      .resolvesOnce({
        Successful: [{ Id: "0", MessageId: "m0", MD5OfMessageBody: "" }],
        Failed: [
          { Id: "1", Code: "InternalError", SenderFault: false, Message: "try again" },
          { Id: "2", Code: "InvalidMessageContents", SenderFault: true, Message: "bad" },
        ],
      })
      .resolvesOnce({ Successful: [{ Id: "1", MessageId: "m1", MD5OfMessageBody: "" }], Failed: [] });
    const entries = ["a", "b", "c"].map((b, i) => ({ Id: String(i), MessageBody: b }));
    const out = await sendBatch(sqs as unknown as SQSClient, QUEUE, entries, { backoff: () => 0 });
    assert.deepEqual(out.sent.sort(), ["0", "1"]);
    assert.deepEqual(out.failed, [{ id: "2", error: "InvalidMessageContents: bad" }]);
    const calls = sqs.commandCalls(SendMessageBatchCommand);
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls[1]!.args[0].input.Entries!.map((e) => e.MessageBody),
      ["b"],
      "the retry holds only the retryable refusal",
    );
  });

  it("stops retrying after the attempts", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageBatchCommand).resolves({
      Successful: [],
      Failed: [{ Id: "0", Code: "InternalError", SenderFault: false }],
    });
    const out = await sendBatch(sqs as unknown as SQSClient, QUEUE, [{ Id: "0", MessageBody: "x" }], {
      attempts: 3,
      backoff: () => 0,
    });
    assert.equal(out.failed.length, 1);
    assert.equal(sqs.commandCalls(SendMessageBatchCommand).length, 3);
  });
});

describe("runEnqueue", () => {
  const ok = (input: { Entries?: { Id?: string }[] }) => ({
    Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id!, MessageId: "m", MD5OfMessageBody: "" })),
    Failed: [],
  });

  it("sends every object once, 10 a call, in listing order, and removes its checkpoint when done", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageBatchCommand).callsFake(ok);
    const cp = new MemoryCheckpoint();
    const objs = objects(25);
    const s = await runEnqueue({
      sqs: sqs as unknown as SQSClient,
      queueUrl: QUEUE,
      bucket: "b",
      objects: fixedObjects(objs),
      stats: emptyListingStats(),
      rate: 0,
      concurrency: 2,
      logger: silent,
      checkpoint: { file: cp, id: "x", sourceLabel: "s3://b/tg/", range: {}, allKeys: false },
    });
    const calls = announced(sqs);
    assert.deepEqual(
      calls.map((c) => c.length),
      [10, 10, 5],
    );
    assert.deepEqual(calls.flat().sort(), objs.map((o) => o.key).sort());
    assert.equal(s.run.files, 25);
    assert.equal(s.failed.length, 0);
    assert.equal(cp.state, undefined, "a complete run removes its checkpoint");
  });

  it("a failed call stops the run; the checkpoint holds only what SQS acknowledged, and a rerun sends the rest", async () => {
    const sqs = mockClient(SQSClient);
    let calls = 0;
    sqs.on(SendMessageBatchCommand).callsFake((input) => {
      calls++;
      if (calls === 3) throw new Error("network down");
      return ok(input);
    });
    const cp = new MemoryCheckpoint();
    const objs = objects(47);
    const base = {
      sqs: sqs as unknown as SQSClient,
      queueUrl: QUEUE,
      bucket: "b",
      objects: fixedObjects(objs),
      rate: 0,
      concurrency: 1,
      logger: silent,
    };
    const first = await runEnqueue({
      ...base,
      stats: emptyListingStats(),
      checkpoint: { file: cp, id: "x", sourceLabel: "s3://b/tg/", range: {}, allKeys: false },
    });
    assert.match(first.stopReason ?? "", /network down/);
    assert.equal(first.run.files, 20);
    assert.equal(cp.state?.watermark, objs[19]!.key);
    assert.equal(cp.state?.totals.files, 20);

    sqs.reset();
    sqs.on(SendMessageBatchCommand).callsFake(ok);
    const second = await runEnqueue({
      ...base,
      stats: emptyListingStats(),
      checkpoint: {
        file: cp,
        id: "x",
        sourceLabel: "s3://b/tg/",
        range: {},
        allKeys: false,
        resume: cp.state!,
      },
    });
    assert.equal(second.alreadyDone, 20);
    assert.equal(second.run.files, 27);
    assert.equal(second.total.files, 47);
    assert.deepEqual(
      announced(sqs).flat(),
      objs.slice(20).map((o) => o.key),
    );
  });

  it("an entry refused for good is reported and keeps the watermark back", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(SendMessageBatchCommand).callsFake((input: { Entries?: { Id?: string }[] }) => ({
      Successful: (input.Entries ?? [])
        .filter((e) => e.Id !== "3")
        .map((e) => ({ Id: e.Id!, MessageId: "m", MD5OfMessageBody: "" })),
      Failed: (input.Entries ?? [])
        .filter((e) => e.Id === "3")
        .map((e) => ({ Id: e.Id!, Code: "Invalid", SenderFault: true })),
    }));
    const cp = new MemoryCheckpoint();
    const objs = objects(8);
    const s = await runEnqueue({
      sqs: sqs as unknown as SQSClient,
      queueUrl: QUEUE,
      bucket: "b",
      objects: fixedObjects(objs),
      stats: emptyListingStats(),
      rate: 0,
      concurrency: 1,
      logger: silent,
      checkpoint: { file: cp, id: "x", sourceLabel: "s", range: {}, allKeys: false },
    });
    assert.deepEqual(
      s.failed.map((f) => f.key),
      [objs[3]!.key],
    );
    assert.equal(cp.state?.watermark, objs[2]!.key);
    assert.equal(cp.state?.done.length, 4);
  });
});

describe("checkpoint location", () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("a file, a folder, an S3 object or an S3 prefix", async () => {
    const dir = await mkdtemp(join(tmpdir(), "cp-"));
    dirs.push(dir);
    assert.deepEqual(await resolveCheckpointLocation(undefined, "abc", "/work/x"), {
      kind: "file",
      path: "/work/x/.twingate-backfill-abc.json",
    });
    assert.deepEqual(await resolveCheckpointLocation(dir, "abc"), {
      kind: "file",
      path: join(dir, ".twingate-backfill-abc.json"),
    });
    assert.deepEqual(await resolveCheckpointLocation("/nope/state/", "abc"), {
      kind: "file",
      path: "/nope/state/.twingate-backfill-abc.json",
    });
    assert.deepEqual(await resolveCheckpointLocation(join(dir, "my.json"), "abc"), {
      kind: "file",
      path: join(dir, "my.json"),
    });
    assert.deepEqual(await resolveCheckpointLocation("s3://ops-bucket/backfill/july.json", "abc"), {
      kind: "s3",
      bucket: "ops-bucket",
      key: "backfill/july.json",
    });
    assert.deepEqual(await resolveCheckpointLocation("s3://ops-bucket/state/", "abc"), {
      kind: "s3",
      bucket: "ops-bucket",
      key: "state/twingate-backfill-abc.json",
    });
    assert.deepEqual(await resolveCheckpointLocation("s3://ops-bucket", "abc"), {
      kind: "s3",
      bucket: "ops-bucket",
      key: "twingate-backfill-abc.json",
    });
    await assert.rejects(resolveCheckpointLocation("s3:///key", "abc"), /s3:\/\/bucket/);
    // The file store keeps working as before.
    const f = new CheckpointFile(join(dir, "my.json"));
    assert.equal(await f.load(), undefined);
  });
});
