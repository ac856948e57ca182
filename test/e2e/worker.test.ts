/**
 * The worker against the real stack: the producer writes Twingate files into moto's S3, the bucket
 * notifies SQS (directly or through SNS), the worker (a real child process) indexes into the real
 * OpenSearch. Every test checks exact counts: each valid record indexed once, each bad one in
 * quarantine, the queue empty.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { encodeS3Key } from "../../src/core/notifications/index.ts";
import {
  countDocs,
  expectedQuarantine,
  type ProduceSummary,
  produce,
  queueDepth,
  startWorker,
  sumCounts,
  waitFor,
} from "../helpers/processes.ts";
import { indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";
import { startTcpProxy } from "../helpers/tcp-proxy.ts";

const { env, aws, os } = useStack();

async function expectExact(
  prefix: string,
  summaries: ProduceSummary[],
  queueUrl: string,
  timeoutMs = 120_000,
) {
  const want = sumCounts(...summaries.map((s) => s.by_event_type));
  const wantQ = summaries.reduce((n, s) => n + expectedQuarantine(s), 0);
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  await waitFor(
    "every record indexed or quarantined and the queue drained",
    async () => ({
      docs: await countDocs(os, `${prefix}-*`),
      q: await queueDepth(aws.sqs, queueUrl),
    }),
    (s) => s.docs >= total + wantQ && s.q.visible === 0 && s.q.inFlight === 0,
    timeoutMs,
  );
  for (const [type, n] of Object.entries(want)) {
    assert.equal(await countDocs(os, `${prefix}-${type}-*`), n, `${type} documents`);
  }
  assert.equal(await countDocs(os, `${prefix}-quarantine-*`), wantQ, "quarantined records");
  assert.equal(await countDocs(os, `${prefix}-*`), total + wantQ, "no other documents");
}

/** Worker log lines worth seeing when a test fails: warnings, errors and per-object results. */
function notable(logs: string): string {
  return logs
    .split("\n")
    .filter((l) => !l.includes('"level":30') || l.includes("object ingested") || l.includes("returned"))
    .map((l) => l.slice(0, 600))
    .join("\n")
    .slice(-20_000);
}

