/**
 * Producing files: plan each slot's file (pure), write it to a target, and keep exact counts of what was
 * written, so a test can assert downstream numbers (indexed per type, rejected per reason) exactly.
 */
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import { eventWindow, type Slot, slotKey, slotName } from "../../core/twingate.ts";
import { contentType, encodeFile, type Layout, truncateGzip } from "./encode.ts";
import { type FaultRates, generateSlot, type Mix, type ProducedRecord, slotEventCount } from "./generator.ts";
import type { Pools } from "./pools.ts";
import type { Target } from "./targets.ts";

export interface ProduceOptions {
  seed: number | string;
  mix: Mix;
  /** Exactly this many records per file; else `ratePerSecond` x the window's seconds (+-20%). */
  eventsPerFile?: number;
  ratePerSecond?: number;
  layout: Layout;
  gzip: boolean;
  prefix: string;
  faults: FaultRates;
  /** Oversized records in total, spread one per file over the files (round robin). */
  oversized: number;
  /** Size an oversized record exceeds (the reader's maxRecordBytes). */
  oversizedBytes: number;
  /** This many files (the first ones written) are gzip streams cut short. Needs gzip. */
  truncatedGzip: number;
  /** Share of slots left without events (no file), for the gaps report. */
  emptySlotRate: number;
  /** Share of valid records with a field no declaration has (schema drift) [default: DEFAULT_DRIFT_RATE]. */
  driftRate?: number;
}

interface FileFaults {
  invalid: number;
  corrupt: number;
  unknown_type: number;
  oversized: number;
  truncated_gzip: boolean;
}

export interface FileReport {
  key: string;
  /** The slot's start, as in the file name. */
  slot: string;
  /** Records in the file, faulty ones included. */
  records: number;
  /** Records that must be indexed. */
  valid: number;
  bytes: number;
  layout: Layout;
  gzip: boolean;
  by_event_type: Record<EventType, number>;
  faults: FileFaults;
  /** Valid records carrying a field no declaration has, by the field's path. */
  drift: Record<string, number>;
}

export interface Faults {
  invalid: number;
  corrupt: number;
  unknown_type: number;
  oversized: number;
  truncated_gzip_files: number;
  /** Records inside truncated files: not in `records`/`valid`; a reader may or may not get some before the cut. */
  truncated_gzip_records: number;
}

export interface ProduceSummary {
  seed: number | string;
  target: string;
  layout: Layout;
  gzip: boolean;
  files: FileReport[];
  /** Slots in the range for which no file was written (no events). */
  skipped_slots: string[];
  /** Records in readable files, faulty ones included (= valid + invalid + corrupt + unknown_type + oversized). */
  records: number;
  /** Records that must end up indexed. */
  valid: number;
  /** Valid records per event type (what the indices must hold). */
  by_event_type: Record<EventType, number>;
  /** Invalid records per event type (what `schema_invalid` quarantine must hold, by type). */
  invalid_by_event_type: Record<EventType, number>;
  faults: Faults;
  /** Valid records carrying a field no declaration has, by the field's path (in readable files). */
  drift: Record<string, number>;
  bucket?: string;
  queue_url?: string;
  queue_arn?: string;
  dlq_url?: string;
  topic_arn?: string;
}

interface PlannedFile {
  slot: Slot;
  key: string;
  body: Buffer;
  records: ProducedRecord[];
  report: FileReport;
}

const zeroTypes = (): Record<EventType, number> =>
  Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Record<EventType, number>;

/** Per-file fault assignment for a run: which files are truncated, how many oversized records each holds. */
interface FileFaultPlan {
  oversized: number;
  truncated: boolean;
}

/**
 * Spread `truncatedGzip` and `oversized` over `fileCount` files: the first files are truncated; oversized
 * records go round robin over the others (over all files when every one is truncated... which then holds none).
 */
