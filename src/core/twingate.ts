/**
 * What we know about Twingate's export, in one place (the producer mock, backfill, gaps, config and the
 * pipeline all import it): the four streams, the 5-minute slots, and the file names.
 *
 * Twingate writes one file per 5-minute slot, named after the slot's start in UTC with an explicit offset:
 * `2025-07-25T18:20:00+00:00.json` (optionally gzipped, under any prefix). A file holds the events whose
 * time falls in [start, start + width). No file is written for a slot without events.
 */
import { parseEventTime } from "./events/time.ts";

/** The streams (`event_type`) Twingate exports today. */
export const EVENT_TYPES = ["network_access", "dns_filtering", "audit_log", "data_loss_prevention"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The file names Twingate writes: 2025-07-25T18:20:00+00:00.json, optionally gzipped, under any prefix. */
export const TWINGATE_KEY_PATTERN = String.raw`(^|/)\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?([+-]\d{2}:?\d{2}|Z)\.json(\.gz)?$`;

export const DEFAULT_SLOT_MS = 5 * 60 * 1000;

export interface Slot {
  /** Inclusive start, epoch milliseconds. */
  startMs: number;
  /** Exclusive end, epoch milliseconds. */
  endMs: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** `2025-07-25T18:20:00+00:00` for an instant (seconds precision, UTC). */
export function slotName(startMs: number): string {
  const d = new Date(startMs);
  return (
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}` +
    `T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}+00:00`
  );
}

/** Normalise a key prefix: empty stays empty, anything else ends with exactly one "/". */
export function normalizePrefix(prefix: string | undefined): string {
  const p = (prefix ?? "").replace(/^\/+/, "");
  if (p === "") return "";
  return p.endsWith("/") ? p : `${p}/`;
}

/** The object key of a slot's file: `<prefix>2025-07-25T18:20:00+00:00.json[.gz]`. */
export function slotKey(startMs: number, opts: { prefix?: string; gzip?: boolean } = {}): string {
  return `${normalizePrefix(opts.prefix)}${slotName(startMs)}.json${opts.gzip ? ".gz" : ""}`;
}

/** The slot start (epoch ms) a Twingate file name stands for, or undefined when the key is not one. */
export function parseSlotKey(key: string): { startMs: number; gzip: boolean } | undefined {
  const time = parseTwingateKeyTime(key);
  return time ? { startMs: time.getTime(), gzip: key.endsWith(".gz") } : undefined;
}

export function floorToSlot(ms: number, widthMs: number): number {
  return Math.floor(ms / widthMs) * widthMs;
}

/**
 * The slots that overlap [fromMs, toMs), aligned on `widthMs` boundaries. Each slot's event window is
 * its intersection with the range (see eventWindow), so `--to now` never yields events in the future.
 */
export function slotsInRange(fromMs: number, toMs: number, widthMs = DEFAULT_SLOT_MS): Slot[] {
  if (!(widthMs > 0)) throw new RangeError("slot width must be positive");
  const out: Slot[] = [];
  for (let s = floorToSlot(fromMs, widthMs); s < toMs; s += widthMs)
    out.push({ startMs: s, endMs: s + widthMs });
  return out;
}

/** The part of a slot events may fall in, clipped to [fromMs, toMs). */
export function eventWindow(slot: Slot, fromMs: number, toMs: number): Slot {
  return { startMs: Math.max(slot.startMs, fromMs), endMs: Math.min(slot.endMs, toMs) };
}

/** The `count` most recent complete slots before `nowMs`. */
export function lastCompleteSlots(nowMs: number, count: number, widthMs = DEFAULT_SLOT_MS): Slot[] {
  const end = floorToSlot(nowMs, widthMs);
  return slotsInRange(end - count * widthMs, end, widthMs);
}

/** TWINGATE_KEY_PATTERN compiled: the one definition of a Twingate file name, for the filter and the parser. */
const KEY_RE = new RegExp(TWINGATE_KEY_PATTERN);

/** The time and zone texts of a Twingate file name (the pattern's groups: 1 lead, 4 zone, 5 ".gz"). */
function keyTimeParts(key: string): [time: string, zone: string] | undefined {
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  const name = m[0].slice(m[1]!.length);
  const zone = m[4]!;
  return [name.slice(0, name.length - zone.length - (m[5] ? ".json.gz" : ".json").length), zone];
}

/**
 * The 5-minute slot a Twingate file name stands for, or undefined for any other name (or a time that
 * does not exist: 2025-02-30, 18:20.5 without seconds). Accepts `+00:00`, `+0000` and `Z`, and a
 * percent-encoded name (`%3A`, `%2B`).
 */
export function parseTwingateKeyTime(key: string): Date | undefined {
  // Keys reach us decoded; a file name still percent-encoded (uploaded that way) is tried decoded. A "%"
  // elsewhere in the key (`logs/100%/...`) must not hide the name.
  let m = keyTimeParts(key);
  const name = key.slice(key.lastIndexOf("/") + 1);
  if (!m && name.includes("%")) {
    try {
      m = keyTimeParts(decodeURIComponent(name));
    } catch {
      return undefined;
    }
  }
  if (!m) return undefined;
  const [time, zone] = m;
  const offset = zone === "Z" || zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = parseEventTime(`${time}${offset}`);
  return t ? new Date(t.epochMs) : undefined;
}
