import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { buildReport, documentIndices, findGaps, formatReport } from "../../src/tools/gaps/index.ts";

const M = 60_000;
const T0 = Date.parse("2025-07-25T18:00:00Z");
const slot = (i: number) => T0 + i * 5 * M;

describe("findGaps", () => {
  it("no files: one run over the whole range", () => {
    const g = findGaps([], T0, slot(12));
    assert.equal(g.expected, 12);
    assert.equal(g.present, 0);
    assert.equal(g.missing.length, 12);
    assert.deepEqual(g.runs, [{ startMs: T0, endMs: slot(12), slots: 12 }]);
  });

  it("every slot present: no gaps", () => {
    const g = findGaps(
      Array.from({ length: 12 }, (_, i) => slot(i)),
      T0,
      slot(12),
    );
    assert.deepEqual(g, { expected: 12, present: 12, missing: [], runs: [] });
  });

  it("runs sorted longest first, ties by time", () => {
    // present: 0, 3, 4, 8, 11 -> missing 1-2 (2), 5-7 (3), 9-10 (2)
    const g = findGaps([0, 3, 4, 8, 11].map(slot), T0, slot(12));
    assert.deepEqual(g.missing, [1, 2, 5, 6, 7, 9, 10].map(slot));
    assert.deepEqual(
      g.runs.map((r) => [r.startMs, r.endMs, r.slots]),
      [
        [slot(5), slot(8), 3],
        [slot(1), slot(3), 2],
        [slot(9), slot(11), 2],
      ],
    );
  });

  it("gaps at both edges; times inside a slot count for it; times outside the range are ignored", () => {
    const g = findGaps([slot(2) + 90_000, slot(-1), slot(7)], T0, slot(5));
    assert.deepEqual(g.missing, [0, 1, 3, 4].map(slot));
    assert.equal(g.present, 1);
    assert.deepEqual(
      g.runs.map((r) => r.slots),
      [2, 2],
    );
    assert.equal(g.runs[0]!.startMs, slot(0));
  });

  it("a range starting inside a slot includes that slot; the end is exclusive", () => {
    const g = findGaps([], T0 + 2 * M, slot(2) + M);
    assert.deepEqual(g.missing, [0, 1, 2].map(slot));
  });

  it("two files in one slot are one present slot", () => {
    const g = findGaps([slot(0), slot(0) + 1000], T0, slot(1));
    assert.equal(g.present, 1);
    assert.equal(g.missing.length, 0);
  });
});

describe("report", () => {
  it("labels slots like Twingate names them and prints tables", () => {
    const r = buildReport({
      bucket: "b",
      prefix: "tg/",
      fromMs: T0,
      toMs: slot(6),
      files: [0, 1, 5].map((i) => ({ key: `tg/${i}`, timeMs: slot(i) })),
      otherKeys: 2,
      filesWithoutDocuments: ["tg/5"],
    });
    assert.deepEqual(r.missingSlots, [
      "2025-07-25T18:10:00+00:00",
      "2025-07-25T18:15:00+00:00",
      "2025-07-25T18:20:00+00:00",
    ]);
    assert.deepEqual(r.runs, [
      { start: "2025-07-25T18:10:00+00:00", end: "2025-07-25T18:25:00+00:00", slots: 3, minutes: 15 },
    ]);
    const text = formatReport(r);
    assert.match(text, /3 file\(s\) in 3 of 6 5-minute slots; 3 slot\(s\) without a file in 1 run/);
    assert.match(text, /2025-07-25T18:10:00\+00:00 {2}2025-07-25T18:25:00\+00:00 +3 +15/);
    assert.match(text, /no document in OpenSearch \(1\)/);
    assert.match(text, /tg\/5/);
  });

  it("searches every stream's indices and quarantine of the prefix only", () => {
    assert.equal(
      documentIndices("tw"),
      "tw-network_access-*,tw-dns_filtering-*,tw-audit_log-*,tw-data_loss_prevention-*,tw-quarantine-*"
        // a stream added after the four is searched too, before the quarantine
        .replace(
          ",tw-quarantine-*",
          `${EVENT_TYPES.slice(4)
            .map((t) => `,tw-${t}-*`)
            .join("")},tw-quarantine-*`,
        ),
    );
  });
});
