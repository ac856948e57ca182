/**
 * isJsonTextOf (src/core/documents/json-text.ts) must be exact: true only when the text is what
 * JSON.stringify writes for its parsed value (it may say false for some that are), whatever the text (property test over arbitrary JSON,
 * written compactly, pretty-printed or with the spellings JSON.stringify never uses), and true for the
 * compact records a serializer writes (the reason it exists). toIndexAction gives the same id and
 * document with or without the text.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { record } from "../../bench/lib/records.ts";
import { toIndexAction } from "../../src/core/documents/index.ts";
import { isJsonTextOf } from "../../src/core/documents/json-text.ts";
import { validateRecord } from "../../src/core/events/index.ts";

function exact(text: string): boolean {
  return JSON.stringify(JSON.parse(text)) === text;
}

test("isJsonTextOf is true only when JSON.stringify gives the text back (arbitrary JSON)", () => {
  const value = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue()),
    fc.array(fc.jsonValue()),
    fc.dictionary(fc.constantFrom("a", "1", "01", "__proto__", "", "é", "\u2028", "a.b"), fc.jsonValue()),
  );
  fc.assert(
    fc.property(value, fc.integer({ min: 0, max: 2 }), (v, layout) => {
      const text = JSON.stringify(v, null, layout === 2 ? 1 : undefined);
      const parsed = JSON.parse(text);
      // false for an exact text is allowed (the caller serialises then); true for an inexact one is not
      if (isJsonTextOf(text, parsed)) assert.ok(exact(text), text);
    }),
    { numRuns: 3000 },
  );
});

test("isJsonTextOf: spellings JSON.stringify does not write, duplicates, cut texts", () => {
  const compact = [
    '{"a":1}',
    '{"a":-1.5,"b":0.25,"c":123456789012345,"d":-7,"e":0,"f":-99,"g":101,"h":37.7749}',
    '{"a":"😀 é \u2028"}',
    '{"a":[1,2,{"c":null,"d":true,"e":false}]}',
    '{"__proto__":{"x":1}}',
    '{"":"","a.b":[]}',
  ];
  for (const text of compact) assert.ok(isJsonTextOf(text, JSON.parse(text)), text);
  const cases = [
    '{"a":1.0}',
    '{"a":1e5}',
    '{"a":-0}',
    '{"a":0.0000001}',
    '{"a":1234567890123456789}',
    '{"a":0.1234567890123456}',
    '{"a":"\\u0041"}',
    '{"a":"\\/"}',
    '{"a":"x\\ny"}',
    '{"a":"\\ud800"}',
    '{"a":"😀"}',
    '{"a":1,"a":2}',
    '{"a":{"b":1},"a":{"b":1}}',
    '{"b":1,"1":2}',
    '{"a": 1}',
    ' {"a":1}',
    '{"a":[1,2,{"c":null,"d":true,"e":false}]}',
    '{"__proto__":{"x":1}}',
    '{"":""}',
  ];
  for (const text of cases) {
    if (isJsonTextOf(text, JSON.parse(text))) assert.ok(exact(text), text);
  }
  for (const text of [
    '{"a":1.0}',
    '{"a":1e5}',
    '{"a":-0}',
    '{"a":"\\u0041"}',
    '{"a":1,"a":2}',
    '{"b":1,"1":2}',
  ])
    assert.equal(isJsonTextOf(text, JSON.parse(text)), false, text);
  const full = '{"a":{"b":{}}}';
  assert.equal(isJsonTextOf(full.slice(0, -1), JSON.parse(full)), false, "a cut text");
});

test("isJsonTextOf: a spelling shorter than JSON.stringify's, made up for elsewhere, is not taken for it", () => {
  // Each text is exactly as long as JSON.stringify of its value, and differs from it: a length check alone
  // would take it. One per guard of the walk (json-text.ts).
  const cases = [
    '{"a":1e3 ,"b":1}', // an exponent (an integer ending in 00) and a space
    '{"a":1e2}', // as long as 100
    '{"a":1e-3 ,"b":1}', // a decimal below 0.1
    '{"a":1e-2}', // as long as 0.01
    '{"a":12345678901234567890}', // JSON.stringify writes 12345678901234567000
    '{"a":9007199254740993}', // 9007199254740992
    '{"a":0.30000000000000003}', // 0.30000000000000004
    '{"b":1,"1":2}', // an index key, listed first
    '{"a":"\\u001F"}', // JSON.stringify writes \u001f
  ];
  for (const text of cases) {
    const value = JSON.parse(text);
    assert.notEqual(JSON.stringify(value), text);
    assert.equal(JSON.stringify(value).length, text.length, text);
    assert.equal(isJsonTextOf(text, value), false, text);
  }
  // a lone surrogate: no escape in the text, JSON.stringify writes one (\ud800)
  const lone = `{"a":"${String.fromCharCode(0xd800)}"}`;
  assert.equal(isJsonTextOf(lone, JSON.parse(lone)), false);
});

/** A small seeded generator (mulberry32): the spelling choices of one property run. */
function chooser(seed: number, plain: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const r = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    // the plain spelling at the rate given (so that many texts are exact or nearly), else another
    return r < plain ? 0 : Math.floor(((r - plain) / (1 - plain)) * n);
  };
}

