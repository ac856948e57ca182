/** Local-stack plumbing for the end-to-end benchmarks (needs `eval "$(bash scripts/stack.sh env)"`). */
import { createReadStream, statSync } from "node:fs";
import { Agent, request } from "node:http";
import { CreateBucketCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import PQueue from "p-queue";
import { toIndexAction } from "../../src/core/documents/index.ts";
import { quarantineRefused } from "../../src/core/documents/quarantine.ts";
import { validateRecord } from "../../src/core/events/index.ts";
import { type IngestDeps, type IngestResult, ingestObject } from "../../src/core/ingest/ingest-object.ts";
import { buildPipeline, objectSource } from "../../src/core/ingest/pipeline.ts";
import type { ObjectRef } from "../../src/core/model.ts";
import type { BulkTransport } from "../../src/core/sink/bulk-sink.ts";
import { BulkSink } from "../../src/core/sink/bulk-sink.ts";
import type { ObjectSource } from "../../src/core/sources/types.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createTaskQueue } from "../../src/platform/util/queue.ts";
import { runSetup } from "../../src/tools/setup/index.ts";
import { record } from "./records.ts";

export {
  awsClients,
  dropPrefix,
  opensearchClient,
  stackAvailable,
  stackEnv,
  uniqueName,
} from "../../test/helpers/stack.ts";

export const silent = createLogger("silent");
export const MB = 1024 * 1024;

export interface BenchFile {
  key: string;
  body: Buffer;
  records: number;
}

/** `n` files of `perFile` records each, NDJSON, named like Twingate's 5-minute files (distinct records). */
export function makeFiles(n: number, perFile: number, seed = 0): BenchFile[] {
  const base = Date.UTC(2025, 6, 25, 18, 0, 0);
  const files: BenchFile[] = [];
  for (let f = 0; f < n; f++) {
    const lines: string[] = [];
    for (let j = 0; j < perFile; j++) lines.push(record(seed + f * perFile + j, base));
    const slot = new Date(base + (seed + f) * 300_000).toISOString().replace(".000Z", "+00:00");
    files.push({ key: `bench/${slot}.json`, body: Buffer.from(`${lines.join("\n")}\n`), records: perFile });
  }
  return files;
}

export async function putFiles(s3: S3Client, bucket: string, files: BenchFile[]): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch(() => undefined);
  const q = new PQueue({ concurrency: 8 });
  await Promise.all(
    files.map((f) =>
      q.add(() => s3.send(new PutObjectCommand({ Bucket: bucket, Key: f.key, Body: f.body }))),
    ),
  );
}

/** Uploads a local file to S3 as a stream (no copy in memory). */
export async function putFile(s3: S3Client, bucket: string, key: string, path: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: key,
      Body: createReadStream(path),
      ContentLength: statSync(path).size,
    }),
  );
}

/** Index templates for a prefix (what `twingate-ingest setup` installs), refresh interval as given. */
export async function setupPrefix(os: Client, prefix: string, refreshInterval = "1s"): Promise<void> {
  await runSetup(os, { indexPrefix: prefix, refreshInterval, replicas: 0 }, silent);
}

const suffixCache = new WeakMap<BenchFile[], string[]>();

/**
 * Creates the daily indices these files will write to (from the templates), so that index creation
 * (about a second each on this machine) is not part of a timed run.
 */
export async function precreate(os: Client, prefix: string, files: BenchFile[]): Promise<void> {
  let suffixes = suffixCache.get(files);
  if (!suffixes) {
    suffixes = [...new Set(documentsOf(files, "x").map((d) => d.index.slice(2)))];
    suffixCache.set(files, suffixes);
  }
  await Promise.all(suffixes.map((s) => os.indices.create({ index: `${prefix}-${s}` })));
  await os.cluster.health({ index: `${prefix}-*`, wait_for_status: "yellow", timeout: "30s" } as never);
}

export async function countDocs(os: Client, prefix: string): Promise<number> {
  await os.indices.refresh({ index: `${prefix}-*` }).catch(() => undefined);
  const r = await os.count({ index: `${prefix}-*` });
  return (r.body as { count: number }).count;
}

export interface PipelineSettings {
  bulkMaxDocs: number;
  bulkMaxBytes: number;
  bulkConcurrency: number;
  objectConcurrency: number;
}
export const DEFAULTS: PipelineSettings = {
  bulkMaxDocs: 2000,
  bulkMaxBytes: 5 * MB,
  bulkConcurrency: 4,
  objectConcurrency: 2,
};

/** The product pipeline (buildPipeline + ingestObject) over S3 keys; resolves with records indexed. */
export async function runPipeline(opts: {
  os: Client;
  s3: S3Client;
  bucket: string;
  keys: string[];
  prefix: string;
  settings: PipelineSettings;
  transport?: BulkTransport;
}): Promise<{ indexed: number; seconds: number }> {
  const ingest = makeIngest({
    os: opts.os,
    source: objectSource("s3", opts.s3),
    prefix: opts.prefix,
    settings: opts.settings,
    ...(opts.transport ? { transport: opts.transport } : {}),
  });
  const t0 = performance.now();
  const indexed = await ingestAll(ingest, opts.bucket, opts.keys, opts.settings.objectConcurrency);
  return { indexed, seconds: (performance.now() - t0) / 1000 };
}

