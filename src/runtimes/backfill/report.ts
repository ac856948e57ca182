/** Text for a backfill's final summary and dry run (pure). */
import type { Totals } from "./checkpoint.ts";
import type { EnqueueSummary } from "./enqueue.ts";
import type { BackfillSummary, DryRunSummary } from "./run.ts";

function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(1)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

function counts(title: string, c: Record<string, number>): string[] {
  const entries = Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length === 0) return [`${title}: none`];
  const w = Math.max(...entries.map(([k]) => k.length));
  return [`${title}:`, ...entries.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
}

function totalsLines(t: Totals): string[] {
  return [
    `files ingested: ${t.files}${t.notFound ? ` (+${t.notFound} gone before they were read)` : ""}${t.fileErrors ? `, ${t.fileErrors} with a file-level error` : ""}`,
    `records: ${t.records}  indexed: ${t.indexed}  quarantined: ${t.rejected}`,
    `documents already there (written by an earlier run or delivery, indexed or quarantined; ids are deterministic): ${t.duplicates}`,
    `bytes read: ${formatBytes(t.bytes)}`,
    ...counts("indexed by event type", t.byEventType),
    ...counts("rejected by reason", t.rejectedByReason),
  ];
}

function rangeText(r: { from?: string; to?: string }): string {
  return `${r.from ?? "the beginning"} .. ${r.to ?? "the end"}`;
}

/** What a backfill's two modes report alike: how the run ended, the listing, a resume, the failures. */
type RunSummary = Pick<
  BackfillSummary,
  "source" | "range" | "listing" | "alreadyDone" | "failed" | "interrupted" | "stopReason" | "resumed"
>;

/** The words a mode's report uses for the shared parts. */
interface RunWords {
  /** `backfill`, `backfill --enqueue`. */
  title: string;
  /** After the range in the first line (the queue). */
  target?: string;
  interrupted: string;
  failed: (n: number) => string;
  resumed: (n: number) => string;
  failedTitle: string;
}

/** A run's report: the shared head, `body` (the mode's own counts), the failures, then `footer`. */
function formatRun(s: RunSummary, w: RunWords, body: string[], footer: string[] = []): string {
  const status = s.stopReason
    ? `STOPPED: ${s.stopReason}`
    : s.interrupted
      ? w.interrupted
      : s.failed.length > 0
        ? w.failed(s.failed.length)
        : "complete";
  const l = s.listing;
  const lines = [
    `${w.title} ${s.source}  ${rangeText(s.range)}${w.target ?? ""}: ${status}`,
    `listed: ${l.taken} in range, ${l.skippedName} not Twingate file names (skipped), ${l.outOfRange} out of range; ${l.pages} list page(s)`,
  ];
  if (s.resumed) lines.push(w.resumed(s.alreadyDone));
  lines.push(...body);
  if (s.failed.length > 0) {
    lines.push("", w.failedTitle);
    for (const f of s.failed.slice(0, 50)) lines.push(`  ${f.key}: ${f.error}`);
    if (s.failed.length > 50) lines.push(`  ... and ${s.failed.length - 50} more`);
  }
  lines.push(...footer);
  return `${lines.join("\n")}\n`;
}

export function formatBackfillSummary(s: BackfillSummary): string {
  const body = [
    `duration: ${formatDuration(s.durationMs)}`,
    "",
    "this run:",
    ...totalsLines(s.run).map((x) => `  ${x}`),
  ];
  if (s.resumed) body.push("", "including earlier runs:", ...totalsLines(s.total).map((x) => `  ${x}`));
  return formatRun(
    s,
    {
      title: "backfill",
      interrupted: "INTERRUPTED (checkpoint saved; run the same command again to resume)",
      failed: (n) => `${n} object(s) FAILED (checkpoint kept; run again to retry them)`,
      resumed: (n) => `resumed: ${n} listed object(s) were already done by an earlier run`,
      failedTitle: "failed objects:",
    },
    body,
  );
}

export function formatDryRun(s: DryRunSummary): string {
  const lines = s.objects.map((o) => `${String(o.size).padStart(12)}  ${o.key}`);
  const l = s.listing;
  lines.push(
    "",
    `${s.objects.length} object(s), ${formatBytes(s.bytes)} would be read from ${s.source} (${rangeText(s.range)})`,
    `${l.skippedName} not Twingate file names skipped, ${l.outOfRange} out of range${s.alreadyDone ? `, ${s.alreadyDone} already done (checkpoint)` : ""}; ${l.pages} list page(s)`,
  );
  return `${lines.join("\n")}\n`;
}

export function formatEnqueueSummary(s: EnqueueSummary): string {
  const body = [
    `sent: ${s.run.files} message(s) announcing ${formatBytes(s.run.bytes)} in ${formatDuration(s.durationMs)} (${s.messagesPerSecond}/s; limit ${s.rate > 0 ? `${s.rate}/s` : "none"})`,
  ];
  if (s.resumed)
    body.push(`including earlier runs: ${s.total.files} message(s), ${formatBytes(s.total.bytes)}`);
  return formatRun(
    s,
    {
      title: "backfill --enqueue",
      target: ` -> ${s.queueUrl}`,
      interrupted: "INTERRUPTED (checkpoint saved; run the same command again to send the rest)",
      failed: (n) => `${n} message(s) REFUSED (checkpoint kept; run again to retry them)`,
      resumed: (n) => `resumed: ${n} listed file(s) were already sent by an earlier run`,
      failedTitle: "refused:",
    },
    body,
    ["", "The workers ingest them as they ingest live files; watch the queue's depth to follow."],
  );
}