describe("worker end to end", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();
  it("ingests every layout, gzip or not, from direct S3 notifications, with exact counts", async () => {
    const bucket = uniqueName("tg-worker");
    const prefix = newPrefix("w1");
    const base = ["--bucket", bucket, "--rate", "0.1"];
    const first = await produce([
      ...base,
      "--setup",
      "--queue",
      bucket,
      "--from",
      "2025-07-25T10:00:00Z",
      "--to",
      "2025-07-25T10:30:00Z",
      "--invalid-rate",
      "0.05",
      "--corrupt-rate",
      "0.03",
      "--unknown-type-rate",
      "0.02",
      "--oversized",
      "1",
    ]);
    const queueUrl = first.queue_url!;
    assert.ok(queueUrl, "producer --setup prints the queue URL");
    const runs = [
      first,
      await produce([
        ...base,
        "--layout",
        "array",
        "--from",
        "2025-07-25T11:00:00Z",
        "--to",
        "2025-07-25T11:20:00Z",
        "--seed",
        "7",
      ]),
      await produce([
        ...base,
        "--layout",
        "concatenated",
        "--gzip",
        "--from",
        "2025-07-25T23:50:00Z",
        "--to",
        "2025-07-26T00:10:00Z",
        "--seed",
        "8",
      ]),
    ];
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    let exitCode: number | null = null;
    try {
      await expectExact(prefix, runs, queueUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker.logs())}`);
    } finally {
      exitCode = await worker.stop();
    }
    assert.equal(exitCode, 0, "SIGTERM exits 0");
    const logs = worker.logs();
    assert.match(logs, /"msg":"object ingested"/);
    assert.doesNotMatch(logs, /"level":50/, "no errors logged");

    // Redelivery of every notification, to two workers at once: still exactly the same documents.
    for (const f of runs.flatMap((r) => r.files)) {
      await aws.sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: JSON.stringify({
            Records: [
              {
                eventVersion: "2.1",
                eventSource: "aws:s3",
                awsRegion: "us-east-1",
                eventTime: new Date().toISOString(),
                eventName: "ObjectCreated:Put",
                s3: {
                  s3SchemaVersion: "1.0",
                  bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
                  object: { key: encodeS3Key(f.key), size: 1 },
                },
              },
            ],
          }),
        }),
      );
    }
    const a = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    const b = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    try {
      await waitFor(
        "redelivered messages consumed",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.visible + q.inFlight === 0,
      );
      await expectExact(prefix, runs, queueUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(a.logs())}\n${notable(b.logs())}`);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
    assert.match(
      a.logs() + b.logs(),
      /"duplicates":[1-9]/,
      "the second pass saw its documents as already indexed",
    );
  });

  it("ingests through an SNS topic (the fan-out setup)", async () => {
    const bucket = uniqueName("tg-sns");
    const prefix = newPrefix("w2");
    const s = await produce([
      "--bucket",
      bucket,
      "--setup",
      "--via",
      "sns",
      "--from",
      "2025-07-25T12:00:00Z",
      "--to",
      "2025-07-25T12:15:00Z",
      "--rate",
      "0.1",
      "--invalid-rate",
      "0.1",
    ]);
    const worker = startWorker({ queueUrl: s.queue_url!, indexPrefix: prefix });
    try {
      await expectExact(prefix, [s], s.queue_url!);
    } finally {
      assert.equal(await worker.stop(), 0);
    }
  });

  it("survives SIGKILL in the middle of a large file: after the visibility timeout every record is there once", async () => {
    const bucket = uniqueName("tg-kill");
    const prefix = newPrefix("w3");
    const s = await produce([
      "--bucket",
      bucket,
      "--setup",
      "--from",
      "2025-07-25T13:00:00Z",
      "--to",
      "2025-07-25T13:05:00Z",
      "--events-per-file",
      "30000",
    ]);
    const queueUrl = s.queue_url!;
    const args = ["--visibility-timeout", "10", "--bulk-max-docs", "500", "--bulk-concurrency", "1"];
    const first = startWorker({ queueUrl, indexPrefix: prefix, args });
    await waitFor(
      "some documents indexed",
      () => countDocs(os, `${prefix}-*`),
      (n) => n > 0,
      120_000,
      200,
    );
    await first.kill();
    const partial = await countDocs(os, `${prefix}-*`);
    assert.ok(partial < s.valid, `killed mid-way (${partial} of ${s.valid} indexed)`);
    const second = startWorker({ queueUrl, indexPrefix: prefix, args });
    try {
      await expectExact(prefix, [s], queueUrl, 240_000);
    } finally {
      assert.equal(await second.stop(), 0);
    }
  });

  it("keeps messages while OpenSearch is unreachable for 30 s, then indexes everything", async () => {
    const bucket = uniqueName("tg-osdown");
    const prefix = newPrefix("w4");
    const target = new URL(env.opensearchUrl);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const first = await produce([
      "--bucket",
      bucket,
      "--setup",
      "--from",
      "2025-07-25T14:00:00Z",
      "--to",
      "2025-07-25T14:10:00Z",
      "--rate",
      "0.1",
    ]);
    const queueUrl = first.queue_url!;
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: { OPENSEARCH_URL: proxy.url, OPENSEARCH_TIMEOUT_MS: "5000" },
    });
    try {
      await expectExact(prefix, [first], queueUrl);
      await proxy.down();
      const second = await produce([
        "--bucket",
        bucket,
        "--from",
        "2025-07-25T14:10:00Z",
        "--to",
        "2025-07-25T14:25:00Z",
        "--rate",
        "0.1",
        "--seed",
        "9",
      ]);
      // While OpenSearch is away the messages stay in flight (received, not deleted).
      await waitFor(
        "messages received during the outage",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.inFlight > 0,
        30_000,
      );
      await new Promise((r) => setTimeout(r, 30_000));
      const during = await queueDepth(aws.sqs, queueUrl);
      assert.equal(
        during.visible + during.inFlight,
        second.files.length,
        "no message deleted while OpenSearch was down",
      );
      await proxy.up();
      await expectExact(prefix, [first, second], queueUrl, 180_000);
      assert.match(worker.logs(), /bulk request failed; retrying/);
    } finally {
      await worker.stop();
      await proxy.close();
    }
  });
});
