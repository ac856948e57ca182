import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  eventWindow,
  lastCompleteSlots,
  normalizePrefix,
  parseSlotKey,
  slotKey,
  slotName,
  slotsInRange,
} from "../../src/core/twingate.ts";
import { TWINGATE_KEY_PATTERN } from "../../src/platform/config/index.ts";
import { parseDuration, parseInstant } from "../../src/platform/util/instants.ts";
import { Rng } from "../../src/tools/produce/prng.ts";
import { isoMicros } from "../../src/tools/produce/slots.ts";

const T = Date.parse("2025-07-25T18:20:00Z");
const M5 = 5 * 60_000;

describe("produce: slots and file names", () => {
  it("names a slot exactly like Twingate", () => {
    assert.equal(slotName(T), "2025-07-25T18:20:00+00:00");
    assert.equal(slotKey(T), "2025-07-25T18:20:00+00:00.json");
    assert.equal(
      slotKey(T, { gzip: true, prefix: "twingate" }),
      "twingate/2025-07-25T18:20:00+00:00.json.gz",
    );
    assert.equal(slotKey(T, { prefix: "a/b/" }), "a/b/2025-07-25T18:20:00+00:00.json");
  });

  it("normalises prefixes to end in one slash", () => {
    assert.equal(normalizePrefix(undefined), "");
    assert.equal(normalizePrefix(""), "");
    assert.equal(normalizePrefix("logs"), "logs/");
    assert.equal(normalizePrefix("/logs/"), "logs/");
  });

  it("file names parse back to their slots and match the worker's key pattern (property)", () => {
    const pattern = new RegExp(TWINGATE_KEY_PATTERN);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Math.floor(4_000_000_000 / 300) }),
        fc.boolean(),
        fc.constantFrom("", "logs", "a/b/c/", "twingate/prod"),
        (n, gzip, prefix) => {
          const startMs = n * 300_000;
          const key = slotKey(startMs, { gzip, prefix });
          assert.match(key, pattern);
          assert.deepEqual(parseSlotKey(key), { startMs, gzip });
        },
      ),
    );
  });

  it("parses other offsets and refuses non-names", () => {
    assert.equal(parseSlotKey("2025-07-25T20:20:00+02:00.json")?.startMs, T);
    assert.equal(parseSlotKey("x/2025-07-25T18:20Z.json")?.startMs, T);
    assert.equal(parseSlotKey("2025-07-25T18:20:00+00:00.txt"), undefined);
    assert.equal(parseSlotKey("2025-02-30T18:20:00+00:00.json"), undefined);
    assert.equal(parseSlotKey("notes.json"), undefined);
  });

  it("lists the slots overlapping a range, clipping event windows to it", () => {
    const from = T + 2 * 60_000; // 18:22
    const to = T + 17 * 60_000; // 18:37
    const slots = slotsInRange(from, to, M5);
    assert.deepEqual(
      slots.map((s) => slotName(s.startMs)),
      [
        "2025-07-25T18:20:00+00:00",
        "2025-07-25T18:25:00+00:00",
        "2025-07-25T18:30:00+00:00",
        "2025-07-25T18:35:00+00:00",
      ],
    );
    assert.deepEqual(eventWindow(slots[0]!, from, to), { startMs: from, endMs: T + M5 });
    assert.deepEqual(eventWindow(slots[3]!, from, to), { startMs: T + 15 * 60_000, endMs: to });
    assert.deepEqual(slotsInRange(T, T, M5), []);
  });

  it("takes the last complete slots before now", () => {
    const slots = lastCompleteSlots(T + 60_000, 2, M5);
    assert.deepEqual(
      slots.map((s) => s.startMs),
      [T - 2 * M5, T - M5],
    );
  });

  it("parses instants and durations", () => {
    const now = T + 123;
    assert.equal(parseInstant("now", now), now);
    assert.equal(parseInstant("now-30m", now), now - 30 * 60_000);
    assert.equal(parseInstant("2025-07-25", now), Date.parse("2025-07-25T00:00:00Z"));
    assert.equal(parseInstant("2025-07-25T18:20", now), T);
    assert.equal(parseInstant("2025-07-25T18:20:00+00:00", now), T);
    assert.equal(parseInstant("2025-07-25T20:20:00+02:00", now), T);
    assert.throws(() => parseInstant("yesterday", now), /not a time/);
    assert.equal(parseDuration("5m"), M5);
    assert.equal(parseDuration("30s"), 30_000);
    assert.equal(parseDuration("90"), 90_000);
    assert.throws(() => parseDuration("0s"), /positive/);
    assert.throws(() => parseDuration("soon"), /not a duration/);
  });

  it("writes microsecond times with +00:00", () => {
    assert.equal(isoMicros(T * 1000 + 41_236_597), "2025-07-25T18:20:41.236597+00:00");
    assert.equal(isoMicros(T * 1000 + 5), "2025-07-25T18:20:00.000005+00:00");
  });
});

describe("produce: PRNG", () => {
  it("is deterministic per seed and labels, and differs between them", () => {
    const a = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(42, "x")),
    );
    const b = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(42, "x")),
    );
    const c = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(43, "x")),
    );
    const d = Array.from(
      { length: 5 },
      (
        (r) => () =>
          r.nextUint32()
      )(new Rng(42, "y")),
    );
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
    assert.notDeepEqual(a, d);
  });

  it("stays in range and samples distinct sorted indexes", () => {
    const r = new Rng("range");
    for (let i = 0; i < 2000; i++) {
      const x = r.int(-3, 3);
      assert.ok(x >= -3 && x <= 3 && Number.isInteger(x));
      const u = r.next();
      assert.ok(u >= 0 && u < 1);
    }
    const s = r.sample(10, 4);
    assert.equal(new Set(s).size, 4);
    assert.deepEqual(
      s,
      [...s].sort((p, q) => p - q),
    );
    assert.ok(s.every((i) => i >= 0 && i < 10));
  });
});
