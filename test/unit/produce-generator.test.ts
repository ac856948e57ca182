import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { validateRecord } from "../../src/core/events/index.ts";
import { EVENT_TYPES, type RejectReason } from "../../src/core/model.ts";
import { readRecords } from "../../src/core/parse/index.ts";
import { parseSlotKey } from "../../src/core/twingate.ts";
import { encodeFile, LAYOUTS, type Layout, truncateGzip } from "../../src/tools/produce/encode.ts";
import {
  breakagesFor,
  DEFAULT_MIX,
  generateSlot,
  NO_FAULTS,
  type SlotPlan,
} from "../../src/tools/produce/generator.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { type FileReport, type ProduceOptions, planFile } from "../../src/tools/produce/run.ts";

const T = Date.parse("2025-07-25T18:20:00Z");
const SLOT = { startMs: T, endMs: T + 300_000 };
/** The time forms the producer writes (slots.ts): microseconds +00:00 or Z, milliseconds Z, minutes Z. */
const TIME_FORMS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}\.\d{6}\+00:00|:\d{2}\.\d{6}Z|:\d{2}\.\d{3}Z|Z)$/;

function plan(over: Partial<SlotPlan> = {}): SlotPlan {
  return {
    seed: 42,
    slot: SLOT,
    window: SLOT,
    count: 400,
    mix: DEFAULT_MIX,
    faults: NO_FAULTS,
    oversized: 0,
    oversizedBytes: 4096,
    ...over,
  };
}

function options(over: Partial<ProduceOptions> = {}): ProduceOptions {
  return {
    seed: 7,
    mix: DEFAULT_MIX,
    eventsPerFile: 300,
    layout: "ndjson",
    gzip: false,
    prefix: "",
    faults: { invalid: 0.05, corrupt: 0.04, unknownType: 0.03 },
    oversized: 0,
    oversizedBytes: 4096,
    truncatedGzip: 0,
    emptySlotRate: 0,
    ...over,
  };
}

/** What the consumer's reader and validator make of a file: per outcome counts. */
async function consume(body: Buffer, maxRecordBytes: number) {
  const byType: Record<string, number> = {};
  const rejected: Partial<Record<RejectReason, number>> = {};
  const fileErrors: RejectReason[] = [];
  let valid = 0;
  for await (const item of readRecords(Readable.from([body]), { maxRecordBytes })) {
    if (item.kind === "record") {
      const v = validateRecord(item.value);
      if (v.ok) {
        valid++;
        byType[v.record.event_type] = (byType[v.record.event_type] ?? 0) + 1;
      } else rejected[v.reason] = (rejected[v.reason] ?? 0) + 1;
    } else if (item.kind === "rejected") {
      rejected[item.rejection.reason] = (rejected[item.rejection.reason] ?? 0) + 1;
    } else fileErrors.push(item.reason);
  }
  return { valid, byType, rejected, fileErrors };
}

