/**
 * Fakes for the worker's unit tests (sqs-worker, worker-prefetch): S3 notifications and SQS messages as
 * the queue hands them over, an ingest result for an object that went fine, and the message handler's deps.
 */
import type { Message, ReceiveMessageCommandInput, ReceiveMessageCommandOutput } from "@aws-sdk/client-sqs";
import { pino } from "pino";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../src/core/model.ts";
import { TWINGATE_KEY_PATTERN } from "../../src/platform/config/index.ts";
import { createTaskQueue } from "../../src/platform/util/queue.ts";
import type { MessageDeps } from "../../src/runtimes/worker/handle-message.ts";

export const silentLogger = pino({ level: "silent" });

/** An S3 event notification for `keys` in `bucket`, as S3 sends it (keys URL-encoded, spaces as `+`). */
export function s3Event(bucket: string, ...keys: string[]): string {
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

/** An SQS message with `body`, received `receives` times, sent `ageMs` ago. */
export function sqsMessage(
  id: string,
  body: string,
  opts: { receives?: number; ageMs?: number } = {},
): Message {
  return {
    MessageId: id,
    ReceiptHandle: `rh-${id}`,
    Body: body,
    Attributes: {
      ApproximateReceiveCount: String(opts.receives ?? 1),
      SentTimestamp: String(Date.now() - (opts.ageMs ?? 0)),
    },
  };
}

/** What ingesting `ref` gives when all went well: one network_access record, indexed. */
export function ingested(ref: ObjectRef): IngestResult {
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

/** The message handler's deps around `ingest`: Twingate file names, from `bucketAllowlist` (empty: any bucket). */
export function messageDeps(
  ingest: MessageDeps["ingest"],
  opts: { bucketAllowlist?: string[]; objectSlots?: number } = {},
): MessageDeps {
  return {
    filter: {
      bucketAllowlist: opts.bucketAllowlist ?? ["twingate-logs"],
      keyPrefix: "",
      keyPattern: new RegExp(TWINGATE_KEY_PATTERN),
    },
    ingest,
    objects: createTaskQueue(opts.objectSlots ?? 2),
    logger: silentLogger,
  };
}

/** Worker options for the tests: no long polling, a short shutdown. */
export const QUICK_WORKER = {
  queueUrl: "http://q",
  waitSeconds: 0,
  maxMessages: 10,
  visibilityTimeout: 30,
  maxInFlightMessages: 4,
  shutdownTimeoutMs: 1000,
};

/**
 * A ReceiveMessage fake (`sqs.on(ReceiveMessageCommand).callsFake(...)`): the first call gets `messages`
 * (as many as it asks for), every later one an empty queue after 5 ms, so a worker polling with
 * waitSeconds 0 does not spin.
 */
export function receiveOnce(
  messages: Message[],
): (input: ReceiveMessageCommandInput) => Promise<Partial<ReceiveMessageCommandOutput>> {
  let served = false;
  return async (input) => {
    if (served) {
      await new Promise((r) => setTimeout(r, 5));
      return { Messages: [] };
    }
    served = true;
    return { Messages: messages.slice(0, input.MaxNumberOfMessages ?? 1) };
  };
}
