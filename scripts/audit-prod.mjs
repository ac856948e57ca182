#!/usr/bin/env node
/**
 * `npm audit --omit=dev --audit-level=high`, with an answer CI can act on. Three outcomes:
 *
 *   clean        no high or critical advisory in production dependencies         exit 0
 *   vulnerable   at least one high/critical advisory (listed)                      exit 1
 *   unreachable  the audit endpoint could not be asked (offline, proxy, a mirror
 *                without the advisories API): NOT a pass, said loudly              exit 0, or 2 with --strict
 *
 *   node scripts/audit-prod.mjs [--strict]
 *
 * npm itself exits 1 both when it finds vulnerabilities and when it cannot reach the endpoint; this
 * script reads its JSON report to tell them apart.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const strict = process.argv.includes("--strict");

const res = spawnSync("npm", ["audit", "--omit=dev", "--audit-level=high", "--json"], {
  cwd: ROOT,
  encoding: "utf8",
  timeout: 120_000,
  env: { ...process.env, NPM_CONFIG_AUDIT: "true", NPM_CONFIG_UPDATE_NOTIFIER: "false" },
});

let report;
try {
  report = JSON.parse(res.stdout || "{}");
} catch {
  report = {};
}

const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const why =
    report.message ??
    report.error?.summary ??
    (res.error ? res.error.message : (res.stderr || "").trim().split("\n").slice(-2).join(" ")) ??
    "no report";
  process.stdout.write(
    `[audit] UNREACHABLE: the audit endpoint could not be asked, so production dependencies are NOT verified.\n` +
      `[audit] npm said: ${String(why).slice(0, 300)}\n` +
      `[audit] Run \`node scripts/audit-prod.mjs --strict\` where the registry's audit API is reachable.\n`,
  );
  process.exit(strict ? 2 : 0);
}

const high = (counts.high ?? 0) + (counts.critical ?? 0);
if (high === 0) {
  process.stdout.write(
    `[audit] clean: no high or critical advisories in production dependencies ` +
      `(low ${counts.low ?? 0}, moderate ${counts.moderate ?? 0}).\n`,
  );
  process.exit(0);
}
process.stdout.write(`[audit] VULNERABLE: ${counts.critical ?? 0} critical, ${counts.high ?? 0} high:\n`);
for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
  if (v.severity !== "high" && v.severity !== "critical") continue;
  const via = (v.via ?? []).map((x) => (typeof x === "string" ? x : x.title)).join("; ");
  process.stdout.write(
    `  ${v.severity.padEnd(8)} ${name} ${v.range ?? ""}: ${via} (fix: ${v.fixAvailable ? "available" : "none"})\n`,
  );
}
process.exit(1);
