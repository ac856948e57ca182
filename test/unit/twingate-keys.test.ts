/** One definition of a Twingate file name: the worker's default filter and the key-time parser agree. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  parseSlotKey,
  parseTwingateKeyTime,
  slotKey,
  TWINGATE_KEY_PATTERN,
} from "../../src/core/twingate.ts";

const filter = new RegExp(TWINGATE_KEY_PATTERN);

describe("Twingate key names", () => {
  it("names the parser reads, the filter admits; a slot's key reads back as its slot", () => {
    const at = Date.parse("2025-07-25T18:20:00Z");
    const keys = [
      slotKey(at),
      slotKey(at, { prefix: "tg/logs", gzip: true }),
      "2025-07-25T18:20:00+0000.json",
      "x/2025-07-25T18:20:00Z.json.gz",
      "2025-07-25T20:20:00+02:00.json",
      "2025-07-25T18:20+00:00.json",
    ];
    for (const key of keys) {
      assert.match(key, filter, key);
      assert.equal(parseTwingateKeyTime(key)?.getTime(), at, key);
    }
    assert.deepEqual(parseSlotKey(slotKey(at, { gzip: true })), { startMs: at, gzip: true });
    // A fraction of a second in the name is kept (as the file's time, not rounded).
    assert.equal(parseTwingateKeyTime("2025-07-25T18:20:00.123456+00:00.json")?.getTime(), at + 123);
    // Percent-encoded names (uploaded that way) are read decoded.
    assert.equal(parseTwingateKeyTime("logs/100%/2025-07-25T18%3A20%3A00%2B00%3A00.json")?.getTime(), at);
  });

  it("a name the filter admits but whose time does not exist is read (never dropped) without a file time", () => {
    for (const key of ["2025-02-30T18:20:00+00:00.json", "2025-07-25T18:20.5+00:00.json"]) {
      assert.match(key, filter, key);
      assert.equal(parseTwingateKeyTime(key), undefined, key);
      assert.equal(parseSlotKey(key), undefined, key);
    }
  });

  it("other names are neither admitted nor read", () => {
    for (const key of [
      "2025-07-25T18:20:00+00:00.json.bak",
      "2025-07-25.json",
      "notes.txt",
      "2025-07-25T18:20:00.json",
    ]) {
      assert.doesNotMatch(key, filter, key);
      assert.equal(parseTwingateKeyTime(key), undefined, key);
    }
  });
});
