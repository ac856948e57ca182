/**
 * The producer's values from the stream declarations (src/tools/produce/from-spec.ts): a stream is
 * produced from its declaration alone when it has no hand-written generator, and a field added to a
 * declaration is written with no producer edit, the hand-written realism left as it was.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fastAccept, validateRecord } from "../../src/core/events/index.ts";
import { isIpText } from "../../src/core/events/ip.ts";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { keyword, specOf } from "../../src/core/streams/declare.ts";
import { FIELD_SPECS, type FieldSpecs } from "../../src/core/streams/index.ts";
import { documentedValues, SpecFiller } from "../../src/tools/produce/from-spec.ts";
import { handWritten } from "../../src/tools/produce/generator.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { Rng } from "../../src/tools/produce/prng.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON records, read field by field
type Any = any;

const TIME = "2025-07-25T18:19:41.236597+00:00";
const pools = buildPools(42);

/** `n` events of `type` from its declaration alone. */
function fromSpec(type: (typeof EVENT_TYPES)[number], n: number, seed = 1): Any[] {
  const rng = new Rng(seed, "spec", type);
  return Array.from({ length: n }, () =>
    new SpecFiller(rng, pools).complete(FIELD_SPECS[type], { version: 1, time: TIME }),
  );
}

/** The leaf paths a value has (arrays as their elements). */
function valuePaths(v: unknown, prefix: string, out: Set<string>): Set<string> {
  if (Array.isArray(v)) for (const x of v) valuePaths(x, prefix, out);
  else if (v !== null && typeof v === "object")
    for (const [k, x] of Object.entries(v)) valuePaths(x, prefix ? `${prefix}.${k}` : k, out);
  else if (v !== null && v !== undefined) out.add(prefix);
  return out;
}

/** Every declared leaf path (`connection.client_ip`; arrays as their elements); `flat`: the flat ones only. */
function declaredPaths(fields: FieldSpecs, prefix = "", flat = false): string[] {
  return Object.entries(fields).flatMap(([k, spec]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    const inner = spec.t === "arr" ? spec.of : spec;
    if (inner.t === "obj") return declaredPaths(inner.f, p, flat);
    return !flat || inner.t === "flat" ? [p] : [];
  });
}

/** Every key of `before` is in `after` with the same value (undefined: still left out); objects inside alike. */
function assertKept(before: Any, after: Any, path: string): void {
  for (const [k, v] of Object.entries(before)) {
    const p = `${path}.${k}`;
    assert.ok(Object.hasOwn(after, k), p);
    if (v !== null && typeof v === "object") assertKept(v, after[k], p);
    else assert.equal(after[k], v, p);
  }
  if (Array.isArray(before)) assert.equal(after.length, before.length, path);
}

