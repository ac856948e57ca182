/**
 * End to end against the local emulator (scripts/stack.sh up; eval "$(scripts/stack.sh env)"):
 * `produce --setup` creates the bucket, queues and notification; the files it writes land in S3 and
 * their notifications reach the queue, directly or through SNS.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { promisify } from "node:util";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { parseNotification } from "../../src/core/notifications/index.ts";
import { slotsInRange } from "../../src/core/twingate.ts";
import { createS3Client, createSnsClient, createSqsClient } from "../../src/platform/aws/clients.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { provision } from "../../src/tools/produce/provision.ts";
import type { ProduceSummary } from "../../src/tools/produce/run.ts";
import { produceFiles } from "../helpers/history.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const unique = (what: string) => `e2e-produce-${what}-${randomUUID().slice(0, 8)}`;

let s3: S3Client;
let sqs: SQSClient;
let config: ReturnType<typeof loadConfig>;

before(() => {
  const missing = ["S3_ENDPOINT", "SQS_ENDPOINT", "SNS_ENDPOINT"].filter((v) => !process.env[v]);
  assert.deepEqual(
    missing,
    [],
    `end-to-end tests need the local stack: eval "$(scripts/stack.sh env)" (missing ${missing.join(", ")})`,
  );
  config = loadConfig({}, { AWS_REGION: "us-east-1", ...process.env });
  s3 = createS3Client(config);
  sqs = createSqsClient(config);
});

async function cli(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ["--import", "tsx", "src/cli/main.ts", "produce", ...args], {
    cwd: ROOT,
    env: {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      ...process.env,
      LOG_LEVEL: "warn",
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** Receive until every expected key was announced (or the queue stays empty for several long polls). */
async function announcedKeys(
  queueUrl: string,
  expected: number,
): Promise<{ keys: string[]; sources: Set<string> }> {
  const keys: string[] = [];
  const sources = new Set<string>();
  let emptyPolls = 0;
  while (keys.length < expected && emptyPolls < 5) {
    const out = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) emptyPolls++;
    for (const m of messages) {
      const n = parseNotification(m.Body ?? "");
      if (n.kind === "objects") {
        sources.add(n.source);
        for (const o of n.objects) keys.push(o.key);
      } else assert.equal(n.kind, "test", `unexpected message: ${m.Body}`);
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }));
    }
  }
  return { keys: keys.sort(), sources };
}

async function listKeys(bucket: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key!).sort();
}

describe("produce against the emulator", () => {
  it("--setup then a range: objects in S3, one notification per object on the queue, JSON summary", async () => {
    const bucket = unique("direct");
    const queue = unique("q");
    const stdout = await cli([
      "--setup",
      "--bucket",
      bucket,
      "--queue",
      queue,
      "--prefix",
      "twingate",
      "--from",
      "2025-07-25T18:00:00Z",
      "--to",
      "2025-07-25T18:30:00Z",
      "--events-per-file",
      "40",
      "--gzip",
      "--invalid-rate",
      "0.05",
      "--truncated-gzip",
      "1",
      "--json",
    ]);
    const summary = JSON.parse(stdout) as ProduceSummary;
    assert.ok(summary.queue_url && summary.dlq_url, "queue and DLQ URLs are printed");
    assert.equal(summary.bucket, bucket);
    assert.equal(summary.files.length, 6);
    assert.equal(summary.faults.truncated_gzip_files, 1);
    assert.equal(summary.records, 5 * 40);
    const keys = summary.files.map((f) => f.key).sort();
    assert.ok(keys.every((k) => k.startsWith("twingate/") && k.endsWith("+00:00.json.gz")));
    assert.deepEqual(await listKeys(bucket), keys);

    const attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: summary.queue_url, AttributeNames: ["RedrivePolicy"] }),
    );
    assert.match(attrs.Attributes?.["RedrivePolicy"] ?? "", new RegExp(`${queue}-dlq`));

    const { keys: announced, sources } = await announcedKeys(summary.queue_url, keys.length);
    assert.deepEqual(announced, keys);
    assert.deepEqual([...sources], ["s3"]);

    // The same seed and flags to a folder give the same bytes as in S3.
    const dir = await mkdtemp(join(tmpdir(), "produce-e2e-"));
    try {
      await cli([
        "--dir",
        dir,
        "--prefix",
        "twingate",
        "--from",
        "2025-07-25T18:00:00Z",
        "--to",
        "2025-07-25T18:30:00Z",
        "--events-per-file",
        "40",
        "--gzip",
        "--invalid-rate",
        "0.05",
        "--truncated-gzip",
        "1",
      ]);
      for (const key of keys) {
        const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        const fromS3 = Buffer.from(await obj.Body!.transformToByteArray());
        assert.ok(fromS3.equals(await readFile(join(dir, key))), key);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("via SNS: the queue receives the notifications through the topic; setup is idempotent", async () => {
    const bucket = unique("sns");
    const queue = unique("q");
    const clients = { s3, sqs, sns: createSnsClient(config) };
    const first = await provision(clients, { bucket, queue, via: "sns" });
    const again = await provision(clients, { bucket, queue, via: "sns" });
    assert.deepEqual(again, first);
    assert.ok(first.topicArn);

    const slots = slotsInRange(Date.parse("2025-07-25T18:00:00Z"), Date.parse("2025-07-25T18:15:00Z"));
    const summary = await produceFiles(s3, bucket, slots, {
      seed: 5,
      mix: { network_access: 1, dns_filtering: 1, audit_log: 1, data_loss_prevention: 1 },
      eventsPerFile: 10,
      layout: "array",
      gzip: false,
      prefix: "",
      invalid: 0,
    });
    const keys = summary.files.map((f) => f.key).sort();
    assert.equal(keys.length, 3);
    const { keys: announced, sources } = await announcedKeys(first.queueUrl, keys.length);
    assert.deepEqual(announced, keys);
    assert.deepEqual([...sources], ["sns"]);
  });
});
