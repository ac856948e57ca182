import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { toRejection } from "../../src/core/documents/quarantine.ts";
import {
  type Normalisation,
  normalisationOf,
  parseEventTime,
  validateRecord,
} from "../../src/core/events/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests edit JSON fixtures freely
type Doc = any;

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "files");
const seed = (t: string) => JSON.parse(readFileSync(join(FIXTURES, `${t}.json`), "utf8"));
const TYPES = ["network_access", "dns_filtering", "audit_log", "data_loss_prevention"];

function withEvent(type: string, patch: (e: Record<string, unknown>) => void): unknown {
  const r = seed(type);
  patch(r.event);
  return r;
}

function expectInvalid(value: unknown, path: string, re?: RegExp) {
  const v = validateRecord(value);
  assert.equal(v.ok, false, `expected ${path} to be rejected`);
  if (v.ok) return;
  assert.equal(v.reason, "schema_invalid");
  assert.equal(v.path, path);
  assert.ok(v.message.startsWith(`${path}: `), v.message);
  if (re) assert.match(v.message, re);
}

/** Placed, with the deviation `key` (`path:action`; null: with none); `then` sees the record and its normalisation. */
function expectDeviation(
  value: unknown,
  key: string | null,
  then?: (record: Doc, meta: Normalisation) => void,
) {
  const v = validateRecord(value);
  assert.ok(v.ok, v.ok ? "" : `expected ${key} to be placed: ${v.message}`);
  if (!v.ok) return;
  const keys = v.deviations.map((d) => `${d.path}:${d.action}`);
  if (key === null) {
    assert.deepEqual(keys, []);
    return;
  }
  assert.ok(keys.includes(key), `${key} in ${JSON.stringify(keys)}`);
  const meta = normalisationOf(v.record);
  assert.ok(meta, "a normalised record");
  then?.(v.record, meta);
}

describe("validateRecord: the seed examples", () => {
  for (const t of TYPES) {
    it(`${t} is valid and keeps every field`, () => {
      const input = seed(t);
      const v = validateRecord(input);
      assert.ok(v.ok, v.ok ? "" : v.message);
      assert.deepEqual(v.record, input);
    });
  }
});

