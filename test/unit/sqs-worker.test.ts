import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  ChangeMessageVisibilityCommand,
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
import { Metrics } from "../../src/platform/metrics.ts";
import { createTaskQueue } from "../../src/platform/util/queue.ts";
import { handleMessage, type MessageDeps } from "../../src/runtimes/worker/handle-message.ts";
import { SqsWorker } from "../../src/runtimes/worker/sqs-worker.ts";

const logger = pino({ level: "silent" });
const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/notifications/${name}`, import.meta.url), "utf8");

function s3Event(bucket: string, ...keys: string[]): string {
  return JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: "2.1",
      eventSource: "aws:s3",
      awsRegion: "us-east-1",
      eventTime: "2025-07-25T18:20:03.000Z",
      eventName: "ObjectCreated:Put",
      userIdentity: { principalId: "AWS:X" },
      requestParameters: { sourceIPAddress: "1.2.3.4" },
      responseElements: { "x-amz-request-id": "r", "x-amz-id-2": "i" },
      s3: {
        s3SchemaVersion: "1.0",
        configurationId: "c",
        bucket: { name: bucket, ownerIdentity: { principalId: "X" }, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%20/g, "+"), size: 10, eTag: "e", sequencer: "0A" },
      },
    })),
  });
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

function deps(ingest: (ref: ObjectRef, signal?: AbortSignal) => Promise<IngestResult>): MessageDeps {
  return {
    filter: {
      bucketAllowlist: ["twingate-logs"],
      keyPrefix: "",
      keyPattern: new RegExp(TWINGATE_KEY_PATTERN),
    },
    ingest,
    objects: createTaskQueue(2),
    logger,
  };
}

describe("handleMessage", () => {
  /** handleMessage on an S3 event for `keys`, every object ingesting fine: its decision and the keys read. */
  async function ingestKeys(...keys: string[]) {
    const seen: string[] = [];
    const d = await handleMessage(
      s3Event("twingate-logs", ...keys),
      "m1",
      deps(async (ref) => {
        seen.push(ref.key);
        return result(ref);
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
      deps(async (ref) => {
        if (ref.key.includes("18:25")) throw new Error("boom");
        return result(ref);
      }),
    );
    assert.equal(d.action, "retry");
  });

  it("acknowledges test events and filtered objects without fetching", async () => {
    const never = async (): Promise<IngestResult> => assert.fail("must not fetch");
    assert.equal((await handleMessage(fixture("s3-test-event.json"), "t", deps(never))).action, "delete");
    const foreign = await handleMessage(
      s3Event("other-bucket", "2025-07-25T18:20:00+00:00.json"),
      "f",
      deps(never),
    );
    assert.deepEqual(
      [foreign.action, foreign.action === "delete" && foreign.reason],
      ["delete", "nothing_to_do"],
    );
    const notTwingate = await handleMessage(s3Event("twingate-logs", "notes/readme.txt"), "n", deps(never));
    assert.equal(notTwingate.action, "delete");
  });

  it("leaves garbage for redrive", async () => {
    const never = async (): Promise<IngestResult> => assert.fail("must not fetch");
    const d = await handleMessage("this is not json", "g", deps(never));
    assert.equal(d.action, "leave");
  });
});

/** Worker options for the tests: no long polling, a short shutdown. */
const QUICK = {
  queueUrl: "http://q",
  waitSeconds: 0,
  maxMessages: 10,
  visibilityTimeout: 30,
  maxInFlightMessages: 4,
  shutdownTimeoutMs: 1000,
};

describe("SqsWorker", () => {
  function message(id: string, body: string, receives = 1): Message {
    return {
      MessageId: id,
      ReceiptHandle: `rh-${id}`,
      Body: body,
      Attributes: { ApproximateReceiveCount: String(receives), SentTimestamp: String(Date.now() - 5000) },
    };
  }

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
      QUICK,
      deps(async (ref) => result(ref)),
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
    let served = false;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      if (served) {
        await new Promise((r) => setTimeout(r, 5));
        return { Messages: [] };
      }
      served = true;
      return {
        Messages: [
          message("ok", s3Event("twingate-logs", "2025-07-25T18:20:00+00:00.json")),
          message("bad", s3Event("twingate-logs", "2025-07-25T18:25:00+00:00.json"), 3),
          message("junk", "{}"),
        ],
      };
    });
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      QUICK,
      deps(async (ref) => {
        if (ref.key.includes("18:25")) throw new Error("opensearch down");
        return result(ref);
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
    let served = false;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      if (served) {
        await new Promise((r) => setTimeout(r, 5));
        return { Messages: [] };
      }
      served = true;
      return { Messages: [message("junk", "not json"), message("junk2", '{"a":1}', 2)] };
    });
    sqs.on(DeleteMessageCommand).resolves({});
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      { ...QUICK, invalidVisibilityTimeout: 43_200 },
      deps(async (ref) => result(ref)),
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
    let served = false;
    sqs.on(ReceiveMessageCommand).callsFake(async () => {
      if (served) {
        await new Promise((r) => setTimeout(r, 5));
        return {};
      }
      served = true;
      return { Messages: [message("slow", s3Event("twingate-logs", "2025-07-25T18:20:00+00:00.json"))] };
    });
    sqs.on(ChangeMessageVisibilityCommand).resolves({});
    const worker = new SqsWorker(
      new SQSClient({ region: "us-east-1" }),
      {
        queueUrl: "http://q",
        waitSeconds: 0,
        maxMessages: 10,
        visibilityTimeout: 3, // heartbeat every 1 s
        maxInFlightMessages: 1,
        shutdownTimeoutMs: 50,
      },
      deps(
        (ref, signal) =>
          new Promise<IngestResult>((resolve, reject) => {
            if (!signal) return resolve(result(ref));
            signal.addEventListener("abort", () => reject(signal.reason), { once: true });
          }),
      ),
      logger,
    );
    void worker.start();
    while (sqs.commandCalls(ChangeMessageVisibilityCommand).length < 2)
      await new Promise((r) => setTimeout(r, 20));
    await worker.stop();
    const vis = sqs
      .commandCalls(ChangeMessageVisibilityCommand)
      .map((c) => c.args[0].input.VisibilityTimeout);
    assert.deepEqual(vis.slice(0, 2), [3, 3], "heartbeat extends by the visibility timeout");
    assert.equal(vis.at(-1), 0, "released at once on shutdown");
    assert.equal(sqs.commandCalls(DeleteMessageCommand).length, 0);
    sqs.restore();
  });
});
