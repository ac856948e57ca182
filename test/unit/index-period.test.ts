import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  indexName,
  parsePeriodSuffix,
  periodOf,
  periodSuffix,
  quarantineIndexName,
  toIndexAction,
  toQuarantineAction,
} from "../../src/core/documents/index.ts";
import { isoWeek } from "../../src/core/documents/period.ts";
import { validateRecord } from "../../src/core/events/index.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { ismPolicyBody, periodIndexRange } from "../../src/platform/opensearch/templates.ts";

const t = (iso: string) => Date.parse(iso);

describe("index period", () => {
  it("suffixes by the UTC day, ISO week or month of the time", () => {
    const cases: [string, string, string, string][] = [
      ["2025-07-25T18:20:00Z", "2025.07.25", "2025.w30", "2025.07"],
      ["2025-07-27T23:59:59.999Z", "2025.07.27", "2025.w30", "2025.07"], // Sunday ends the ISO week
      ["2025-07-28T00:00:00Z", "2025.07.28", "2025.w31", "2025.07"], // Monday starts the next
      ["2024-12-30T00:00:00Z", "2024.12.30", "2025.w01", "2024.12"], // week-year of its Thursday
      ["2021-01-03T12:00:00Z", "2021.01.03", "2020.w53", "2021.01"], // a 53-week year
      ["2026-01-01T00:00:00Z", "2026.01.01", "2026.w01", "2026.01"],
    ];
    for (const [iso, day, week, month] of cases) {
      assert.equal(periodSuffix(t(iso), "day"), day, iso);
      assert.equal(periodSuffix(t(iso), "week"), week, iso);
      assert.equal(periodSuffix(t(iso), "month"), month, iso);
    }
    assert.equal(
      indexName("tg", "dns_filtering", "2025-07-26T01:30:00+02:00", "month"),
      "tg-dns_filtering-2025.07",
    );
    assert.equal(
      indexName("tg", "dns_filtering", "2025-07-31T23:30:00-01:00", "month"),
      "tg-dns_filtering-2025.08",
    );
    assert.equal(
      indexName("tg", "audit_log", "2025-07-25T10:00:00Z"),
      "tg-audit_log-2025.07.25",
      "default: day",
    );
  });

  it("matches a reference ISO week computation for any instant", () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2200, 0, 1) }), (ms) => {
        const d = new Date(ms);
        // Reference: the Thursday of the week decides the year; count weeks from that year's first Thursday.
        const day = (d.getUTCDay() + 6) % 7;
        const thu = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() - day + 3));
        const firstThu = new Date(Date.UTC(thu.getUTCFullYear(), 0, 4));
        const firstThuDay = (firstThu.getUTCDay() + 6) % 7;
        firstThu.setUTCDate(firstThu.getUTCDate() - firstThuDay + 3);
        const week = 1 + Math.round((thu.getTime() - firstThu.getTime()) / (7 * 86_400_000));
        assert.deepEqual(isoWeek(ms), { year: thu.getUTCFullYear(), week });
      }),
      { numRuns: 2000 },
    );
  });

  it("reads back every suffix it writes, with the period's bounds, and nothing else", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1), max: Date.UTC(2200, 0, 1) }),
        fc.constantFrom("day" as const, "week" as const, "month" as const),
        (ms, period) => {
          const r = periodOf(ms, period);
          assert.ok(r.startMs <= ms && ms < r.endMs);
          assert.equal(r.suffix, periodSuffix(ms, period));
          assert.deepEqual(parsePeriodSuffix(r.suffix), r);
        },
      ),
    );
    assert.deepEqual(parsePeriodSuffix("2025.w30"), {
      period: "week",
      suffix: "2025.w30",
      startMs: t("2025-07-21T00:00:00Z"),
      endMs: t("2025-07-28T00:00:00Z"),
    });
    assert.deepEqual(parsePeriodSuffix("2024.02"), {
      period: "month",
      suffix: "2024.02",
      startMs: t("2024-02-01T00:00:00Z"),
      endMs: t("2024-03-01T00:00:00Z"),
    });
    for (const bad of [
      "2025.02.30",
      "2025.13",
      "2025.00",
      "2025.w00",
      "2025.w53",
      "2025.7",
      "2025.07.25-x",
      "x",
    ]) {
      assert.equal(parsePeriodSuffix(bad), null, bad);
    }
    assert.equal(parsePeriodSuffix("2020.w53")?.period, "week", "2020 has 53 ISO weeks");
    assert.equal(periodIndexRange("tg", "tg-network_access-2025.w30")?.period, "week");
    assert.equal(periodIndexRange("tg", "tg-quarantine-2025.07")?.period, "month");
    assert.equal(periodIndexRange("tg", "tg-other-2025.07"), null);
    assert.equal(periodIndexRange("tg", "tgx-audit_log-2025.07"), null);
  });

  it("documents and quarantine documents land by the period; the id does not depend on it", () => {
    const seed = JSON.parse(
      readFileSync(join(import.meta.dirname, "..", "fixtures", "files", "network_access.json"), "utf8"),
    );
    const v = validateRecord(seed);
    assert.ok(v.ok);
    const src = { bucket: "b", key: "tg/2025-07-25T18:20:00+00:00.json", ordinal: 0 };
    const base = { indexPrefix: "tg", ingestedAt: "2025-08-02T00:00:00Z" };
    const day = toIndexAction(v.record, src, base);
    const week = toIndexAction(v.record, src, { ...base, indexPeriod: "week" });
    const month = toIndexAction(v.record, src, { ...base, indexPeriod: "month" });
    assert.deepEqual(
      [day.index, week.index, month.index],
      ["tg-network_access-2025.07.25", "tg-network_access-2025.w30", "tg-network_access-2025.07"],
    );
    assert.equal(week.id, day.id);
    assert.equal(month.id, day.id);
    const rejection = { reason: "invalid_json" as const, message: "x", raw: "{", ordinal: 1 };
    assert.equal(
      toQuarantineAction(rejection, src, { ...base, indexPeriod: "month" }).index,
      "tg-quarantine-2025.07",
      "quarantine by the file's slot, not the ingestion time",
    );
    assert.equal(quarantineIndexName("tg", "other.json", base.ingestedAt, "week"), "tg-quarantine-2025.w31");
  });

  it("retention waits for the end of a week or month index", () => {
    const age = (p: Record<string, unknown>) =>
      /"min_index_age":"(\d+)d"/.exec(JSON.stringify(p["policy"]))![1];
    assert.equal(age(ismPolicyBody("tg", 90)), "90");
    assert.equal(age(ismPolicyBody("tg", 90, "week")), "96");
    assert.equal(age(ismPolicyBody("tg", 90, "month")), "120");
  });

  it("is a setting: INDEX_PERIOD / --index-period, month by default, refused when unknown", () => {
    assert.equal(loadConfig({}, {}).indexPeriod, "month");
    assert.equal(loadConfig({}, { INDEX_PERIOD: "week" }).indexPeriod, "week");
    assert.equal(loadConfig({ "index-period": "day" }, { INDEX_PERIOD: "week" }).indexPeriod, "day");
    assert.throws(() => loadConfig({}, { INDEX_PERIOD: "hour" }), /--index-period \/ INDEX_PERIOD/);
  });
});
