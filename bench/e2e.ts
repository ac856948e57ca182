/**
 * End-to-end benchmarks against the local stack (OpenSearch + moto): `eval "$(bash scripts/stack.sh env)"`.
 *
 *   node --import tsx bench/e2e.ts throughput [--files 8 --per-file 5000 --rounds 3] [--ceiling 5000,4]
 *   node --import tsx bench/e2e.ts sweep      [--files 6 --per-file 5000]
 *   node --import tsx bench/e2e.ts latency    [--seconds 30 --per-file 100 --every-ms 100]
 *   node --import tsx bench/e2e.ts scaleout   [--files 48 --per-file 10000 --rounds 3]
 *   node --import tsx bench/e2e.ts memory     [--big-mb 1024 --small-mb 100 --n-small 10 --s3-mb 100]
 *
 * Each prints a Markdown section on stdout (bench/run.ts prints them all).
 * Every run uses its own index prefix, bucket and queue, deleted afterwards.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { objectSource } from "../src/core/ingest/pipeline.ts";
import { localSource } from "../src/core/sources/local.ts";
import { createTaskQueue } from "../src/platform/util/queue.ts";
import { provision } from "../src/tools/produce/provision.ts";
import { bundle } from "./lib/bundle.ts";
import { median } from "./lib/parse-runs.ts";
import { motoPid, opensearchPid, procCpuSeconds } from "./lib/proc.ts";
import { generate } from "./lib/records.ts";
import {
  awsClients,
  countDocs,
  DEFAULTS,
  documentsOf,
  dropPrefix,
  ingestAll,
  MB,
  makeFiles,
  makeIngest,
  nullTransport,
  opensearchClient,
  type PipelineSettings,
  precreate,
  putFile,
  putFiles,
  rawLoad,
  runPipeline,
  setupPrefix,
  stackEnv,
  uniqueName,
} from "./lib/stack.ts";
import { benchWorker } from "./lib/worker.ts";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : Number(process.argv[i + 1]);
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const HERE = import.meta.dirname;

/**
 * Child processes run this file compiled (bundled with esbuild, dependencies left external), as the
 * product ships (dist/, no tsx): tsx alone adds ~40 MB of RSS, which the memory figures must not count.
 */
let compiled: string | undefined;
async function childArgs(): Promise<string[]> {
  compiled ??= await bundle(join(HERE, "e2e.ts"), join(HERE, "..", ".cache", "bench", "e2e-child.mjs"));
  return [compiled];
}

// ---- throughput: pipeline vs raw _bulk ceiling -------------------------------------------------

/** CPU of one timed run, in cores (CPU-seconds per second) over `secs` seconds of wall clock. */
interface CpuSample {
  secs: number;
  self: number;
  os?: number;
  moto?: number;
}

function cpuLine(name: string, xs: CpuSample[]): string {
  const m = (f: (x: (typeof xs)[number]) => number | undefined) => {
    const v = xs.map(f).filter((x): x is number => x !== undefined);
    return v.length === 0 ? undefined : median(v);
  };
  const self = m((x) => x.self)!;
  const os = m((x) => x.os);
  const moto = m((x) => x.moto);
  const f = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(2));
  return `| ${name} | ${f(self)} | ${f(os)} | ${f(moto)} | ${f(self + (os ?? 0) + (moto ?? 0))} |`;
}

/**
 * CPU-seconds per 100,000 records of one run: the client's (this process: the consumer, or the raw loader)
 * and OpenSearch's over the same window (undefined where its pid is not readable).
 */
function per100k(x: CpuSample, records: number): { self: number; os: number | undefined } {
  const k = (cores: number) => (cores * x.secs * 100_000) / records;
  return { self: k(x.self), os: x.os === undefined ? undefined : k(x.os) };
}

/** A child process that keeps `cores` (0..1) of one core busy until killed. */
function burnCpu(cores: number) {
  const duty = Math.min(1, Math.max(0, cores));
  const code = `setInterval(() => { const t = performance.now(); while (performance.now() - t < ${(10 * duty).toFixed(2)}) {} }, 10);`;
  return spawn(process.execPath, ["-e", code], { stdio: "ignore" });
}

