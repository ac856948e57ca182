/**
 * Before/after for parse optimisations, in ONE process, interleaved rounds, medians:
 * bare JSON.parse vs the full parse pipeline (reader + validate + normalize + id) of this tree and
 * of a baseline tree (e.g. `git archive <commit> src | tar -x -C /tmp/base`, with node_modules linked).
 *
 *   node --import tsx bench/compare-parse.ts --base /tmp/base [--mb 20] [--rounds 5] [--serialise] [--array-lines N]
 * `--serialise` also writes each action into bulk batches (src/core/sink/bulk-body.ts): the work up to the
 * request bytes, for changes that move work between the documents and the sink. `--array-lines N` writes
 * the records as compact JSON arrays of N per line (the reader's one-line array path) instead of NDJSON.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { bare, type FullRun, fullRun, median } from "./lib/parse-runs.ts";
import { generate } from "./lib/records.ts";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
}

async function load(root: string): Promise<FullRun> {
  // A baseline from before the core/ folder (src/parse, src/events, ...) is read at its old paths.
  const core = existsSync(join(root, "src", "core")) ? "src/core" : "src";
  const u = (p: string) => pathToFileURL(join(root, p.replace(/^src\/core/, core))).href;
  const parse = await import(u("src/core/parse/index.ts"));
  const events = await import(u("src/core/events/index.ts"));
  const documents = await import(u("src/core/documents/index.ts"));
  const bulk = process.argv.includes("--serialise")
    ? await import(u("src/core/sink/bulk-body.ts"))
    : undefined;
  const exactPath = join(root, core, "parse", "exact-integers.ts");
  const exact = existsSync(exactPath) ? await import(pathToFileURL(exactPath).href) : undefined;
  return fullRun(parse, events, documents, bulk, exact);
}

const mb = Number(arg("mb") ?? 20);
const rounds = Number(arg("rounds") ?? 5);
const baseRoot = resolve(arg("base") ?? "/tmp/base");
const dir = mkdtempSync(join(tmpdir(), "tg-cmp-"));
try {
  const file = join(dir, "f.json");
  await generate(file, mb * 1024 * 1024);
  const perLine = Number(arg("array-lines") ?? 0);
  if (perLine > 0) {
    const lines = readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l !== "");
    const out: string[] = [];
    for (let i = 0; i < lines.length; i += perLine) out.push(`[${lines.slice(i, i + perLine).join(",")}]`);
    writeFileSync(file, `${out.join("\n")}\n`);
  }
  const size = statSync(file).size;
  const runs: Record<string, (path: string) => Promise<{ records: number; seconds: number }>> = {
    bare: (p) => bare(p),
    baseline: await load(baseRoot),
    candidate: await load(resolve(import.meta.dirname, "..")),
  };
  for (const run of Object.values(runs)) await run(file); // warm-up
  const secs: Record<string, number[]> = {};
  let records = 0;
  for (let r = 0; r < rounds; r++) {
    for (const [name, run] of Object.entries(runs)) {
      const res = await run(file);
      records = res.records;
      secs[name] = [...(secs[name] ?? []), res.seconds];
    }
  }
  const m = Object.fromEntries(Object.entries(secs).map(([k, v]) => [k, median(v)]));
  for (const [k, s] of Object.entries(m)) {
    console.log(
      `${k.padEnd(10)} ${(size / 1048576 / s!).toFixed(1).padStart(6)} MB/s ${Math.round(records / s!)
        .toLocaleString("en-US")
        .padStart(9)} rec/s  ratio vs bare ${(m["bare"]! / s!).toFixed(2)}`,
    );
  }
  console.log(
    `candidate / baseline speed: ${(m["baseline"]! / m["candidate"]!).toFixed(2)}x (median of ${rounds})`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
