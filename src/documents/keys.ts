import { parseEventTime } from "../events/time.ts";

/** Twingate's file names: `2025-07-25T18:20:00+00:00.json`, optionally `.gz`, under any prefix. */
const KEY_TIME_RE =
  /(?:^|\/)(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})\.json(?:\.gz)?$/;

/**
 * The 5-minute slot a Twingate file name stands for, or undefined for any other name.
 * Accepts `+00:00`, `+0000` and `Z`, and a percent-encoded name (`%3A`, `%2B`).
 */
export function parseTwingateKeyTime(key: string): Date | undefined {
  // Keys reach us decoded; a file name still percent-encoded (uploaded that way) is tried decoded. A "%"
  // elsewhere in the key (`logs/100%/...`) must not hide the name.
  let m = KEY_TIME_RE.exec(key);
  const name = key.slice(key.lastIndexOf("/") + 1);
  if (!m && name.includes("%")) {
    try {
      m = KEY_TIME_RE.exec(decodeURIComponent(name));
    } catch {
      return undefined;
    }
  }
  if (!m) return undefined;
  const zone = m[2]!;
  const offset = zone === "Z" || zone.includes(":") ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  const t = parseEventTime(`${m[1]}${offset}`);
  return t ? new Date(t.epochMs) : undefined;
}
