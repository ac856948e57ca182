/**
 * An object overwritten before the worker reads it (docs/DEPLOY.md, "Overwritten objects"), on moto's S3
 * and SQS: without versioning, the first notification's eTag and size are not the object's any more: the
 * worker says so (a warning, twingate_ingest_object_version_mismatch_total) and ingests what is there.
 * On a versioned bucket each notification's versionId is read by GetObject, so both versions are ingested
 * and nothing is said: moto sends no versionId, so the test sends S3's own notification of each put (with
 * the version moto gave it, the key URL-encoded as S3 does: a raw `+` would read as a space), after both
 * puts, and moto serves GetObject with VersionId (issue #29).
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { describe, it } from "node:test";
import { PutBucketVersioningCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { encodeS3Key } from "../../src/core/notifications/index.ts";
import { countDocs, queueDepth, startWorker, waitFor } from "../helpers/processes.ts";
import { createBucketWithQueueNotification, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { aws, os } = useStack();

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

const KEY = "tg/2025-07-25T18:20:00+00:00.json";
/** `n` distinct network_access records (their times differ by `offset`). */
function file(n: number, offset: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      `{"event_type":"network_access","event":{"version":1,"time":"2025-07-25T18:19:41.${String(offset + i).padStart(6, "0")}+00:00","status":"closed_connection","connection":{"client_ip":"1.2.3.4","protocol":"tcp","bytes_received":1,"bytes_transferred":2},"resource":{"address":"a.int","id":"1","ip":"10.11.12.13","port":80},"device":{"id":"1"},"user":{"email":"a@b.c","id":"7"}}}`,
    );
  return `${lines.join("\n")}\n`;
}

describe("an object overwritten before it is read", { timeout: 300_000 }, () => {
  const newPrefix = indexPrefixes();
  for (const versioned of [false, true]) {
    it(
      versioned
        ? "versioned bucket: each notified version read by its versionId"
        : "unversioned bucket: the mismatch logged and counted",
      async () => {
        const bucket = uniqueName(versioned ? "tg-ow-v" : "tg-ow");
        // moto's notifications carry no versionId: for the versioned bucket the test sends S3's own (with
        // versionId, as S3 does for a versioned bucket) and moto notifies only another prefix
        const { queueUrl } = await createBucketWithQueueNotification(
          { bucket, queue: bucket, ...(versioned ? { prefix: "elsewhere/" } : {}) },
          { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
        );
        if (versioned)
          await aws.s3.send(
            new PutBucketVersioningCommand({
              Bucket: bucket,
              VersioningConfiguration: { Status: "Enabled" },
            }),
          );
        // both versions written before any worker reads
        for (const body of [file(10, 0), file(20, 100)]) {
          const put = await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: KEY, Body: body }));
          if (!versioned) continue;
          assert.ok(put.VersionId, "moto versions the bucket");
          const object = {
            key: encodeS3Key(KEY),
            size: Buffer.byteLength(body),
            eTag: put.ETag?.replace(/"/g, ""),
            versionId: put.VersionId,
          };
          const record = {
            eventVersion: "2.1",
            eventSource: "aws:s3",
            awsRegion: "us-east-1",
            eventTime: new Date().toISOString(),
            eventName: "ObjectCreated:Put",
            s3: { s3SchemaVersion: "1.0", bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object },
          };
          await aws.sqs.send(
            new SendMessageCommand({
              QueueUrl: queueUrl,
              MessageBody: JSON.stringify({ Records: [record] }),
            }),
          );
        }
        const prefix = newPrefix("ow");
        const port = await freePort();
        const worker = startWorker({
          queueUrl,
          indexPrefix: prefix,
          env: { AUTO_SETUP: "true" },
          args: ["--metrics-port", String(port)],
        });
        try {
          await waitFor(
            "both notifications handled",
            async () => ({
              q: await queueDepth(aws.sqs, queueUrl),
              n: (worker.logs().match(/"msg":"object ingested"/g) ?? []).length,
            }),
            (x) => x.n >= 2 && x.q.visible === 0 && x.q.inFlight === 0,
            120_000,
          );
          const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
          const counted = Number(
            /^twingate_ingest_object_version_mismatch_total (\d+)/m.exec(metrics)?.[1] ?? "0",
          );
          const warned = worker.logs().includes("not the version the notification announced");
          if (versioned) {
            assert.equal(await countDocs(os, `${prefix}-network_access-*`), 30, "both versions' records");
            assert.equal(counted, 0);
            assert.equal(warned, false);
          } else {
            assert.equal(await countDocs(os, `${prefix}-network_access-*`), 20, "the version there now");
            assert.equal(counted, 1, "one notification named a version that was gone");
            assert.ok(warned, "and said so");
            assert.match(
              worker.logs(),
              /eTag [0-9a-f]+ notified, [0-9a-f]+ read; size \d+ notified, \d+ read/,
            );
          }
        } finally {
          await worker.stop();
        }
      },
    );
  }
});
