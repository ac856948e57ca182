/**
 * The time period of an index (INDEX_PERIOD): a day, an ISO week or a month of UTC time, always taken from
 * the event's time (or, for quarantine, the file's slot), never from the clock, so a record read again, by a
 * redelivery, a backfill or a repair, lands in the same index under the same id.
 *
 * Index suffixes (pure; the one place that writes and reads them):
 *   day    `2025.07.25`   (the layout before the setting existed)
 *   week   `2025.w30`     (ISO 8601 week: Monday to Sunday, the week-year of its Thursday)
 *   month  `2025.07`
 * The three never look alike, so retention and `setup --prune-older-than` read every layout, also indices
 * left from before a change of period.
 */
import { utcDay } from "../events/time.ts";

export const INDEX_PERIODS = ["day", "week", "month"] as const;
export type IndexPeriod = (typeof INDEX_PERIODS)[number];

const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** The ISO week-year and week of an instant (UTC). */
export function isoWeek(epochMs: number): { year: number; week: number } {
  const dayStart = epochMs - (((epochMs % DAY_MS) + DAY_MS) % DAY_MS);
  const weekday = (new Date(dayStart).getUTCDay() + 6) % 7; // Monday 0 .. Sunday 6
  const thursday = dayStart + (3 - weekday) * DAY_MS;
  const year = new Date(thursday).getUTCFullYear();
  const week = 1 + Math.floor((thursday - Date.UTC(year, 0, 1)) / WEEK_MS);
  return { year, week };
}

/** Start (Monday 00:00 UTC) of an ISO week. */
function isoWeekStart(year: number, week: number): number {
  const jan4 = Date.UTC(year, 0, 4);
  const monday1 = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS;
  return monday1 + (week - 1) * WEEK_MS;
}

// One-entry memo per period: a file's records mostly share their period.
const memo: Record<"week" | "month", { start: number; end: number; suffix: string }> = {
  week: { start: Number.NaN, end: Number.NaN, suffix: "" },
  month: { start: Number.NaN, end: Number.NaN, suffix: "" },
};

/** The index suffix of the period holding the instant. */
export function periodSuffix(epochMs: number, period: IndexPeriod): string {
  if (period === "day") return utcDay(epochMs);
  const m = memo[period];
  if (epochMs >= m.start && epochMs < m.end) return m.suffix;
  const r = periodOf(epochMs, period);
  if (!Number.isNaN(r.startMs)) memo[period] = { start: r.startMs, end: r.endMs, suffix: r.suffix };
  return r.suffix;
}

export interface PeriodRange {
  period: IndexPeriod;
  suffix: string;
  /** [startMs, endMs) in UTC. */
  startMs: number;
  endMs: number;
}

/** The period (of the given kind) holding the instant. */
export function periodOf(epochMs: number, period: IndexPeriod): PeriodRange {
  const d = new Date(epochMs);
  if (period === "day") {
    const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return { period, suffix: utcDay(epochMs), startMs, endMs: startMs + DAY_MS };
  }
  if (period === "month") {
    const startMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    const endMs = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    return { period, suffix: `${pad(d.getUTCFullYear(), 4)}.${pad(d.getUTCMonth() + 1)}`, startMs, endMs };
  }
  const { year, week } = isoWeek(epochMs);
  const startMs = isoWeekStart(year, week);
  return { period, suffix: `${pad(year, 4)}.w${pad(week)}`, startMs, endMs: startMs + WEEK_MS };
}

/** Reads an index suffix of any period back (null for anything else, e.g. `2025.02.30` or `2025.w54`). */
export function parsePeriodSuffix(suffix: string): PeriodRange | null {
  let m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(suffix);
  if (m) {
    const startMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    const r = periodOf(startMs, "day");
    return r.suffix === suffix ? r : null;
  }
  m = /^(\d{4})\.w(\d{2})$/.exec(suffix);
  if (m) {
    const week = Number(m[2]);
    if (week < 1) return null;
    const r = periodOf(isoWeekStart(Number(m[1]), week), "week");
    return r.suffix === suffix ? r : null;
  }
  m = /^(\d{4})\.(\d{2})$/.exec(suffix);
  if (m) {
    const month = Number(m[2]);
    if (month < 1 || month > 12) return null;
    const r = periodOf(Date.UTC(Number(m[1]), month - 1, 1), "month");
    return r.suffix === suffix ? r : null;
  }
  return null;
}

/** Longest span of one period, in days (retention of a period index must wait for its last day). */
export function periodMaxDays(period: IndexPeriod): number {
  return period === "day" ? 1 : period === "week" ? 7 : 31;
}
