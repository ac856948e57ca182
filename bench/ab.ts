/**
 * Does an optimisation pay for itself? The consumer's CPU per record with and without it, end to end but
 * for the network: this tree and another (the same code with the optimisation patched out), each run as
 * its own Node process (compiled with esbuild, as the product ships) ingesting the same local files through
 * `ingestObject` (reader, validation, documents, the bulk bodies the sink sends) into a null transport,
 * `--rounds` interleaved pairs, the order swapped every round. Prints CPU-seconds per 100,000 records of
 * each (user + system of the child, from reading the first byte to the last bulk body), their difference,
 * the median per-round ratio, and peak RSS.
 *
 *   git worktree add /tmp/variant HEAD && (cd /tmp/variant && patch -p1 < the.patch && ln -s $PWD/node_modules .)
 *   node --import tsx bench/ab.ts --other /tmp/variant [--files 20 --per-file 10000 --rounds 7] [--gzip]
 *     [--opensearch]   (into the local stack's OpenSearch, `eval "$(bash scripts/stack.sh env)"`, instead of
 *                       a null transport: each tree with its own templates, the network's share included)
 *     [--s3]           (the files read from the local stack's S3 through the product's S3 client and source,
 *                       as the worker reads them, instead of from local files: with --opensearch, the
 *                       worker's whole path)
 *
 * The absolute difference (CPU-s per 100k records) is what the optimisation saves in a real run too: the
 * network's share is the same on both sides; divide by a real run's figure (`bench:e2e throughput`,
 * `bench:peer`) for its share of the consumer's CPU.
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  type S3Client,
} from "@aws-sdk/client-s3";
import { bundle } from "./lib/bundle.ts";
import { median } from "./lib/parse-runs.ts";

const HERE = import.meta.dirname;
function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? def : process.argv[i + 1]!;
}

/**
 * The child: ingest the files given, print records, CPU seconds and peak RSS (MB) as one JSON line. With
 * `--opensearch`, into the local stack's OpenSearch (a prefix of its own, set up by this tree's `setup`
 * before the timed part and deleted after); with `bucket`, the paths are that bucket's keys in the local
 * stack's S3, read through the worker's S3 client: with both, the worker's whole path.
 */