describe("validateRecord: envelope", () => {
  it("rejects non-objects", () => {
    for (const value of [null, 1, "x", [seed("audit_log")], true]) {
      const v = validateRecord(value);
      assert.ok(!v.ok && v.reason === "not_an_object");
    }
  });

  it("names unknown event types separately", () => {
    const v = validateRecord({ event_type: "vpn_session", event: {} });
    assert.ok(!v.ok);
    assert.equal(v.reason, "unknown_event_type");
    assert.equal(v.eventType, "vpn_session");
  });

  it("a missing or non-string event_type is schema_invalid", () => {
    for (const value of [{ event: {} }, { event_type: 3, event: {} }]) {
      const v = validateRecord(value);
      assert.ok(!v.ok && v.reason === "schema_invalid" && v.path === "event_type");
    }
  });

  it("a missing event is schema_invalid at event", () => {
    expectInvalid({ event_type: "audit_log" }, "event", /missing/);
  });

  it("version: 1, '1' and other positive integers as they are; '1.0' coerced, missing defaulted, junk set aside", () => {
    for (const version of [1, "1", 2, "12"]) {
      const v = validateRecord(withEvent("audit_log", (e) => (e["version"] = version)));
      assert.ok(v.ok && v.deviations.length === 0, String(version));
    }
    expectDeviation(
      withEvent("audit_log", (e) => (e["version"] = "1.0")),
      "event.version:coerced",
      (r) => assert.equal(r.event.version, "1"),
    );
    for (const version of ["", null])
      expectDeviation(
        withEvent("audit_log", (e) => (e["version"] = version)),
        "event.version:defaulted",
      );
    expectDeviation(
      withEvent("audit_log", (e) => delete e["version"]),
      "event.version:defaulted",
      (r) => assert.equal(r.event.version, "1"),
    );
    for (const version of [0, -1, 1.5, "v1", "01", { v: 1 }])
      expectDeviation(
        withEvent("audit_log", (e) => (e["version"] = version)),
        "event.version:set_aside",
      );
  });

  it("time: offsets, Z, minutes-only, fractions up to 9 digits as they are; variants coerced; the rest unplaceable", () => {
    for (const time of [
      "2025-07-25T18:19:41.236597+00:00",
      "2025-07-25T18:19:41Z",
      "2021-08-15T14:30Z",
      "2025-07-25T18:19:41.123456789-05:30",
      "2025-07-25T18:19+02:00",
    ]) {
      const v = validateRecord(withEvent("dns_filtering", (e) => (e["time"] = time)));
      assert.ok(v.ok && v.deviations.length === 0, time);
    }
    for (const time of [
      "2025-07-25 18:19:41Z",
      "2025-07-25T18:19:41",
      "2025-07-25T18:19:41.1234567890Z",
      "2025-07-25T18:19:41+0000",
      "2025-07-25T18:19:41+00",
      1753467581,
      1753467581236,
    ])
      expectDeviation(
        withEvent("dns_filtering", (e) => (e["time"] = time)),
        "event.time:coerced",
      );
    for (const time of [
      "2025-07-25",
      "2025-02-30T00:00:00Z",
      "2025-07-25T24:00:00Z",
      "1753467581",
      "",
      null,
      { t: 1 },
    ]) {
      expectInvalid(
        withEvent("dns_filtering", (e) => (e["time"] = time)),
        "event.time",
      );
    }
    expectInvalid(
      withEvent("dns_filtering", (e) => delete e["time"]),
      "event.time",
      /missing/,
    );
  });

  it("stream aliases: network is network_access, the name as received kept", () => {
    const r = seed("network_access");
    r.event_type = "network";
    const v = validateRecord(r);
    assert.ok(v.ok);
    assert.equal(v.record.event_type, "network_access");
    assert.ok(v.deviations.some((d) => d.path === "event_type" && d.action === "aliased"));
    assert.equal(normalisationOf(v.record)?.eventTypeOriginal, "network");
  });
});

