/**
 * The BUILT Lambda bundle (scripts/build-lambda.mjs → index.mjs, as zipped for the runtime) against the local
 * stack: real S3 notifications (moto sends them to a queue when objects are PUT), wrapped in Lambda's
 * SQSEvent shape, plus a garbage body and a notification for a bucket outside the allowlist.
 * `batchItemFailures` must list exactly the messages that did not finish, and the documents must be in
 * OpenSearch. Skipped without the stack's endpoints.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import type { SQSEvent, SQSRecord } from "aws-lambda";
import { createS3Client, createSqsClient } from "../../src/platform/aws/clients.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createOpenSearchClient } from "../../src/platform/opensearch/client.ts";
import { runSetup } from "../../src/tools/setup/index.ts";
import { dropPrefix, uniqueName } from "../helpers/stack.ts";

type LambdaModule = typeof import("../../src/runtimes/lambda.ts");

const ENV_OK = ["OPENSEARCH_URL", "S3_ENDPOINT", "SQS_ENDPOINT"].every((k) => process.env[k]);
const prefix = uniqueName("e2e-lambda");
const bucket = prefix;
const SAMPLE = readFileSync(new URL("../fixtures/files/2025-07-25T18:20:00+00:00.json", import.meta.url));
/** The same four records a day earlier: other events (document ids derive from the event), same streams. */
const SAMPLE_DAY_BEFORE = Buffer.from(
  SAMPLE.toString("utf8").replaceAll('"time":"2025-07-2', '"time":"2025-07-1'),
);
const FILES: Record<string, Buffer> = {
  "2025-07-25T18:20:00+00:00.json": SAMPLE,
  "2025-07-15T18:20:00+00:00.json": SAMPLE_DAY_BEFORE,
};
const KEYS = Object.keys(FILES);

