import { ALL_CHECKS } from "./checks.ts";
import type { Check, CheckResult, DoctorContext, DoctorDeps, DoctorOptions } from "./types.ts";

export interface DoctorReport {
  /** True when no check failed (warnings and skips do not fail the doctor). */
  ok: boolean;
  counts: Record<CheckResult["status"], number>;
  checks: CheckResult[];
}

/** Run the checks in order (later ones use what earlier ones learnt); a check that throws is a failure. */
export async function runDoctor(
  deps: DoctorDeps,
  opts: DoctorOptions,
  checks: readonly Check[] = ALL_CHECKS,
  onResult?: (r: CheckResult) => void,
): Promise<DoctorReport> {
  const ctx: DoctorContext = { opts, deps };
  const results: CheckResult[] = [];
  for (const check of checks) {
    let r: Omit<CheckResult, "ok">;
    try {
      r = await check(ctx);
    } catch (err) {
      r = {
        name: check.name || "check",
        status: "fail",
        detail: `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
    const result: CheckResult = { ...r, ok: r.status !== "fail" };
    results.push(result);
    onResult?.(result);
  }
  const counts = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const r of results) counts[r.status]++;
  return { ok: counts.fail === 0, counts, checks: results };
}

const LABEL: Record<CheckResult["status"], string> = {
  pass: "PASS",
  warn: "WARN",
  fail: "FAIL",
  skip: "SKIP",
};

/** One line per check (and an indented hint), as the command prints them. */
export function formatResult(r: CheckResult): string {
  const line = `${LABEL[r.status]}  ${r.name}: ${r.detail}`;
  return r.hint && (r.status === "fail" || r.status === "warn") ? `${line}\n      → ${r.hint}` : line;
}

export function formatSummary(report: DoctorReport): string {
  const { pass, warn, fail, skip } = report.counts;
  return `${report.ok ? "OK" : "PROBLEMS FOUND"}: ${pass} passed, ${warn} warning(s), ${fail} failed, ${skip} skipped`;
}
