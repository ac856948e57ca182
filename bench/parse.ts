/**
 * Parse benchmark: reader + validate + normalize (index documents) vs bare JSON.parse of the same
 * NDJSON lines, on a generated file; plus gzip vs plain, and peak RSS of a large file in a child process.
 *
 *   npm run bench:parse                      # 200 MB, prints a Markdown section
 *   npm run bench:parse -- --mb 20           # smoke run
 *   npm run bench:parse -- --rss-mb 1024     # peak RSS on a 1 GB file (also generated)
 *   npm run bench:parse -- --rounds 7        # more rounds (default 3): a steadier median
 */
import { spawnSync } from "node:child_process";
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as documents from "../src/core/documents/index.ts";
import * as events from "../src/core/events/index.ts";
import * as exact from "../src/core/parse/exact-integers.ts";
import * as parse from "../src/core/parse/index.ts";
import * as bulkBody from "../src/core/sink/bulk-body.ts";
import { bare as bareJsonParse, fullRun, median } from "./lib/parse-runs.ts";
import { generate } from "./lib/records.ts";

const MB = 1024 * 1024;
const HERE = import.meta.dirname;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

// ---- runs ---------------------------------------------------------------------------------------

interface Result {
  name: string;
  bytes: number;
  records: number;
  seconds: number;
}

/** Bare: stream the file, split lines, JSON.parse each (the same baseline as the other parse benchmarks). */
async function bare(path: string): Promise<Result> {
  const { records, seconds } = await bareJsonParse(path);
  return { name: "bare JSON.parse", bytes: statSync(path).size, records, seconds };
}

/**
 * Full: readRecords + validateRecord + toIndexAction; with `toBytes`, also each action serialised into
 * bulk batches (the sink's share: the request bytes).
 */
async function full(
  path: string,
  name: string,
  plainBytes: number,
  toBytes = false,
): Promise<Result & { rejected: number }> {
  // The same loop as ingestObject: reader batches (one await per chunk), validate, document + id.
  const r = await fullRun(parse, events, documents, toBytes ? bulkBody : undefined, exact)(path);
  return { name, bytes: plainBytes, records: r.records, seconds: r.seconds, rejected: r.rejected };
}

function fmt(r: Result): { mbps: string; rps: string } {
  return {
    mbps: (r.bytes / MB / r.seconds).toFixed(1),
    rps: Math.round(r.records / r.seconds).toLocaleString("en-US"),
  };
}