describe("validateRecord: network_access", () => {
  it("sets aside values that fit their field in no obvious way, keeping the event", () => {
    const cases: [(e: Doc) => void, string][] = [
      [(e) => (e.connection.client_ip = "1.2.3.999"), "event.connection.client_ip"],
      [(e) => (e.connection.client_ip = "example.com"), "event.connection.client_ip"],
      [(e) => (e.resource.ip = "10.0.0"), "event.resource.ip"],
      [(e) => (e.resource.port = 70000), "event.resource.port"],
      [(e) => (e.relays[0].port = -1), "event.relays.port"],
      [(e) => (e.relays[0].ip = "nope"), "event.relays.ip"],
      [(e) => (e.connection.bytes_received = -5), "event.connection.bytes_received"],
      [(e) => (e.connection.bytes_transferred = 1.5), "event.connection.bytes_transferred"],
      [(e) => (e.location.lat = 91), "event.location.lat"],
      [(e) => (e.location.lon = -181), "event.location.lon"],
      [(e) => (e.location.lat = "north"), "event.location.lat"],
      [(e) => (e.connection = "x"), "event.connection"],
      [(e) => (e.user.email = { a: 1 }), "event.user.email"],
    ];
    for (const [patch, path] of cases) {
      const input = withEvent("network_access", patch);
      expectDeviation(input, `${path}:set_aside`, (_r, meta) => {
        const at = Object.keys(meta.setAside ?? {});
        assert.equal(at.length, 1, path);
      });
    }
  });

  it("coerces numeric strings and numeric ids, empties empty IPs, notes missing required fields", () => {
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.resource.port = "80")),
      "event.resource.port:coerced",
      (r) => assert.equal(r.event.resource.port, 80),
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.connection.bytes_transferred = "404")),
      "event.connection.bytes_transferred:coerced",
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.user.id = 890123)),
      "event.user.id:coerced",
      (r) => assert.equal(r.event.user.id, "890123"),
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.connection.client_ip = "")),
      "event.connection.client_ip:missing",
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.resource.ip = "")),
      "event.resource.ip:emptied",
      (r) => assert.equal(r.event.resource.ip, null),
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => delete e.status),
      "event.status:missing",
    );
    expectDeviation(
      withEvent("network_access", (e: Doc) => (e.location = { lat: null, lon: null })),
      null,
    );
  });

  it("accepts IPv6, null/absent resource.ip, absent bytes, null sub-objects, service accounts as they are", () => {
    const ok: ((e: Doc) => void)[] = [
      (e) => (e.connection.client_ip = "2001:db8::1"),
      (e) => (e.resource.ip = null),
      (e) => delete e.resource.ip,
      (e) => {
        delete e.connection.bytes_received;
        delete e.connection.bytes_transferred;
        e.connection.error_message = "timed out";
        e.status = "failed_to_connect";
      },
      (e) => {
        e.location = null;
        e.connector = null;
        e.relays = [];
        e.device = null;
      },
      (e) => {
        delete e.user;
        e.service_account = { id: "1", name: "ci", key: "k", key_id: "kid" };
      },
      (e) => (e.status = "some_future_status"),
    ];
    for (const patch of ok) {
      const input = withEvent("network_access", patch);
      const v = validateRecord(input);
      assert.ok(v.ok, v.ok ? "" : v.message);
      assert.deepEqual(v.deviations, []);
      assert.deepEqual(v.record, input, "unknown fields are kept");
    }
    // a field no declaration names: kept as sent, listed, and copied to the catch-all
    const input = withEvent("network_access", (e) => (e.new_vendor_field = { nested: [1, 2] }));
    const v = validateRecord(input);
    assert.ok(v.ok);
    assert.deepEqual(
      v.deviations.map((d) => `${d.path}:${d.action}`),
      ["event.new_vendor_field:undeclared"],
    );
    assert.deepEqual(v.record, input, "unknown fields are kept");
  });
});

describe("validateRecord: dns_filtering, audit_log, data_loss_prevention", () => {
  it("dns reasons may be strings or {id, name}; model may be null", () => {
    const input = withEvent("dns_filtering", (e: Doc) => {
      e.reasons = ["threat:malware", { id: "category:social-networks", name: "Social Networks" }];
      e.device.model = null;
      e.status = "blocked";
    });
    const v = validateRecord(input);
    assert.ok(v.ok && v.deviations.length === 0);
    expectDeviation(
      withEvent("dns_filtering", (e) => (e["reasons"] = [1])),
      "event.reasons:coerced",
    );
    expectDeviation(
      withEvent("dns_filtering", (e) => (e["reasons"] = [true])),
      "event.reasons:set_aside",
    );
    expectDeviation(
      withEvent("dns_filtering", (e: Doc) => (e.connection.client_ip = "x")),
      "event.connection.client_ip:set_aside",
    );
    expectDeviation(
      withEvent("dns_filtering", (e) => delete e["domain"]),
      "event.domain:missing",
    );
  });

  it("audit targets keep type-specific fields; a missing type or actor is noted", () => {
    const target = {
      version: "1.0",
      type: "resource",
      id: "UmVz",
      name: "db",
      address: { type: "DNS", value: "db.int" },
      isActive: true,
    };
    const input = withEvent("audit_log", (e) => (e["targets"] = [target]));
    const v = validateRecord(input);
    assert.ok(v.ok);
    assert.deepEqual(v.record.event, (input as { event: unknown }).event);
    expectDeviation(
      withEvent("audit_log", (e) => (e["targets"] = [{ id: "x" }])),
      "event.targets.type:missing",
    );
    for (const actor of [
      { type: "API", id: "a", info: { name: "tf" } },
      { type: "Twingate Support", info: null },
    ]) {
      assert.ok(validateRecord(withEvent("audit_log", (e) => (e["actor"] = actor))).ok);
    }
    expectDeviation(
      withEvent("audit_log", (e) => delete e["actor"]),
      "event.actor:missing",
    );
  });

  it("dlp: a missing action is noted; policies that are not a list are set aside", () => {
    expectDeviation(
      withEvent("data_loss_prevention", (e) => delete e["action"]),
      "event.action:missing",
    );
    expectDeviation(
      withEvent("data_loss_prevention", (e) => (e["data_loss_prevention_policies"] = "p")),
      "event.data_loss_prevention_policies:set_aside",
    );
  });

  it("lists every deviation of a record, and never mutates the input", () => {
    const input = withEvent("network_access", (e: Doc) => {
      e.connection.client_ip = "x";
      e.resource.port = -1;
    });
    const before = JSON.stringify(input);
    const v = validateRecord(input);
    assert.ok(v.ok);
    assert.deepEqual(
      v.deviations.map((d) => `${d.path}:${d.action}`),
      ["event.connection.client_ip:set_aside", "event.resource.port:set_aside"],
    );
    assert.equal(JSON.stringify(input), before);
    assert.deepEqual(normalisationOf(v.record)?.setAside, {
      "event.connection.client_ip": "x",
      "event.resource.port": -1,
    });
  });
});

