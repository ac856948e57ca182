import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { pino } from "pino";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../src/core/model.ts";
import { TWINGATE_KEY_PATTERN } from "../../src/platform/config/index.ts";
import { createTaskQueue } from "../../src/platform/util/queue.ts";
import { DeleteRefused, MessageDeleter } from "../../src/runtimes/worker/deletes.ts";
import { SqsWorker } from "../../src/runtimes/worker/sqs-worker.ts";

const logger = pino({ level: "silent" });
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

function notification(key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: "2025-07-25T18:20:03.000Z",
        eventName: "ObjectCreated:Put",
        s3: { bucket: { name: "twingate-logs" }, object: { key: encodeURIComponent(key), size: 10 } },
      },
    ],
  });
}

function message(id: string, minute: number): Message {
  const key = `2025-07-25T18:${String(minute).padStart(2, "0")}:00+00:00.json`;
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: notification(key),
    Attributes: { ApproximateReceiveCount: "1", SentTimestamp: String(Date.now()) },
  };
}

function result(ref: ObjectRef): IngestResult {
  return {
    bucket: ref.bucket,
    key: ref.key,
    notFound: false,
    records: 1,
    indexed: 1,
    duplicates: 0,
    rejected: 0,
    byEventType: { network_access: 1 },
    rejectedByReason: {},
    bytes: 10,
    durationMs: 1,
  };
}

describe("MessageDeleter", () => {
  it("a lone delete is a DeleteMessage; deletes asked for while a call is out go in one batch", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(DeleteMessageCommand).callsFake(async () => {
      await tick(20);
      return {};
    });
    sqs.on(DeleteMessageBatchCommand).callsFake(async (input) => ({
      Successful: input.Entries.map((e: { Id: string }) => ({ Id: e.Id })),
    }));
    const d = new MessageDeleter(new SQSClient({ region: "us-east-1" }), {
      queueUrl: "http://q",
      callDeadlineMs: 1000,
      maxInFlight: 1,
    });
    const first = d.delete("a");
    await tick(1);
    const rest = ["b", "c", "d"].map((r) => d.delete(r));
    await Promise.all([first, ...rest]);
    assert.deepEqual(
      sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle),
      ["a"],
    );
    const batches = sqs.commandCalls(DeleteMessageBatchCommand).map((c) => c.args[0].input.Entries);
    assert.deepEqual(
      batches.map((b) => b?.map((e) => e.ReceiptHandle)),
      [["b", "c", "d"]],
    );
    sqs.restore();
  });

  it("a batch's partial failure: refused entries are given up on, failed ones retried, the rest resolved", async () => {
    const sqs = mockClient(SQSClient);
    let batchCalls = 0;
    sqs.on(DeleteMessageCommand).callsFake(async () => {
      await tick(20);
      return {};
    });
    sqs.on(DeleteMessageBatchCommand).callsFake(async (input) => {
      const entries = input.Entries as { Id: string; ReceiptHandle: string }[];
      if (batchCalls++ === 0) {
        // "ok" done; "stale" refused for good; "busy" failed for now; "lost" not mentioned at all.
        const id = (h: string) => entries.find((e) => e.ReceiptHandle === h)!.Id;
        return {
          Successful: [{ Id: id("ok") }],
          Failed: [
            { Id: id("stale"), SenderFault: true, Code: "ReceiptHandleIsInvalid", Message: "expired" },
            { Id: id("busy"), SenderFault: false, Code: "InternalError", Message: "try again" },
          ],
        };
      }
      return { Successful: entries.map((e) => ({ Id: e.Id })) };
    });
    const d = new MessageDeleter(new SQSClient({ region: "us-east-1" }), {
      queueUrl: "http://q",
      callDeadlineMs: 1000,
      maxInFlight: 1,
    });
    const first = d.delete("first");
    await tick(1);
    const outcomes = await Promise.allSettled([
      first,
      ...["ok", "stale", "busy", "lost"].map((r) => d.delete(r)),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    assert.ok((outcomes[2] as PromiseRejectedResult).reason instanceof DeleteRefused);
    const retried = sqs
      .commandCalls(DeleteMessageBatchCommand)
      .slice(1)
      .flatMap((c) => c.args[0].input.Entries?.map((e) => e.ReceiptHandle) ?? []);
    const single = sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle);
    assert.deepEqual([...retried, ...single.slice(1)].sort(), ["busy", "lost"], "only the failed ones again");
    sqs.restore();
  });

  it("a call that keeps failing is given up on after its attempts", async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(DeleteMessageCommand).rejects(new Error("network down"));
    const d = new MessageDeleter(new SQSClient({ region: "us-east-1" }), {
      queueUrl: "http://q",
      callDeadlineMs: 1000,
      attempts: 2,
    });
    await assert.rejects(d.delete("x"), /network down/);
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 2);
    sqs.restore();
  });
});