/** Peak RSS of the full pipeline over a file, measured in a fresh process. */
function peakRss(path: string): number {
  const r = spawnSync(process.execPath, ["--import", "tsx", join(HERE, "parse.ts"), "--child-rss", path], {
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!).maxRssMb;
}

async function childRss(path: string): Promise<void> {
  const r = await full(path, "rss", statSync(path).size);
  process.stdout.write(
    `${JSON.stringify({ records: r.records, maxRssMb: process.resourceUsage().maxRSS / 1024 })}\n`,
  );
}

// ---- main ---------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const child = arg("child-rss");
  if (child) return childRss(child);
  const mb = Number(arg("mb") ?? 200);
  const rssMb = arg("rss-mb") ? Number(arg("rss-mb")) : undefined;
  const rounds = Number(arg("rounds") ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error("--rounds must be a whole number of at least 1");
  const dir = mkdtempSync(join(tmpdir(), "tg-bench-"));
  try {
    const plain = join(dir, "2025-07-25T18:20:00+00:00.json");
    const gz = `${plain}.gz`;
    process.stderr.write(`generating ${mb} MB of NDJSON...\n`);
    await generate(plain, mb * MB);
    const size = statSync(plain).size;
    await pipeline(createReadStream(plain), createGzip(), createWriteStream(gz));
    const gzSize = statSync(gz).size;

    // Warm-up (JIT, zod's compiled parsers), then `rounds` interleaved rounds; medians (the machine's speed
    // drifts between runs: interleaving measures each ratio against the baseline of the same moment).
    await bare(plain);
    await full(plain, "warm-up", size);
    await full(plain, "warm-up", size, true);
    const runs: { b: Result[]; f: (Result & { rejected: number })[]; t: Result[]; g: Result[] } = {
      b: [],
      f: [],
      t: [],
      g: [],
    };
    for (let round = 0; round < rounds; round++) {
      runs.b.push(await bare(plain));
      runs.f.push(await full(plain, "reader + validate + normalize", size));
      runs.t.push(await full(plain, "… + serialised into bulk batches", size, true));
      runs.g.push(await full(gz, "same, gzip input", size));
    }
    const mid = <T extends Result>(xs: T[]): T => {
      const m = median(xs.map((x) => x.seconds));
      return xs.find((x) => x.seconds === m) ?? xs[0]!;
    };
    const b = mid(runs.b);
    const f = mid(runs.f);
    const t = mid(runs.t);
    const g = mid(runs.g);
    if (f.records !== b.records)
      throw new Error(`record count differs: ${f.records} vs ${b.records} (rejected ${f.rejected})`);
    // Each round's ratio (its bare and full runs back to back), then their median: the same-moment
    // comparison, which drift of the machine's speed between rounds does not move.
    const roundRatios = runs.b.map((x, k) => x.seconds / runs.f[k]!.seconds);
    const ratio = median(roundRatios);
    const ratioList = roundRatios.map((r) => r.toFixed(2)).join(", ");

    let rssLine = "";
    const smallPath = join(dir, "small.json");
    await generate(smallPath, 5 * MB);
    const rssSmall = peakRss(smallPath);
    const rssPlain = peakRss(plain);
    const rows: string[] = [
      `| ${5} MB | ${rssSmall.toFixed(0)} MB |`,
      `| ${mb} MB | ${rssPlain.toFixed(0)} MB |`,
    ];
    if (rssMb) {
      const big = join(dir, "big.json");
      process.stderr.write(`generating ${rssMb} MB for the RSS run...\n`);
      await generate(big, rssMb * MB);
      rows.push(`| ${rssMb} MB | ${peakRss(big).toFixed(0)} MB |`);
      rmSync(big);
    }
    rssLine = rows.join("\n");

    const fb = fmt(b);
    const ff = fmt(f);
    const fg = fmt(g);
    const ft = fmt(t);
    const cpu = cpus()[0]?.model ?? "unknown CPU";
    const section = `## Parse

Reader + validate + normalize (\`readRecordBatches\` → \`validateRecord\` → \`toIndexAction\`) against bare
\`JSON.parse\` of the same NDJSON lines (streamed, split on newlines), on a generated file of Twingate-like
records (70% network_access, 20% dns_filtering, 5% audit_log, 5% data_loss_prevention). Medians of ${rounds}
interleaved rounds after a warm-up; the ratio is the median of each round's (bare and full back to back).
The third row also serialises every action into bulk batches (the request bytes the sink sends): the worker's whole CPU path per record but for I/O. Run: \`npm run bench:parse\` (\`--mb N\` for the file size, \`--rounds N\`, \`--rss-mb 1024\` for a 1 GB RSS run).

- Date: ${new Date().toISOString().slice(0, 10)}
- Machine: ${cpus().length} × ${cpu}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM
- Node: ${process.version}
- File: ${(size / MB).toFixed(0)} MB NDJSON, ${b.records.toLocaleString("en-US")} records (gzip: ${(gzSize / MB).toFixed(1)} MB)

| Run | MB/s (decompressed) | records/s |
| --- | ---: | ---: |
| bare \`JSON.parse\` | ${fb.mbps} | ${fb.rps} |
| reader + validate + normalize | ${ff.mbps} | ${ff.rps} |
| same, gzip input | ${fg.mbps} | ${fg.rps} |
| ${t.name} | ${ft.mbps} | ${ft.rps} |

**Ratio (full / bare): ${ratio.toFixed(2)}** (goal ≥ 0.5; by round: ${ratioList}); through to bulk bytes: ${(b.seconds / t.seconds).toFixed(2)}. Gzip input: ${(g.seconds / f.seconds).toFixed(2)}× the time of plain.

Peak RSS of the full pipeline in a fresh process (includes Node, zod and the SDK-free modules it loads):

| File | Peak RSS |
| --- | ---: |
${rssLine}
`;
    process.stdout.write(`${section}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