async function throughput(): Promise<string> {
  const nFiles = arg("files", 8);
  const perFile = arg("per-file", 5000);
  const rounds = arg("rounds", 3);
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const bucket = uniqueName("bench-tp");
  const files = makeFiles(nFiles, perFile);
  const total = nFiles * perFile;
  await putFiles(aws.s3, bucket, files);
  const keys = files.map((f) => f.key);
  // The ceiling's best batch size and concurrency, chosen on a first pass.
  // `--ceiling 5000,4`: that batch size and concurrency only (no grid: a shorter run).
  const fixed = process.argv.includes("--ceiling")
    ? (process.argv[process.argv.indexOf("--ceiling") + 1]!.split(",").map(Number) as [number, number])
    : undefined;
  const grid: [number, number][] = fixed
    ? [fixed]
    : process.argv.includes("--quick")
      ? [[2000, 2]]
      : [
          [1000, 2],
          [2000, 2],
          [5000, 2],
          [1000, 4],
          [2000, 4],
          [5000, 4],
          [2000, 8],
        ];
  const docs0 = documentsOf(files, "x");
  let best: [number, number] = [2000, 4];
  let bestRate = 0;
  const gridRows: string[] = [];
  for (const [b, c] of grid) {
    const prefix = uniqueName("bench-grid");
    await setupPrefix(os, prefix);
    await precreate(os, prefix, files);
    const docs = docs0.map((d) => ({ ...d, index: d.index.replace(/^x-/, `${prefix}-`) }));
    const r = await rawLoad(env.opensearchUrl, docs, b, c);
    await dropPrefix(os, prefix);
    const rate = r.indexed / r.seconds;
    gridRows.push(`| ${b} | ${c} | ${fmt(rate)} |`);
    if (rate > bestRate) {
      bestRate = rate;
      best = [b, c];
    }
  }
  const pipe: number[] = [];
  const raw: number[] = [];
  const cpuRaw: CpuSample[] = [];
  const cpuPipe: CpuSample[] = [];
  for (let round = 0; round < rounds; round++) {
    // Interleaved: ceiling then pipeline, fresh indices each time.
    {
      const prefix = uniqueName("bench-raw");
      await setupPrefix(os, prefix);
      await precreate(os, prefix, files);
      const docs = docs0.map((d) => ({ ...d, index: d.index.replace(/^x-/, `${prefix}-`) }));
      const { value: r, ...cpu } = await withCpu(() => rawLoad(env.opensearchUrl, docs, best[0], best[1]));
      cpuRaw.push(cpu);
      if (r.indexed !== total) throw new Error(`raw loader indexed ${r.indexed} of ${total}`);
      raw.push(r.indexed / r.seconds);
      await dropPrefix(os, prefix);
    }
    {
      const prefix = uniqueName("bench-pipe");
      await setupPrefix(os, prefix);
      await precreate(os, prefix, files);
      const { value: r, ...cpu } = await withCpu(() =>
        runPipeline({ os, s3: aws.s3, bucket, keys, prefix, settings: DEFAULTS }),
      );
      cpuPipe.push(cpu);
      if (r.indexed !== total) throw new Error(`pipeline indexed ${r.indexed} of ${total}`);
      const n = await countDocs(os, prefix);
      if (n !== total) throw new Error(`pipeline: ${n} documents searchable, expected ${total}`);
      pipe.push(r.indexed / r.seconds);
      await dropPrefix(os, prefix);
    }
  }
  // Control: the ceiling again while a process burns as much CPU as the pipeline used (its client share),
  // to tell the pipeline's own cost from the CPU it takes from OpenSearch on this machine.
  const burnCores = median(cpuPipe.map((x) => x.self));
  const burned: number[] = [];
  if (!process.argv.includes("--quick")) {
    for (let round = 0; round < 2; round++) {
      const prefix = uniqueName("bench-burn");
      await setupPrefix(os, prefix);
      await precreate(os, prefix, files);
      const docs = docs0.map((d) => ({ ...d, index: d.index.replace(/^x-/, `${prefix}-`) }));
      const burner = burnCpu(burnCores);
      try {
        const r = await rawLoad(env.opensearchUrl, docs, best[0], best[1]);
        burned.push(r.indexed / r.seconds);
      } finally {
        burner.kill();
        await dropPrefix(os, prefix);
      }
    }
  }
  aws.destroy();
  await os.close();
  const p = median(pipe);
  const c = median(raw);
  const cb = burned.length > 0 ? median(burned) : undefined;
  // CPU per record, per round and as medians of the rounds (the unit that survives a shared machine).
  const kPipe = cpuPipe.map((x) => per100k(x, total));
  const kRaw = cpuRaw.map((x) => per100k(x, total));
  const medOf = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length === 0 ? undefined : median(v);
  };
  const f2 = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(2));
  const list = (xs: (number | undefined)[]) => xs.map(f2).join(", ");
  const ratios = pipe.map((x, i) => x / raw[i]!);
  const cpuRow = (name: string, ks: { self: number; os: number | undefined }[], rate: number) =>
    `| ${name} | ${fmt(rate)} | ${f2(medOf(ks.map((k) => k.self)))} | ${f2(medOf(ks.map((k) => k.os)))} |`;
  process.stderr.write(
    `throughput: pipeline ${f2(medOf(kPipe.map((k) => k.self)))} CPU-s/100k records (OpenSearch ${f2(medOf(kPipe.map((k) => k.os)))}), ` +
      `${(p / c).toFixed(2)} of the raw _bulk ceiling (per round: ${ratios.map((r) => r.toFixed(2)).join(", ")})\n`,
  );
  return `## End to end: worker pipeline vs raw \`_bulk\` ceiling

${fmt(total)} records in ${nFiles} NDJSON files of ${fmt(perFile)} records in moto S3. **Pipeline**: \`buildPipeline\`
+ \`ingestObject\` (S3 GetObject → reader → validate → documents → BulkSink → OpenSearch), default settings
(bulk ${DEFAULTS.bulkMaxDocs} docs / ${DEFAULTS.bulkMaxBytes / MB} MB, bulk concurrency ${DEFAULTS.bulkConcurrency}, ${DEFAULTS.objectConcurrency} objects at once).
**Ceiling**: the same documents (built beforehand, not timed) sent by a minimal \`_bulk\` loader (node:http keep-alive,
pre-serialised bodies) at its best batch size and concurrency from this grid:

| docs/request | concurrency | records/s |
| ---: | ---: | ---: |
${gridRows.join("\n")}

Then ${rounds} interleaved rounds (ceiling, pipeline), fresh indices each time (templates installed, refresh 1 s, the\ndaily indices created before the clock starts); medians:

| Run | records/s |
| --- | ---: |
| raw \`_bulk\` ceiling (${best[0]} docs, ${best[1]} in flight) | ${fmt(c)} |
| pipeline (S3 → OpenSearch) | ${fmt(p)} |

**Pipeline / ceiling: ${(p / c).toFixed(2)}** (goal ≥ 0.85). Per round: pipeline ${pipe.map(fmt).join(", ")}; ceiling ${raw.map(fmt).join(", ")}.

**CPU per record** (CPU-seconds, user + system, per 100,000 records; medians of the rounds): the consumer is
this process running the pipeline (\`process.cpuUsage()\`), or the raw loader for the ceiling; OpenSearch's
from /proc over the same window. On a shared machine this moves far less than records/s does.

| Run | records/s | consumer CPU-s / 100k records | OpenSearch CPU-s / 100k records |
| --- | ---: | ---: | ---: |
${cpuRow("raw `_bulk` ceiling", kRaw, c)}
${cpuRow("pipeline", kPipe, p)}

**Pipeline: ${f2(medOf(kPipe.map((k) => k.self)))} CPU-s per 100,000 records, at ${(p / c).toFixed(2)} of the ceiling's records/s.**
Per round, pipeline: ${list(kPipe.map((k) => k.self))} (OpenSearch ${list(kPipe.map((k) => k.os))}); ceiling's
loader: ${list(kRaw.map((k) => k.self))} (OpenSearch ${list(kRaw.map((k) => k.os))}); pipeline / ceiling per round:
${ratios.map((r) => r.toFixed(2)).join(", ")}.

Where the ${cpus().length} cores went during the timed parts (CPU-seconds per second, medians of the rounds; the client is the
bench process: the raw loader, or the pipeline):

| Run | client | OpenSearch | moto | total |
| --- | ---: | ---: | ---: | ---: |
${cpuLine("raw `_bulk` ceiling", cpuRaw)}
${cpuLine("pipeline", cpuPipe)}
${
  cb === undefined
    ? ""
    : `
