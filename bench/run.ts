/**
 * Runs every benchmark and prints their Markdown sections: `npm run bench` (full: tens of minutes on 2
 * cores; `--only throughput,peer` for some) or `npm run bench:smoke` (small sizes, a few minutes: keeps the
 * scripts from rotting). docs/BENCHMARKS.md quotes what matters from them; it is edited, not written here.
 * The peer step never builds the peer (`npm run bench:peer` does, once): without its binary it prints that
 * it skipped. The end-to-end ones need the local stack: `bash scripts/stack.sh up` and
 * `eval "$(bash scripts/stack.sh env)"`.
 */
import { spawn } from "node:child_process";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";

const HERE = import.meta.dirname;
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
  ["parse", "parse.ts", ["--mb", "100", "--rss-mb", "1024"], ["--mb", "5"]],
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
  ["peer", "peer.ts", ["--no-build"], ["--smoke"]],
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

const loadBefore = loadavg()[0]!;
process.stdout.write(`# Benchmarks run on ${new Date().toISOString().slice(0, 10)}

- Machine: ${cpus().length} × ${cpus()[0]?.model ?? "CPU"}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB RAM, shared with OpenSearch,
  moto and whatever else runs (1-minute load average ${loadBefore.toFixed(1)} at the start).
- Node ${process.version}; OpenSearch at ${process.env["OPENSEARCH_URL"] ?? "?"}; moto for S3/SQS.
- Data: generated Twingate-like NDJSON (bench/lib/records.ts: 70% network_access, 20% dns_filtering, 5% audit_log,
  5% data_loss_prevention), ~560 bytes a record.

`);

for (const [name, script, full, small] of steps) {
  if (only && !only.includes(name)) continue;
  const out = await run(script, smoke ? small : full);
  process.stdout.write(`${out.trim()}\n\n`);
}
