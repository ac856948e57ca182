#!/usr/bin/env node
/**
 * The test runner behind `npm test` (unit + end-to-end) and `npm run test:unit` (--unit).
 *
 *   node scripts/run-tests.mjs [--unit] [filter...] [-- node-test-flags...]
 *
 * - Finds test/unit/**\/*.test.ts, and test/e2e/**\/*.test.ts unless --unit (node 20's --test does not
 *   expand globs). Each filter keeps the files whose path contains it (`npm test -- smoke`).
 * - For end-to-end files it is the global setup: the endpoints are those of scripts/stack.sh (ports from
 *   STACK_OPENSEARCH_PORT / STACK_MOTO_PORT); when they do not answer it runs `scripts/stack.sh up`, and it
 *   passes the endpoints (OPENSEARCH_URL, S3_ENDPOINT, ...) to the tests. A stack it started keeps running
 *   for fast reruns, unless STACK_STOP_AFTER=1.
 * - One `node --test` run with the spec reporter (its closing `ℹ pass N` / `ℹ fail N` lines are the
 *   summary); files run one at a time when end-to-end files are included (they share the stack, 2 cores).
 * - With both, the unit files run first, on their own: a unit failure stops before the end-to-end files.
 * - End-to-end files get a 10-minute timeout per test (TEST_TIMEOUT_MS; on Node 20 and 22, which apply it to
 *   a whole file, 30 minutes), a leak check (a file that leaves an
 *   index, alias or template on the shared node fails, named; so does the run for anything else left), and
 *   each file's time printed at the end.
 * - Exit code: the runner's.
 */
import { spawn, spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { listObjects } from "./e2e-leak-check.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const STACK = path.join(ROOT, "scripts", "stack.sh");
const STACK_ENV_NAMES = [
  "OPENSEARCH_URL",
  "S3_ENDPOINT",
  "SQS_ENDPOINT",
  "SNS_ENDPOINT",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
];

function parseArgs(argv) {
  const opts = { unit: false, filters: [], nodeArgs: [] };
  let passthrough = false;
  for (const arg of argv) {
    if (passthrough) opts.nodeArgs.push(arg);
    else if (arg === "--") passthrough = true;
    else if (arg === "--unit") opts.unit = true;
    else if (arg === "--cluster") opts.cluster = true;
    else if (arg === "--help" || arg === "-h") {
      process.stdout.write(
        "usage: node scripts/run-tests.mjs [--unit|--cluster] [filter...] [-- node-test-flags...]\n",
      );
      process.exit(0);
    } else if (arg.startsWith("--")) opts.nodeArgs.push(arg);
    else opts.filters.push(arg);
  }
  return opts;
}

/** test files under dir (relative to the repo root, sorted); none when dir is missing */
export function findTests(dir) {
  const abs = path.join(ROOT, dir);
  let entries;
  try {
    entries = readdirSync(abs, { withFileTypes: true });
  } catch (err) {
    if (err.code === "ENOENT") return [];
    throw err;
  }
  const out = [];
  for (const e of entries) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(rel));
    else if (e.name.endsWith(".test.ts") && statSync(path.join(ROOT, rel)).isFile()) out.push(rel);
  }
  return out.sort();
}

/** The stack's endpoints as scripts/stack.sh prints them (`export NAME=value` lines). */
function stackEnv() {
  const res = spawnSync("bash", [STACK, "env"], { cwd: ROOT, encoding: "utf8", env: process.env });
  if (res.status !== 0) throw new Error(`scripts/stack.sh env failed: ${res.stderr}`);
  const env = {};
  for (const line of res.stdout.split("\n")) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  for (const name of STACK_ENV_NAMES) {
    if (!env[name]) throw new Error(`scripts/stack.sh env did not print ${name}`);
  }
  return env;
}

async function answers(url, accept) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
    return accept(res, await res.text());
  } catch {
    return false;
  }
}

async function stackHealthy(env) {
  const [os, moto] = await Promise.all([
    answers(`${env.OPENSEARCH_URL}/_cluster/health`, (res, text) => {
      if (!res.ok) return false;
      const status = JSON.parse(text).status;
      return status === "green" || status === "yellow";
    }),
    answers(`${env.S3_ENDPOINT}/moto-api/`, (res) => res.ok),
  ]);
  return os && moto;
}