describe("toRejection and parseEventTime", () => {
  it("carries reason, path, event type, source position and a bounded raw", () => {
    const v = validateRecord({ event_type: "vpn", event: {} });
    assert.ok(!v.ok);
    const r = toRejection(v, { raw: "x".repeat(20_000), ordinal: 4, line: 5 });
    assert.equal(r.reason, "unknown_event_type");
    assert.equal(r.eventType, "vpn");
    assert.equal(r.path, "event_type");
    assert.equal(r.ordinal, 4);
    assert.equal(r.line, 5);
    assert.equal(r.raw.length, 16 * 1024);
    assert.equal(r.rawTruncated, true);
  });

  it("normalises to UTC with the source precision", () => {
    assert.equal(parseEventTime("2025-07-25T18:19:41.236597+00:00")?.utc, "2025-07-25T18:19:41.236597Z");
    assert.equal(parseEventTime("2021-08-15T14:30Z")?.utc, "2021-08-15T14:30:00Z");
    assert.equal(parseEventTime("2025-07-26T01:30:00.5+02:00")?.utc, "2025-07-25T23:30:00.5Z");
    assert.equal(
      parseEventTime("2025-12-31T20:00:00.000000001-05:00")?.utc,
      "2026-01-01T01:00:00.000000001Z",
    );
    assert.equal(
      parseEventTime("2025-07-25T18:19:41.236597+00:00")?.epochMs,
      Date.UTC(2025, 6, 25, 18, 19, 41, 236),
    );
  });

  it("accepts only what @timestamp (date_nanos) holds, 1970 to 2262: OpenSearch would refuse the rest", () => {
    for (const t of ["1970-01-01T00:00:00Z", "1970-01-01T00:30:00+00:30", "2262-04-11T23:47:16.853999Z"])
      assert.ok(parseEventTime(t), t);
    for (const t of [
      "1969-12-31T23:59:59.999999Z",
      "1970-01-01T00:30:00+01:00",
      "2262-04-11T23:47:16.854Z",
      "9999-12-31T23:59:59Z",
      // Date.UTC reads years 0..99 as 19xx: not 1999 and 1900 here
      "0099-12-31T23:00:00Z",
      "0000-01-01T00:00:00+00:00",
    ])
      assert.equal(parseEventTime(t), undefined, t);
    const r = validateRecord({
      event_type: "audit_log",
      event: { version: 1, time: "1969-07-20T20:17:40Z", action: "create", actor: { type: "User" } },
    });
    assert.ok(!r.ok && r.path === "event.time" && /between 1970 and 2262/.test(r.message), JSON.stringify(r));
  });
});
