import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { pino } from "pino";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import { Metrics } from "../../src/platform/metrics.ts";
import { handleMessage } from "../../src/runtimes/worker/handle-message.ts";
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
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/notifications/${name}`, import.meta.url), "utf8");

describe("handleMessage", () => {
  /** handleMessage on an S3 event for `keys`, every object ingesting fine: its decision and the keys read. */
  async function ingestKeys(...keys: string[]) {
    const seen: string[] = [];
    const d = await handleMessage(
      s3Event("twingate-logs", ...keys),
      "m1",
      messageDeps(async (ref) => {
        seen.push(ref.key);
        return ingested(ref);
      }),
    );
    return { d, seen };
  }

  it("ingests every object of a message under its decoded key, then says delete", async () => {
    const { d, seen } = await ingestKeys(
      "2025-07-25T18:20:00+00:00.json",
      "a b/2025-07-25T18:25:00+00:00.json.gz",
    );
    assert.equal(d.action, "delete");
    assert.deepEqual(seen.sort(), [
      "2025-07-25T18:20:00+00:00.json",
      "a b/2025-07-25T18:25:00+00:00.json.gz",
    ]);
  });

  it("reads an object named twice in one message once", async () => {
    const { d, seen } = await ingestKeys("2025-07-25T18:20:00+00:00.json", "2025-07-25T18:20:00+00:00.json");
    assert.equal(d.action, "delete");
    assert.deepEqual(seen, ["2025-07-25T18:20:00+00:00.json"]);
  });

  it("says retry when any object fails, even if others succeeded", async () => {
    const d = await handleMessage(
      s3Event("twingate-logs", "2025-07-25T18:20:00+00:00.json", "2025-07-25T18:25:00+00:00.json"),
      "m1",
      messageDeps(async (ref) => {
        if (ref.key.includes("18:25")) throw new Error("boom");
        return ingested(ref);
      }),
    );
    assert.equal(d.action, "retry");
  });

  it("acknowledges test events and filtered objects without fetching", async () => {
    const never = async (): Promise<IngestResult> => assert.fail("must not fetch");
    assert.equal(
      (await handleMessage(fixture("s3-test-event.json"), "t", messageDeps(never))).action,
      "delete",
    );
    const foreign = await handleMessage(
      s3Event("other-bucket", "2025-07-25T18:20:00+00:00.json"),
      "f",
      messageDeps(never),
    );
    assert.deepEqual(
      [foreign.action, foreign.action === "delete" && foreign.reason],
      ["delete", "nothing_to_do"],
    );
    const notTwingate = await handleMessage(
      s3Event("twingate-logs", "notes/readme.txt"),
      "n",
      messageDeps(never),
    );
    assert.equal(notTwingate.action, "delete");
  });

  it("leaves garbage for redrive", async () => {
    const never = async (): Promise<IngestResult> => assert.fail("must not fetch");
    const d = await handleMessage("this is not json", "g", messageDeps(never));
    assert.equal(d.action, "leave");
  });
});

describe("SqsWorker", () => {
  const message = (id: string, body: string, receives = 1) => sqsMessage(id, body, { receives, ageMs: 5000 });

  it("an empty receive sets the queue lag to 0, and without long polling (wait 0) pauses instead of spinning", async () => {
    const sqs = mockClient(SQSClient);
    let calls = 0;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      // The first receive finds one old message whose object is filtered out; then the queue is empty.
      if (calls++ === 0)
        return {
          Messages: [
            { ...message("old", "{}"), Attributes: { SentTimestamp: String(Date.now() - 7_200_000) } },
          ],
        };
      return { Messages: [] };
    });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const metrics = new Metrics();
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      QUICK_WORKER,
      messageDeps(async (ref) => ingested(ref)),
      logger,
      metrics,
    );
    void worker.start();
    while (calls < 2) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 300));
    await worker.stop();
    assert.ok(calls <= 3, `${calls} receives in ~300 ms with an empty queue`);
    const lag = (await metrics.queueLag.get()).values[0]?.value;
    assert.equal(lag, 0, "no lag once the queue is empty");
    sqs.restore();
  });

  it("deletes done messages, returns failed ones with a backoff, leaves invalid ones", async () => {
    const sqs = mockClient(SQSClient);
    sqs
      .on(ReceiveMessageCommand)
      .callsFake(
        receiveOnce([
          message("ok", s3Event("twingate-logs", "2025-07-25T18:20:00+00:00.json")),
          message("bad", s3Event("twingate-logs", "2025-07-25T18:25:00+00:00.json"), 3),
          message("junk", "{}"),
        ]),
      );
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      QUICK_WORKER,
      messageDeps(async (ref) => {
        if (ref.key.includes("18:25")) throw new Error("opensearch down");
        return ingested(ref);
      }),
      logger,
    );
    void worker.start();
    while (
      sqs.commandCalls(DeleteMessageCommand).length < 1 ||
      sqs.commandCalls(ChangeMessageVisibilityCommand).length < 1
    ) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await worker.stop();
    const deleted = sqs.commandCalls(DeleteMessageCommand).map((c) => c.args[0].input.ReceiptHandle);
    assert.deepEqual(deleted, ["rh-ok"]);
    const vis = sqs.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input);
    assert.deepEqual(vis, [{ QueueUrl: "http://q", ReceiptHandle: "rh-bad", VisibilityTimeout: 20 }]);
    sqs.restore();
  });

  it("hides a message that is not a notification for invalidVisibilityTimeout (within SQS's 12 h), never deletes it", async () => {
    const sqs = mockClient(SQSClient);
    sqs
      .on(ReceiveMessageCommand)
      .callsFake(receiveOnce([message("junk", "not json"), message("junk2", '{"a":1}', 2)]));
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      { ...QUICK_WORKER, invalidVisibilityTimeout: 43_200 },
      messageDeps(async (ref) => ingested(ref)),
      logger,
    );
    void worker.start();
    while (sqs.commandCalls(ChangeMessageVisibilityCommand).length < 2) {
      await new Promise((r) => setTimeout(r, 5));
    }
    await worker.stop();
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 0, "never deleted unread");
    const vis = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((c) => c.args[0].input)
      .sort((a, b) => String(a.ReceiptHandle).localeCompare(String(b.ReceiptHandle)));
    assert.deepEqual(
      vis.map((v) => v.ReceiptHandle),
      ["rh-junk", "rh-junk2"],
    );
    for (const v of vis) {
      // Within SQS's 12 h counted from the receive, the receive's own 30 s timeout included.
      assert.ok(v.VisibilityTimeout! > 43_000 && v.VisibilityTimeout! <= 43_110, String(v.VisibilityTimeout));
    }
    sqs.restore();
  });

  it("extends visibility on a heartbeat while an object is slow, and releases it on shutdown", async () => {
    const sqs = mockClient(SQSClient);
    sqs
      .on(ReceiveMessageCommand)
      .callsFake(receiveOnce([message("slow", s3Event("twingate-logs", "2025-07-25T18:20:00+00:00.json"))]));
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      {
        ...QUICK_WORKER,
        visibilityTimeout: 3, // heartbeat every 1 s
        maxInFlightMessages: 1,
        shutdownTimeoutMs: 50,
      },
      messageDeps(
        (ref, signal) =>
          new Promise<IngestResult>((resolve, reject) => {
            if (!signal) return resolve(ingested(ref));
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
      ),
      pino({ level: "warn" }, { write: (l: string) => void warnings.push(l) }),
    );
    const warnings: string[] = [];
    void worker.start();
    while (sqs.commandCalls(ChangeMessageVisibilityCommand).length < 2)
      await new Promise((r) => setTimeout(r, 20));
    // the signal handler's stop, then the command's once the loop ends: one stop, one deadline, one log
    await Promise.all([worker.stop(), worker.stop()]);
    await worker.stop();
    assert.equal(
      warnings.filter((l) => l.includes("shutdown deadline reached")).length,
      1,
      warnings.join(""),
    );
    const vis = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((c) => c.args[0].input.VisibilityTimeout);
    assert.deepEqual(vis.slice(0, 2), [3, 3], "heartbeat extends by the visibility timeout");
    assert.equal(vis.at(-1), 0, "released at once on shutdown");
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 0);
    sqs.restore();
  });
});