Control: the ceiling measured again while another process only burns ${burnCores.toFixed(2)} of a core (the pipeline's own
share above), 2 rounds: ${burned.map(fmt).join(", ")} records/s, **${(cb / c).toFixed(2)} of the unloaded ceiling**; the pipeline
is **${(p / cb).toFixed(2)} of the ceiling under the same CPU pressure**.
`
}`;
}

/** The pipeline alone, once (for `node --cpu-prof`): `bench/e2e.ts pipeline [--null]`. */
async function pipelineOnly(): Promise<string> {
  const nFiles = arg("files", 8);
  const perFile = arg("per-file", 5000);
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const bucket = uniqueName("bench-po");
  const files = makeFiles(nFiles, perFile);
  await putFiles(aws.s3, bucket, files);
  const prefix = uniqueName("bench-po");
  await setupPrefix(os, prefix);
  await precreate(os, prefix, files);
  const nullSink = process.argv.includes("--null");
  const r = await runPipeline({
    os,
    s3: aws.s3,
    bucket,
    keys: files.map((f) => f.key),
    prefix,
    settings: DEFAULTS,
    ...(nullSink ? { transport: nullTransport } : {}),
  });
  await dropPrefix(os, prefix);
  aws.destroy();
  await os.close();
  return `pipeline${nullSink ? " (null sink)" : ""}: ${fmt(r.indexed / r.seconds)} records/s`;
}

// ---- sweep of batch size and concurrency ---------------------------------------------------------

async function sweep(): Promise<string> {
  const nFiles = arg("files", 6);
  const perFile = arg("per-file", 5000);
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const bucket = uniqueName("bench-sw");
  const files = makeFiles(nFiles, perFile, 1_000_000);
  const total = nFiles * perFile;
  await putFiles(aws.s3, bucket, files);
  const keys = files.map((f) => f.key);
  const configs: PipelineSettings[] = [];
  for (const bulkMaxDocs of [500, 1000, 2000, 5000])
    configs.push({ ...DEFAULTS, bulkMaxDocs, bulkMaxBytes: 100 * MB });
  for (const mb of [1, 5, 10]) configs.push({ ...DEFAULTS, bulkMaxDocs: 100_000, bulkMaxBytes: mb * MB });
  for (const bulkConcurrency of [1, 2, 4, 8]) configs.push({ ...DEFAULTS, bulkConcurrency });
  for (const objectConcurrency of [1, 4, 8]) configs.push({ ...DEFAULTS, objectConcurrency });
  if (process.argv.includes("--quick")) configs.splice(2);
  const rows: string[] = [];
  for (const s of configs) {
    const prefix = uniqueName("bench-sw");
    await setupPrefix(os, prefix);
    await precreate(os, prefix, files);
    const r = await runPipeline({ os, s3: aws.s3, bucket, keys, prefix, settings: s });
    await dropPrefix(os, prefix);
    if (r.indexed !== total) throw new Error(`indexed ${r.indexed} of ${total}`);
    rows.push(
      `| ${s.bulkMaxDocs} | ${s.bulkMaxBytes / MB} MB | ${s.bulkConcurrency} | ${s.objectConcurrency} | ${fmt(r.indexed / r.seconds)} |`,
    );
    process.stderr.write(`${rows.at(-1)}\n`);
  }
  aws.destroy();
  await os.close();
  return `## Sweep: bulk size, bytes and concurrency

The pipeline (as above) over ${fmt(total)} records (${nFiles} files), one run per setting, changing one setting at a
time from the defaults (the docs and bytes rows lift the other limit out of the way). Average document: ~${Math.round(files[0]!.body.length / perFile)} bytes of source JSON.

| bulkMaxDocs | bulkMaxBytes | bulkConcurrency | objectConcurrency | records/s |
| ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}
`;
}

