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

/** Parse an event time; undefined when it is not one of the accepted forms or not a real instant. */
export function parseEventTime(input: string): ParsedTime | undefined {
  if (input === lastInput) return lastResult;
  const result = parse(input);
  lastInput = input;
  lastResult = result;
  return result;
}

function parse(input: string): ParsedTime | undefined {
  const m = TIME_RE.exec(input);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = m[7] ?? "";
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

/** `YYYY.MM.DD` of the instant's UTC day. */
export function utcDay(epochMs: number): string {
  const d = new Date(epochMs);
  return `${pad(d.getUTCFullYear(), 4)}.${pad(d.getUTCMonth() + 1)}.${pad(d.getUTCDate())}`;
}
