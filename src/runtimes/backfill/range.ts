/**
 * Time ranges and Twingate file names (pure). Twingate names a file after its 5-minute slot in UTC,
 * `2025-07-25T18:20:00+00:00.json[.gz]`, so within one folder the keys sort by time: a range maps to a
 * StartAfter (lower bound) and a stop key (upper bound), and nothing outside has to be listed.
 */
import { parseTwingateKeyTime } from "../../core/documents/index.ts";
import { parseDuration, parseInstant } from "../../platform/util/instants.ts";

export const SLOT_MS = 5 * 60 * 1000;
const DAY_MS = 86_400_000;

/** [fromMs, toMs) in epoch milliseconds; either side open when undefined. */
export interface TimeRange {
  fromMs?: number;
  toMs?: number;
}

interface RangeSpec {
  from?: string;
  to?: string;
  since?: string;
}

/**
 * `--from/--to` (a date, an ISO time or `now-2h`) or `--since 7d`. A date-only `--to` includes that
 * whole day (`--from 2025-07-01 --to 2025-07-31` is July); any other `--to` is an exclusive instant.
 * `--since D` is [now - D, now).
 */
export function parseRange(spec: RangeSpec, nowMs: number): TimeRange {
  if (spec.since !== undefined && (spec.from !== undefined || spec.to !== undefined)) {
    throw new RangeError("--since cannot be combined with --from/--to");
  }
  if (spec.since !== undefined) return { fromMs: nowMs - parseDuration(spec.since), toMs: nowMs };
  const range: TimeRange = {};
  if (spec.from !== undefined) range.fromMs = parseInstant(spec.from, nowMs);
  if (spec.to !== undefined) {
    const t = spec.to.trim();
    range.toMs = parseInstant(t, nowMs) + (/^\d{4}-\d{2}-\d{2}$/.test(t) ? DAY_MS : 0);
  }
  if (range.fromMs !== undefined && range.toMs !== undefined && range.toMs <= range.fromMs) {
    throw new RangeError(
      `empty time range: --to (${new Date(range.toMs).toISOString()}) is not after --from (${new Date(range.fromMs).toISOString()})`,
    );
  }
  return range;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `2025-07-25T18:20` (UTC, minute precision): a prefix of every Twingate name of that minute. */
export function minuteName(ms: number): string {
  const d = new Date(ms);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  );
}

/** `2025-07-25T18:20:00+00:00`, the way Twingate names a slot. */
export function slotLabel(ms: number): string {
  return `${minuteName(ms)}:${pad(new Date(ms).getUTCSeconds())}+00:00`;
}

export function floorToSlot(ms: number, slotMs = SLOT_MS): number {
  return Math.floor(ms / slotMs) * slotMs;
}

/** Order of keys as S3 lists them (UTF-8 bytes), which differs from JS string order for some characters. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

export interface ListPlan {
  prefix: string;
  /** Keys whose slot is in [fromSlotMs, toMs) are taken. */
  fromSlotMs?: number;
  toMs?: number;
  /** Take names that are not Twingate's too (they have no time, so the range cannot select them). */
  allKeys: boolean;
}

/**
 * What to list for a range under a prefix: every key under it, each taken or not by the time in its name.
 * The lower bound is the slot holding `fromMs` (its file has events from that slot's start).
 * No listing shortcut from the range (a StartAfter at its first minute, a stop at its last): they hold only
 * for names directly in the prefix's folder, and keys in sub-folders (`tg/network_access/...`,
 * `tg/2025/07/25/...`) or under a prefix without its "/" sort anywhere, so such a backfill read nothing and
 * said it was complete. Listing is 1,000 keys a request: a year of 5-minute files is ~105 requests.
 */
export function listPlan(prefix: string, range: TimeRange, allKeys = false): ListPlan {
  const plan: ListPlan = { prefix, allKeys };
  if (range.fromMs !== undefined) plan.fromSlotMs = floorToSlot(range.fromMs);
  if (range.toMs !== undefined) plan.toMs = range.toMs;
  return plan;
}

export type KeyVerdict =
  /** In range (or any name with allKeys): read it. */
  | "take"
  /** Not a Twingate file name: skipped and counted. */
  | "skip-name"
  /** A Twingate name whose time is outside the range. */
  | "out-of-range";

/** The verdict on one listed key. */
export function classifyKey(key: string, plan: ListPlan): KeyVerdict {
  const time = parseTwingateKeyTime(key);
  if (time === undefined) return plan.allKeys ? "take" : "skip-name";
  const t = time.getTime();
  if (plan.fromSlotMs !== undefined && t < plan.fromSlotMs) return "out-of-range";
  if (plan.toMs !== undefined && t >= plan.toMs) return "out-of-range";
  return "take";
}
