/**
 * Twingate event times: ISO-8601 with `Z` or a `±hh:mm` offset; seconds and a fraction (up to 9 digits)
 * optional. Seen forms: `2025-07-25T18:19:41.236597+00:00` (sync files) and `2021-08-15T14:30Z`
 * (the audit schema page). Normalised to UTC keeping the source precision (microseconds stay).
 */

const TIME_RE =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

export interface ParsedTime {
  /** Milliseconds since the epoch (UTC), fraction below a millisecond dropped. */
  readonly epochMs: number;
  /** The fraction digits as written ("" when none). */
  readonly fraction: string;
  /** UTC ISO string with the source precision: 2025-07-25T18:19:41.236597Z; minutes-only -> :00. */
  readonly utc: string;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

// One-entry memo: validation and then the document parse the same record's time back to back.
let lastInput: string | undefined;
let lastResult: ParsedTime | undefined;

/**
 * The instants `@timestamp` can hold (`date_nanos`: 1970-01-01T00:00:00Z to 2262-04-11T23:47:16.854775807Z);
 * OpenSearch would refuse a document with a time outside them.
 */
const MIN_EPOCH_MS = 0;
// 2^63 - 1 nanoseconds is ...036_854.775807 ms; one millisecond less, so that no fraction below it is over.
const MAX_EPOCH_MS = 9_223_372_036_853;

/**
 * Parse an event time; undefined when it is not one of the accepted forms, not a real instant, or outside
 * 1970..2262 (what `@timestamp` holds; this also keeps years 0000-0099, which Date.UTC reads as 19xx, out).
 */
export function parseEventTime(input: string): ParsedTime | undefined {
  if (input === lastInput) return lastResult;
  const parsed = parse(input);
  const result =
    parsed && parsed.epochMs >= MIN_EPOCH_MS && parsed.epochMs <= MAX_EPOCH_MS ? parsed : undefined;
  lastInput = input;
  lastResult = result;
  return result;
}

/** Two ASCII digits at i as a number, or -1. */
function d2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** Days in a month of the proleptic Gregorian calendar (Date.UTC's, for years 100..9999). */
function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * Fast path for the form Twingate writes, already in UTC: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](+00:00|Z)`.
 * Same result as the general path for these inputs (the UTC text is the input with `Z` as the zone);
 * returns null for anything else, which then takes the general path.
 */
function parseUtcFast(input: string): ParsedTime | undefined | null {
  const n = input.length;
  if (n < 20 || input.charCodeAt(4) !== 45 || input.charCodeAt(7) !== 45 || input.charCodeAt(10) !== 84)
    return null;
  if (input.charCodeAt(13) !== 58 || input.charCodeAt(16) !== 58) return null;
  let zone: number;
  if (input.charCodeAt(n - 1) === 90)
    zone = n - 1; // Z
  else if (n >= 25 && input.endsWith("+00:00")) zone = n - 6;
  else return null;
  let fraction = "";
  if (zone > 19) {
    if (input.charCodeAt(19) !== 46 || zone - 20 < 1 || zone - 20 > 9) return null;
    for (let i = 20; i < zone; i++) {
      const c = input.charCodeAt(i);
      if (c < 48 || c > 57) return null;
    }
    fraction = input.slice(20, zone);
  } else if (zone !== 19) return null;
  const y1 = d2(input, 0);
  const y2 = d2(input, 2);
  const month = d2(input, 5);
  const day = d2(input, 8);
  const hour = d2(input, 11);
  const minute = d2(input, 14);
  const second = d2(input, 17);
  if (y1 < 0 || y2 < 0 || month < 0 || day < 0 || hour < 0 || minute < 0 || second < 0) return null;
  const year = y1 * 100 + y2;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  // Date.UTC maps years 0..99 to 1900..1999: leave those to the general path.
  if (year < 100) return null;
  // Rejects 2025-02-30 and the like, as the general path does (Date.UTC would roll them over).
  if (day > daysInMonth(year, month)) return undefined;
  const whole = Date.UTC(year, month - 1, day, hour, minute, second);
  // The first three fraction digits, zero-padded, as milliseconds (digits checked above).
  let ms = 0;
  for (let i = 20, scale = 100; i < 23 && i < zone; i++, scale /= 10)
    ms += (input.charCodeAt(i) - 48) * scale;
  const utc = zone === n - 1 ? input : `${input.slice(0, zone)}Z`;
  return { epochMs: whole + ms, fraction, utc };
}

function parse(input: string): ParsedTime | undefined {
  const fast = parseUtcFast(input);
  if (fast !== null) return fast;
  const m = TIME_RE.exec(input);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = m[7] ?? "";
  // Date.UTC reads years 0..99 as 1900..1999; they are out of range anyway (before 1970).
  if (year < 100) return undefined;
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(local);
  // Rejects 2025-02-30 and the like (Date.UTC would roll them over).
  if (check.getUTCDate() !== day || check.getUTCMonth() !== month - 1) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const wholeSeconds = local - offsetMinutes * 60_000;
  const d = new Date(wholeSeconds);
  const y = d.getUTCFullYear();
  if (y < 1 || y > 9999) return undefined;
  const utc =
    `${pad(y, 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}` +
    (fraction ? `.${fraction}` : "") +
    "Z";
  const ms = fraction ? Number(fraction.slice(0, 3).padEnd(3, "0")) : 0;
  return { epochMs: wholeSeconds + ms, fraction, utc };
}

const DAY_MS = 86_400_000;
// One-entry memo: a file's records are mostly from the same day.
let lastDayStart = Number.NaN;
let lastDay = "";

/** `YYYY.MM.DD` of the instant's UTC day. */
export function utcDay(epochMs: number): string {
  if (epochMs >= lastDayStart && epochMs < lastDayStart + DAY_MS) return lastDay;
  const d = new Date(epochMs);
  const day = `${pad(d.getUTCFullYear(), 4)}.${pad(d.getUTCMonth() + 1)}.${pad(d.getUTCDate())}`;
  if (!Number.isNaN(d.getTime())) {
    lastDayStart = epochMs - (((epochMs % DAY_MS) + DAY_MS) % DAY_MS);
    lastDay = day;
  }
  return day;
}

/**
 * The time variants with one obvious meaning that Twingate's strict form (`parseEventTime`) does not take:
 * a space (or lower-case `t`) for `T`, no offset (= UTC), `+0000` / `+00` / `UTC` / `GMT` / lower-case `z`
 * for the zone, a comma for the decimal point, and fractions beyond nanoseconds (cut to 9 digits; the
 * vendor's text stays in `event.time`).
 */
const LOOSE_TIME_RE =
  /^\s*(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,18}))?)?\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2})(?::?(\d{2}))?)?\s*$/;

/** Epoch numbers below this are seconds, from it on milliseconds (1e11 s is the year 5138, 1e11 ms 1973). */
const EPOCH_MS_FROM = 1e11;

/** An event time that was not in the strict form but has one obvious meaning. */
export interface LooseTime {
  readonly time: ParsedTime;
  /** True when the input was not in the strict form (the record gets an `event.time: coerced` deviation). */
  readonly coerced: boolean;
}

/**
 * An event time in any form with one obvious meaning: the strict form (not coerced), a loose ISO-8601
 * variant (see LOOSE_TIME_RE) or epoch seconds or milliseconds as a JSON number (sub-second digits kept).
 * Undefined when there is none, or when it is outside what `@timestamp` holds (1970..2262).
 */
export function parseAnyTime(value: unknown): LooseTime | undefined {
  if (typeof value === "string") {
    const strict = parseEventTime(value);
    if (strict) return { time: strict, coerced: false };
    const m = LOOSE_TIME_RE.exec(value);
    if (!m) return undefined;
    const fraction = m[7] === undefined ? "" : m[7].slice(0, 9);
    let zone = "Z";
    if (m[9] !== undefined) zone = `${m[9]}${m[10]}:${m[11] ?? "00"}`;
    const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? "00"}${fraction ? `.${fraction}` : ""}${zone}`;
    const t = parseEventTime(iso);
    return t ? { time: t, coerced: true } : undefined;
  }
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) {
    const text = String(value);
    if (/e/i.test(text)) return undefined; // beyond 1e21 or below 1e-6: no epoch of 1970..2262
    const dot = text.indexOf(".");
    const whole = dot < 0 ? text : text.slice(0, dot);
    const digits = dot < 0 ? "" : text.slice(dot + 1);
    let seconds: number;
    let fraction: string;
    if (value < EPOCH_MS_FROM) {
      seconds = Number(whole);
      fraction = digits.slice(0, 9);
    } else {
      // milliseconds: the last three whole digits are the first three of the fraction
      seconds = Number(whole.slice(0, -3));
      fraction = `${whole.slice(-3)}${digits}`.slice(0, 9).replace(/0+$/, "");
    }
    const epochMs = seconds * 1000 + (fraction ? Number(fraction.slice(0, 3).padEnd(3, "0")) : 0);
    if (epochMs < MIN_EPOCH_MS || epochMs > MAX_EPOCH_MS) return undefined;
    const d = new Date(seconds * 1000);
    const utc = `${d.toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ""}Z`;
    return { time: { epochMs, fraction, utc }, coerced: true };
  }
  return undefined;
}