describe("Lambda bundle against the local stack", {
  skip: ENV_OK ? false : "stack endpoints not set",
}, () => {
  const config = loadConfig({});
  let s3: S3Client;
  let sqs: SQSClient;
  let opensearch: Client;
  let lambda: LambdaModule;
  let outdir: string;
  let queueArn: string;
  let notifications: Message[] = [];
  const env = () => ({
    ...process.env,
    INDEX_PREFIX: prefix,
    BUCKET_ALLOWLIST: bucket,
    LOG_LEVEL: "silent",
  });

  before(async () => {
    outdir = mkdtempSync(join(tmpdir(), "tg-lambda-"));
    // @ts-expect-error: a plain .mjs script without type declarations
    const { buildLambda } = (await import("../../scripts/build-lambda.mjs")) as {
      buildLambda(o: { outdir: string }): Promise<{ outfile: string; zipPath: string }>;
    };
    const built = await buildLambda({ outdir });
    lambda = (await import(pathToFileURL(built.outfile).href)) as LambdaModule;

    s3 = createS3Client(config);
    sqs = createSqsClient(config);
    opensearch = createOpenSearchClient(config);
    await runSetup(opensearch, { indexPrefix: prefix }, createLogger("silent"));

    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: prefix }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    queueArn = attrs.Attributes!["QueueArn"]!;
    await s3.send(
      new PutBucketNotificationConfigurationCommand({
        Bucket: bucket,
        NotificationConfiguration: {
          QueueConfigurations: [{ QueueArn: queueArn, Events: ["s3:ObjectCreated:*"] }],
        },
      }),
    );
    for (const Key of KEYS) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: FILES[Key] }));
    // Collect the notifications S3 sent (moto may also send an s3:TestEvent first).
    for (let i = 0; i < 10 && notifications.filter(isObjectCreated).length < KEYS.length; i++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      notifications = notifications.concat(got.Messages ?? []);
    }
    notifications = notifications.filter(isObjectCreated);
    assert.equal(notifications.length, KEYS.length, "S3 sent one notification per PUT");
  });

  after(async () => {
    await dropPrefix(opensearch, prefix);
    await opensearch.close();
    s3.destroy();
    sqs.destroy();
    rmSync(outdir, { recursive: true, force: true });
  });

  const isObjectCreated = (m: Message) => /ObjectCreated/.test(m.Body ?? "");

  /** A message as Lambda's SQS event source hands it over. */
  function record(messageId: string, body: string, attributes?: Record<string, string>): SQSRecord {
    return {
      messageId,
      receiptHandle: `AQEB${randomUUID()}`,
      body,
      attributes: {
        ApproximateReceiveCount: "1",
        SentTimestamp: String(Date.now()),
        SenderId: "AIDAIENQZJOLO23YVJ4VO",
        ApproximateFirstReceiveTimestamp: String(Date.now()),
        ...attributes,
      } as SQSRecord["attributes"],
      messageAttributes: {},
      md5OfBody: createHash("md5").update(body).digest("hex"),
      eventSource: "aws:sqs",
      eventSourceARN: queueArn,
      awsRegion: config.awsRegion ?? "us-east-1",
    };
  }

  const fromSqs = (m: Message) => record(m.MessageId!, m.Body!, m.Attributes);

  async function countByIndex(): Promise<Record<string, number>> {
    await opensearch.indices.refresh({ index: `${prefix}-*` });
    const res = await opensearch.transport.request({
      method: "GET",
      path: `/_cat/indices/${prefix}-*`,
      querystring: { format: "json", h: "index,docs.count" },
    });
    const out: Record<string, number> = {};
    for (const row of res.body as { index: string; "docs.count": string }[]) {
      out[row.index] = Number(row["docs.count"]);
    }
    return out;
  }

  test("the bundle exports the handler Lambda calls (index.handler)", () => {
    assert.equal(typeof lambda.handler, "function");
    assert.equal(typeof lambda.processSqsEvent, "function");
    assert.equal(typeof lambda.buildRuntime, "function");
  });

  test("OpenSearch unreachable: every message with objects is reported failed, none lost", async () => {
    const rt = lambda.buildRuntime({ ...env(), OPENSEARCH_URL: "http://127.0.0.1:9" });
    const event: SQSEvent = { Records: notifications.map(fromSqs) };
    // The runtime stops work a fifth of the time it is given before the deadline: 2 s leaves it 1.6 s.
    const res = await lambda.processSqsEvent(event, rt, 2_000);
    assert.deepEqual(
      res.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      notifications.map((m) => m.MessageId!).sort(),
    );
  });

  test("good messages succeed, the garbage one fails, a foreign bucket is acknowledged", async () => {
    const foreign = notifications[0]!.Body!.replaceAll(`"${bucket}"`, `"not-${bucket}"`);
    assert.notEqual(foreign, notifications[0]!.Body);
    const event: SQSEvent = {
      Records: [
        ...notifications.map(fromSqs),
        record("garbage-1", "this is not a notification"),
        record("foreign-1", foreign),
      ],
    };
    const res = await lambda.processSqsEvent(event, lambda.buildRuntime(env()));
    assert.deepEqual(res, { batchItemFailures: [{ itemIdentifier: "garbage-1" }] });

    const counts = await countByIndex();
    const byStream: Record<string, number> = {};
    for (const [index, n] of Object.entries(counts)) {
      const stream = index.slice(prefix.length + 1).replace(/-\d{4}\.(?:w?\d{2})(?:\.\d{2})?$/, "");
      byStream[stream] = (byStream[stream] ?? 0) + n;
    }
    // Two files, each with one record of every stream; nothing quarantined.
    assert.deepEqual(byStream, {
      audit_log: 2,
      data_loss_prevention: 2,
      dns_filtering: 2,
      network_access: 2,
    });

    // Redelivery of the same messages (SQS is at-least-once) adds no document.
    const again = await lambda.processSqsEvent(
      { Records: notifications.map(fromSqs) },
      lambda.buildRuntime(env()),
    );
    assert.deepEqual(again.batchItemFailures, []);
    const total = Object.values(await countByIndex()).reduce((a, b) => a + b, 0);
    assert.equal(total, 8);
  });

  test("invoked directly by S3, by SNS or by an EventBridge rule: the objects are indexed; unfinished work throws", async () => {
    const directPrefix = `${prefix}-direct`;
    const rt = lambda.buildRuntime({ ...env(), INDEX_PREFIX: directPrefix });
    const [first, second] = notifications;
    const s3Event = JSON.parse(first!.Body!) as { Records: { s3: { object: { key: string } } }[] };
    assert.deepEqual(await lambda.processEvent(s3Event, rt), { notifications: 1 });
    const snsEvent = {
      Records: [
        {
          EventSource: "aws:sns",
          EventVersion: "1.0",
          Sns: {
            Type: "Notification",
            MessageId: "sns-1",
            TopicArn: "arn:aws:sns:us-east-1:1:t",
            Message: second!.Body,
          },
        },
      ],
    };
    assert.deepEqual(await lambda.processEvent(snsEvent, rt), { notifications: 1 });
    const key = decodeURIComponent(s3Event.Records[0]!.s3.object.key.replaceAll("+", " "));
    const ebEvent = {
      version: "0",
      id: "eb-1",
      "detail-type": "Object Created",
      source: "aws.s3",
      account: "123456789012",
      time: "2025-07-25T18:20:03Z",
      region: "us-east-1",
      resources: [`arn:aws:s3:::${bucket}`],
      detail: {
        version: "0",
        bucket: { name: bucket },
        object: { key, size: FILES[key]!.length },
        reason: "PutObject",
      },
    };
    assert.deepEqual(await lambda.processEvent(ebEvent, rt), { notifications: 1 });
    await opensearch.indices.refresh({ index: `${directPrefix}-*` });
    const n = await opensearch.count({ index: `${directPrefix}-*` });
    assert.equal(n.body.count, 8, "both files' records, each once");
    // OpenSearch unreachable: the invocation fails, so Lambda retries the event instead of dropping it.
    const down = lambda.buildRuntime({
      ...env(),
      INDEX_PREFIX: directPrefix,
      OPENSEARCH_URL: "http://127.0.0.1:9",
    });
    await assert.rejects(lambda.processEvent(s3Event, down, 2_000), {
      name: "UnfinishedEventError",
      message: /1 of 1 s3 notifications not finished/,
    });
  });
});
