/**
 * Is a record's text already what `JSON.stringify` writes for it? A record's id hashes
 * `JSON.stringify(record)` (see documentId); when the file holds its records compactly, as a serializer
 * writes them, the line read is that very text, and telling so costs less than serialising the parsed
 * record again (a walk over the parsed value: about 0.9 us a Twingate record, where `JSON.stringify`
 * takes 3.2 on Node 20, 2.0 on Node 24 and 1.2 on Node 26; docs/BENCHMARKS.md).
 *
 * Exact, not a heuristic: true only when `JSON.stringify(value) === text`, given that `value` is
 * `JSON.parse(text)`. It may say false for a text that is (the caller then serialises). The argument:
 * the walk computes the length `JSON.stringify` would write if no string needed an escape, and compares.
 * Every way a JSON text can spell the same value otherwise makes it longer than that, but for four, which
 * are excluded:
 * - Longer: whitespace between tokens; a key given twice (the parsed object keeps one entry); an escape in
 *   a string (two characters or more for one); `1.0`, `-0`, trailing zeros, more digits than the double's
 *   shortest text, an exponent, for the numbers the walk accepts (below).
 * - As short or shorter, excluded: an exponent for an integer that ends in `00` (`1e2`) or a decimal below
 *   0.1 (`1e-2`), another text of the same double (possible from 16 significant digits on): the walk gives
 *   up on integers ending in `00` or of 16 digits or more, and on decimals below 0.1 or written in more
 *   than 15 characters besides the sign. Keys of digits only, which V8 lists first whatever the text's order: the walk gives
 *   up on a key that starts with a digit. A lone surrogate, which JSON.stringify escapes and the text may
 *   hold raw: the text must be well formed (a UTF-8 decoded text always is).
 * So when the lengths are equal, nothing was spelled otherwise, and the texts are the same. Not covered: a
 * runtime whose Object.prototype or Array.prototype was given a (non-enumerable) `toJSON`, which changes
 * what JSON.stringify writes; an enumerable key added there is (inheritsEnumerable). A backslash
 * gives false at once (an escape makes the text longer anyway: this spares the walk). The property test
 * (test/unit/json-text.test.ts) writes values in all those spellings, padded to the length, and fails
 * without any one of the exclusions.
 */

const POWERS = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * The length of String(n) (JSON.stringify's number text) when no other JSON spelling of `n` is as short
 * or shorter; -1 otherwise (see above).
 */
function numberLength(n: number): number {
  const a = n < 0 ? -n : n;
  const s = n < 0 ? 1 : 0;
  if (Number.isInteger(a)) {
    // the small integers records hold (ports, counts, versions) in a few comparisons
    if (a < 10) return s + 1;
    if (a < 100) return s + 2;
    // `m` followed by two zeros or more has an exponent spelling as short (`1e2`, `25e3`); from 16
    // digits on, another integer text may give the same double
    if (a % 100 === 0 || a >= 1e15) return -1;
    let d = 3;
    while (a >= POWERS[d]!) d++;
    return s + d;
  }
  // below 0.1 a decimal has an exponent spelling as short (`0.01`, `1e-2`); a text of at most 15
  // characters besides the sign (at most 14 significant digits) keeps every other text of the same double
  // longer (15 significant digits name one double)
  if (!(a >= 0.1 && a < 1e15)) return -1;
  const len = String(n).length;
  return len <= s + 15 ? len : -1;
}

const ZERO = 0x30;
const NINE = 0x39;

/**
 * The length of JSON.stringify(v) for a parsed JSON value whose strings need no escaping (its objects'
 * keys all their own: see inheritsEnumerable); -1 when `v` holds a number or key the argument above
 * gives up on, or something no JSON text parses to.
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
        const c = k.charCodeAt(0);
        if (c >= ZERO && c <= NINE) return -1; // may be an index key, listed before the others
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

const isWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
/** Lone surrogates (JSON.stringify escapes them): a UTF-8 decoded text has none, but `text` is any string. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
function wellFormed(text: string): boolean {
  return isWellFormed ? isWellFormed.call(text) : !LONE_SURROGATE.test(text);
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
    text.indexOf("\\") === -1 &&
    stringifiedLength(value) === text.length &&
    wellFormed(text)
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
