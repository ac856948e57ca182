/**
 * Keys OpenSearch refuses in a mapped object (an empty name or part, a dotted key under a typed field)
 * are set aside with a deviation on both validation paths, the rest of the event kept.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { toIndexAction } from "../../src/core/documents/index.ts";
import { validateRecord, validateRecordFull } from "../../src/core/events/index.ts";

function rec(extra: Record<string, unknown>, where: "resource" | "connection" | "device") {
  const event: Record<string, Record<string, unknown> | string | number> = {
    version: 1,
    time: "2025-07-25T18:19:41.236597+00:00",
    status: "closed_connection",
    connection: { client_ip: "1.2.3.4", protocol: "tcp" },
    resource: { address: "a.int", ip: "10.0.0.1", port: 80 },
    device: { id: "1" },
  };
  Object.assign(event[where] as object, extra);
  return { event_type: "network_access", event };
}

test("odd keys under typed objects are set aside, on the fast and the full path alike", () => {
  const cases: [Record<string, unknown>, "resource" | "connection" | "device", string][] = [
    [{ "ip.geo": "h" }, "resource", "event.resource.ip:set_aside"],
    [{ "": "x" }, "connection", "event.connection.(empty key part):set_aside"],
    [{ ".hidden": { a: 1 } }, "resource", "event.resource.(empty key part):set_aside"],
    [{ "a..b": 2 }, "device", "event.device.(empty key part):set_aside"],
  ];
  for (const [extra, where, dev] of cases) {
    const r = rec(extra, where);
    const fast = validateRecord(r);
    const full = validateRecordFull(r);
    assert.ok(fast.ok && full.ok);
    assert.deepEqual(
      fast.deviations.map((d) => `${d.path}:${d.action}`),
      [dev],
    );
    assert.deepEqual(fast, full);
    const k = Object.keys(extra)[0]!;
    assert.equal(
      (fast.record.event as unknown as Record<string, Record<string, unknown>>)[where]![k],
      undefined,
    );
  }
  // a dotted key not under a typed field's name is stored as it is (OpenSearch takes it), listed as undeclared
  const ok = validateRecord(rec({ "a.b": 1 }, "resource"));
  assert.ok(ok.ok);
  assert.deepEqual(
    ok.deviations.map((d) => `${d.path}:${d.action}`),
    ["event.resource.a.b:undeclared"],
  );
});

test("the fast check where code cannot be generated from strings (interpreted): same answers", () => {
  // The fast check is compiled to code per stream from its declaration; a runtime started with
  // --disallow-code-generation-from-strings interprets the same rules instead of failing to load.
  const script = `
    const { compileEventCheck } = await import(${JSON.stringify(new URL("../../src/core/events/fast-check.ts", import.meta.url).href)});
    const { FIELD_SPECS } = await import(${JSON.stringify(new URL("../../src/core/streams/index.ts", import.meta.url).href)});
    const base = { version: 1, time: "2025-07-25T18:19:41.236597+00:00", status: "s" };
    const e = { ...base, connection: { client_ip: "1.2.3.4" }, relays: [{ ip: "1.2.3.4" }], resource: { ip: "10.0.0.1" } };
    const na = compileEventCheck(FIELD_SPECS.network_access);
    const dns = compileEventCheck(FIELD_SPECS.dns_filtering);
    const out = [
      na(e),
      na({ ...e, "a.b": 1 }),
      na({ ...e, resource: { "": 1 } }),
      na({ ...e, relays: [{ ip: "1.2.3.4" }, { "x.y": 1 }] }),
      dns({ ...base, domain: "d", device: { model: { "": 1 } } }),
      na({ ...e, resource: { ip: "" } }),
    ];
    process.stdout.write(JSON.stringify(out));`;
  const run = (flags: string[]) =>
    execFileSync(process.execPath, [...flags, "--import", "tsx", "--input-type=module", "-e", script], {
      encoding: "utf8",
    });
  const expected = JSON.stringify([true, false, false, false, false, false]);
  assert.equal(run([]), expected);
  assert.equal(run(["--disallow-code-generation-from-strings"]), expected);
});

test("the catch-all copy stays what a flat_object takes, whatever the keys and values (review findings)", () => {
  const base = JSON.parse(
    readFileSync(new URL("../fixtures/files/network_access.json", import.meta.url), "utf8"),
  );
  const doc = (extra: Record<string, unknown>) => {
    const v = validateRecord({ ...base, event: { ...base.event, ...extra } });
    assert.ok(v.ok);
    const a = toIndexAction(
      v.record,
      { bucket: "b", key: "k", ordinal: 0 },
      { indexPrefix: "tg", ingestedAt: "2025-07-25T18:30:00Z" },
    );
    return JSON.parse(a.json!.join("")) as {
      twingate: Record<string, unknown>;
      ingest: { deviations?: string[] };
      set_aside?: Record<string, unknown>;
    };
  };
  // a blank part (OpenSearch: "object field cannot contain only whitespace"): set aside, not kept in a mapped object
  const blank = doc({ "x. ": 1, " .x": 2, " ": 3 });
  assert.deepEqual(Object.keys(blank.set_aside ?? {}).sort(), ["event. ", "event. .x", "event.x. "]);
  assert.equal((blank.twingate["network_access"] as Record<string, unknown>)["x. "], undefined);
  // a key of thousands of dotted parts, or thousands of characters: named by its place, not copied
  const deep = doc({ [Array(10_000).fill("a").join(".")]: 1 });
  assert.equal(deep.twingate["flat"], undefined);
  assert.deepEqual(deep.ingest.deviations, ["event.(long key):undeclared"]);
  const long = doc({ ["k".repeat(9000)]: "中".repeat(8000) });
  assert.equal(long.twingate["flat"], undefined);
  // a string too long for one term (24,000 UTF-8 bytes), and a very wide object: bounded copies
  assert.equal(doc({ note: "中".repeat(8500) }).twingate["flat"], undefined);
  const wide = doc({ foo: Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, i])) });
  const copied = (wide.twingate["flat"] as Record<string, Record<string, Record<string, unknown>>>)["event"]![
    "foo"
  ]!;
  assert.equal(Object.keys(copied).length, 100, "at most 100 values a record");
});
