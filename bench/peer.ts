/**
 * `npm run bench:peer`: the worker against a peer, Benthos v4.27.0 (aws_s3 input with SQS, opensearch
 * output, a line-in/document-out pipeline that validates nothing), built from source (bench/lib/peer-build.ts).
 * Both run as their own process against the same stack (moto S3/SQS, one OpenSearch, the project's index
 * templates installed as `setup` does), the same files, with equal concurrency and bulk settings, in
 * interleaved rounds; each is measured from /proc: CPU seconds per 100,000 records, peak RSS, and
 * OpenSearch's CPU over the same window. Then a redelivery of every notification: documents found and
 * distinct ids.
 *
 *   npm run bench:peer [-- --files 40 --per-file 5000 --rounds 3 --formats plain,gzip]
 *   npm run bench:peer -- --smoke      (tiny; never builds: skips unless the peer is already built)
 *   npm run bench:peer -- --only worker (one side only; `--no-build`: use the peer only if already built)
 *
 * Where Go or the module is not available it says so and exits 0. Needs the local stack
 * (`bash scripts/stack.sh up` and `eval "$(bash scripts/stack.sh env)"`).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
} from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import { encodeS3Key } from "../src/core/notifications/index.ts";
import { bundle } from "./lib/bundle.ts";
import { median } from "./lib/parse-runs.ts";
import { PEER_NAME, PEER_VERSION, peerBinary } from "./lib/peer-build.ts";
import { motoPid, opensearchPid, procCpuSeconds, procPeakRssMb } from "./lib/proc.ts";
import {
  awsClients,
  type BenchFile,
  dropPrefix,
  MB,
  makeFiles,
  opensearchClient,
  precreate,
  putFiles,
  setupPrefix,
  stackAvailable,
  stackEnv,
  uniqueName,
} from "./lib/stack.ts";

const HERE = import.meta.dirname;
const CACHE = join(HERE, "..", ".cache", "bench");
const smoke = process.argv.includes("--smoke");
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1]!;
}
const num = (name: string, def: number) => Number(arg(name, String(def)));
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const f2 = (n: number | undefined) => (n === undefined ? "?" : n.toFixed(2));

/** Equal on both sides, printed with the results. */
interface Settings {
  objects: number;
  bulkDocs: number;
  bulkBytes: number;
  bulkConcurrency: number;
  sqsMaxMessages: number;
  sqsWaitSeconds: number;
}

type Consumer = "worker" | "peer";
type Format = "plain" | "gzip";

interface RunResult {
  consumer: Consumer;
  format: Format;
  round: number;
  records: number;
  seconds: number;
  cpu: number;
  osCpu: number | undefined;
  motoCpu: number | undefined;
  peakRssMb: number | undefined;
  redelivery?: { documents: number; distinctIds: number };
}

// ---- the two consumers ---------------------------------------------------------------------------

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

/** The product's CLI compiled as it ships (esbuild bundle, dependencies external; no tsx in the process). */
function workerCli(): Promise<string> {
  return bundle(join(HERE, "..", "src", "cli", "main.ts"), join(CACHE, "cli.mjs"));
}

interface Started {
  child: ChildProcess;
  /** Resolves when the consumer answers its readiness endpoint. */
  ready: string;
}

