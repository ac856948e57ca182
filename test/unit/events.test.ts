import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { toRejection } from "../../src/documents/quarantine.ts";
import { parseEventTime, validateRecord } from "../../src/events/index.ts";

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

  it("version: 1 and '1' and other positive integers; not 0, -1, 1.5, 'v1'", () => {
    for (const version of [1, "1", 2, "12"]) {
      assert.ok(validateRecord(withEvent("audit_log", (e) => (e["version"] = version))).ok, String(version));
    }
    for (const version of [0, -1, 1.5, "v1", "", null, "01"]) {
      expectInvalid(
        withEvent("audit_log", (e) => (e["version"] = version)),
        "event.version",
      );
    }
    expectInvalid(
      withEvent("audit_log", (e) => delete e["version"]),
      "event.version",
    );
  });

  it("time: offsets, Z, minutes-only, fractions up to 9 digits; nothing else", () => {
    for (const time of [
      "2025-07-25T18:19:41.236597+00:00",
      "2025-07-25T18:19:41Z",
      "2021-08-15T14:30Z",
      "2025-07-25T18:19:41.123456789-05:30",
      "2025-07-25T18:19+02:00",
    ]) {
      assert.ok(validateRecord(withEvent("dns_filtering", (e) => (e["time"] = time))).ok, time);
    }
    for (const time of [
      "2025-07-25 18:19:41Z",
      "2025-07-25T18:19:41",
      "2025-07-25",
      "2025-07-25T18:19:41.1234567890Z",
      "2025-02-30T00:00:00Z",
      "2025-07-25T24:00:00Z",
      "2025-07-25T18:19:41+0000",
      "1753467581",
      1753467581,
      "",
    ]) {
      expectInvalid(
        withEvent("dns_filtering", (e) => (e["time"] = time)),
        "event.time",
      );
    }
  });
});

describe("validateRecord: network_access", () => {
  it("checks IPs, ports, byte counts and location", () => {
    const cases: [(e: Doc) => void, string][] = [
      [(e) => (e.connection.client_ip = "1.2.3.999"), "event.connection.client_ip"],
      [(e) => (e.connection.client_ip = "example.com"), "event.connection.client_ip"],
      [(e) => delete e.connection.client_ip, "event.connection.client_ip"],
      [(e) => (e.resource.ip = "10.0.0"), "event.resource.ip"],
      [(e) => (e.resource.port = 70000), "event.resource.port"],
      [(e) => (e.resource.port = "80"), "event.resource.port"],
      [(e) => (e.relays[0].port = -1), "event.relays[0].port"],
      [(e) => (e.relays[0].ip = "nope"), "event.relays[0].ip"],
      [(e) => (e.connection.bytes_received = -5), "event.connection.bytes_received"],
      [(e) => (e.connection.bytes_transferred = 1.5), "event.connection.bytes_transferred"],
      [(e) => (e.connection.bytes_transferred = "404"), "event.connection.bytes_transferred"],
      [(e) => (e.location.lat = 91), "event.location.lat"],
      [(e) => (e.location.lon = -181), "event.location.lon"],
      [(e) => (e.location = { lat: 1 }), "event.location.lon"],
      [(e) => (e.status = ""), "event.status"],
      [(e) => delete e.status, "event.status"],
    ];
    for (const [patch, path] of cases) expectInvalid(withEvent("network_access", patch), path);
  });

  it("accepts IPv6, empty/null/absent resource.ip, absent bytes, null sub-objects, service accounts", () => {
    const ok: ((e: Doc) => void)[] = [
      (e) => (e.connection.client_ip = "2001:db8::1"),
      (e) => (e.resource.ip = ""),
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
      (e) => (e.new_vendor_field = { nested: [1, 2] }),
    ];
    for (const patch of ok) {
      const input = withEvent("network_access", patch);
      const v = validateRecord(input);
      assert.ok(v.ok, v.ok ? "" : v.message);
      assert.deepEqual(v.record, input, "unknown fields are kept");
    }
  });
});

describe("validateRecord: dns_filtering, audit_log, data_loss_prevention", () => {
  it("dns reasons may be strings or {id, name}; model may be null", () => {
    const input = withEvent("dns_filtering", (e: Doc) => {
      e.reasons = ["threat:malware", { id: "category:social-networks", name: "Social Networks" }];
      e.device.model = null;
      e.status = "blocked";
    });
    assert.ok(validateRecord(input).ok);
    expectInvalid(
      withEvent("dns_filtering", (e) => (e["reasons"] = [1])),
      "event.reasons[0]",
    );
    expectInvalid(
      withEvent("dns_filtering", (e: Doc) => (e.connection.client_ip = "x")),
      "event.connection.client_ip",
    );
    expectInvalid(
      withEvent("dns_filtering", (e) => delete e["domain"]),
      "event.domain",
    );
  });

  it("audit targets keep type-specific fields and need a type", () => {
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
    expectInvalid(
      withEvent("audit_log", (e) => (e["targets"] = [{ id: "x" }])),
      "event.targets[0].type",
    );
    for (const actor of [
      { type: "API", id: "a", info: { name: "tf" } },
      { type: "Twingate Support", info: null },
    ]) {
      assert.ok(validateRecord(withEvent("audit_log", (e) => (e["actor"] = actor))).ok);
    }
    expectInvalid(
      withEvent("audit_log", (e) => delete e["actor"]),
      "event.actor",
    );
  });

  it("dlp needs an action; policies are {id, name}", () => {
    expectInvalid(
      withEvent("data_loss_prevention", (e) => delete e["action"]),
      "event.action",
    );
    expectInvalid(
      withEvent("data_loss_prevention", (e) => (e["data_loss_prevention_policies"] = "p")),
      "event.data_loss_prevention_policies",
    );
  });

  it("reports how many more issues there are", () => {
    const v = validateRecord(
      withEvent("network_access", (e: Doc) => {
        e.connection.client_ip = "x";
        e.resource.port = -1;
      }),
    );
    assert.ok(!v.ok);
    assert.match(v.message, /and 1 more issue\)$/);
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