describe("produce: generator", () => {
  const pools = buildPools(42);

  it("is deterministic: the same seed gives the same records, another seed others", () => {
    const a = generateSlot(pools, plan());
    const b = generateSlot(buildPools(42), plan());
    assert.deepEqual(a, b);
    const c = generateSlot(buildPools(43), plan({ seed: 43 }));
    assert.notDeepEqual(
      a.map((r) => r.text),
      c.map((r) => r.text),
    );
  });

  it("writes records that all pass validation, with times inside the window, drawn in time order", () => {
    const window = { startMs: T + 60_000, endMs: T + 120_000 };
    const records = generateSlot(pools, plan({ count: 2000, window }));
    assert.equal(records.length, 2000);
    const seenTypes = new Set<string>();
    let last = 0;
    for (const r of records) {
      assert.equal(r.kind, "valid");
      const value = JSON.parse(r.text);
      const v = validateRecord(value);
      assert.ok(v.ok, `${r.text}\n-> ${v.ok ? "" : v.message}`);
      seenTypes.add(value.event_type);
      assert.match(value.event.time, TIME_FORMS);
      const ms = Date.parse(value.event.time);
      assert.ok(ms >= window.startMs && ms < window.endMs, value.event.time);
      // A time cut to milliseconds or minutes may read earlier than its neighbours; the drawn instants are in order.
      assert.ok(ms <= r.timeMicros / 1000);
      assert.ok(r.timeMicros >= last, "records are in time order");
      last = r.timeMicros;
    }
    assert.deepEqual([...seenTypes].sort(), [...EVENT_TYPES].sort());
  });

  it("draws from pools that repeat, with the statuses and shapes the schema notes describe", () => {
    const events = generateSlot(pools, plan({ count: 4000 })).map((r) => JSON.parse(r.text));
    const net = events.filter((e) => e.event_type === "network_access").map((e) => e.event);
    const statuses = new Set(net.map((e) => e.status));
    assert.deepEqual([...statuses].sort(), [
      "closed_connection",
      "denied_access",
      "established_connection",
      "failed_to_connect",
    ]);
    for (const e of net) {
      assert.ok("user" in e !== "service_account" in e, "user or service_account, never both");
      if (e.status === "denied_access" || e.status === "failed_to_connect")
        assert.ok(e.connection.error_message);
      else assert.equal(e.connection.error_message, undefined);
    }
    assert.ok(net.some((e) => e.relays.length === 0) && net.some((e) => e.relays.length === 1));
    const users = new Set(net.filter((e) => e.user).map((e) => e.user.id));
    assert.ok(users.size > 5 && users.size <= pools.users.length, `users repeat: ${users.size}`);
    const dns = events.filter((e) => e.event_type === "dns_filtering").map((e) => e.event);
    assert.deepEqual([...new Set(dns.map((e) => e.status))].sort(), ["allowed", "blocked", "default"]);
    for (const e of dns) assert.equal(e.reasons.length === 0, e.status === "default");
    const audit = events.filter((e) => e.event_type === "audit_log").map((e) => e.event);
    assert.deepEqual([...new Set(audit.map((e) => e.action))].sort(), ["create", "delete", "edit"]);
    const dlp = events.filter((e) => e.event_type === "data_loss_prevention").map((e) => e.event);
    assert.ok(dlp.every((e) => e.data_loss_prevention_policies.length >= 1 && e.action && e.status));
  });

  it("follows the mix", () => {
    const records = generateSlot(pools, plan({ count: 500, mix: { audit_log: 5, data_loss_prevention: 5 } }));
    assert.ok(records.every((r) => r.eventType === "audit_log" || r.eventType === "data_loss_prevention"));
  });

  it("breaks invalid records so that validation rejects them as schema_invalid at the reported path", () => {
    const records = generateSlot(
      pools,
      plan({ count: 3000, faults: { invalid: 0.3, corrupt: 0, unknownType: 0 } }),
    );
    const invalid = records.filter((r) => r.kind === "invalid");
    assert.ok(invalid.length > 800);
    const paths = new Set<string>();
    for (const r of invalid) {
      const v = validateRecord(JSON.parse(r.text));
      assert.equal(v.ok, false, r.text);
      if (v.ok) continue;
      assert.equal(v.reason, "schema_invalid");
      assert.equal(v.path, r.invalid!.path, `${r.invalid!.problem}: ${v.message}`);
      paths.add(`${r.eventType}:${r.invalid!.path}:${r.invalid!.problem}`);
    }
    // Every way of breaking each type was used.
    const all = EVENT_TYPES.flatMap((t) => breakagesFor(t).map((b) => `${t}:${b.path}:${b.problem}`));
    assert.deepEqual([...paths].sort(), all.sort());
  });

  it("writes corrupt records that are not JSON and unknown types that validation sets aside", () => {
    const records = generateSlot(
      pools,
      plan({ count: 600, faults: { invalid: 0, corrupt: 0.2, unknownType: 0.2 } }),
    );
    const corrupt = records.filter((r) => r.kind === "corrupt");
    const unknown = records.filter((r) => r.kind === "unknown_type");
    assert.ok(corrupt.length > 60 && unknown.length > 60);
    for (const r of corrupt) assert.throws(() => JSON.parse(r.text), SyntaxError);
    for (const r of unknown) {
      const v = validateRecord(JSON.parse(r.text));
      assert.ok(!v.ok && v.reason === "unknown_event_type");
    }
    assert.equal(records[0]!.kind, "valid", "the first record of a file stays valid");
  });

  it("pads oversized records past the limit", () => {
    const records = generateSlot(pools, plan({ count: 10, oversized: 3, oversizedBytes: 10_000 }));
    const big = records.filter((r) => r.kind === "oversized");
    assert.equal(big.length, 3);
    for (const r of big) assert.ok(Buffer.byteLength(r.text) > 10_000);
  });
});

