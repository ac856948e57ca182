/**
 * Counters for "what did reading these files give": records, valid per event_type, rejected per reason,
 * unknown event types, file-level errors. Pure accumulation, shared by `validate` (its --json output
 * is `toJson(summary)`) and anything else that wants the same shape.
 *
 * Decision: a file-level error (syntax_error, truncated_gzip, file_too_large, ...) is listed in
 * `file_errors` with its reason code and is NOT counted in `rejected` / `rejected_by_reason`, which
 * count records only (so `records = valid + rejected` always holds). Any file error makes the run fail
 * (exit 1), like any rejected record.
 */
import type { Rejection, RejectReason } from "../../core/model.ts";

interface FileErrorEntry {
  file: string;
  error: string;
  /** The reason code (syntax_error, truncated_gzip, file_too_large, or io_error for a read failure). */
  reason: RejectReason | "io_error";
}

interface RejectionExample {
  file: string;
  ordinal: number;
  line?: number;
  message: string;
  path?: string;
}

export interface ValidationSummary {
  files: number;
  records: number;
  /** Records that will be indexed, with or without deviations. */
  valid: number;
  /** Of `valid`, the records indexed with deviations (a value normalised or set aside; docs/DATA-QUALITY.md). */
  with_issues: number;
  rejected: number;
  by_event_type: Record<string, number>;
  rejected_by_reason: Record<string, number>;
  /** Records whose event_type we have no schema for (how we notice the vendor adding a stream). */
  unknown_event_types: Record<string, number>;
  /** Rejected records per path of the problem (`event.time`, `event_type`; `-` when none). */
  rejected_by_path: Record<string, number>;
  /** Deviations of valid records per `path:action` (`event.resource.port:coerced`). */
  deviations_by_path: Record<string, number>;
  file_errors: FileErrorEntry[];
  /** The first few rejections per reason (not part of --json). */
  examples: Record<string, RejectionExample[]>;
}

export const EXAMPLES_PER_REASON = 3;

export function newSummary(): ValidationSummary {
  return {
    files: 0,
    records: 0,
    valid: 0,
    with_issues: 0,
    rejected: 0,
    by_event_type: {},
    rejected_by_reason: {},
    unknown_event_types: {},
    rejected_by_path: {},
    deviations_by_path: {},
    file_errors: [],
    examples: {},
  };
}

/** Adds to a count, as an own property even for keys like "__proto__" or "constructor" (an event_type). */
function bump(map: Record<string, number>, key: string, n = 1): void {
  const value = (Object.hasOwn(map, key) ? map[key]! : 0) + n;
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
}

export function addFile(s: ValidationSummary): void {
  s.files++;
}

export function addValid(s: ValidationSummary, eventType: string): void {
  s.records++;
  s.valid++;
  bump(s.by_event_type, eventType);
}

/** A valid record's deviations (`path:action` keys); counts it under with_issues when there are any. */
export function addDeviations(s: ValidationSummary, keys: readonly string[]): void {
  if (keys.length === 0) return;
  s.with_issues++;
  for (const k of new Set(keys)) bump(s.deviations_by_path, k);
}

export function addRejected(s: ValidationSummary, file: string, rejection: Rejection): void {
  s.records++;
  s.rejected++;
  bump(s.rejected_by_reason, rejection.reason);
  bump(s.rejected_by_path, rejection.path ?? "-");
  if (rejection.reason === "unknown_event_type" && rejection.eventType !== undefined) {
    bump(s.unknown_event_types, rejection.eventType);
  }
  const list = s.examples[rejection.reason] ?? [];
  s.examples[rejection.reason] = list;
  if (list.length < EXAMPLES_PER_REASON) {
    const ex: RejectionExample = { file, ordinal: rejection.ordinal, message: rejection.message };
    if (rejection.line !== undefined) ex.line = rejection.line;
    if (rejection.path !== undefined) ex.path = rejection.path;
    list.push(ex);
  }
}

export function addFileError(
  s: ValidationSummary,
  file: string,
  reason: FileErrorEntry["reason"],
  message: string,
): void {
  s.file_errors.push({ file, error: message, reason });
}

