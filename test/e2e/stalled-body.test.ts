/**
 * Answers that stall mid-way, on a connection that stays open (the fault proxy's `stall`):
 * - a GetObject body (moto S3 behind the proxy): the object fails after the reader's idle limit instead of
 *   holding its message forever, and reading it again once S3 answers normally indexes every record;
 * - a `_bulk` answer (real OpenSearch behind the proxy): the request fails after the client's request
 *   timeout, with nothing between bytes, and the sink's retry indexes every record once.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { pino } from "pino";
import { ingestObject } from "../../src/core/ingest/ingest-object.ts";
import { buildPipeline } from "../../src/core/ingest/pipeline.ts";
import { InputStreamError } from "../../src/core/parse/index.ts";
import { BulkSink, type BulkTransport } from "../../src/core/sink/bulk-sink.ts";
import { localSource } from "../../src/core/sources/local.ts";
import { s3Source } from "../../src/core/sources/s3.ts";
import { createOpenSearchClient } from "../../src/platform/opensearch/client.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  type AwsClients,
  awsClients,
  opensearchClient,
  stackAvailable,
  stackEnv,
  uniqueName,
} from "../helpers/stack.ts";

const skip = stackAvailable() ? false : "the local stack is not running (scripts/stack.sh up)";
const logger = pino({ level: "silent" });
const RECORDS = 3000;

/** `n` valid audit_log records, one per line. */
function auditLog(n: number): string {
  let body = "";
  for (let i = 0; i < n; i++) {
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
  return body;
}

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
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: auditLog(RECORDS) }));
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
    const stalled = ingest();
    // the idle limit's own error (not a wall-clock bound: the runner's per-test timeout catches a hang, and a
    // loaded machine stretched a 1 s limit to 30 s of wall time in CI)
    await assert.rejects(
      stalled.run,
      (err: Error) => err instanceof InputStreamError && /sent nothing for 1 s/.test(err.message),
    );
    assert.equal(proxy.injected["stall"], 1, "the body really stalled (one GetObject, no SDK retry)");
    proxy.fault = () => undefined;
    const again = ingest();
    const r = await again.run;
    assert.equal(r.indexed, RECORDS);
    assert.equal(again.created(), RECORDS);
  });
});

describe("a _bulk answer that stalls", { skip }, () => {
  const prefix = uniqueName("stallbulk");
  let proxy: FaultProxy;
  let dir: string;

  before(async () => {
    proxy = await startFaultProxy(stackEnv().opensearchUrl);
    dir = mkdtempSync(join(tmpdir(), "stallbulk-"));
    writeFileSync(join(dir, "2025-07-25T18:20:00+00:00.json"), auditLog(RECORDS));
  });
  after(async () => {
    await proxy?.close();
    const os = opensearchClient();
    await os.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
    await os.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("fails the request after the request timeout with nothing between bytes, and the retry indexes every record once", async () => {
    // The first _bulk answer sends its head and 10 bytes, then nothing on an open connection.
    let first = true;
    proxy.fault = (req) => {
      if (req.action !== "es:POST /_bulk" || !first) return undefined;
      first = false;
      return { kind: "stall", afterBytes: 10 };
    };
    const opensearch = createOpenSearchClient({
      opensearchUrl: [proxy.url],
      opensearchTimeoutMs: 1000,
      opensearchTlsInsecure: false,
      opensearchAwsSigv4: "none",
    });
    try {
      const pipeline = buildPipeline({
        config: {
          indexPrefix: prefix,
          bulkMaxDocs: 1000,
          bulkMaxBytes: 5e6,
          bulkConcurrency: 2,
          maxRecordBytes: 1e6,
          maxFileBytes: 1e9,
        },
        opensearch,
        source: localSource(),
        logger,
      });
      const r = await pipeline.ingest({ bucket: "", key: join(dir, "2025-07-25T18:20:00+00:00.json") });
      assert.equal(proxy.injected["stall"], 1, "one answer really stalled");
      assert.equal(r.indexed, RECORDS);
      const os = opensearchClient();
      await os.indices.refresh({ index: `${prefix}-*` });
      const count = await os.count({ index: `${prefix}-audit_log-*` });
      await os.close();
      assert.equal(
        count.body.count,
        RECORDS,
        "every record once (the stalled request's were 409s when sent again)",
      );
    } finally {
      await opensearch.close();
    }
  });
});