export function spreadFileFaults(
  fileCount: number,
  opts: Pick<ProduceOptions, "oversized" | "truncatedGzip">,
) {
  const plan: FileFaultPlan[] = Array.from({ length: fileCount }, (_, i) => ({
    oversized: 0,
    truncated: i < opts.truncatedGzip,
  }));
  const readable = plan.filter((p) => !p.truncated);
  for (let i = 0; i < opts.oversized && readable.length > 0; i++) readable[i % readable.length]!.oversized++;
  return plan;
}

/** One file, all in memory: records, bytes and its report. Pure. */
export function planFile(
  pools: Pools,
  opts: ProduceOptions,
  slot: Slot,
  window: Slot,
  count: number,
  faultPlan: FileFaultPlan,
): PlannedFile {
  const truncated = faultPlan.truncated;
  const records = generateSlot(pools, {
    seed: opts.seed,
    slot,
    window,
    count,
    mix: opts.mix,
    faults: truncated ? { invalid: 0, corrupt: 0, unknownType: 0 } : opts.faults,
    oversized: truncated ? 0 : Math.min(count, faultPlan.oversized),
    oversizedBytes: opts.oversizedBytes,
    ...(opts.driftRate !== undefined ? { driftRate: opts.driftRate } : {}),
  });
  const gzip = opts.gzip || truncated;
  let body = encodeFile(
    records.map((r) => r.text),
    { layout: opts.layout, gzip },
  );
  if (truncated) body = truncateGzip(body);
  const key = slotKey(slot.startMs, { prefix: opts.prefix, gzip });
  const byType = zeroTypes();
  const faults: FileFaults = {
    invalid: 0,
    corrupt: 0,
    unknown_type: 0,
    oversized: 0,
    truncated_gzip: truncated,
  };
  let valid = 0;
  const drift: Record<string, number> = {};
  for (const r of records) {
    if (r.kind === "valid") {
      valid++;
      byType[r.eventType as EventType]++;
      if (r.drift !== undefined) drift[r.drift] = (drift[r.drift] ?? 0) + 1;
    } else faults[r.kind]++;
  }
  return {
    slot,
    key,
    body,
    records,
    report: {
      key,
      slot: slotName(slot.startMs),
      records: records.length,
      valid: truncated ? 0 : valid,
      bytes: body.length,
      layout: opts.layout,
      gzip,
      by_event_type: truncated ? zeroTypes() : byType,
      faults,
      drift: truncated ? {} : drift,
    },
  };
}

export class Summary {
  readonly data: ProduceSummary;

  constructor(opts: ProduceOptions, target: string) {
    this.data = {
      seed: opts.seed,
      target,
      layout: opts.layout,
      gzip: opts.gzip,
      files: [],
      skipped_slots: [],
      records: 0,
      valid: 0,
      by_event_type: zeroTypes(),
      invalid_by_event_type: zeroTypes(),
      faults: {
        invalid: 0,
        corrupt: 0,
        unknown_type: 0,
        oversized: 0,
        truncated_gzip_files: 0,
        truncated_gzip_records: 0,
      },
      drift: {},
    };
  }

  skipped(slot: Slot): void {
    this.data.skipped_slots.push(slotName(slot.startMs));
  }

  add(file: PlannedFile): void {
    const d = this.data;
    const r = file.report;
    d.files.push(r);
    if (r.faults.truncated_gzip) {
      d.faults.truncated_gzip_files++;
      d.faults.truncated_gzip_records += r.records;
      return;
    }
    d.records += r.records;
    d.valid += r.valid;
    for (const t of EVENT_TYPES) d.by_event_type[t] += r.by_event_type[t];
    d.faults.invalid += r.faults.invalid;
    d.faults.corrupt += r.faults.corrupt;
    d.faults.unknown_type += r.faults.unknown_type;
    d.faults.oversized += r.faults.oversized;
    for (const [path, n] of Object.entries(r.drift)) d.drift[path] = (d.drift[path] ?? 0) + n;
    for (const rec of file.records) {
      if (rec.kind === "invalid") d.invalid_by_event_type[rec.eventType as EventType]++;
    }
  }
}

