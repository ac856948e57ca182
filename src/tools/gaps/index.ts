/**
 * Gaps: Twingate writes a file per 5-minute slot with events and nothing for a quiet slot, so a slot
 * without a file is either a quiet period or a lost file. This module finds the slots without a file
 * (pure) and the files S3 holds that OpenSearch has no document for (one bounded query per chunk).
 */
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES } from "../../core/model.ts";
import { floorToSlot, SLOT_MS, slotLabel } from "../../runtimes/backfill/range.ts";

interface GapRun {
  /** First missing slot (start). */
  startMs: number;
  /** End of the last missing slot (exclusive). */
  endMs: number;
  slots: number;
}

export interface Gaps {
  /** Slots in the range. */
  expected: number;
  /** Slots with at least one file. */
  present: number;
  /** Slot starts without a file, in time order. */
  missing: number[];
  /** Consecutive missing slots, longest first (ties: earliest first). */
  runs: GapRun[];
}

/**
 * Missing slots of [fromMs, toMs) (slots of `slotMs`, the first one holding `fromMs`) given the
 * times of the files present (any time inside a slot counts for that slot; times outside are ignored).
 */
export function findGaps(present: Iterable<number>, fromMs: number, toMs: number, slotMs = SLOT_MS): Gaps {
  if (!(slotMs > 0)) throw new RangeError("slot width must be positive");
  const first = floorToSlot(fromMs, slotMs);
  const have = new Set<number>();
  for (const t of present) {
    const s = floorToSlot(t, slotMs);
    if (s >= first && s < toMs) have.add(s);
  }
  const missing: number[] = [];
  const runs: GapRun[] = [];
  let run: GapRun | undefined;
  let expected = 0;
  for (let s = first; s < toMs; s += slotMs) {
    expected++;
    if (have.has(s)) {
      run = undefined;
      continue;
    }
    missing.push(s);
    if (run) {
      run.endMs = s + slotMs;
      run.slots++;
    } else {
      run = { startMs: s, endMs: s + slotMs, slots: 1 };
      runs.push(run);
    }
  }
  runs.sort((a, b) => b.slots - a.slots || a.startMs - b.startMs);
  return { expected, present: have.size, missing, runs };
}

/** The indices that hold documents of a prefix: one pattern per stream and quarantine. */
export function documentIndices(prefix: string): string {
  return [...EVENT_TYPES, "quarantine"].map((t) => `${prefix}-${t}-*`).join(",");
}

/**
 * Keys of `bucket` that have no document at all (record or quarantine) in OpenSearch. Asks by chunks of
 * keys (a terms filter and a terms aggregation of the same size), so the answer is exact whatever the
 * number of documents per file.
 */
export async function keysWithoutDocuments(
  client: Client,
  opts: {
    indexPrefix: string;
    bucket: string;
    keys: readonly string[];
    chunk?: number;
    signal?: AbortSignal;
  },
): Promise<string[]> {
  const chunk = opts.chunk ?? 1000;
  const out: string[] = [];
  for (let i = 0; i < opts.keys.length; i += chunk) {
    opts.signal?.throwIfAborted();
    const keys = opts.keys.slice(i, i + chunk);
    const res = await client.transport.request({
      method: "POST",
      path: `/${documentIndices(opts.indexPrefix)}/_search`,
      querystring: { ignore_unavailable: true, allow_no_indices: true },
      body: {
        size: 0,
        track_total_hits: false,
        query: {
          bool: { filter: [{ term: { "ingest.bucket": opts.bucket } }, { terms: { "ingest.key": keys } }] },
        },
        aggs: { keys: { terms: { field: "ingest.key", size: keys.length } } },
      },
    });
    const aggs = (res.body as { aggregations?: unknown }).aggregations as
      | { keys?: { buckets?: { key: string }[] } }
      | undefined;
    const seen = new Set((aggs?.keys?.buckets ?? []).map((b) => b.key));
    for (const k of keys) if (!seen.has(k)) out.push(k);
  }
  return out;
}

export interface GapsReport {
  bucket: string;
  prefix: string;
  from: string;
  to: string;
  slotMinutes: number;
  files: number;
  /** Keys that are not Twingate file names (not counted as slots). */
  otherKeys: number;
  expectedSlots: number;
  presentSlots: number;
  missingSlots: string[];
  runs: { start: string; end: string; slots: number; minutes: number }[];
  /** Files in S3 with no document in OpenSearch; undefined when OpenSearch was not asked. */
  filesWithoutDocuments?: string[];
}

export function buildReport(input: {
  bucket: string;
  prefix: string;
  fromMs: number;
  toMs: number;
  slotMs?: number;
  files: readonly { key: string; timeMs: number }[];
  otherKeys: number;
  filesWithoutDocuments?: string[];
}): GapsReport {
  const slotMs = input.slotMs ?? SLOT_MS;
  const g = findGaps(
    input.files.map((f) => f.timeMs),
    input.fromMs,
    input.toMs,
    slotMs,
  );
  return {
    bucket: input.bucket,
    prefix: input.prefix,
    from: new Date(floorToSlot(input.fromMs, slotMs)).toISOString(),
    to: new Date(input.toMs).toISOString(),
    slotMinutes: slotMs / 60_000,
    files: input.files.length,
    otherKeys: input.otherKeys,
    expectedSlots: g.expected,
    presentSlots: g.present,
    missingSlots: g.missing.map(slotLabel),
    runs: g.runs.map((r) => ({
      start: slotLabel(r.startMs),
      end: slotLabel(r.endMs),
      slots: r.slots,
      minutes: (r.endMs - r.startMs) / 60_000,
    })),
    ...(input.filesWithoutDocuments ? { filesWithoutDocuments: input.filesWithoutDocuments } : {}),
  };
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

/** The report as text tables; `limit` rows per table (0: all). */
export function formatReport(r: GapsReport, limit = 50): string {
  const cut = <T>(xs: T[]) => (limit > 0 ? xs.slice(0, limit) : xs);
  const more = (n: number) => (limit > 0 && n > limit ? [`... and ${n - limit} more (--json for all)`] : []);
  const lines = [
    `s3://${r.bucket}/${r.prefix}  ${r.from} .. ${r.to}`,
    `${r.files} file(s) in ${r.presentSlots} of ${r.expectedSlots} ${r.slotMinutes}-minute slots; ${r.missingSlots.length} slot(s) without a file in ${r.runs.length} run(s)${r.otherKeys ? `; ${r.otherKeys} other key(s) ignored` : ""}`,
    "(a slot without a file is a quiet period or a lost file: long runs during working hours deserve a look)",
    "",
  ];
  if (r.runs.length > 0) {
    lines.push(
      "Runs of missing slots (longest first):",
      ...table(
        ["start", "end", "slots", "minutes"],
        cut(r.runs).map((x) => [x.start, x.end, String(x.slots), String(x.minutes)]),
      ),
      ...more(r.runs.length),
      "",
    );
  }
  if (r.filesWithoutDocuments !== undefined) {
    if (r.filesWithoutDocuments.length === 0) lines.push("Every file has documents in OpenSearch.");
    else {
      lines.push(
        `Files in S3 with no document in OpenSearch (${r.filesWithoutDocuments.length}); ingest them with backfill:`,
        ...table(
          ["key"],
          cut(r.filesWithoutDocuments).map((k) => [k]),
        ),
        ...more(r.filesWithoutDocuments.length),
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