function startWorker(
  cli: string,
  s: Settings,
  queueUrl: string,
  prefix: string,
  port: number,
  logFile: string,
): Started {
  const env = stackEnv();
  const child = spawn(process.execPath, [cli, "worker"], {
    env: {
      ...process.env,
      OPENSEARCH_URL: env.opensearchUrl,
      S3_ENDPOINT: env.s3Endpoint,
      SQS_ENDPOINT: env.sqsEndpoint,
      AWS_REGION: env.region,
      AWS_ACCESS_KEY_ID: env.accessKeyId,
      AWS_SECRET_ACCESS_KEY: env.secretAccessKey,
      S3_FORCE_PATH_STYLE: "true",
      SQS_QUEUE_URL: queueUrl,
      INDEX_PREFIX: prefix,
      OBJECT_CONCURRENCY: String(s.objects),
      BULK_MAX_DOCS: String(s.bulkDocs),
      BULK_MAX_BYTES: String(s.bulkBytes),
      BULK_CONCURRENCY: String(s.bulkConcurrency),
      SQS_MAX_MESSAGES: String(s.sqsMaxMessages),
      SQS_WAIT_SECONDS: String(s.sqsWaitSeconds),
      METRICS_PORT: String(port),
      METRICS_HOST: "127.0.0.1",
      LOG_LEVEL: "info",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  pipeTo(child, logFile);
  return { child, ready: `http://127.0.0.1:${port}/readyz` };
}

/** The peer's configuration: what a user of it would write for this job, with our settings. */
function peerConfig(s: Settings, format: Format, queueUrl: string, prefix: string, port: number): string {
  const env = stackEnv();
  const scanner =
    format === "gzip" ? { decompress: { algorithm: "gzip", into: { lines: {} } } } : { lines: {} };
  const config = {
    http: { address: `127.0.0.1:${port}` },
    logger: { level: "INFO" },
    input: {
      // `copies` inputs each take one object at a time: OBJECT_CONCURRENCY objects at once.
      broker: {
        copies: s.objects,
        inputs: [
          {
            aws_s3: {
              region: env.region,
              endpoint: env.s3Endpoint,
              force_path_style_urls: true,
              credentials: { id: env.accessKeyId, secret: env.secretAccessKey },
              scanner,
              sqs: {
                url: queueUrl,
                endpoint: env.sqsEndpoint,
                max_messages: s.sqsMaxMessages,
                wait_time_seconds: s.sqsWaitSeconds,
              },
            },
          },
        ],
      },
    },
    output: {
      opensearch: {
        urls: [env.opensearchUrl],
        // The index our worker writes for the record (its stream and UTC day), so both go through the
        // same templates; the id a hash of the line, so that a redelivery overwrites instead of doubling.
        index: `${prefix}-\${! json("event_type") }-\${! json("event.time").slice(0, 10).replace_all("-", ".") }`,
        action: "index",
        id: `\${! content().hash("sha256").encode("hex") }`,
        max_in_flight: s.bulkConcurrency,
        batching: { count: s.bulkDocs, byte_size: s.bulkBytes, period: "1s" },
      },
    },
  };
  return JSON.stringify(config, null, 2); // JSON is YAML
}

function startPeer(binary: string, configFile: string, port: number, logFile: string): Started {
  const child = spawn(binary, ["-c", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  pipeTo(child, logFile);
  return { child, ready: `http://127.0.0.1:${port}/ready` };
}

function pipeTo(child: ChildProcess, file: string): void {
  const out = createWriteStream(file);
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  child.once("exit", () => setTimeout(() => out.end(), 100));
}

async function waitReady(s: Started, what: string, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (s.child.exitCode !== null)
      throw new Error(`${what} exited ${s.child.exitCode} before ready (log: ${logFile})`);
    const ok = await fetch(s.ready, { signal: AbortSignal.timeout(2000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(200);
  }
  throw new Error(`${what} not ready after 120 s (log: ${logFile})`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(t);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---- one run --------------------------------------------------------------------------------------

/** One S3 notification per file, as S3 sends them (SendMessageBatch, 10 at a time). */
async function notify(
  aws: ReturnType<typeof awsClients>,
  queueUrl: string,
  bucket: string,
  files: BenchFile[],
  sizes: number[],
) {
  for (let i = 0; i < files.length; i += 10) {
    const entries = files.slice(i, i + 10).map((f, j) => ({
      Id: String(j),
      MessageBody: JSON.stringify({
        Records: [
          {
            eventVersion: "2.1",
            eventSource: "aws:s3",
            awsRegion: stackEnv().region,
            eventTime: new Date().toISOString(),
            eventName: "ObjectCreated:Put",
            s3: {
              s3SchemaVersion: "1.0",
              bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
              object: { key: encodeS3Key(f.key), size: sizes[i + j] },
            },
          },
        ],
      }),
    }));
    const r = await aws.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
    if (r.Failed?.length) throw new Error(`SendMessageBatch: ${JSON.stringify(r.Failed)}`);
  }
}

/** Waits until no message is left in the queue (every one deleted: each file fully indexed). */
async function drained(
  aws: ReturnType<typeof awsClients>,
  queueUrl: string,
  child: ChildProcess,
  limitMs: number,
  what: string,
) {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const a = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    const left =
      Number(a.Attributes?.["ApproximateNumberOfMessages"] ?? 0) +
      Number(a.Attributes?.["ApproximateNumberOfMessagesNotVisible"] ?? 0);
    if (left === 0) return;
    if (child.exitCode !== null)
      throw new Error(`${what} exited ${child.exitCode} with ${left} messages left`);
    if (Date.now() > deadline)
      throw new Error(`${what}: ${left} messages still in the queue after ${limitMs / 1000} s`);
    await sleep(100);
  }
}

async function count(os: Client, prefix: string): Promise<number> {
  await os.indices.refresh({ index: `${prefix}-*` });
  const r = await os.count({ index: `${prefix}-*` });
  return (r.body as { count: number }).count;
}

/** Documents under the prefix and their distinct ids (every id read back: exact, not an estimate). */
async function documentsAndIds(
  os: Client,
  prefix: string,
): Promise<{ documents: number; distinctIds: number }> {
  await os.indices.refresh({ index: `${prefix}-*` });
  const ids = new Set<string>();
  let documents = 0;
  let r = await os.search({
    index: `${prefix}-*`,
    scroll: "1m",
    size: 10_000,
    body: { _source: false, sort: ["_doc"] },
  } as never);
  for (;;) {
    const body = r.body as { _scroll_id?: string; hits: { hits: { _id: string }[] } };
    if (body.hits.hits.length === 0) {
      if (body._scroll_id)
        await os.clearScroll({ body: { scroll_id: body._scroll_id } } as never).catch(() => undefined);
      break;
    }
    for (const h of body.hits.hits) ids.add(h._id);
    documents += body.hits.hits.length;
    r = await os.scroll({ body: { scroll_id: body._scroll_id, scroll: "1m" } } as never);
  }
  return { documents, distinctIds: ids.size };
}

async function oneRun(ctx: {
  consumer: Consumer;
  format: Format;
  round: number;
  redeliver: boolean;
  settings: Settings;
  files: BenchFile[];
  bucket: string;
  sizes: number[];
  cli: string;
  peer: string;
  aws: ReturnType<typeof awsClients>;
  os: Client;
}): Promise<RunResult> {
  const { aws, os, files, settings } = ctx;
  const name = uniqueName(`bench-peer-${ctx.consumer}`);
  const records = files.reduce((n, f) => n + f.records, 0);
  await setupPrefix(os, name, "1s");
  await precreate(os, name, files);
  const q = await aws.sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "120" } }),
  );
  const queueUrl = q.QueueUrl!;
  const port = await freePort();
  const logFile = join(CACHE, `peer-${ctx.consumer}-${ctx.format}-${ctx.round}.log`);
  let started: Started;
  if (ctx.consumer === "worker") started = startWorker(ctx.cli, settings, queueUrl, name, port, logFile);
  else {
    const configFile = join(CACHE, `peer-${ctx.format}.yaml`);
    writeFileSync(configFile, peerConfig(settings, ctx.format, queueUrl, name, port));
    started = startPeer(ctx.peer, configFile, port, logFile);
  }
  const what = ctx.consumer === "worker" ? "the worker" : PEER_NAME;
  try {
    await waitReady(started, what, logFile);
    await sleep(1000); // past start-up: the window holds the work only
    const pid = started.child.pid;
    const pids = { os: opensearchPid(), moto: motoPid() };
    const before = {
      self: procCpuSeconds(pid)!,
      os: procCpuSeconds(pids.os),
      moto: procCpuSeconds(pids.moto),
    };
    const t0 = performance.now();
    await notify(aws, queueUrl, ctx.bucket, files, ctx.sizes);
    await drained(aws, queueUrl, started.child, 900_000, what);
    const seconds = (performance.now() - t0) / 1000;
    const after = {
      self: procCpuSeconds(pid)!,
      os: procCpuSeconds(pids.os),
      moto: procCpuSeconds(pids.moto),
    };
    const peakRssMb = procPeakRssMb(pid);
    const found = await count(os, name);
    if (found !== records)
      throw new Error(`${what}: ${found} documents searchable, expected ${records} (log: ${logFile})`);
    const d = (a: number | undefined, b: number | undefined) =>
      a === undefined || b === undefined ? undefined : b - a;
    const result: RunResult = {
      consumer: ctx.consumer,
      format: ctx.format,
      round: ctx.round,
      records,
      seconds,
      cpu: after.self - before.self,
      osCpu: d(before.os, after.os),
      motoCpu: d(before.moto, after.moto),
      peakRssMb,
    };
    if (ctx.redeliver) {
      // Every notification again (as SQS redelivers after a lost delete, or a backfill over indexed data).
      await notify(aws, queueUrl, ctx.bucket, files, ctx.sizes);
      await drained(aws, queueUrl, started.child, 900_000, what);
      await sleep(2000); // writes acknowledged after the delete, if any
      result.redelivery = await documentsAndIds(os, name);
    }
    log(
      `  round ${ctx.round} ${ctx.format} ${ctx.consumer}: ${f2(per100k(result.cpu, records))} CPU-s/100k, ${fmt(records / seconds)} records/s, peak RSS ${f2(peakRssMb)} MB`,
    );
    return result;
  } finally {
    await stop(started.child);
    await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await dropPrefix(os, name);
  }
}

const per100k = (cpu: number | undefined, records: number) =>
  cpu === undefined ? undefined : (cpu * 100_000) / records;

// ---- main -----------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const only = arg("only", "worker,peer").split(",") as Consumer[];
  const build = only.includes("peer")
    ? await peerBinary({ build: !smoke && !process.argv.includes("--no-build"), log })
    : ({ ok: true, binary: "", built: false } as const);
  if (!build.ok) {
    process.stdout.write(`bench:peer skipped: ${build.reason}\n`);
    return 0;
  }
  if (!stackAvailable()) {
    log(
      'bench:peer needs the local stack: `bash scripts/stack.sh up` then `eval "$(bash scripts/stack.sh env)"`',
    );
    return 1;
  }
  const nFiles = num("files", smoke ? 2 : 40);
  const perFile = num("per-file", smoke ? 500 : 5000);
  const rounds = num("rounds", smoke ? 1 : 3);
  const formats = arg("formats", smoke ? "plain" : "plain,gzip").split(",") as Format[];
  const settings: Settings = {
    objects: num("objects", 4),
    bulkDocs: num("bulk-docs", 2000),
    bulkBytes: num("bulk-mb", 5) * MB,
    bulkConcurrency: num("bulk-concurrency", 4),
    sqsMaxMessages: 10,
    sqsWaitSeconds: 1,
  };
  mkdirSync(CACHE, { recursive: true });
  // As the CLI does: the SDK's notice about its future Node support, once per client, is noise here.
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
  const cli = await workerCli();
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  const files = makeFiles(nFiles, perFile, 7_000_000);
  const buckets: Record<Format, string> = {
    plain: uniqueName("bench-peer-plain"),
    gzip: uniqueName("bench-peer-gzip"),
  };
  const sizes: Record<Format, number[]> = { plain: [], gzip: [] };
  for (const format of formats) {
    const body = (f: BenchFile) => (format === "gzip" ? gzipSync(f.body) : f.body);
    const these = files.map((f) => ({ ...f, body: body(f) }));
    sizes[format] = these.map((f) => f.body.length);
    await aws.s3.send(new CreateBucketCommand({ Bucket: buckets[format] })).catch(() => undefined);
    await putFiles(aws.s3, buckets[format], these);
  }
  const loadAtStart = loadavg()[0]!;
  log(
    `bench:peer: ${nFiles} files × ${perFile} records, ${rounds} rounds, ${formats.join(" and ")}; logs in ${CACHE}`,
  );
  const results: RunResult[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const format of formats) {
        // Interleaved, and the order swapped every round: neither side always runs first.
        const order: Consumer[] = round % 2 === 1 ? ["worker", "peer"] : ["peer", "worker"];
        for (const consumer of order.filter((c) => only.includes(c)))
          results.push(
            await oneRun({
              consumer,
              format,
              round,
              redeliver: round === rounds,
              settings,
              files,
              bucket: buckets[format],
              sizes: sizes[format],
              cli,
              peer: build.binary,
              aws,
              os,
            }),
          );
      }
    }
  } finally {
    aws.destroy();
    await os.close();
  }
  process.stdout.write(`${report(results, { settings, nFiles, perFile, rounds, formats, loadAtStart })}\n`);
  return 0;
}

function report(
  results: RunResult[],
  o: {
    settings: Settings;
    nFiles: number;
    perFile: number;
    rounds: number;
    formats: Format[];
    loadAtStart: number;
  },
): string {
  const s = o.settings;
  const k = (r: RunResult) => per100k(r.cpu, r.records)!;
  const kos = (r: RunResult) => per100k(r.osCpu, r.records);
  const rate = (r: RunResult) => r.records / r.seconds;
  const med = (xs: (number | undefined)[]) => {
    const v = xs.filter((x): x is number => x !== undefined);
    return v.length ? median(v) : undefined;
  };
  const name = (c: Consumer) => (c === "worker" ? "worker" : `${PEER_NAME} ${PEER_VERSION}`);
  const perRound = results.map(
    (r) =>
      `| ${r.round} | ${r.format} | ${name(r.consumer)} | ${f2(k(r))} | ${fmt(rate(r))} | ${f2(r.peakRssMb)} | ${f2(kos(r))} |`,
  );
  const medians: string[] = [];
  const ratios: string[] = [];
  for (const format of o.formats) {
    const of = (c: Consumer) => results.filter((r) => r.format === format && r.consumer === c);
    for (const c of ["worker", "peer"] as Consumer[]) {
      const xs = of(c);
      if (xs.length === 0) continue; // --only the other side
      medians.push(
        `| ${format} | ${name(c)} | **${f2(med(xs.map(k)))}** | ${fmt(med(xs.map(rate))!)} | ${f2(med(xs.map((r) => r.peakRssMb)))} | ${f2(med(xs.map(kos)))} |`,
      );
    }
    // Ratios per round (both sides of one round ran back to back), then their median.
    const pairs = of("worker").flatMap((w) => {
      const p = of("peer").find((x) => x.round === w.round);
      return p ? [[w, p] as const] : [];
    });
    if (pairs.length === 0) continue;
    const cpuRatio = med(pairs.map(([w, p]) => k(w) / k(p)));
    const rateRatio = med(pairs.map(([w, p]) => rate(w) / rate(p)));
    const rssRatio = med(
      pairs.map(([w, p]) => (w.peakRssMb && p.peakRssMb ? w.peakRssMb / p.peakRssMb : undefined)),
    );
    ratios.push(
      `| ${format} | ${f2(cpuRatio)} (${pairs.map(([w, p]) => f2(k(w) / k(p))).join(", ")}) | ${f2(rateRatio)} | ${f2(rssRatio)} |`,
    );
  }
  const redeliveries = results
    .filter((r) => r.redelivery)
    .map(
      (r) =>
        `| ${r.format} | ${name(r.consumer)} | ${fmt(r.records)} | ${fmt(r.redelivery!.documents)} | ${fmt(r.redelivery!.distinctIds)} |`,
    );
  return `## Worker vs ${PEER_NAME} ${PEER_VERSION}

${fmt(o.nFiles * o.perFile)} records in ${o.nFiles} files of ${fmt(o.perFile)} (generated, bench/lib/records.ts) in moto S3, one S3
notification each sent to a fresh SQS queue once the consumer is ready; timed from the first notification to the
queue being empty (every message deleted: every file indexed), then every document counted. Each consumer is its
own process: the worker is the product's CLI (\`twingate-ingest worker\`, compiled), ${PEER_NAME} the binary built from
the wrapper in bench/peer/ (a line-in/document-out pipeline: it validates nothing, writes the record as it came
into the index our worker would use, id = sha256 of the line, action \`index\`). Same OpenSearch, fresh indices from
the project's templates (\`setup\`), created before the clock starts. ${o.rounds} interleaved rounds, order swapped every round.
Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, Node ${process.version}, load average ${o.loadAtStart.toFixed(1)} at the start.

Settings (equal on both sides): ${s.objects} objects at once (worker \`OBJECT_CONCURRENCY\`; ${PEER_NAME}: \`broker.copies\` of the
\`aws_s3\` input), bulk ${s.bulkDocs} docs / ${s.bulkBytes / MB} MB (\`BULK_MAX_DOCS\`/\`BULK_MAX_BYTES\`; \`batching.count\`/\`byte_size\`),
${s.bulkConcurrency} bulk requests in flight (\`BULK_CONCURRENCY\`; \`max_in_flight\`), SQS receive ${s.sqsMaxMessages} messages, long poll ${s.sqsWaitSeconds} s.
The worker's other settings are its defaults (e.g. \`SQS_PREFETCH\`); log level info on both.

CPU is user + system from /proc/<pid>/stat over the window, per 100,000 records; peak RSS is VmHWM.

| round | input | consumer | CPU-s / 100k records | records/s | peak RSS (MB) | OpenSearch CPU-s / 100k |
| ---: | --- | --- | ---: | ---: | ---: | ---: |
${perRound.join("\n")}

Medians:

| input | consumer | CPU-s / 100k records | records/s | peak RSS (MB) | OpenSearch CPU-s / 100k |
| --- | --- | ---: | ---: | ---: | ---: |
${medians.join("\n")}

Worker / ${PEER_NAME} (medians of the per-round ratios):

| input | CPU per record (per round) | records/s | peak RSS |
| --- | ---: | ---: | ---: |
${ratios.join("\n")}

After the last round, every notification sent again (a redelivery) to the same consumer and indices:

| input | consumer | records | documents found | distinct ids |
| --- | --- | ---: | ---: | ---: |
${redeliveries.join("\n")}
`;
}

process.exitCode = await main();