/** Add b's counts into a (for per-file summaries rolled into a total). */
export function mergeSummary(a: ValidationSummary, b: ValidationSummary): void {
  a.files += b.files;
  a.records += b.records;
  a.valid += b.valid;
  a.with_issues += b.with_issues;
  a.rejected += b.rejected;
  for (const [k, n] of Object.entries(b.by_event_type)) bump(a.by_event_type, k, n);
  for (const [k, n] of Object.entries(b.rejected_by_reason)) bump(a.rejected_by_reason, k, n);
  for (const [k, n] of Object.entries(b.unknown_event_types)) bump(a.unknown_event_types, k, n);
  for (const [k, n] of Object.entries(b.rejected_by_path)) bump(a.rejected_by_path, k, n);
  for (const [k, n] of Object.entries(b.deviations_by_path)) bump(a.deviations_by_path, k, n);
  a.file_errors.push(...b.file_errors);
  for (const [k, list] of Object.entries(b.examples)) {
    const into = a.examples[k] ?? [];
    a.examples[k] = into;
    for (const ex of list) if (into.length < EXAMPLES_PER_REASON) into.push(ex);
  }
}

/** True when nothing was rejected and no file failed. */
export function isClean(s: ValidationSummary): boolean {
  return s.rejected === 0 && s.file_errors.length === 0;
}

/** One line of `validate --details`: a rejection or a deviation, where it is and why. */
export interface Detail {
  file: string;
  ordinal: number;
  line?: number;
  kind: "rejected" | "deviation";
  /** The rejection's reason code, or the deviation's action. */
  reason: string;
  path?: string;
  message: string;
}

/** `file:line  path  reason: message` (`file#ordinal` when the layout has no lines). */
export function formatDetail(d: Detail): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}` : `${d.file}#${d.ordinal}`;
  return `${where}  ${d.path ?? "-"}  ${d.kind === "rejected" ? "rejected" : "deviation"} ${d.reason}: ${d.message}`;
}

/** The --json object (examples left out). */
export function toJson(s: ValidationSummary): Omit<ValidationSummary, "examples"> {
  return {
    files: s.files,
    records: s.records,
    valid: s.valid,
    with_issues: s.with_issues,
    rejected: s.rejected,
    by_event_type: s.by_event_type,
    rejected_by_reason: s.rejected_by_reason,
    unknown_event_types: s.unknown_event_types,
    rejected_by_path: s.rejected_by_path,
    deviations_by_path: s.deviations_by_path,
    file_errors: s.file_errors,
  };
}

function counts(map: Record<string, number>): string {
  const entries = Object.entries(map).sort(([a], [b]) => a.localeCompare(b));
  return entries.length === 0 ? "-" : entries.map(([k, n]) => `${k}=${n}`).join(" ");
}

/** One line for a file. */
export function formatFileLine(file: string, s: ValidationSummary): string {
  const status = isClean(s) ? "ok" : "FAIL";
  let line = `${status}  ${file}: ${s.records} records, ${s.valid} valid (${counts(s.by_event_type)})`;
  if (s.with_issues > 0) line += `, ${s.with_issues} of them with deviations`;
  if (s.rejected > 0) line += `, ${s.rejected} rejected (${counts(s.rejected_by_reason)})`;
  for (const e of s.file_errors) line += `\n      file error ${e.reason}: ${e.error}`;
  return line;
}

/** The total block, with the first few examples per reason. */
export function formatTotal(s: ValidationSummary): string {
  const lines = [
    `Total: ${s.files} file${s.files === 1 ? "" : "s"}, ${s.records} records, ${s.valid} valid, ${s.rejected} rejected, ${s.file_errors.length} file error${s.file_errors.length === 1 ? "" : "s"}`,
    `  valid by event_type: ${counts(s.by_event_type)}`,
  ];
  if (s.with_issues > 0)
    lines.push(
      `  indexed with deviations: ${s.with_issues} (${counts(s.deviations_by_path)}); --details lists each`,
    );
  if (s.rejected > 0) lines.push(`  rejected by reason: ${counts(s.rejected_by_reason)}`);
  if (Object.keys(s.unknown_event_types).length > 0) {
    lines.push(`  unknown event types: ${counts(s.unknown_event_types)}`);
  }
  for (const [reason, list] of Object.entries(s.examples).sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`  ${reason} (first ${list.length} of ${s.rejected_by_reason[reason] ?? list.length}):`);
    for (const ex of list) {
      const where = ex.line !== undefined ? `line ${ex.line}` : `record #${ex.ordinal}`;
      lines.push(`    ${ex.file} ${where}: ${ex.message}`);
    }
  }
  return lines.join("\n");
}
