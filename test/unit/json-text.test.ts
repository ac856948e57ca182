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
    '{"a":-1.5,"b":0.000001,"c":123456789012345,"d":-7,"e":0}',
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

test("compact records (as a serializer writes them) are recognised; ids and documents do not change", () => {
  const opts = { indexPrefix: "t", ingestedAt: "2025-07-25T18:25:00Z" };
  for (let i = 0; i < 400; i++) {
    const text = record(i, Date.UTC(2025, 6, 25));
    const value = JSON.parse(text);
    assert.ok(isJsonTextOf(text, value), text);
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