describe("produce: files, read back by the consumer's reader", () => {
  const pools = buildPools(7);
  const cases: { layout: Layout; gzip: boolean }[] = LAYOUTS.flatMap((layout) =>
    [false, true].map((gzip) => ({ layout, gzip })),
  );

  for (const { layout, gzip } of cases) {
    it(`${layout}${gzip ? " + gzip" : ""}: every count in the report is what the reader finds`, async () => {
      const opts = options({
        layout,
        gzip,
        ...(layout === "ndjson" ? {} : { faults: { invalid: 0.05, corrupt: 0, unknownType: 0.03 } }),
      });
      const file = planFile(pools, opts, SLOT, SLOT, 300, { oversized: 2, truncated: false });
      const r: FileReport = file.report;
      assert.equal(r.bytes, file.body.length);
      assert.deepEqual(parseSlotKey(r.key), { startMs: SLOT.startMs, gzip });
      if (gzip) assert.ok(gunzipSync(file.body).length > file.body.length);
      const seen = await consume(file.body, 4096);
      assert.deepEqual(seen.fileErrors, []);
      assert.equal(seen.valid, r.valid);
      for (const t of EVENT_TYPES) assert.equal(seen.byType[t] ?? 0, r.by_event_type[t], t);
      assert.equal(seen.rejected.schema_invalid ?? 0, r.faults.invalid);
      assert.equal(seen.rejected.invalid_json ?? 0, r.faults.corrupt);
      assert.equal(seen.rejected.unknown_event_type ?? 0, r.faults.unknown_type);
      assert.equal(seen.rejected.record_too_large ?? 0, r.faults.oversized);
      assert.equal(r.faults.oversized, 2);
      assert.equal(
        r.records,
        r.valid + r.faults.invalid + r.faults.corrupt + r.faults.unknown_type + r.faults.oversized,
      );
      if (layout === "ndjson") assert.ok(r.faults.corrupt > 0);
      assert.ok(r.faults.invalid > 0 && r.faults.unknown_type > 0);
    });
  }

  it("a truncated gzip file is a file error for the reader", async () => {
    const file = planFile(pools, options(), SLOT, SLOT, 300, { oversized: 0, truncated: true });
    assert.ok(file.report.faults.truncated_gzip);
    assert.equal(file.report.gzip, true);
    assert.ok(file.key.endsWith(".json.gz"));
    assert.equal(file.report.valid, 0);
    const seen = await consume(file.body, 4096);
    assert.deepEqual(seen.fileErrors, ["truncated_gzip"]);
    assert.ok(seen.valid < 300);
  });

  it("a record over the default 1 MiB limit is record_too_large", async () => {
    const file = planFile(pools, options({ oversizedBytes: 1024 * 1024, faults: NO_FAULTS }), SLOT, SLOT, 5, {
      oversized: 1,
      truncated: false,
    });
    const seen = await consume(file.body, 1024 * 1024);
    assert.deepEqual(seen.rejected, { record_too_large: 1 });
    assert.equal(seen.valid, 4);
  });

  it("the same seed gives the same bytes, gzip included", () => {
    const a = planFile(buildPools(7), options({ gzip: true }), SLOT, SLOT, 200, {
      oversized: 1,
      truncated: false,
    });
    const b = planFile(buildPools(7), options({ gzip: true }), SLOT, SLOT, 200, {
      oversized: 1,
      truncated: false,
    });
    assert.ok(a.body.equals(b.body));
    const c = planFile(buildPools(8), options({ gzip: true, seed: 8 }), SLOT, SLOT, 200, {
      oversized: 1,
      truncated: false,
    });
    assert.ok(!a.body.equals(c.body));
  });

  it("encodes layouts as documented", () => {
    const texts = ['{"a":1}', '{"b":2}'];
    assert.equal(encodeFile(texts, { layout: "ndjson", gzip: false }).toString(), '{"a":1}\n{"b":2}\n');
    assert.equal(encodeFile(texts, { layout: "array", gzip: false }).toString(), '[{"a":1},\n{"b":2}]\n');
    assert.equal(
      encodeFile(texts, { layout: "concatenated", gzip: false }).toString(),
      '{\n  "a": 1\n}\n{\n  "b": 2\n}\n',
    );
    assert.throws(() => truncateGzip(Buffer.alloc(10)), RangeError);
  });
});
