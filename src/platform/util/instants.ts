/** Instants and durations as people type them on a command line (backfill, gaps, produce). */

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
