/**
 * The nesting limit: the same record is accepted or rejected on every runtime (Node 26's JSON.parse takes
 * any depth, older ones ran out of stack somewhere in the thousands).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_NESTING_DEPTH, nestsDeeperThan } from "../../src/core/parse/scanner.ts";

const nested = (d: number, open = "[", close = "]") => `${open.repeat(d)}${close.repeat(d)}`;

describe("nestsDeeperThan", () => {
  it("counts arrays and objects, exactly at the limit", () => {
    assert.equal(nestsDeeperThan(nested(MAX_NESTING_DEPTH), MAX_NESTING_DEPTH), false);
    assert.equal(nestsDeeperThan(nested(MAX_NESTING_DEPTH + 1), MAX_NESTING_DEPTH), true);
    const obj = (d: number) => `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;
    assert.equal(nestsDeeperThan(obj(4), 3), true);
    assert.equal(nestsDeeperThan(obj(3), 3), false);
  });
  it("brackets inside strings, escaped quotes included, do not count", () => {
    const s = JSON.stringify({ a: `\\"${"[".repeat(5000)}`, b: ["x"] });
    assert.equal(nestsDeeperThan(s, 3), false);
    assert.equal(
      nestsDeeperThan(`{"a":"\\\\","b":[[[[1]]]]}`, 3),
      true,
      "an escaped backslash ends before the quote",
    );
  });
  it("siblings do not add up", () => {
    assert.equal(nestsDeeperThan(`[${Array(3000).fill("[1]").join(",")}]`, 2), false);
  });
});