/** Ingests the keys `concurrency` objects at a time, as the worker takes them; resolves with records indexed. */
export async function ingestAll(
  ingest: (ref: ObjectRef) => Promise<IngestResult>,
  bucket: string,
  keys: readonly string[],
  concurrency: number,
  /** Throw if any record was already indexed (a 409): the run was meant to write new documents only. */
  freshOnly = false,
): Promise<number> {
  const q = createTaskQueue(concurrency);
  const results = await Promise.all(keys.map((key) => q.add(() => ingest({ bucket, key }))));
  const duplicates = results.reduce((n, r) => n + r!.duplicates, 0);
  if (freshOnly && duplicates > 0)
    throw new Error(`${duplicates} records were already indexed: the inputs repeat records`);
  return results.reduce((n, r) => n + r!.indexed, 0);
}

/**
 * The product's ingest function: `buildPipeline` when writing to OpenSearch; with a custom transport
 * (the null sink), the same wiring built here (BulkSink + ingestObject), since buildPipeline always
 * uses the real transport.
 */
export function makeIngest(opts: {
  os: Client;
  source: ObjectSource;
  prefix: string;
  settings: PipelineSettings;
  transport?: BulkTransport;
}): (ref: ObjectRef) => Promise<IngestResult> {
  const config = {
    indexPrefix: opts.prefix,
    bulkMaxDocs: opts.settings.bulkMaxDocs,
    bulkMaxBytes: opts.settings.bulkMaxBytes,
    bulkConcurrency: opts.settings.bulkConcurrency,
    maxRecordBytes: 1024 * 1024,
    maxFileBytes: 20 * 1024 ** 3,
  };
  if (!opts.transport) {
    const p = buildPipeline({ config, opensearch: opts.os, source: opts.source, logger: silent });
    return (ref) => p.ingest(ref);
  }
  const sink = new BulkSink(
    opts.transport,
    {
      maxDocs: config.bulkMaxDocs,
      maxBytes: config.bulkMaxBytes,
      concurrency: config.bulkConcurrency,
      quarantine: (action, message) => quarantineRefused(action, message, config.indexPrefix),
    },
    silent,
  );
  const deps: IngestDeps = { source: opts.source, sink, logger: silent, ...config };
  return (ref) => ingestObject(ref, deps);
}

/** A BulkTransport that answers "all created" without any network: isolates the pipeline. */
export const nullTransport: BulkTransport = async (body) => {
  let n = 0;
  for (let i = body.indexOf("\n"); i !== -1; i = body.indexOf("\n", i + 1)) n++;
  return { errors: false, created: n / 2, duplicates: 0 };
};

/** A document as the raw loader sends it: where, and its JSON. */
export interface RawDoc {
  index: string;
  id: string;
  json: string;
}

/** The documents the pipeline would send for these files (built ahead, not timed). */
export function documentsOf(files: BenchFile[], prefix: string): RawDoc[] {
  const out: RawDoc[] = [];
  const ingestedAt = new Date().toISOString();
  for (const f of files) {
    let ordinal = 0;
    for (const line of f.body.toString("utf8").split("\n")) {
      if (!line) continue;
      const v = validateRecord(JSON.parse(line));
      if (!v.ok) throw new Error(v.message);
      const a = toIndexAction(
        v.record,
        { bucket: "bench", key: f.key, ordinal, line: ordinal + 1 },
        { indexPrefix: prefix, ingestedAt },
      );
      out.push({ index: a.index, id: a.id, json: a.json?.join("") ?? JSON.stringify(a.document) });
      ordinal++;
    }
  }
  return out;
}

/**
 * The ceiling: a minimal raw `_bulk` loader (node:http keep-alive, bodies pre-serialised) sending the
 * same documents with `batch` docs per request and `concurrency` requests in flight.
 */
export async function rawLoad(
  url: string,
  docs: RawDoc[],
  batch: number,
  concurrency: number,
): Promise<{ indexed: number; seconds: number }> {
  const bodies: string[] = [];
  for (let i = 0; i < docs.length; i += batch) {
    let body = "";
    for (const a of docs.slice(i, i + batch)) {
      body += `{"create":{"_index":${JSON.stringify(a.index)},"_id":${JSON.stringify(a.id)}}}\n${a.json}\n`;
    }
    bodies.push(body);
  }
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const u = new URL("/_bulk?filter_path=errors,items.*.status,items.*.error.reason", url);
  const send = (body: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        u,
        { method: "POST", agent, headers: { "content-type": "application/x-ndjson" } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const r = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
              items?: Array<Record<string, { status: number }>>;
            };
            let ok = 0;
            for (const it of r.items ?? []) {
              const st = it["create"]?.status ?? 500;
              if (st < 300) ok++;
              else failures[st] = (failures[st] ?? 0) + 1;
            }
            resolve(ok);
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  const failures: Record<number, number> = {};
  const t0 = performance.now();
  let next = 0;
  let indexed = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) {
        const n = await send(bodies[next++]!);
        indexed += n; // not `indexed += await ...`: that would read indexed before the await
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  if (Object.keys(failures).length > 0)
    process.stderr.write(`raw loader: failed items by status ${JSON.stringify(failures)}\n`);
  return { indexed, seconds };
}