/**
 * A JSON text for a value, spelled as a hostile writer might: numbers in the notations that parse back to
 * them (exponents, `.0`, `-0`, extra digits), escapes for any character, whitespace anywhere, keys given
 * twice. Most of what it writes is not JSON.stringify's text; isJsonTextOf must say so.
 */
function spelled(v: unknown, pick: (n: number) => number, pickNumber = pick): string {
  const ws = () => ["", " ", "\n", "  "][pick(4)]!;
  if (typeof v === "number") return numberSpelling(v, pickNumber);
  if (typeof v === "string") return stringSpelling(v, pick);
  if (v === null || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map((x) => ws() + spelled(x, pick, pickNumber) + ws()).join(",")}]`;
  const parts: string[] = [];
  // the keys in another order now and then (V8 lists index keys first, whatever the text's order)
  const entries = Object.entries(v as Record<string, unknown>);
  const turn = pickNumber(entries.length + 1) % (entries.length || 1);
  for (const [k, x] of [...entries.slice(turn), ...entries.slice(0, turn)]) {
    // a key given twice: an earlier value, which JSON.parse drops (it keeps the last)
    if (pick(4) === 3) parts.push(`${stringSpelling(k, pick)}:${spelled(pick(2) ? 0 : "", pick)}`);
    parts.push(`${ws()}${stringSpelling(k, pick)}${ws()}:${ws()}${spelled(x, pick, pickNumber)}${ws()}`);
  }
  return `{${parts.join(",")}}`;
}

function numberSpelling(n: number, pick: (n: number) => number): string {
  const spellings = [String(n), n.toExponential(), n.toExponential().replace("e+", "e"), `${n}.0`];
  if (Number.isInteger(n) && n !== 0) {
    for (let m = n, k = 1; m % 10 === 0; k++) {
      m /= 10;
      spellings.push(`${m}e${k}`, `${m}E${k}`);
    }
  }
  if (n === 0) spellings.push("-0", "0e5", "0.0");
  for (const p of [16, 17, 18, 20]) {
    // more digits than it takes, and another last digit (two texts of one double, from 16 digits on)
    const t = n.toPrecision(p);
    const m = /^(.*)(\d)((?:e[+-]\d+)?)$/.exec(t)!;
    spellings.push(t, ...[-1, 1].map((d) => `${m[1]}${(Number(m[2]) + d + 10) % 10}${m[3]}`));
  }
  const s = spellings[pick(spellings.length)]!;
  return Number(s) === n ? s : String(n);
}

function stringSpelling(s: string, pick: (n: number) => number): string {
  let out = "";
  for (const ch of JSON.stringify(s)
    .slice(1, -1)
    .match(/\\u[0-9a-f]{4}|\\.|[\s\S]/g) ?? []) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && pick(8) === 7) {
      const hex = c.toString(16).padStart(4, "0");
      out += pick(2) ? `\\u${hex}` : `\\u${hex.toUpperCase()}`;
    } else if (ch.length === 6 && pick(2))
      out += ch.toUpperCase().replace("\\U", "\\u"); // \u001F for \u001f
    else if (ch === "/" && pick(2)) out += "\\/";
    else out += ch;
  }
  return `"${out}"`;
}

test("isJsonTextOf is true only when JSON.stringify gives the text back (any spelling)", () => {
  const number = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constantFrom(
        100,
        1000,
        2500,
        -300,
        0.01,
        0.001,
        0.05,
        1e21,
        1e-7,
        12345678901234567000,
        0.30000000000000004,
        9007199254740992,
      ),
    },
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.integer({ min: -100, max: 100 }).map((n) => n * 100),
  );
  // small objects, so that one odd spelling is often the only one (the case a wrong true needs)
  const key = fc.constantFrom("a", "b", "1", "7", "01", "__proto__", "", "é", "/", "a.b", "\u001f");
  const value = fc.oneof(
    fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
    {
      weight: 3,
      arbitrary: fc.dictionary(fc.constantFrom("a", "b", "1", "7"), number, { minKeys: 1, maxKeys: 3 }),
    },
    fc.dictionary(
      key,
      fc.oneof(
        fc.jsonValue({ maxDepth: 1 }),
        number,
        fc.array(number, { maxLength: 3 }),
        fc.dictionary(key, number, { maxKeys: 3 }),
      ),
      { maxKeys: 4 },
    ),
  );
  let taken = 0;
  let asLong = 0; // texts as long as JSON.stringify's and not it: what a wrong true would be made of
  fc.assert(
    fc.property(value, fc.integer(), fc.constantFrom(0.5, 0.9, 0.99), (v, seed, plain) => {
      // numbers in another notation half the time (the ones that can make a text shorter)
      const written = spelled(v, chooser(seed, plain), chooser(~seed, 0.5));
      const parsed = JSON.parse(written);
      const exact = JSON.stringify(parsed);
      // a text shorter than JSON.stringify's is padded with spaces to its length: the hardest case
      const text =
        written.length < exact.length
          ? `{${" ".repeat(exact.length - written.length)}${written.slice(1)}`
          : written;
      if (exact !== text && exact.length === text.length) asLong++;
      if (isJsonTextOf(text, parsed)) {
        taken++;
        assert.equal(text, exact);
      }
    }),
    { numRuns: 10000 },
  );
  // the test sees both sides: many texts taken, and many a length check alone would have taken wrongly
  assert.ok(taken > 500, `only ${taken} of 10000 texts taken`);
  assert.ok(asLong > 100, `only ${asLong} texts as long as JSON.stringify's`);
});

