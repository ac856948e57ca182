/**
 * Time slots and Twingate's file names. Twingate writes one file per 5-minute slot, named after the
 * slot's start in UTC with an explicit offset: `2025-07-25T18:20:00+00:00.json`. A file holds the
 * events whose time falls in [start, start + width). No file is written for a slot without events.
 */

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

const KEY_RE =
  /(?:^|\/)(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?(Z|[+-]\d{2}:?\d{2})\.json(\.gz)?$/;

/** The slot start (epoch ms) a Twingate file name stands for, or undefined when the key is not one. */
export function parseSlotKey(key: string): { startMs: number; gzip: boolean } | undefined {
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, off, gz] = m;
  let offsetMin = 0;
  if (off && off !== "Z") {
    const sign = off.startsWith("-") ? -1 : 1;
    const digits = off.slice(1).replace(":", "");
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? 0));
  const startMs = utc - offsetMin * 60_000;
  // Reject calendar overflow (2025-02-30 would silently roll over).
  const back = new Date(utc);
  if (back.getUTCDate() !== Number(d) || back.getUTCMonth() !== Number(mo) - 1) return undefined;
  return { startMs, gzip: gz !== undefined };
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

/**
 * `2025-07-25`, `2025-07-25T18:20`, `2025-07-25T18:20:00+00:00`, `...Z`, or `now`, `now-30m`, `now-2h`.
 * A date or time without offset is UTC.
 */
export function parseInstant(text: string, nowMs: number): number {
  const t = text.trim();
  const rel = /^now(?:\s*([+-])\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d))?$/i.exec(t);
  if (rel) {
    if (!rel[1]) return nowMs;
    const d = parseDuration(`${rel[2]}${rel[3]}`);
    return rel[1] === "-" ? nowMs - d : nowMs + d;
  }
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    return t.length <= 10 ? n * 1000 : n;
  }
  let iso = t;
  if (/^\d{4}-\d{2}-\d{2}$/.test(iso)) iso += "T00:00:00Z";
  else if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(iso)) iso = `${iso.replace(" ", "T")}Z`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || !/^\d{4}-\d{2}-\d{2}/.test(iso)) {
    throw new RangeError(
      `not a time: "${text}" (use ISO-8601 like 2025-07-25T18:20:00Z, a date, or now-30m)`,
    );
  }
  return ms;
}

/** `5m`, `30s`, `1h`, `250ms`, `2d`, or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!m) throw new RangeError(`not a duration: "${text}" (use e.g. 30s, 5m, 1h)`);
  const unit = (m[2] ?? "s").toLowerCase() as "ms" | "s" | "m" | "h" | "d";
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit];
  const ms = Math.round(Number(m[1]) * factor);
  if (!(ms > 0)) throw new RangeError(`duration must be positive: "${text}"`);
  return ms;
}

/** Microsecond ISO time with `+00:00`, as Twingate writes: `2025-07-25T18:19:41.236597+00:00`. */
export function isoMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = epochMicros - ms * 1000;
  const base = new Date(ms).toISOString(); // 2025-07-25T18:19:41.236Z
  return `${base.slice(0, 23)}${pad(micros, 3)}+00:00`;
}
