import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import { DeleteRefused, MessageDeleter } from "../../src/runtimes/worker/deletes.ts";
import { SqsWorker } from "../../src/runtimes/worker/sqs-worker.ts";
import {
  ingested,
  messageDeps,
  QUICK_WORKER,
  receiveOnce,
  s3Event,
  silentLogger,
  sqsMessage,
} from "../helpers/worker-fakes.ts";

const logger = silentLogger;
const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

/** A message announcing the Twingate file of 2025-07-25 18:<minute>. */
function message(id: string, minute: number) {
  return sqsMessage(
    id,
    s3Event("twingate-logs", `2025-07-25T18:${String(minute).padStart(2, "0")}:00+00:00.json`),
  );
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
    sqs.on(ReceiveMessageCommand).callsFake(receiveOnce(batch));
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    sqs.on(DeleteMessageCommand).resolves({});
    const started: string[] = [];
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      {
        ...QUICK_WORKER,
        visibilityTimeout: 3, // heartbeat every 1 s
        maxInFlightMessages: 3, // one object slot + two prefetched
        shutdownTimeoutMs: 200,
      },
      // The first object never finishes on its own: the other two wait for the slot.
      messageDeps(
        (ref, signal) =>
          new Promise<IngestResult>((resolve, reject) => {
            started.push(ref.key);
            if (!signal) return resolve(ingested(ref));
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
        { bucketAllowlist: [], objectSlots: 1 },
      ),
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