// ---- latency: PUT -> searchable ------------------------------------------------------------------

async function latency(): Promise<string> {
  const seconds = arg("seconds", 30);
  const perFile = arg("per-file", 100);
  const everyMs = arg("every-ms", 100);
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const name = uniqueName("bench-lat");
  const prov = await provision(aws, { bucket: name, queue: name, via: "s3" });
  const prefix = name;
  const nFiles = Math.floor((seconds * 1000) / everyMs);
  const files = makeFiles(nFiles, perFile, 2_000_000);
  await setupPrefix(os, prefix, "1s");
  await precreate(os, prefix, files);
  const worker = benchWorker({ s3: aws.s3, sqs: aws.sqs, os, queueUrl: prov.queueUrl, prefix });
  const running = worker.start();
  const putAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const body = { size: 0, aggs: { k: { terms: { field: "ingest.key", size: 10_000 } } } };
      const r = await os.search({ index: `${prefix}-*`, body } as never);
      const now = performance.now();
      const buckets =
        (r.body as { aggregations?: { k: { buckets: { key: string; doc_count: number }[] } } }).aggregations
          ?.k.buckets ?? [];
      for (const b of buckets) if (b.doc_count >= perFile && !seenAt.has(b.key)) seenAt.set(b.key, now);
      await new Promise((res) => setTimeout(res, 50));
    }
  })();
  const start = performance.now();
  for (let i = 0; i < nFiles; i++) {
    const due = start + i * everyMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    const f = files[i]!;
    const t = performance.now();
    void aws.s3
      .send(new PutObjectCommand({ Bucket: name, Key: f.key, Body: f.body }))
      .then(() => putAt.set(f.key, t));
  }
  const deadline = performance.now() + 60_000;
  while (seenAt.size < nFiles && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  polling = false;
  await poller;
  await worker.stop(2000);
  await running.catch(() => undefined);
  const lat = files
    .filter((f) => seenAt.has(f.key) && putAt.has(f.key))
    .map((f) => seenAt.get(f.key)! - putAt.get(f.key)!)
    .sort((a, b) => a - b);
  const pct = (p: number) => lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))]!;
  await dropPrefix(os, prefix);
  aws.destroy();
  await os.close();
  return `## Latency: PUT to searchable

One file of ${perFile} events PUT every ${everyMs} ms (${fmt((perFile * 1000) / everyMs)} events/s) for ${seconds} s into moto S3,
whose notification goes to SQS; an in-process worker (the product's \`SqsWorker\`, long poll 1 s, default
settings) ingests it; a poller asks OpenSearch every ~50 ms (terms aggregation on \`ingest.key\`) which files have all
their documents searchable. Index refresh interval: **1 s** (OpenSearch's default; \`twingate-ingest setup\` installs
5 s by default, which adds up to 4 s to these numbers). No explicit refresh. Files measured: ${lat.length} of ${nFiles}.

| | ms |
| --- | ---: |
| p50 | ${Math.round(pct(50))} |
| p90 | ${Math.round(pct(90))} |
| p99 | ${Math.round(pct(99))} |
| max | ${Math.round(lat.at(-1) ?? Number.NaN)} |

Goal: p99 < 2 s + refresh interval = 3,000 ms here.
`;
}

// ---- scale-out: 1 vs 2 worker processes on one queue, null sink ---------------------------------

/**
 * A timed scale-out child: says "ready", starts its work on the parent's first line, reports records as
 * each object is done, and on the parent's second line stops and reports the CPU it used since "go".
 */
async function timedChild(start: (onRecords: (n: number) => void) => () => Promise<void>): Promise<void> {
  const nextLine = () => new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
  process.stdout.write("ready\n");
  await nextLine();
  const cpu0 = process.cpuUsage();
  const stop = start((n) => process.stdout.write(`${JSON.stringify({ records: n })}\n`));
  await nextLine();
  const cpu = process.cpuUsage(cpu0);
  await stop();
  process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  process.exit(0);
}

/** The product's worker on the bench queue (SQS + S3 in moto), null sink. */
async function childWorker(): Promise<void> {
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  await timedChild((onRecords) => {
    const worker = benchWorker({
      s3: aws.s3,
      sqs: aws.sqs,
      os,
      queueUrl: process.env["BENCH_QUEUE_URL"]!,
      prefix: "bench-null",
      transport: nullTransport,
      onObject: (_ref, r) => onRecords(r.records),
    });
    const running = worker.start();
    return async () => {
      await worker.stop(2000);
      await running.catch(() => undefined);
      aws.destroy();
    };
  });
}

