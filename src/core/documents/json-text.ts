/**
 * Is a record's text already what `JSON.stringify` writes for it? A record's id hashes
 * `JSON.stringify(record)` (see documentId); when the file holds its records compactly, as a serializer
 * writes them, the line read is that very text, and telling so costs a third of serialising the parsed
 * record again (Node 20's V8 spends about as long in `JSON.stringify` as in `JSON.parse`).
 *
 * Exact, not a heuristic: true only when `JSON.stringify(value) === text`, given that `value` is
 * `JSON.parse` of the record's whole text (a cut `text` gives false). Two checks:
 * 1. The text is written as JSON.stringify writes: nothing between tokens, no escape in strings (then
 *    no string holds a character JSON.stringify would escape; texts with escapes are left to it), no lone
 *    surrogate, numbers as `String(n)` writes them (integers of at most 15 digits, decimals of at most 15
 *    digits without trailing zeros and not below 1e-6), no key of digits only (V8 lists those first).
 *    Whatever else is written otherwise (an exponent, `1.0`, a long integer) is left to JSON.stringify.
 * 2. Its length is that of `JSON.stringify(value)`, computed from the value: given 1, the two texts then
 *    differ only where the text has a key twice in an object (the parsed object keeps one), which makes
 *    the text longer.
 * The regular expression is linear: at each position one alternative at most can match.
 */

const CHARS = String.raw`[^"\\\x00-\x1f\ud800-\udfff]*`;
/** A string without escapes (surrogate pairs allowed), not a key of digits only. */
const STRING = String.raw`"(?!\d+":)${CHARS}(?:[\ud800-\udbff][\udc00-\udfff]${CHARS})*"`;
/** 0 or a non-zero integer of at most 15 digits (exact in a double; String(n) writes it the same). */
const INT = String.raw`(?:0|-?[1-9]\d{0,14})(?![\d.eE])`;
/**
 * A decimal of at most 15 digits ending in a non-zero digit, at least 1e-6 in magnitude: the shortest
 * text of its double (two texts of up to 15 significant digits never share a double), which is what
 * String(n) writes in fixed notation between 1e-6 and 1e21.
 */
const DECIMAL = String.raw`-?(?=[\d.]{3,16}(?![\d.eE]))(?:[1-9]\d*|0(?!\.0{6}))\.\d*[1-9](?![\d.eE])`;
const CANONICAL = new RegExp(String.raw`^(?:${STRING}|[{}[\],:]|${INT}|${DECIMAL}|true|false|null)*$`);

const POWERS = Array.from({ length: 21 }, (_, i) => 10 ** i);

/** The length of String(n) (JSON.stringify's number text; non-finite numbers are "null"). */
function numberLength(n: number): number {
  if (Number.isInteger(n)) {
    const a = n < 0 ? -n : n;
    const s = n < 0 ? 1 : 0;
    // the small integers records hold (ports, counts, versions) in a few comparisons
    if (a < 10) return s + 1;
    if (a < 100) return s + 2;
    if (a < 1e21) {
      let d = 3;
      while (d < 21 && a >= POWERS[d]!) d++;
      return s + d;
    }
  }
  if (!Number.isFinite(n)) return 4;
  return String(n).length;
}

/**
 * The length of JSON.stringify(v) for a parsed JSON value whose strings need no escaping (its objects'
 * keys all their own: see inheritsEnumerable); -1 when `v` holds something no JSON text parses to.
 */
function stringifiedLength(v: unknown): number {
  switch (typeof v) {
    case "string":
      return v.length + 2;
    case "number":
      return numberLength(v);
    case "boolean":
      return v ? 4 : 5;
    case "object": {
      if (v === null) return 4;
      let n = 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) {
          const m = stringifiedLength(v[i]);
          if (m < 0) return -1;
          n += m + (i > 0 ? 1 : 0);
        }
        return n;
      }
      // Own keys only: a parsed object inherits none (isJsonTextOf checks Object.prototype once).
      const o = v as Record<string, unknown>;
      let keys = 0;
      for (const k in o) {
        const m = stringifiedLength(o[k]);
        if (m < 0) return -1;
        n += k.length + m;
        keys++;
      }
      // per key: its quotes and colon, and a comma between keys
      return keys === 0 ? n : n + 4 * keys - 1;
    }
    default:
      return -1; // not a parsed JSON value
  }
}

/**
 * True when `text` is exactly `JSON.stringify(value)`, where `value` is `JSON.parse` of a record's text;
 * false when it is not, or when telling would take serialising (see above): the caller then serialises.
 */
export function isJsonTextOf(text: string, value: unknown): boolean {
  return (
    typeof value === "object" &&
    value !== null &&
    !inheritsEnumerable() &&
    CANONICAL.test(text) &&
    stringifiedLength(value) === text.length
  );
}

/**
 * True when a plain object would list inherited keys in a for-in (something added an enumerable property
 * to Object.prototype): stringifiedLength's walk cannot tell own keys then, so it is not used.
 */
function inheritsEnumerable(): boolean {
  for (const _ in EMPTY) return true;
  return false;
}
const EMPTY = {};