/** Slots of a range with their clipped event windows and counts; slots without events are left out. */
function planRange(opts: ProduceOptions, slots: readonly Slot[], fromMs: number, toMs: number) {
  const counted = slots.map((slot) => {
    const window = eventWindow(slot, fromMs, toMs);
    return { slot, window, count: slotEventCount(opts.seed, slot, window, countOptions(opts)) };
  });
  const nonEmpty = counted.filter((c) => c.count > 0);
  const faultPlans = spreadFileFaults(nonEmpty.length, opts);
  return {
    files: nonEmpty.map((c, i) => ({ ...c, faultPlan: faultPlans[i]! })),
    skipped: counted.filter((c) => c.count === 0).map((c) => c.slot),
  };
}

function countOptions(opts: ProduceOptions) {
  return {
    ...(opts.eventsPerFile !== undefined ? { eventsPerFile: opts.eventsPerFile } : {}),
    ...(opts.ratePerSecond !== undefined ? { ratePerSecond: opts.ratePerSecond } : {}),
    emptySlotRate: opts.emptySlotRate,
  };
}

interface RunHooks {
  signal?: AbortSignal;
  /** Called after each file is written (progress logs). */
  onFile?: (report: FileReport) => void;
}

/** Write every file of [fromMs, toMs) (slots of `slotMs`), in time order. */
export async function produceRange(
  pools: Pools,
  opts: ProduceOptions,
  target: Target,
  range: { fromMs: number; toMs: number; slots: readonly Slot[] },
  hooks: RunHooks = {},
): Promise<ProduceSummary> {
  const summary = new Summary(opts, target.location);
  const plan = planRange(opts, range.slots, range.fromMs, range.toMs);
  for (const s of plan.skipped) summary.skipped(s);
  for (const f of plan.files) {
    hooks.signal?.throwIfAborted();
    const file = planFile(pools, opts, f.slot, f.window, f.count, f.faultPlan);
    await target.put(file.key, file.body, contentType(file.report.gzip), hooks.signal);
    summary.add(file);
    hooks.onFile?.(file.report);
  }
  return summary.data;
}

export interface Clock {
  now(): number;
  /** Resolves after `ms`, or rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/**
 * Keep writing as time passes, like Twingate: right away the last complete slot, then each slot as it
 * completes (slot width = `slotMs`), until `count` slots are done or the signal aborts. Returns the summary
 * of what was written (also when stopped by the signal).
 */
export async function produceLoop(
  pools: Pools,
  opts: ProduceOptions,
  target: Target,
  loop: { slotMs: number; count?: number; lagMs?: number },
  clock: Clock,
  hooks: RunHooks = {},
): Promise<ProduceSummary> {
  const summary = new Summary(opts, target.location);
  const lag = loop.lagMs ?? 500;
  let next = Math.floor(clock.now() / loop.slotMs) * loop.slotMs - loop.slotMs;
  let done = 0;
  let written = 0;
  let oversizedLeft = opts.oversized;
  try {
    while (loop.count === undefined || done < loop.count) {
      if (hooks.signal?.aborted) break;
      const slot = { startMs: next, endMs: next + loop.slotMs };
      const wait = slot.endMs + lag - clock.now();
      if (wait > 0) await clock.sleep(wait, hooks.signal);
      const count = slotEventCount(opts.seed, slot, slot, countOptions(opts));
      if (count === 0) summary.skipped(slot);
      else {
        const truncated = written < opts.truncatedGzip;
        const oversized = truncated ? 0 : Math.min(oversizedLeft, 1);
        const file = planFile(pools, opts, slot, slot, count, { truncated, oversized });
        // Not cancelled by the signal: a file being written is finished, so the summary stays exact.
        await target.put(file.key, file.body, contentType(file.report.gzip));
        oversizedLeft -= file.report.faults.oversized;
        written++;
        summary.add(file);
        hooks.onFile?.(file.report);
      }
      done++;
      next += loop.slotMs;
    }
  } catch (err) {
    if (!hooks.signal?.aborted) throw err;
  }
  return summary.data;
}