describe("produce: from the declarations", () => {
  for (const type of EVENT_TYPES) {
    it(`${type} from its declaration alone: valid, no deviation, every declared field written`, () => {
      const events = fromSpec(type, 400);
      const seen = new Set<string>();
      for (const event of events) {
        const text = JSON.stringify({ event_type: type, event });
        const v = validateRecord(JSON.parse(text));
        assert.ok(v.ok, text);
        assert.deepEqual(v.deviations, [], text);
        valuePaths(event, "", seen);
      }
      const missing = declaredPaths(FIELD_SPECS[type]).filter(
        (p) => ![...seen].some((s) => s === p || s.startsWith(`${p}.`)),
      );
      assert.deepEqual(missing, []);
    });

    it(`${type}: a full record (every field, arrays of one) is one the fast check accepts`, () => {
      const filler = new SpecFiller(new Rng(2, type), pools, { full: true });
      const record = {
        event_type: type,
        event: filler.complete(FIELD_SPECS[type], { version: 1, time: TIME }),
      };
      assert.ok(fastAccept(record), JSON.stringify(record));
      const paths = valuePaths(record.event, "", new Set());
      const flat = declaredPaths(FIELD_SPECS[type], "", true);
      for (const p of declaredPaths(FIELD_SPECS[type]).filter((x) => !flat.includes(x)))
        assert.ok(
          [...paths].some((s) => s === p || s.startsWith(`${p}.`)),
          `${type}: ${p}`,
        );
    });
  }

  it("values of the field's kind, from the pools: IPv4 and IPv6, ports, listed values, mixed-case e-mails, nulls", () => {
    const events = fromSpec("network_access", 2000);
    const ips = events.map((e) => e.connection.client_ip);
    assert.ok(ips.every(isIpText));
    assert.ok(ips.some((ip) => ip.includes(":")) && ips.some((ip) => !ip.includes(":")));
    const ports = new Set(events.map((e) => e.resource?.port).filter((p) => p !== undefined && p !== null));
    assert.ok([...ports].every((p) => pools.resources.some((r) => r.ports.includes(p))));
    // the doc's list is the statuses drawn from
    assert.deepEqual([...new Set(events.map((e) => e.status))].sort(), [
      "closed_connection",
      "denied_access",
      "established_connection",
      "failed_to_connect",
    ]);
    const emails = events.map((e) => e.user?.email).filter((m): m is string => typeof m === "string");
    assert.ok(emails.every((m) => pools.users.some((u) => u.email === m.toLowerCase())));
    assert.ok(emails.some((m) => m !== m.toLowerCase()) && emails.some((m) => m === m.toLowerCase()));
    assert.ok(events.some((e) => e.location === null) && events.some((e) => e.location?.lat !== undefined));
    for (const e of events)
      if (e.location?.lat !== undefined && e.location.lat !== null) assert.ok(Math.abs(e.location.lat) <= 90);
  });

  it("is deterministic per seed", () => {
    assert.deepEqual(fromSpec("audit_log", 50, 3), fromSpec("audit_log", 50, 3));
    assert.notDeepEqual(fromSpec("audit_log", 50, 3), fromSpec("audit_log", 50, 4));
  });

  it("completion keeps every value the hand-written generators wrote, and every key they left out on purpose", () => {
    const rng = new Rng(5);
    for (const type of EVENT_TYPES) {
      for (let i = 0; i < 3000; i++) {
        const draft = handWritten(rng, pools, type, TIME);
        const before = structuredClone(draft);
        const after = new SpecFiller(new Rng(9, i), pools).complete(FIELD_SPECS[type], draft);
        assertKept(before, after, type);
      }
    }
  });

  it("a field added to a declaration is written wherever its object is, and nothing else changes", () => {
    // network_access with `connection.tls_version` declared
    const na = FIELD_SPECS.network_access;
    const connection = na["connection"];
    assert.ok(connection?.t === "obj");
    const grown: FieldSpecs = {
      ...na,
      connection: {
        ...connection,
        f: { ...connection.f, tls_version: specOf(keyword({ doc: "TLS1.2, TLS1.3" })) },
      },
    };
    const rng = new Rng(6);
    const values = new Set<unknown>();
    for (let i = 0; i < 3000; i++) {
      const draft = handWritten(rng, pools, "network_access", TIME);
      const text = JSON.stringify(draft);
      const after: Any = new SpecFiller(new Rng(9, i), pools).complete(grown, draft);
      values.add(after.connection.tls_version);
      delete after.connection.tls_version;
      // the user of a service account's connection, the bytes of a denial stay out
      assert.equal(JSON.stringify(after), text);
    }
    assert.deepEqual([...values].sort(), ["TLS1.2", "TLS1.3", null]);
  });

  it("documented values: a list or an example, never a sentence", () => {
    assert.deepEqual(documentedValues("passed, failed"), ["passed", "failed"]);
    assert.deepEqual(documentedValues("e.g. block_upload"), ["block_upload"]);
    assert.deepEqual(documentedValues("PublicAPIKey, resource, user, group, ..."), [
      "PublicAPIKey",
      "resource",
      "user",
      "group",
    ]);
    assert.deepEqual(documentedValues("read only, read write, provision"), [
      "read only",
      "read write",
      "provision",
    ]);
    assert.equal(documentedValues("the user's e-mail address"), undefined);
    assert.equal(documentedValues("for denied and failed connections"), undefined);
    assert.equal(
      documentedValues("the resource's address as configured (a DNS name, an IP, a CIDR)"),
      undefined,
    );
    assert.equal(documentedValues(undefined), undefined);
  });
});
