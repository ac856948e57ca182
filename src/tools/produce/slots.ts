/** Time text as the producer writes it: the forms the vendor's pages show. */

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Microsecond ISO time with `+00:00`, as Twingate writes: `2025-07-25T18:19:41.236597+00:00`. */
export function isoMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = epochMicros - ms * 1000;
  const base = new Date(ms).toISOString(); // 2025-07-25T18:19:41.236Z
  return `${base.slice(0, 23)}${pad(micros, 3)}+00:00`;
}

/**
 * The forms an event time takes in the producer's files:
 * - `micros`: `2025-07-25T18:19:41.236597+00:00`, the sync page's examples (the usual form);
 * - `micros_z`: `2025-07-25T18:19:41.236597Z`, the same instant with `Z` for the zone;
 * - `millis_z`: `2025-07-25T18:19:41.236Z`, milliseconds only (what a JavaScript serializer writes);
 * - `minutes_z`: `2021-08-15T14:30Z`, the audit schema page's example (no seconds).
 */
export const TIME_FORMS = ["micros", "micros_z", "millis_z", "minutes_z"] as const;
export type TimeForm = (typeof TIME_FORMS)[number];

/** The time text of an instant in a form. `millis_z` and `minutes_z` cut the instant (never round up). */
export function timeText(epochMicros: number, form: TimeForm): string {
  const micros = isoMicros(epochMicros);
  switch (form) {
    case "micros":
      return micros;
    case "micros_z":
      return `${micros.slice(0, 26)}Z`;
    case "millis_z":
      return `${micros.slice(0, 23)}Z`;
    case "minutes_z":
      return `${micros.slice(0, 16)}Z`;
  }
}

/** The instant (ms) a form's text stands for: the cut of `millis_z` and `minutes_z`. */
export function timeFormMs(epochMicros: number, form: TimeForm): number {
  const ms = Math.floor(epochMicros / 1000);
  return form === "minutes_z" ? ms - (((ms % 60_000) + 60_000) % 60_000) : ms;
}
