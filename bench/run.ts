/**
 * Runs every benchmark. `npm run bench` (full: several minutes on 2 cores; writes docs/BENCHMARKS.md) or
 * `npm run bench:smoke` (small sizes, < 60 s, prints only: keeps the scripts from rotting).
 * The end-to-end ones need the local stack: `bash scripts/stack.sh up` and `eval "$(bash scripts/stack.sh env)"`.
 */
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

const HERE = import.meta.dirname;
const DOC = join(HERE, "..", "docs", "BENCHMARKS.md");
const smoke = process.argv.includes("--smoke");
const only = process.argv
  .find((a) => a.startsWith("--only="))
  ?.slice(7)
  .split(",");

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const c = spawn(process.execPath, ["--import", "tsx", join(HERE, script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: "1", NODE_NO_WARNINGS: "1" },
    });
    let out = "";
    let err = "";
    c.stdout.on("data", (b: Buffer) => {
      out += b;
    });
    c.stderr.on("data", (b: Buffer) => {
      err += b;
    });
    c.on("exit", (code) => {
      process.stderr.write(
        `  ${script} ${args.join(" ")}: ${code === 0 ? "ok" : `exit ${code}`} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
      );
      if (code === 0) resolve(out);
      else reject(new Error(`${script} ${args.join(" ")} exited ${code}:\n${err.slice(-3000)}`));
    });
  });
}

const steps: [string, string, string[], string[]][] = [
  // name, script, full args, smoke args
  ["parse", "parse.ts", ["--mb", "100", "--rss-mb", "1024"], ["--mb", "5", "--no-write"]],
  [
    "throughput",
    "e2e.ts",
    ["throughput", "--files", "20", "--per-file", "10000", "--rounds", "5"],
    ["throughput", "--files", "2", "--per-file", "1000", "--rounds", "1", "--quick"],
  ],
  [
    "sweep",
    "e2e.ts",
    ["sweep", "--files", "8", "--per-file", "10000"],
    ["sweep", "--files", "2", "--per-file", "1000", "--quick"],
  ],
  ["latency", "e2e.ts", ["latency", "--seconds", "30"], ["latency", "--seconds", "3"]],
  [
    "scaleout",
    "e2e.ts",
    ["scaleout", "--files", "48", "--per-file", "10000", "--rounds", "3"],
    ["scaleout", "--files", "2", "--per-file", "1000", "--rounds", "1"],
  ],
  [
    "wan",
    "wan.ts",
    ["--files", "300", "--per-file", "500"],
    [
      "--files",
      "6",
      "--per-file",
      "100",
      "--latencies",
      "50",
      "--concurrency",
      "8",
      "--backfill-concurrency",
      "8",
      "--quick",
    ],
  ],
  [
    "memory",
    "e2e.ts",
    ["memory", "--big-mb", "1024", "--small-mb", "100", "--n-small", "10"],
    ["memory", "--big-mb", "5", "--small-mb", "2", "--n-small", "2", "--quick"],
  ],
];

/** The heading each step's section starts with (to keep sections not re-run under --only, in order). */
const headingOf: Record<string, string> = {
  throughput: "## End to end: worker pipeline",
  sweep: "## Sweep",
  latency: "## Latency",
  scaleout: "## Scale-out",
  wan: "## Latency-bound",
  memory: "## Memory",
};

const loadBefore = loadavg()[0]!;
const sections: string[] = [];

/** Writes what is done so far (each step's section as soon as it is there: a later failure keeps them). */
function write(): void {
  const header = `<!-- e2e:start (written by \`npm run bench\`: bench/run.ts and bench/e2e.ts) -->
## End to end: setup of these runs

- Date: ${new Date().toISOString().slice(0, 10)}
- Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, shared with OpenSearch,
  moto and other jobs (1-minute load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the last write).
- Node ${process.version}; OpenSearch 2.19 (minimal distribution, 1 node, local); moto for S3/SQS.
- Data: generated Twingate-like NDJSON (bench/lib/records.ts: 70% network_access, 20% dns_filtering, 5% audit_log,
  5% data_loss_prevention), ~560 bytes a record.
`;
  if (smoke || process.argv.includes("--no-write")) return;
  const doc = readFileSync(DOC, "utf8");
  const start = doc.indexOf("<!-- e2e:start");
  const end = doc.indexOf("<!-- e2e:end -->");
  // With --only, the sections not re-run are kept from the last full run (matched by their heading).
  let kept: string[] = [];
  if (only && start !== -1) {
    const old = doc
      .slice(start, end)
      .split(/\n(?=## )/)
      .slice(1);
    const fresh = new Set(sections.map((x) => x.split("\n")[0]));
    kept = old
      .map((x) => x.trim())
      .filter((x) => !x.startsWith("## End to end: setup") && !fresh.has(x.split("\n")[0]!));
  }
  const order = (x: string) =>
    steps.findIndex(([n]) => headingOf[n] !== undefined && x.startsWith(headingOf[n]!));
  const text = [header, ...[...kept, ...sections].sort((a, b) => order(a) - order(b))].join("\n\n");
  const block = `${text}\n<!-- e2e:end -->`;
  const next =
    start === -1
      ? `${doc.trimEnd()}\n\n${block}\n`
      : `${doc.slice(0, start)}${block}${doc.slice(end + "<!-- e2e:end -->".length)}`;
  writeFileSync(DOC, next);
  process.stderr.write(`wrote ${DOC}\n`);
}

for (const [name, script, full, small] of steps) {
  if (only && !only.includes(name)) continue;
  const out = await run(script, smoke ? small : full);
  if (smoke) process.stdout.write(`${out.trim()}\n\n`);
  else if (name !== "parse") {
    sections.push(out.trim());
    write();
  }
}
