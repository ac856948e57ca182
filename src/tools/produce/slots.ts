/** Time text as the producer writes it. */

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Microsecond ISO time with `+00:00`, as Twingate writes: `2025-07-25T18:19:41.236597+00:00`. */
export function isoMicros(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const micros = epochMicros - ms * 1000;
  const base = new Date(ms).toISOString(); // 2025-07-25T18:19:41.236Z
  return `${base.slice(0, 23)}${pad(micros, 3)}+00:00`;
}