test("compact records (as a serializer writes them) are recognised; ids and documents do not change", () => {
  const opts = { indexPrefix: "t", ingestedAt: "2025-07-25T18:25:00Z" };
  for (let i = 0; i < 400; i++) {
    const text = record(i, Date.UTC(2025, 6, 25));
    const value = JSON.parse(text);
    // all but a record with a number that ends in 00 (an exponent spells it as short: json-text.ts)
    if (!/[1-9]00[,}\]]/.test(text)) assert.ok(isJsonTextOf(text, value), text);
    const v = validateRecord(value);
    assert.ok(v.ok);
    const src = { bucket: "b", key: "k", ordinal: i };
    const a = toIndexAction(v.record, src, opts);
    const b = toIndexAction(v.record, src, opts, text);
    const c = toIndexAction(v.record, src, opts, JSON.stringify(value, null, 1));
    assert.equal(b.id, a.id);
    assert.deepEqual(b.json, a.json);
    assert.equal(c.id, a.id);
    assert.deepEqual(c.json, a.json);
  }
});

test("isJsonTextOf stays exact when Object.prototype has an enumerable key (a polluted runtime)", () => {
  const text = '{"a":1,"b":{"c":"d"}}';
  const value = JSON.parse(text);
  Object.defineProperty(Object.prototype, "polluted", { value: 1, enumerable: true, configurable: true });
  try {
    // for-in would list the inherited key: the length walk cannot be trusted, so the caller serialises
    assert.equal(isJsonTextOf(text, value), false);
  } finally {
    delete (Object.prototype as Record<string, unknown>)["polluted"];
  }
  assert.equal(isJsonTextOf(text, value), true);
});