async function child(paths: string[], opensearch: boolean, bucket: string | undefined): Promise<void> {
  const {
    makeIngest,
    nullTransport,
    DEFAULTS,
    ingestAll,
    opensearchClient,
    setupPrefix,
    dropPrefix,
    uniqueName,
    stackEnv,
  } = await import("./lib/stack.ts");
  const { localSource } = await import("../src/core/sources/local.ts");
  const { objectSource } = await import("../src/core/ingest/pipeline.ts");
  const { createS3Client } = await import("../src/platform/aws/clients.ts");
  const env = bucket !== undefined ? stackEnv() : undefined;
  // the worker's own S3 client (credentials from the environment: the stack's env sets them)
  const s3 = env
    ? createS3Client({ awsRegion: env.region, s3Endpoint: env.s3Endpoint, s3ForcePathStyle: true })
    : undefined;
  const os = opensearch ? opensearchClient() : undefined;
  const prefix = opensearch ? uniqueName("bench-ab") : "bench-ab";
  if (os) await setupPrefix(os, prefix);
  try {
    const ingest = makeIngest({
      os: os ?? (undefined as never),
      source: s3 ? objectSource("s3", s3) : localSource(),
      prefix,
      settings: DEFAULTS,
      ...(os ? {} : { transport: nullTransport }),
    });
    const cpu0 = process.cpuUsage();
    const records = await ingestAll(ingest, bucket ?? "", paths, DEFAULTS.objectConcurrency);
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(
      `${JSON.stringify({ records, cpu: (cpu.user + cpu.system) / 1e6, rssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
    );
  } finally {
    s3?.destroy();
    if (os) {
      await dropPrefix(os, prefix);
      await os.close();
    }
  }
}

function run(
  script: string,
  paths: string[],
  bucket: string | undefined,
): Promise<{ records: number; cpu: number; rssMb: number }> {
  const flags = process.argv.includes("--opensearch") ? ["--opensearch"] : [];
  if (bucket !== undefined) flags.push("--bucket", bucket);
  return new Promise((res, rej) => {
    const c = spawn(process.execPath, [script, ...flags, "--child", ...paths], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    c.stdout.on("data", (b: Buffer) => {
      out += b;
    });
    c.on("exit", (code) =>
      code === 0 ? res(JSON.parse(out.trim())) : rej(new Error(`${script} exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const other = resolve(arg("other", "/tmp/variant"));
  const files = Number(arg("files", "20"));
  const perFile = Number(arg("per-file", "10000"));
  const rounds = Number(arg("rounds", "7"));
  const gzip = process.argv.includes("--gzip");
  const fromS3 = process.argv.includes("--s3");
  const cache = join(HERE, "..", ".cache", "bench");
  mkdirSync(cache, { recursive: true });
  const [a, b] = await Promise.all([
    bundle(join(HERE, "ab.ts"), join(cache, "ab-this.mjs")),
    bundle(join(other, "bench", "ab.ts"), join(cache, "ab-other.mjs")),
  ]);
  const { makeFiles, awsClients, putFiles, uniqueName } = await import("./lib/stack.ts");
  const dir = mkdtempSync(join(tmpdir(), "tg-ab-"));
  const aws = fromS3 ? awsClients() : undefined;
  let bucket: string | undefined;
  try {
    const made = makeFiles(files, perFile).map((f) =>
      gzip ? { ...f, key: `${f.key}.gz`, body: gzipSync(f.body) } : f,
    );
    let paths: string[];
    if (fromS3) {
      // the same bytes as objects of a bucket of their own (deleted after)
      bucket = uniqueName("bench-ab");
      await putFiles(aws!.s3, bucket, made);
      paths = made.map((f) => f.key);
    } else
      paths = made.map((f, i) => {
        const p = join(dir, `${i}-${f.key.slice(f.key.lastIndexOf("/") + 1)}`);
        writeFileSync(p, f.body);
        return p;
      });
    const per100k = (r: { records: number; cpu: number }) => (r.cpu * 100_000) / r.records;
    const mine: number[] = [];
    const theirs: number[] = [];
    const rss: [number[], number[]] = [[], []];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 === 0 ? ([a, b] as const) : ([b, a] as const);
      for (const script of order) {
        const r = await run(script, paths, bucket);
        (script === a ? mine : theirs).push(per100k(r));
        rss[script === a ? 0 : 1].push(r.rssMb);
      }
      process.stderr.write(
        `  round ${i + 1}: this ${mine.at(-1)!.toFixed(3)}, other ${theirs.at(-1)!.toFixed(3)}\n`,
      );
    }
    const ratios = mine.map((x, i) => x / theirs[i]!);
    const f = (x: number) => x.toFixed(3);
    process.stdout.write(
      `${files * perFile} records${gzip ? " (gzip)" : ""}${fromS3 ? " from S3" : ""}${process.argv.includes("--opensearch") ? " into OpenSearch" : ""}, ${rounds} interleaved rounds, CPU-s per 100k records (medians):\n` +
        `  this tree:  ${f(median(mine))}  (${mine.map(f).join(", ")})\n` +
        `  ${other}: ${f(median(theirs))}  (${theirs.map(f).join(", ")})\n` +
        `  difference (other - this): ${f(median(theirs) - median(mine))}; this / other: ${median(ratios).toFixed(3)} (per round ${ratios.map((x) => x.toFixed(2)).join(", ")})\n` +
        `  peak RSS (MB, medians): this ${median(rss[0]).toFixed(0)}, other ${median(rss[1]).toFixed(0)}\n`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (aws && bucket !== undefined) await deleteBucket(aws.s3, bucket);
    aws?.destroy();
  }
}

/** Empties and deletes a bucket of the local stack's S3. */
async function deleteBucket(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

if (process.argv.includes("--child"))
  await child(
    process.argv.slice(process.argv.indexOf("--child") + 1),
    process.argv.includes("--opensearch"),
    process.argv.includes("--bucket") ? arg("bucket", "") : undefined,
  );
else await main();
