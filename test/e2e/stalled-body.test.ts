/**
 * A GetObject body that stalls mid-way, on a connection that stays open (moto S3 behind the fault proxy):
 * the object fails after the reader's idle limit instead of holding its message forever, and reading it
 * again once S3 answers normally indexes every record.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { pino } from "pino";
import { ingestObject } from "../../src/ingest/ingest-object.ts";
import { InputStreamError } from "../../src/parse/index.ts";
import { BulkSink, type BulkTransport } from "../../src/sink/bulk-sink.ts";
import { s3Source } from "../../src/sources/s3.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { type AwsClients, awsClients, stackAvailable, stackEnv, uniqueName } from "../helpers/stack.ts";

const skip = stackAvailable() ? false : "the local stack is not running (scripts/stack.sh up)";
const logger = pino({ level: "silent" });
const RECORDS = 3000;

describe("a GetObject body that stalls", { skip }, () => {
  let aws: AwsClients;
  let proxy: FaultProxy;
  let viaProxy: S3Client;
  const bucket = uniqueName("stall");
  const key = "2025-07-25T18:20:00+00:00.json";

  before(async () => {
    const env = stackEnv();
    aws = awsClients(env);
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    let body = "";
    for (let i = 0; i < RECORDS; i++) {
      body += `${JSON.stringify({
        event_type: "audit_log",
        event: {
          version: 1,
          time: `2025-07-25T18:${String(i % 60).padStart(2, "0")}:00.000000+00:00`,
          action: "update",
          actor: { id: String(i), type: "user", info: { email: `u${i}@example.com` } },
          target: { id: String(i), type: "resource", info: { name: `r${i}` } },
        },
      })}\n`;
    }
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    proxy = await startFaultProxy(env.s3Endpoint);
    viaProxy = new S3Client({
      region: env.region,
      credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
      endpoint: proxy.url,
      forcePathStyle: true,
    });
  });
  after(async () => {
    viaProxy?.destroy();
    await proxy?.close();
    aws?.destroy();
  });

  const ingest = () => {
    let created = 0;
    const transport: BulkTransport = async (b) => {
      let lines = 0;
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
      created += lines / 2;
      return { errors: false, created: lines / 2, duplicates: 0 };
    };
    const sink = new BulkSink(
      transport,
      { maxDocs: 500, maxBytes: 5e6, concurrency: 2, quarantine: (a) => a },
      logger,
    );
    const run = ingestObject(
      { bucket, key },
      {
        source: s3Source(viaProxy),
        sink,
        logger,
        indexPrefix: "stall",
        maxRecordBytes: 1e6,
        maxFileBytes: 1e9,
        inputIdleMs: 1000,
      },
    );
    return { run, created: () => created };
  };

  it("fails the object after the idle limit, then succeeds in full when S3 answers again", async () => {
    proxy.fault = (req) =>
      req.action === "s3:GetObject" ? { kind: "stall", afterBytes: 60_000 } : undefined;
    const started = performance.now();
    const stalled = ingest();
    await assert.rejects(
      stalled.run,
      (err: Error) => err instanceof InputStreamError && /sent nothing for 1 s/.test(err.message),
    );
    const seconds = (performance.now() - started) / 1000;
    assert.ok(seconds < 15, `gave up after ${seconds.toFixed(1)} s`);
    assert.equal(proxy.injected["stall"], 1, "the body really stalled (one GetObject, no SDK retry)");
    proxy.fault = () => undefined;
    const again = ingest();
    const r = await again.run;
    assert.equal(r.indexed, RECORDS);
    assert.equal(again.created(), RECORDS);
  });
});