/** The product's ingest of local files into the null sink: the pipeline with no network at all. */
function localNullIngest(prefix: string) {
  return makeIngest({
    os: undefined as never,
    source: localSource(),
    prefix,
    settings: DEFAULTS,
    transport: nullTransport,
  });
}

/** The baseline: the same ingest of local files, null sink, objectConcurrency at a time: no network at all. */
async function childBare(): Promise<void> {
  const paths = process.argv.slice(process.argv.indexOf("--child-bare") + 1);
  const ingest = localNullIngest("bench-bare");
  await timedChild((onRecords) => {
    const q = createTaskQueue(DEFAULTS.objectConcurrency);
    const done = Promise.all(
      paths.map((key) => q.add(async () => onRecords((await ingest({ bucket: "", key })).indexed))),
    );
    return async () => {
      await done;
    };
  });
}

/** CPU used by this process, OpenSearch and moto while `fn` runs: in cores, and its wall-clock seconds. */
async function withCpu<T>(fn: () => Promise<T>): Promise<{ value: T } & CpuSample> {
  const pids = { os: opensearchPid(), moto: motoPid() };
  const before = { os: procCpuSeconds(pids.os), moto: procCpuSeconds(pids.moto), self: process.cpuUsage() };
  const t0 = performance.now();
  const value = await fn();
  const secs = (performance.now() - t0) / 1000;
  const self = process.cpuUsage(before.self);
  const delta = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined ? undefined : (b - a) / secs;
  const os = delta(before.os, procCpuSeconds(pids.os));
  const moto = delta(before.moto, procCpuSeconds(pids.moto));
  return {
    value,
    secs,
    self: (self.user + self.system) / 1e6 / secs,
    ...(os !== undefined ? { os } : {}),
    ...(moto !== undefined ? { moto } : {}),
  };
}

interface ScaleResult {
  recordsPerSecond: number;
  seconds: number;
  /** CPU seconds used by the children during the timed part. */
  childCpu: number;
  /** CPU seconds used by the emulator (S3 + SQS) during the timed part, where readable. */
  motoCpu: number | undefined;
}

/**
 * Spawns one bench child per argument list, starts them together ("go") and times them until they have
 * reported `total` records; the emulator's CPU is measured over the same span.
 */
async function timeChildren(
  argsOf: readonly string[][],
  total: number,
  env: NodeJS.ProcessEnv = {},
): Promise<ScaleResult> {
  const child = await childArgs();
  const children = argsOf.map((args) =>
    spawn(process.execPath, [...child, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "inherit"],
    }),
  );
  let done = 0;
  let ready = 0;
  let childCpuMs = 0;
  let resolveReady!: () => void;
  let resolveDone!: () => void;
  const allReady = new Promise<void>((r) => {
    resolveReady = r;
  });
  const allDone = new Promise<void>((r) => {
    resolveDone = r;
  });
  const exited = children.map((c) => new Promise((r) => c.once("exit", r)));
  for (const c of children) {
    createInterface({ input: c.stdout! }).on("line", (line) => {
      if (line === "ready") {
        if (++ready === children.length) resolveReady();
        return;
      }
      const m = JSON.parse(line) as { records?: number; cpuMs?: number };
      if (m.cpuMs !== undefined) childCpuMs += m.cpuMs;
      if (m.records !== undefined) {
        done += m.records;
        if (done >= total) resolveDone();
      }
    });
  }
  await allReady;
  const t0 = performance.now();
  const { moto } = await withCpu(async () => {
    for (const c of children) c.stdin!.write("go\n");
    await allDone;
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const c of children) c.stdin!.write("stop\n");
  await Promise.all(exited);
  return {
    recordsPerSecond: total / seconds,
    seconds,
    childCpu: childCpuMs / 1000,
    motoCpu: moto === undefined ? undefined : moto * seconds,
  };
}

/** `n` worker processes on one queue holding a notification for each file (already in moto S3). */
async function scaleRun(n: number, files: ReturnType<typeof makeFiles>): Promise<ScaleResult> {
  const env = stackEnv();
  const aws = awsClients(env);
  const name = uniqueName(`bench-so${n}`);
  const prov = await provision(aws, { bucket: name, queue: name, via: "s3" });
  await putFiles(aws.s3, name, files);
  // Wait until every notification is in the queue.
  for (;;) {
    const a = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: prov.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages"],
      }),
    );
    if (Number(a.Attributes?.["ApproximateNumberOfMessages"] ?? 0) >= files.length) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  aws.destroy();
  const total = files.reduce((s, f) => s + f.records, 0);
  return timeChildren(
    Array.from({ length: n }, () => ["--child-worker"]),
    total,
    { BENCH_QUEUE_URL: prov.queueUrl },
  );
}

/** The baseline: `n` processes each ingesting its share of the same files from local disk, null sink. */
function bareRun(n: number, paths: readonly string[], total: number): Promise<ScaleResult> {
  const shares = Array.from({ length: n }, (_, i) => paths.filter((_, j) => j % n === i));
  return timeChildren(
    shares.map((share) => ["--child-bare", ...share]),
    total,
  );
}

