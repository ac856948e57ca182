/**
 * Latency-bound throughput: many small files with S3 and SQS latency injected (the fault proxy of the tests
 * in front of moto, every S3/SQS request held `ms` before it is forwarded), for the worker (SqsWorker, the
 * messages being S3 notifications as `backfill --enqueue` sends them) and the in-process backfill
 * (runBackfill), as a function of object concurrency; against the same run's raw `_bulk` ceiling (no latency:
 * OpenSearch is not behind the proxy, as it is not behind a WAN in production either).
 *
 *   node --import tsx bench/wan.ts [--files 400 --per-file 1000 --latencies 0,20,50
 *                                   --concurrency 1,2,4,8,16 --prefetch 0,10
 *                                   --backfill-concurrency 2,8,16 --quick]
 * `--prefetch`: the worker's SQS_PREFETCH values (messages held beyond the object slots), each run with
 * every `--concurrency`; `--backfill-concurrency none` leaves the backfill rows out.
 *
 * Prints a Markdown section (bench/run.ts prints it with the others).
 */
import { availableParallelism, cpus } from "node:os";
import { CreateQueueCommand, DeleteQueueCommand } from "@aws-sdk/client-sqs";
import { objectSource } from "../src/core/ingest/pipeline.ts";
import { fixedObjects, runEnqueue } from "../src/runtimes/backfill/enqueue.ts";
import { emptyListingStats } from "../src/runtimes/backfill/listing.ts";
import { listPlan } from "../src/runtimes/backfill/range.ts";
import { runBackfill } from "../src/runtimes/backfill/run.ts";
import { startFaultProxy } from "../test/helpers/fault-proxy.ts";
import {
  awsClients,
  DEFAULTS,
  documentsOf,
  dropPrefix,
  makeFiles,
  makeIngest,
  opensearchClient,
  precreate,
  putFiles,
  rawLoad,
  setupPrefix,
  silent,
  stackEnv,
  uniqueName,
} from "./lib/stack.ts";
import { benchWorker } from "./lib/worker.ts";

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1]!;
}
const nums = (s: string) => s.split(",").map(Number);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const quick = process.argv.includes("--quick");

const nFiles = Number(arg("files", "400"));
const perFile = Number(arg("per-file", "1000"));
const latencies = nums(arg("latencies", "0,20,50"));
const concurrencies = nums(arg("concurrency", "1,2,4,8,16"));
const prefetches = nums(arg("prefetch", "0,10"));
const backfillConcurrencies =
  arg("backfill-concurrency", "2,8,16") === "none" ? [] : nums(arg("backfill-concurrency", "2,8,16"));
const total = nFiles * perFile;

const env = stackEnv();
const aws = awsClients(env);
const os = opensearchClient(env);
const proxy = await startFaultProxy(env.s3Endpoint);
const slow = awsClients({ ...env, s3Endpoint: proxy.url, sqsEndpoint: proxy.url });
const bucket = uniqueName("bench-wan");
const files = makeFiles(nFiles, perFile, 3_000_000);
await putFiles(aws.s3, bucket, files);
const objects = files.map((f) => ({ key: f.key, size: f.body.length }));

function setLatency(ms: number): void {
  proxy.fault = ms > 0 ? () => ({ kind: "delay", ms }) : () => undefined;
  proxy.requests.length = 0;
}

async function freshPrefix(): Promise<string> {
  const prefix = uniqueName("bench-wan");
  await setupPrefix(os, prefix);
  // Index creation (about a second each here) kept out of the timed runs; not worth it for the smoke run.
  if (!quick) await precreate(os, prefix, files);
  return prefix;
}

async function ceiling(): Promise<number> {
  const prefix = await freshPrefix();
  const docs = documentsOf(files, prefix);
  const r = await rawLoad(env.opensearchUrl, docs, 2000, 4);
  await dropPrefix(os, prefix);
  if (r.indexed !== total) throw new Error(`ceiling indexed ${r.indexed} of ${total}`);
  return r.indexed / r.seconds;
}

/** Worker: the queue holds one notification per file; time from start until every file is ingested. */
async function worker(latencyMs: number, objectConcurrency: number, prefetch: number): Promise<number> {
  const prefix = await freshPrefix();
  const queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: prefix }))).QueueUrl!;
  const sent = await runEnqueue({
    sqs: aws.sqs,
    queueUrl,
    bucket,
    objects: fixedObjects(objects),
    stats: emptyListingStats(),
    rate: 0,
    concurrency: 4,
    logger: silent,
  });
  if (sent.run.files !== nFiles) throw new Error(`enqueued ${sent.run.files} of ${nFiles}`);
  setLatency(latencyMs);
  let done = 0;
  let records = 0;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((r) => {
    finish = r;
  });
  const w = benchWorker({
    s3: slow.s3,
    sqs: slow.sqs,
    os,
    queueUrl,
    prefix,
    settings: { ...DEFAULTS, objectConcurrency },
    prefetch,
    onObject: (_ref, r) => {
      done++;
      records += r.indexed;
      if (done === nFiles) finish();
    },
  });
  const t0 = performance.now();
  const running = w.start();
  await finished;
  const seconds = (performance.now() - t0) / 1000;
  await w.stop(5000);
  await running.catch(() => undefined);
  setLatency(0);
  await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
  await dropPrefix(os, prefix);
  if (records !== total) throw new Error(`worker indexed ${records} of ${total}`);
  return total / seconds;
}