describe("SqsWorker prefetch", () => {
  it("holds messages beyond the object slots, keeps their visibility while they wait, and releases the ones not started at once on shutdown", async () => {
    const sqs = mockClient(SQSClient);
    const batch = [message("m1", 20), message("m2", 25), message("m3", 30)];
    let served = false;
    sqs.on(ReceiveMessageCommand).callsFake(async (input) => {
      if (served) {
        await tick(5);
        return {};
      }
      served = true;
      return { Messages: batch.slice(0, input.MaxNumberOfMessages) };
    });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(DeleteMessageCommand).resolves({});
    const started: string[] = [];
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      {
        queueUrl: "http://q",
        waitSeconds: 0,
        maxMessages: 10,
        visibilityTimeout: 3, // heartbeat every 1 s
        maxInFlightMessages: 3, // one object slot + two prefetched
        shutdownTimeoutMs: 200,
      },
      {
        filter: { bucketAllowlist: [], keyPrefix: "", keyPattern: new RegExp(TWINGATE_KEY_PATTERN) },
        objects: createTaskQueue(1),
        logger,
        // The first object never finishes on its own: the other two wait for the slot.
        ingest: (ref, signal) =>
          new Promise<IngestResult>((resolve, reject) => {
            started.push(ref.key);
            if (!signal) return resolve(result(ref));
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
      },
      logger,
    );
    void worker.start();
    while (worker.inFlightCount < 3) await tick();
    assert.equal(sqs.commandCalls(ReceiveMessageCommand)[0]?.args[0].input.MaxNumberOfMessages, 3);
    // Every held message's visibility is extended while it waits, not only the one being read.
    const extended = () =>
      new Set(
        sqs
          .commandCalls(ChangeMessageVisibilityCommand)
          .filter((c) => c.args[0].input.VisibilityTimeout === 3)
          .map((c) => c.args[0].input.ReceiptHandle),
      );
    while (extended().size < 3) await tick(20);
    assert.deepEqual([...extended()].sort(), ["rh-m1", "rh-m2", "rh-m3"]);
    assert.equal(started.length, 1, "one object slot: one object read");

    const stopping = worker.stop();
    // The two waiting messages go back at once (visibility 0), before the deadline ends the running one.
    const released = () =>
      sqs
        .commandCalls(ChangeMessageVisibilityCommand)
        .filter((c) => c.args[0].input.VisibilityTimeout === 0)
        .map((c) => c.args[0].input.ReceiptHandle);
    while (released().length < 2) await tick();
    assert.deepEqual(released().sort(), ["rh-m2", "rh-m3"]);
    assert.equal(worker.inFlightCount, 1, "the running one still within its deadline");
    await stopping;
    assert.deepEqual(released().sort(), ["rh-m1", "rh-m2", "rh-m3"]);
    assert.equal(started.length, 1, "the waiting objects were never started");
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 0);
    sqs.restore();
  });
});
