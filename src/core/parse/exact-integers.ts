/**
 * Integers a double cannot hold exactly keep their digits (docs/DATA-QUALITY.md, "Numbers").
 *
 * `JSON.parse` reads `1234567890123456789` as 1234567890123456800: three events that differ only in a
 * 19-digit `user.id` would hash to one id and merge, and a set-aside 64-bit counter would be stored rounded.
 * A record whose text holds such an integer is read again with lossless-json and each of those integers
 * becomes the text of its digits, as sent: the id hashes those digits (distinct events stay distinct), and
 * the document holds them as text (an id field takes them as it takes any id; a count field sets the text
 * aside, exactly as sent).
 *
 * Cheap for every other record: only a text with a run of 16 digits or more (the shortest integer a double
 * may not hold: 2^53 + 1 = 9007199254740993) is read again, and a record with no integer that lost digits
 * keeps the very value `JSON.parse` gave, so its id and document bytes are today's.
 */
import { parse } from "lossless-json";

/** Digits in a row from which an integer may be beyond a double's exact range (2^53 has 16). */
const UNSAFE_DIGITS = 16;

/**
 * Does the text hold a run of UNSAFE_DIGITS digits or more (in a number or a string: the cheap test)? Any
 * such run covers exactly one index of each residue mod UNSAFE_DIGITS, so only every 16th character is
 * looked at, and the run around it measured when it is a digit: a sixteenth of a scan (a regular
 * expression over every character cost a quarter of the line's JSON.parse).
 */
export function mayHoldInexactInteger(text: string): boolean {
  const n = text.length;
  for (let i = UNSAFE_DIGITS - 1; i < n; i += UNSAFE_DIGITS) {
    if (!isDigit(text.charCodeAt(i))) continue;
    let start = i;
    while (start > 0 && isDigit(text.charCodeAt(start - 1))) start--;
    let end = i + 1;
    while (end < n && isDigit(text.charCodeAt(end))) end++;
    if (end - start >= UNSAFE_DIGITS) return true;
  }
  return false;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Is `digits` (an integer's JSON text) a number a double holds exactly? */
function exactInDouble(digits: string): boolean {
  const n = Number(digits);
  if (Number.isSafeInteger(n)) return true;
  // a large power of ten and the like can be exact; BigInt tells (`-0` and `1e3` never reach here: digits only)
  return Number.isFinite(n) && BigInt(digits) === BigInt(n);
}

const INTEGER = /^-?[0-9]+$/;

/**
 * The record's value with every integer a double cannot hold exactly replaced by the text of its digits;
 * `value` itself (the same object) when there is none. `raw` is the record's JSON text, `value` what
 * `JSON.parse` gave for it.
 */
export function keepExactIntegers(raw: string, value: unknown): unknown {
  if (!mayHoldInexactInteger(raw)) return value;
  let changed = false;
  let exact: unknown;
  try {
    exact = parse(raw, null, {
      parseNumber: (text: string) => {
        if (text.length >= UNSAFE_DIGITS && INTEGER.test(text) && !exactInDouble(text)) {
          changed = true;
          return text;
        }
        return Number(text);
      },
      // as JSON.parse: the last value of a key given twice
      onDuplicateKey: ({ newValue }) => newValue,
    });
  } catch {
    return value; // JSON.parse took it; whatever lossless-json minds, the record is read as before
  }
  return changed ? exact : value;
}