async function scaleout(): Promise<string> {
  const nFiles = arg("files", 48);
  const perFile = arg("per-file", 10_000);
  const rounds = arg("rounds", 3);
  const files = makeFiles(nFiles, perFile, 3_000_000);
  const total = nFiles * perFile;
  const dir = mkdtempSync(join(tmpdir(), "tg-scale-"));
  const paths = files.map((f, i) => {
    const path = join(dir, `${i}.json`);
    writeFileSync(path, f.body);
    return path;
  });
  const runs = {
    worker1: [] as ScaleResult[],
    worker2: [] as ScaleResult[],
    bare1: [] as ScaleResult[],
    bare2: [] as ScaleResult[],
  };
  try {
    for (let r = 0; r < rounds; r++) {
      runs.bare1.push(await bareRun(1, paths, total));
      runs.worker1.push(await scaleRun(1, files));
      runs.bare2.push(await bareRun(2, paths, total));
      runs.worker2.push(await scaleRun(2, files));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const med = (xs: ScaleResult[]) =>
    [...xs].sort((x, y) => x.recordsPerSecond - y.recordsPerSecond)[xs.length >> 1]!;
  const [w1, w2, b1, b2] = [med(runs.worker1), med(runs.worker2), med(runs.bare1), med(runs.bare2)];
  const cores = cpus().length;
  const perSecond = (cpu: number | undefined, r: ScaleResult) =>
    cpu === undefined ? undefined : cpu / r.seconds;
  const num = (x: number | undefined) => (x === undefined ? "?" : x.toFixed(2));
  const row = (what: string, n: number, r: ScaleResult) => {
    const c = perSecond(r.childCpu, r)!;
    const m = perSecond(r.motoCpu, r);
    const all = what.startsWith("bare") ? c : m === undefined ? undefined : c + m;
    return `| ${what} | ${n} | ${fmt(r.recordsPerSecond)} | ${c.toFixed(2)} | ${what.startsWith("bare") ? "–" : num(m)} | ${num(all)} of ${cores} |`;
  };
  const speedUp = (two: ScaleResult, one: ScaleResult) => two.recordsPerSecond / one.recordsPerSecond;
  const rates = (xs: ScaleResult[]) => xs.map((r) => fmt(r.recordsPerSecond)).join(", ");
  // What the CPU allows: a run's cost in CPU-seconds per record (the worker's includes the emulator's);
  // with every core busy on that work, at most cores / cost records/s.
  const boundOf = (one: ScaleResult, withMoto: boolean) => {
    if (withMoto && one.motoCpu === undefined) return undefined;
    const cost = (one.childCpu + (withMoto ? one.motoCpu! : 0)) / (one.recordsPerSecond * one.seconds);
    return { cost, bound: cores / cost / one.recordsPerSecond };
  };
  const wb = boundOf(w1, true);
  const bb = boundOf(b1, false)!;
  const sw = speedUp(w2, w1);
  const sb = speedUp(b2, b1);
  return `## Scale-out: 1 vs 2 workers on one queue (null sink)

${fmt(total)} records in ${nFiles} files of ${fmt(perFile)}. **Workers:** the files in moto S3, one notification each,
queued before the workers start; each worker is its own Node process running the product's \`SqsWorker\` +
\`ingestObject\` (default settings, compiled) with a **null sink** (a \`BulkTransport\` that answers every item
"created" without network, constructed in bench code only: no production flag). **Baseline, in the same run:**
the same files from local disk, through the same \`ingestObject\` and null sink, in 1 or 2 processes (each its
share of the files, ${DEFAULTS.objectConcurrency} at a time): the same CPU work with no SQS, S3 or emulator at all, so its speed-up is what
this machine gives this work. Timed from "go" (all processes started and ready) to the last record; ${rounds}
interleaved rounds, medians. CPU is user + system time during the timed part, in cores (CPU-seconds per
second): the processes' own from \`process.cpuUsage()\`, the emulator's (moto serves S3 and SQS, in Python) from /proc.

| Run | processes | records/s | their CPU (cores) | moto's CPU (cores) | total |
| --- | ---: | ---: | ---: | ---: | ---: |
${row("bare pipeline (baseline)", 1, b1)}
${row("bare pipeline (baseline)", 2, b2)}
${row("workers", 1, w1)}
${row("workers", 2, w2)}

**Speed-up of 2 workers: ${sw.toFixed(2)}×** (goal ≥ 1.7× where CPU allows); the baseline's, on the same machine in the
same run: **${sb.toFixed(2)}×**, so the workers get ${(sw / sb).toFixed(2)} of what the machine gives this work.
Rounds: workers 1: ${rates(runs.worker1)}; 2: ${rates(runs.worker2)}. Baseline 1: ${rates(runs.bare1)}; 2: ${rates(runs.bare2)}.

**What this machine allows:** one bare process uses ${(b1.childCpu / b1.seconds).toFixed(2)} cores (V8 collects garbage and compiles on
helper threads), so 2 cores allow it at most **${bb.bound.toFixed(2)}×**${
    wb === undefined
      ? ""
      : `; one worker's run costs ${(wb.cost * 1e6).toFixed(1)} CPU-µs per record
with the emulator's share (${w1.motoCpu === undefined ? "?" : ((w1.motoCpu / (w1.recordsPerSecond * w1.seconds)) * 1e6).toFixed(1)} µs of it), so 2 cores allow at most **${wb.bound.toFixed(2)}×** one worker, whatever the
number of workers`
  }. Two processes busy on both cores also each do less per CPU-second than one alone (shared caches
and memory bandwidth, the emulator's threads preempting them): that is the baseline's gap to its bound.
Against real S3 and SQS the emulator's share is not on the workers' machine.
`;
}

// ---- memory ---------------------------------------------------------------------------------------

const HEAP_FLAG = "--max-old-space-size=128";

async function childMem(): Promise<void> {
  const paths = process.argv.slice(process.argv.indexOf("--child-mem") + 1);
  const ingest = localNullIngest("bench-mem");
  // As the worker takes objects: at most objectConcurrency at a time (BENCH_OBJECT_CONCURRENCY overrides).
  const concurrency = Number(process.env["BENCH_OBJECT_CONCURRENCY"] ?? DEFAULTS.objectConcurrency);
  const t0 = performance.now();
  reportChild(await ingestAll(ingest, "", paths, concurrency), t0);
}

/** A memory child's one line of output: records, seconds since t0, peak RSS. */
function reportChild(records: number, t0: number): void {
  process.stdout.write(
    `${JSON.stringify({ records, seconds: (performance.now() - t0) / 1000, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

async function runChild(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeFlags: string[] = [],
): Promise<{ records: number; maxRssMb: number; seconds: number }> {
  const child = await childArgs();
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...nodeFlags, ...child, ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    c.stdout.on("data", (b: Buffer) => {
      out += b;
    });
    c.on("exit", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").at(-1)!))
        : reject(new Error(`child exited ${code}`)),
    );
  });
}

async function childMemReal(): Promise<void> {
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const bucket = process.env["BENCH_BUCKET"]!;
  const prefix = process.env["BENCH_PREFIX"]!;
  const keys = process.env["BENCH_KEYS"]!.split(",");
  const t0 = performance.now();
  // Local files -> real OpenSearch (as `backfill --from-dir`), or S3; objectConcurrency at a time.
  const source = bucket === "" ? localSource() : objectSource("s3", aws.s3);
  const ingest = makeIngest({ os, source, prefix, settings: DEFAULTS });
  // New records only, unless the run re-ingests on purpose (BENCH_REPEATS=expected: every record a 409).
  const fresh = process.env["BENCH_REPEATS"] !== "expected";
  reportChild(await ingestAll(ingest, bucket, keys, DEFAULTS.objectConcurrency, fresh), t0);
  aws.destroy();
  await os.close();
}

async function memory(): Promise<string> {
  const bigMb = arg("big-mb", 1024);
  const smallMb = arg("small-mb", 100);
  const nSmall = arg("n-small", 10);
  const s3Mb = arg("s3-mb", 100);
  const quick = process.argv.includes("--quick"); // smoke: no second run with the heap flag
  const dir = mkdtempSync(join(tmpdir(), "tg-mem-"));
  const rows: string[] = [];
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const bucket = uniqueName("bench-mem");
  const { CreateBucketCommand } = await import("@aws-sdk/client-s3");
  await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const row = (
    input: string,
    r: { records: number; maxRssMb: number; range?: string },
    capped?: { maxRssMb: number },
  ) =>
    rows.push(
      `| ${input} | ${fmt(r.records)} | ${r.maxRssMb.toFixed(0)} MB${r.range ?? ""} | ${capped ? `${capped.maxRssMb.toFixed(0)} MB` : "–"} |`,
    );
  /** Null sink, local files: the pipeline alone, with and without the heap cap. */
  const nullRuns = async (input: string, paths: string[], e: NodeJS.ProcessEnv = {}) => {
    const r = await runChild(["--child-mem", ...paths], e);
    row(input, r, quick ? undefined : await runChild(["--child-mem", ...paths], e, [HEAP_FLAG]));
  };
  /**
   * Into the real OpenSearch, objectConcurrency objects at a time: from local files (as `backfill
   * --from-dir`), or through moto S3 (which takes minutes to store a 1 GB object, hence a smaller file).
   */
  const realRun = async (
    input: string,
    paths: string[],
    viaS3: boolean,
    repeats = 1,
    /** Also ingest the same files again into the last run's indices (every record a 409), as this row. */
    againRow?: string,
  ) => {
    const keys: string[] = [];
    if (viaS3) {
      for (const p of paths) {
        const key = `mem/${p.slice(dir.length + 1)}`;
        await putFile(aws.s3, bucket, key, p);
        keys.push(key);
      }
    } else keys.push(...paths);
    try {
      // Repeated (fresh indices each time) where the figure is close to the goal: runs differ by ±10 MB.
      const runs: { records: number; maxRssMb: number }[] = [];
      let again: { records: number; maxRssMb: number } | undefined;
      for (let i = 0; i < repeats; i++) {
        const prefix = uniqueName("bench-mem");
        await setupPrefix(os, prefix);
        try {
          const realEnv = {
            BENCH_BUCKET: viaS3 ? bucket : "",
            BENCH_PREFIX: prefix,
            BENCH_KEYS: keys.join(","),
          };
          runs.push(await runChild(["--child-mem-real"], realEnv));
          if (againRow && i === repeats - 1)
            again = await runChild(["--child-mem-real"], { ...realEnv, BENCH_REPEATS: "expected" });
        } finally {
          await dropPrefix(os, prefix);
        }
      }
      const peaks = runs.map((r) => r.maxRssMb);
      const range =
        runs.length > 1
          ? ` (median of ${runs.length} runs: ${Math.min(...peaks).toFixed(0)}–${Math.max(...peaks).toFixed(0)})`
          : "";
      row(input, { records: runs[0]!.records, maxRssMb: median(peaks), range });
      if (againRow && again) row(againRow, again);
    } finally {
      if (viaS3)
        for (const key of keys) await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  };
  const mbOf = (p: string) => (statSync(p).size / MB).toFixed(0);
  try {
    row("nothing (Node + modules loaded)", await runChild(["--child-mem"]));
    const big = join(dir, "2025-07-25T18:20:00+00:00.json");
    await generate(big, bigMb * MB);
    await nullRuns(`1 file of ${mbOf(big)} MB, null sink`, [big]);
    await realRun(`**1 file of ${mbOf(big)} MB, local file → real OpenSearch**`, [big], false);
    rmSync(big);
    // Ten different files (distinct records): the same file ten times would index once and answer the
    // other nine with 409s, a failure-answer path (each item parsed with its error) that real traffic
    // does not take.
    const smalls: string[] = [];
    let first = 0;
    for (let i = 0; i < nSmall; i++) {
      const p = join(dir, `2025-07-25T18:${String(i).padStart(2, "0")}:00+00:00.json`);
      first += await generate(p, smallMb * MB, first);
      smalls.push(p);
    }
    const smallName = `${nSmall} files of ${smallMb} MB at once`;
    const oc = DEFAULTS.objectConcurrency;
    await nullRuns(`${smallName}, null sink, ${oc} at a time (objectConcurrency, the default)`, smalls);
    await nullRuns(
      `${smallName}, null sink, all ${nSmall} concurrently (objectConcurrency ${nSmall})`,
      smalls,
      {
        BENCH_OBJECT_CONCURRENCY: String(nSmall),
      },
    );
    await realRun(
      `**${smallName}, local files → real OpenSearch, ${oc} at a time (the default)**`,
      smalls,
      false,
      quick ? 1 : 3,
      `${smallName} again, into the same indices: every record already there (409s, as a redelivery or a backfill over indexed data)`,
    );
    for (const p of smalls) rmSync(p);
    const viaS3 = join(dir, "2025-07-25T19:00:00+00:00.json");
    await generate(viaS3, s3Mb * MB);
    await realRun(`1 file of ${mbOf(viaS3)} MB, moto S3 → real OpenSearch`, [viaS3], true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    aws.destroy();
    await os.close();
  }
  return `## Memory: peak RSS

Peak RSS (\`process.resourceUsage().maxRSS\`) of a fresh Node process running the product's ingest (\`ingestObject\`
with default settings: bulk ${DEFAULTS.bulkMaxDocs} docs / ${DEFAULTS.bulkMaxBytes / MB} MB, ${DEFAULTS.bulkConcurrency} bulks in flight). The null-sink rows read local files
(\`localSource\`) and answer every bulk "created" without network, to isolate the pipeline's memory (they run
as fast as the CPU allows: the highest allocation rate); the rows in bold are the goal's cases, real runs into
OpenSearch from local files (the same pipeline as from S3, as \`backfill --from-dir\` runs it: moto takes
minutes to store a 1 GB object), and the last row a real run from moto S3. The children run the benchmark compiled (esbuild bundle, as
\`dist/\` ships; no tsx). Includes Node itself and the loaded modules (first row).

| Input | records | peak RSS (Node defaults) | peak RSS with \`${HEAP_FLAG}\` |
| --- | ---: | ---: | ---: |
${rows.join("\n")}

Goal: < 200 MB. What the pipeline holds live is small and does not grow with the file: the reader keeps
at most one record plus a few chunks; the sink one batch being built per object, one waiting and
${DEFAULTS.bulkConcurrency} in flight, each ~${Math.round((DEFAULTS.bulkMaxDocs * 1.15) / 1024)} MB of UTF-8 in one buffer outside the JS heap (and, per document, numbers in
one typed array: no object per document outlives its request); the live JS heap after a
full GC stays ~25 MB (\`node --expose-gc --import tsx bench/probe-memory.ts\` samples it during a real run).
The rest of the RSS is V8's young generation (up to 3 × 16 MB semi-spaces) and garbage not yet collected,
which grows with the allocation rate, i.e. with how many objects are parsed at once: the objects a worker
takes at once are bounded by \`objectConcurrency\` (default ${DEFAULTS.objectConcurrency}); raising it to 10 costs the "all 10 concurrently" row.
\`${HEAP_FLAG}\` makes V8 collect sooner at some CPU cost (measured with the null sink only); the live heap is ~25 MB,
but it is not a default (a deployment sets it through \`NODE_OPTIONS\` if it wants it).
`;
}

// ---- main -----------------------------------------------------------------------------------------

const mode = process.argv[2] ?? "";
if (process.argv.includes("--child-worker")) await childWorker();
else if (process.argv.includes("--child-bare")) await childBare();
else if (process.argv.includes("--child-mem")) await childMem();
else if (process.argv.includes("--child-mem-real")) await childMemReal();
else {
  const modes: Record<string, () => Promise<string>> = {
    throughput,
    sweep,
    latency,
    scaleout,
    memory,
    pipeline: pipelineOnly,
  };
  const fn = modes[mode];
  if (!fn) {
    process.stderr.write(`usage: bench/e2e.ts ${Object.keys(modes).join("|")} [options]\n`);
    process.exit(2);
  }
  process.stdout.write(`${await fn()}\n`);
}
