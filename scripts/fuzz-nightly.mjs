#!/usr/bin/env node
/**
 * The nightly fuzz run: the same property-based suites as CI (test/unit/fuzz*.test.ts,
 * test/unit/parse-property.test.ts, test/unit/notifications-property.test.ts) and the malformed corpus,
 * with many more cases and a fresh seed each night (printed, so a failure can be replayed).
 *
 *   node scripts/fuzz-nightly.mjs [--runs 100000] [--seed 1234] [--minutes 30]
 *
 * Environment passed to the suites: FUZZ_RUNS (cases per property) and FUZZ_SEED, read by fuzz-validate.
 * The older suites (parse-property, notifications-property) keep their own numRuns and draw a random seed
 * each time (fast-check prints it on failure): rounds repeat until --minutes is spent.
 * Exit code: non-zero on the first failing round.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg("runs", "100000"));
const minutes = Number(arg("minutes", "20"));
let seed = Number(arg("seed", String(Date.now() % 2 ** 31)));

const suites = [
  "test/unit/fuzz-validate.test.ts",
  "test/unit/parse-property.test.ts",
  "test/unit/notifications-property.test.ts",
  "test/unit/corpus.test.ts",
].filter((f) => existsSync(path.join(ROOT, f)));

const deadline = Date.now() + minutes * 60_000;
let round = 0;
do {
  round++;
  process.stdout.write(`[fuzz] round ${round}: FUZZ_RUNS=${runs} FUZZ_SEED=${seed}\n`);
  const res = spawnSync(
    process.execPath,
    ["--import", "tsx", "--test", "--test-reporter=dot", "--test-timeout=3600000", ...suites],
    {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, FUZZ_RUNS: String(runs), FUZZ_SEED: String(seed) },
    },
  );
  if (res.status !== 0) {
    process.stdout.write(
      `[fuzz] FAILED in round ${round}; replay with: node scripts/fuzz-nightly.mjs --seed ${seed}\n`,
    );
    process.exit(res.status ?? 1);
  }
  seed = (seed * 48271 + 11) % 2147483647;
} while (Date.now() < deadline);
process.stdout.write(`[fuzz] ${round} round(s) passed\n`);