function runStack(command) {
  const res = spawnSync("bash", [STACK, command], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  return res.status ?? 1;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  // --cluster: only the multi-node tests (test/cluster/, npm run test:cluster: not part of npm test)
  const dirs = opts.cluster ? ["test/cluster"] : opts.unit ? ["test/unit"] : ["test/unit", "test/e2e"];
  const all = dirs.flatMap(findTests);
  const files = opts.filters.length ? all.filter((f) => opts.filters.some((s) => f.includes(s))) : all;
  if (files.length === 0) {
    process.stderr.write(`no test files match ${opts.filters.join(", ") || "(none found)"}\n`);
    process.exit(1);
  }
  const e2e = files.some((f) => !f.startsWith(`test${path.sep}unit${path.sep}`));

  const env = { ...process.env };
  // as in src/cli/main.ts: the SDK's once-per-process notice that its 2027 releases need Node 22
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  let started = false;
  if (e2e) {
    const endpoints = stackEnv();
    if (await stackHealthy(endpoints)) {
      process.stderr.write(
        `[tests] using the running stack: ${endpoints.OPENSEARCH_URL}, ${endpoints.S3_ENDPOINT}\n`,
      );
    } else {
      process.stderr.write("[tests] starting the local stack (scripts/stack.sh up)\n");
      const t0 = Date.now();
      if (runStack("up") !== 0) {
        process.stderr.write("[tests] the local stack did not start; see the log above\n");
        process.exit(1);
      }
      started = true;
      process.stderr.write(`[tests] stack up in ${Math.round((Date.now() - t0) / 1000)}s\n`);
    }
    Object.assign(env, endpoints);
  }

  // The CLI the tests start (bin/twingate-ingest.js) runs these sources, never a dist/ left by an earlier
  // build (a stale one made tests pass or fail on old code).
  env.TWINGATE_INGEST_FROM_SOURCE = "1";
  const args = [
    "--import",
    "tsx",
    "--test",
    "--test-reporter=spec",
    // Two files at a time: end-to-end tests mostly wait (on SQS, OpenSearch refreshes, child workers),
    // and each isolates itself by unique bucket, queue and index names. TEST_CONCURRENCY overrides.
    `--test-concurrency=${process.env["TEST_CONCURRENCY"] ?? 2}`,
    ...opts.nodeArgs,
    ...files,
  ];
  // Unit files first, in a run of their own: their failures show (and stop the run) in minutes, not after
  // the end-to-end files.
  const isUnit = (f) => f.startsWith(`test${path.sep}unit${path.sep}`);
  const phases =
    e2e && files.some(isUnit) ? [files.filter(isUnit), files.filter((f) => !isUnit(f))] : [files];
  const head = args.slice(0, args.length - files.length);
  let code = 0;
  for (const [i, phase] of phases.entries()) {
    const what =
      phases.length > 1 ? (i === 0 ? " (unit, first)" : " (end to end)") : e2e ? ", end-to-end included" : "";
    process.stderr.write(`[tests] ${phase.length} file(s)${what}\n`);
    const endToEnd = !phase.every(isUnit);
    const before = endToEnd ? await nodeObjects(env.OPENSEARCH_URL) : undefined;
    code = await runNode([...head, ...(endToEnd ? e2eArgs(opts.nodeArgs) : []), ...phase], env);
    if (before) code = (await leftBehind(env.OPENSEARCH_URL, before)) || code;
    if (code !== 0) {
      if (i < phases.length - 1)
        process.stderr.write("[tests] unit tests failed: end-to-end tests not run\n");
      break;
    }
  }

  if (started && process.env.STACK_STOP_AFTER === "1") runStack("down");
  process.exit(code);
}

/**
 * For end-to-end files: a timeout per test (a hang becomes a named failure, not CI's limit; TEST_TIMEOUT_MS,
 * or a --test-timeout given to the runner, overrides), the leak check in each file's process
 * (scripts/e2e-leak-check.mjs) and each file's time at the end (scripts/test-file-times.mjs).
 */
function e2eArgs(nodeArgs) {
  // Node 24 applies --test-timeout to each test; Node 20 and 22 to each file as a whole (the slowest file,
  // reliability, takes about 9 minutes on a loaded machine): 30 minutes there, a hang still named.
  const perFile = Number(process.versions.node.split(".")[0]) < 24;
  const timeout = nodeArgs.some((a) => a.startsWith("--test-timeout"))
    ? []
    : [`--test-timeout=${process.env["TEST_TIMEOUT_MS"] ?? (perFile ? 1_800_000 : 600_000)}`];
  return [
    ...timeout,
    "--import",
    pathToFileURL(path.join(ROOT, "scripts", "e2e-leak-check.mjs")).href,
    "--test-reporter-destination=stdout",
    `--test-reporter=${pathToFileURL(path.join(ROOT, "scripts", "test-file-times.mjs")).href}`,
    "--test-reporter-destination=stderr",
  ];
}

/** The shared node's indices, aliases and templates; undefined when it does not answer. */
async function nodeObjects(url) {
  try {
    return await listObjects(url);
  } catch (err) {
    process.stderr.write(`[tests] could not list ${url}'s indices (${err.message}): no leak check\n`);
    return undefined;
  }
}

/**
 * After the end-to-end files: what is on the shared node now and was not before the run (names the
 * per-file check did not see: made without uniqueName) fails the run, named. 0 when nothing is left.
 */
async function leftBehind(url, before) {
  const after = await nodeObjects(url);
  if (!after) return 0;
  const left = Object.entries(after)
    .map(([kind, list]) => [kind, list.filter((n) => !before[kind].includes(n) && !n.startsWith("."))])
    .filter(([, list]) => list.length > 0);
  if (left.length === 0) return 0;
  process.stderr.write(
    `[tests] the end-to-end files left on ${url}: ${left.map(([kind, list]) => `${kind}: ${list.join(", ")}`).join("; ")} (each file deletes what it creates: test/helpers/stack.ts uniqueName, dropPrefix)\n`,
  );
  return 1;
}

let current;
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => current?.kill(sig));

function runNode(args, env) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: "inherit" });
  current = child;
  return new Promise((resolve) => {
    child.on("exit", (c, signal) => resolve(c ?? (signal ? 1 : 0)));
  });
}

await main();