/** In-process backfill over the bucket (listing included). */
async function backfill(latencyMs: number, concurrency: number): Promise<number> {
  const prefix = await freshPrefix();
  setLatency(latencyMs);
  const ingest = makeIngest({ os, source: objectSource("s3", slow.s3), prefix, settings: DEFAULTS });
  const t0 = performance.now();
  const s = await runBackfill({
    source: { kind: "s3", s3: slow.s3, bucket },
    plan: listPlan("bench/", {}),
    range: {},
    concurrency,
    ingest,
    logger: silent,
  });
  const seconds = (performance.now() - t0) / 1000;
  setLatency(0);
  await dropPrefix(os, prefix);
  if (s.run.indexed !== total) throw new Error(`backfill indexed ${s.run.indexed} of ${total}`);
  return total / seconds;
}

// Warm-up (JIT, connections, moto's first requests), not reported.
if (!quick) await backfill(0, 8);
const before = await ceiling();
process.stderr.write(`ceiling: ${fmt(before)} records/s\n`);
const rows: { what: string; latency: number; c: string; rps: number }[] = [];
for (const latency of latencies) {
  for (const p of quick ? prefetches.slice(-1) : prefetches) {
    for (const c of quick ? concurrencies.slice(-1) : concurrencies) {
      const rps = await worker(latency, c, p);
      rows.push({ what: "worker", latency, c: `${c} + ${p}`, rps });
      process.stderr.write(`worker ${latency} ms x${c} prefetch ${p}: ${fmt(rps)} records/s\n`);
    }
  }
}
for (const latency of latencies) {
  for (const c of quick ? backfillConcurrencies.slice(-1) : backfillConcurrencies) {
    const rps = await backfill(latency, c);
    rows.push({ what: "backfill", latency, c: String(c), rps });
    process.stderr.write(`backfill ${latency} ms x${c}: ${fmt(rps)} records/s\n`);
  }
}
// --quick (the smoke run): one ceiling.
const after = quick ? before : await ceiling();
process.stderr.write(`ceiling again: ${fmt(after)} records/s\n`);
const ceil = (before + after) / 2;

await proxy.close();
aws.destroy();
slow.destroy();
await os.close();

/** Which CPUs the run had: all of them shared, or OpenSearch alone on one (bench/pinned.sh). */
function cpuNote(): string {
  const mine = availableParallelism();
  const all = cpus().length;
  return process.env["BENCH_PINNED"] === "1"
    ? `CPUs: OpenSearch alone on CPU 0, this benchmark (the worker, the backfill, the raw loader, the proxy) and moto on the other ${mine} of ${all} (bench/pinned.sh: OpenSearch on its own hosts, as in production).`
    : `CPUs: all ${all} shared by this benchmark, OpenSearch and moto (${mine} available to this process).`;
}

const table = (what: string) => {
  const mine = rows.filter((r) => r.what === what);
  const cs = [...new Set(mine.map((r) => r.c))];
  const head = `| ${what === "worker" ? "object concurrency + prefetch" : "object concurrency"} | ${latencies.map((l) => `${l} ms: records/s (files/s)`).join(" | ")} | ${latencies.map((l) => `${l} ms / ceiling`).join(" | ")} |`;
  const sep = `| ---: | ${latencies.map(() => "---:").join(" | ")} | ${latencies.map(() => "---:").join(" | ")} |`;
  const lines = cs.map((c) => {
    const at = (l: number) => mine.find((r) => r.c === c && r.latency === l)?.rps;
    const cell = (l: number) => {
      const v = at(l);
      return v === undefined ? "" : `${fmt(v)} (${(v / perFile).toFixed(1)})`;
    };
    const ratio = (l: number) => {
      const v = at(l);
      return v === undefined ? "" : (v / ceil).toFixed(2);
    };
    return `| ${c} | ${latencies.map(cell).join(" | ")} | ${latencies.map(ratio).join(" | ")} |`;
  });
  return [head, sep, ...lines].join("\n");
};

process.stdout.write(`## Latency-bound: many small files, S3 and SQS ${latencies.join("/")} ms a request

${fmt(nFiles)} files of ${fmt(perFile)} records (~${Math.round(files[0]!.body.length / 1024)} KiB each, ${fmt(total)} records) in moto S3. Every S3 and SQS
request goes through the tests' fault proxy (test/helpers/fault-proxy.ts), which holds it the given time before
forwarding it (one round trip of a remote region's latency); OpenSearch is reached directly. Ceiling: the raw
\`_bulk\` loader (2,000 documents a request, 4 in flight) over the same documents, with no latency, measured
before (${fmt(before)}) and after (${fmt(after)}) the runs: **${fmt(ceil)} records/s** (their mean, the ratio's base).
Each run writes into fresh indices created beforehand, and is timed to the last file indexed.
${cpuNote()}

**Worker** (the product's \`SqsWorker\` in-process; the queue filled beforehand with one S3 notification per file,
as \`backfill --enqueue\` sends them; receive 10, long poll 1 s, \`OBJECT_CONCURRENCY\` objects and
\`OBJECT_CONCURRENCY\` + \`SQS_PREFETCH\` messages in flight, bulk defaults):

${table("worker")}

**In-process backfill** (\`runBackfill\`: ListObjectsV2 then GetObject per file, \`--concurrency\` objects at once):

${table("backfill")}
`);
