/**
 * Differential property test of validateRecord's hand-written fast path against zod.
 *
 * The fast path (fastAccept, src/core/events/index.ts) may only ever ACCEPT records zod accepts; everything
 * else goes to zod. Valid records of the four event types (fixtures, variants, benchmark records) are
 * mutated at random (fields removed, wrong types, empty strings, null, out-of-range numbers, bad IPs and
 * times, extra fields, arrays for objects, NaN-ish strings), including at every path the schemas know
 * (so optional sub-objects absent from the seeds get filled in too). For each case:
 * - fastAccept(x) implies zod (the strict schema) accepts x and the normaliser finds no deviation;
 * - validateRecord(x) equals the full path validateRecordFull(x) (ok or not, reason, path, message,
 *   deviations), and both give the same document, id and index;
 * - whatever zod accepts is placed.
 *
 * FUZZ_RUNS / FUZZ_SEED as in fuzz-validate.test.ts.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { z } from "zod";
import { record as benchRecord } from "../../bench/lib/records.ts";
import { toIndexAction } from "../../src/core/documents/index.ts";
import {
  fastAccept,
  normalisationOf,
  RECORD_SCHEMAS,
  TwingateRecordSchema,
  validateRecord,
  validateRecordFull,
} from "../../src/core/events/index.ts";
import { EVENT_TYPES, type EventType } from "../../src/core/model.ts";
import { FIELD_SPECS } from "../../src/core/streams/index.ts";
import { SpecFiller } from "../../src/tools/produce/from-spec.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { Rng } from "../../src/tools/produce/prng.ts";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 1500);
const SEED = process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : undefined;
const params = (scale = 1) => ({
  numRuns: Math.max(10, Math.round(RUNS * scale)),
  ...(SEED ? { seed: SEED } : {}),
});

// biome-ignore lint/suspicious/noExplicitAny: mutations edit JSON freely
type Json = any;

const FIXTURES = new URL("../fixtures/files/", import.meta.url);
const text = (name: string) => readFileSync(new URL(name, FIXTURES), "utf8");
const SEEDS: Json[] = [
  ...EVENT_TYPES.map((t) => JSON.parse(text(`${t}.json`))),
  ...text("variants.ndjson")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l)),
  ...text("seed.ndjson")
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l)),
  // the benchmark generator: all four types (70/20/5/5 over i mod 20)
  ...[0, 1, 14, 15, 16, 18, 19].map((i) => JSON.parse(benchRecord(i, Date.UTC(2025, 6, 25)))),
].filter((r) => TwingateRecordSchema.safeParse(r).success);

/** Every path the record schemas know, per event type (array elements as index 0). */
type Path = (string | number)[];
function schemaPaths(schema: z.core.$ZodType, prefix: Path, out: Path[]): Path[] {
  const def = schema._zod.def as Json;
  switch (def.type) {
    case "object":
      for (const [k, s] of Object.entries(def.shape as Record<string, z.core.$ZodType>)) {
        out.push([...prefix, k]);
        schemaPaths(s, [...prefix, k], out);
      }
      break;
    case "optional":
    case "nullable":
      schemaPaths(def.innerType, prefix, out);
      break;
    case "array":
      out.push([...prefix, 0]);
      schemaPaths(def.element, [...prefix, 0], out);
      break;
    case "union":
      for (const o of def.options) schemaPaths(o, prefix, out);
      break;
  }
  return out;
}
const SCHEMA_PATHS = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, schemaPaths(RECORD_SCHEMAS[t] as z.core.$ZodType, [], [])]),
) as Record<EventType, Path[]>;

const TIME = "2025-07-25T18:19:41.236597+00:00";
const DEVICE = { id: "d", name: "n", model: { hostname: "h", local_name: "l", serial_number: "s" } };
/** A valid record per type with every field the schema knows present (arrays with one element). */
const FULL: { [K in EventType]?: Json } = {
  network_access: {
    event_type: "network_access",
    event: {
      version: 1,
      time: TIME,
      status: "established_connection",
      connection: {
        client_ip: "1.2.3.4",
        protocol: "tcp",
        bytes_received: 1,
        bytes_transferred: 2,
        error_message: "e",
      },
      connector: { id: "c", name: "n" },
      remote_network: { id: "r", name: "n" },
      resource: { address: "a", applied_rule: "r", id: "i", ip: "10.0.0.1", port: 443 },
      relays: [{ ip: "1.2.3.5", name: "relay", port: 30501 }],
      device: { id: "d" },
      user: { id: "u", email: "e@x" },
      service_account: { id: "s", name: "n", key: "k", key_id: "kid" },
      location: { lat: 1.5, lon: -2.5 },
    },
  },
  dns_filtering: {
    event_type: "dns_filtering",
    event: {
      version: "1",
      time: TIME,
      domain: "a.example.com",
      root: "example.com",
      status: "blocked",
      device: DEVICE,
      connection: { client_ip: "2001:db8::1", protocol: "DNS-over-HTTPS" },
      user: { id: "u", email: "e@x" },
      reasons: [{ id: "category:x", name: "X" }],
    },
  },
  audit_log: {
    event_type: "audit_log",
    event: {
      version: 1,
      time: "2021-08-15T14:30Z",
      action: "create",
      actor: { type: "user", id: "u", info: { email: "e@x", name: "n" } },
      targets: [
        {
          version: "1.0",
          type: "resource",
          id: "t",
          name: "n",
          email: "t@x",
          permission: "read only",
          state: "s",
          role: "r",
          isAdmin: false,
          isActive: true,
          address: { type: "DNS", value: "db.int" },
          allowedIpRanges: ["10.0.0.0/8"],
          location: "ON_PREMISE",
          remoteNetwork: { id: "rn", name: "office" },
          isTrusted: true,
          activeState: "ACTIVE",
          serialNumber: "S1",
          user: { id: "u", email: "u@x" },
        },
      ],
    },
  },
  data_loss_prevention: {
    event_type: "data_loss_prevention",
    event: {
      version: 1,
      time: TIME,
      action: "upload",
      status: "blocked",
      data_loss_prevention_policies: [{ id: "p", name: "n" }],
      device: { id: "d", name: "n" },
      user: { id: "u", email: "e@x" },
      resource: { address: "a", applied_rule: "r", id: "i" },
    },
  },
};

/** A stream's full record: the one above, or (a stream added since) the producer's from its declaration. */
function fullRecord(type: EventType): Json {
  const written = FULL[type];
  if (written) return written;
  const filler = new SpecFiller(new Rng(1, type), buildPools(1), { full: true });
  return { event_type: type, event: filler.complete(FIELD_SPECS[type], { version: 1, time: TIME }) };
}

/** Paths present in a value (the value itself included). */
function valuePaths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (v && typeof v === "object") {
    for (const [k, c] of Object.entries(v)) {
      // Array elements by index; a named key on an array (an "extra" mutation) stays a name.
      valuePaths(c, [...prefix, Array.isArray(v) && /^\d+$/.test(k) ? Number(k) : k], out);
    }
  }
  return out;
}

const EDGE_VALUES: unknown[] = [
  // strings: empty, blank, NaN-ish, numeric, versions
  "",
  " ",
  "x",
  "NaN",
  "Infinity",
  "-1",
  "0",
  "1",
  "01",
  "123456789",
  "1234567890",
  "1.0",
  "true",
  "null",
  "\u0000",
  "\ud800",
  // IPs, good and bad
  "1.2.3.4",
  "255.255.255.255",
  "0.0.0.0",
  "256.1.1.1",
  "01.2.3.4",
  "1.2.3",
  "1.2.3.4.",
  " 1.2.3.4",
  "1.2.3.4\n",
  "::1",
  "::",
  "fe80::1%eth0",
  "2001:db8::1",
  "2001:db8::1\n",
  "::ffff:1.2.3.4",
  "1::2::3",
  "::@1\\",
  "gggg::1",
  "[::1]",
  // times, good and bad
  "2025-07-25T18:19:41.236597+00:00",
  "2025-07-25T18:19:41Z",
  "2021-08-15T14:30Z",
  "2025-07-25T18:19:41.236597-05:30",
  "2025-02-30T00:00:00Z",
  "2025-07-25T24:00:00Z",
  "2025-07-25 18:19:41Z",
  "2025-07-25T18:19:41",
  "2025-07-25T18:19:41.1234567890Z",
  "0099-07-25T18:19:41Z",
  "not a time",
  // numbers: integers, bounds, fractions, non-finite, unsafe
  0,
  -0,
  1,
  -1,
  1.5,
  2,
  80,
  65535,
  65536,
  -90,
  90,
  90.0001,
  -90.5,
  180,
  -180,
  180.5,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  2 ** 60,
  1e-300,
  // other types
  null,
  undefined,
  true,
  false,
  {},
  [],
  [{}],
  ["x"],
  [null],
  [1],
  { id: "x", name: "y" },
  { id: 1 },
  { id: null, name: null },
  { hostname: "h" },
  { lat: 1, lon: 2 },
  { type: "user" },
  { ip: "1.2.3.4", port: 443 },
  { client_ip: "1.2.3.4" },
];
const DELETE = Symbol("delete");
const edgeValue = fc.constantFrom<unknown>(...EDGE_VALUES);

const anyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: edgeValue },
  { weight: 2, arbitrary: fc.constantFrom<unknown>("", null, undefined, "1.2.3.4", "x") },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

type Mutation =
  | { kind: "delete"; at: number }
  | { kind: "set"; at: number; value: unknown }
  | { kind: "wrap"; at: number } // the value inside an array
  | { kind: "extra"; at: number; key: string; value: unknown }
  | { kind: "deep"; at: number; value: unknown }; // at a path the schema knows, creating parents

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.nat().map((at) => ({ kind: "delete", at }) as Mutation),
  fc.record({ at: fc.nat(), value: anyValue }).map((m) => ({ kind: "set", ...m }) as Mutation),
  fc.nat().map((at) => ({ kind: "wrap", at }) as Mutation),
  fc
    .record({
      at: fc.nat(),
      // odd keys ("" and dotted) at any depth: the fast path's compiled key walk must send them to the normaliser
      key: fc.constantFrom("extra", "__proto__", "constructor", "toString", "id", "ip", "0", "", "a.b", ".x"),
      value: anyValue,
    })
    .map((m) => ({ kind: "extra", ...m }) as Mutation),
  fc.record({ at: fc.nat(), value: anyValue }).map((m) => ({ kind: "deep", ...m }) as Mutation),
);

function getParent(root: Json, path: Path): Json {
  let cur = root;
  for (const p of path.slice(0, -1)) cur = cur?.[p];
  return cur;
}

function apply(root: Json, mutation: Mutation): Json {
  // Values are copied in: the edge values are shared constants, and a later mutation must not edit them.
  const m = "value" in mutation ? { ...mutation, value: structuredClone(mutation.value) } : mutation;
  if (m.kind === "deep") {
    const type: unknown = root?.event_type;
    if (typeof type !== "string" || !Object.hasOwn(SCHEMA_PATHS, type)) return root;
    const paths = SCHEMA_PATHS[type as EventType];
    const path = paths[m.at % paths.length]!;
    let cur = root;
    for (let i = 0; i < path.length - 1; i++) {
      const k = path[i]!;
      const nextIsIndex = typeof path[i + 1] === "number";
      if (cur[k] === null || typeof cur[k] !== "object" || Array.isArray(cur[k]) !== nextIsIndex) {
        cur[k] = nextIsIndex ? [] : {};
      }
      cur = cur[k];
    }
    cur[path[path.length - 1]!] = m.value;
    return root;
  }
  const paths = valuePaths(root);
  const path = paths[m.at % paths.length]!;
  if (path.length === 0) {
    // the root itself
    if (m.kind === "set") return m.value;
    if (m.kind === "wrap") return [root];
    if (m.kind === "extra" && root && typeof root === "object") {
      Object.defineProperty(root, m.key, {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return root;
  }
  const parent = getParent(root, path);
  if (parent === null || typeof parent !== "object") return root;
  const last = path[path.length - 1]!;
  switch (m.kind) {
    case "delete":
      // An array element is removed; a named key an "extra" mutation put on an array is deleted like any
      // key (shortening an empty array for it threw a RangeError: a fuzz run failed on the harness itself).
      if (Array.isArray(parent) && typeof last === "number") {
        // no splice: it would consult a "constructor" key an earlier mutation may have set
        for (let i = Number(last); i < parent.length - 1; i++) parent[i] = parent[i + 1];
        parent.length--;
      } else delete parent[last];
      break;
    case "set":
      parent[last] = m.value;
      break;
    case "wrap":
      parent[last] = [parent[last]];
      break;
    case "extra": {
      const target = parent[last];
      if (target && typeof target === "object" && !Array.isArray(target)) {
        // defineProperty: "__proto__" as an own key, as JSON.parse makes it
        Object.defineProperty(target, m.key, {
          value: m.value,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      }
      break;
    }
  }
  return root;
}

const zodAccepts = (x: unknown) => TwingateRecordSchema.safeParse(x).success;

const SRC = { bucket: "b", key: "2025-07-25T18:20:00+00:00.json", ordinal: 0 };
const DOC_OPTS = { indexPrefix: "tg", ingestedAt: "2025-07-25T18:25:00.000Z" };

function check(x: unknown, stats: { fast: number; zodOnly: number; rejected: number }) {
  const fast = fastAccept(x);
  const zod = zodAccepts(x);
  if (fast) assert.ok(zod, `fastAccept accepted what zod rejects: ${safeShow(x)}`);
  const got = validateRecord(x);
  const expected = validateRecordFull(x);
  // the same verdict, reason, path, message, record and deviation list
  assert.deepEqual(got, expected);
  if (fast) {
    assert.ok(
      got.ok && got.deviations.length === 0,
      `the fast path accepted a record with deviations: ${safeShow(x)}`,
    );
    assert.equal(got.record, x, "on the fast path, the input object itself");
  }
  // what the strict schema accepts is always placed
  if (zod) assert.ok(got.ok, `placed: ${safeShow(x)}`);
  if (got.ok && expected.ok) {
    // ... and both paths give the same document and id
    const a = toIndexAction(got.record, SRC, DOC_OPTS);
    const b = toIndexAction(expected.record, SRC, DOC_OPTS);
    assert.equal(a.json!.join(""), b.json!.join(""));
    assert.equal(a.id, b.id);
    assert.equal(a.index, b.index);
    // no deviation and nothing for the catch-all (a declared `flat` value): the input object itself
    if (got.deviations.length === 0 && normalisationOf(got.record)?.flat === undefined)
      assert.equal(got.record, x, "no deviation: the input object itself");
  }
  if (fast) stats.fast++;
  else if (got.ok) stats.zodOnly++;
  else stats.rejected++;
}

function safeShow(x: unknown): string {
  try {
    return JSON.stringify(x, (_k, v) => (typeof v === "number" && !Number.isFinite(v) ? String(v) : v));
  } catch {
    return String(x);
  }
}

describe("validateRecord's fast path (differential, against zod)", () => {
  it("accepts every valid seed of the four types without zod", () => {
    const types = new Set<string>();
    for (const r of SEEDS) {
      const full = validateRecordFull(r);
      // a seed the normaliser changes (an empty resource.ip) or copies to the catch-all is the full path's
      if (full.ok && (full.deviations.length > 0 || normalisationOf(full.record)?.flat !== undefined))
        continue;
      assert.ok(fastAccept(r), `fast path accepts ${JSON.stringify(r)}`);
      types.add(r.event_type);
    }
    assert.deepEqual([...types].sort(), [...EVENT_TYPES].sort());
  });

  it("every schema path of a fully populated record, set to every edge value or removed (exhaustive)", () => {
    const stats = { fast: 0, zodOnly: 0, rejected: 0 };
    let cases = 0;
    for (const type of EVENT_TYPES) {
      const full = fullRecord(type);
      assert.ok(fastAccept(full), `the full ${type} record is accepted`);
      for (const path of SCHEMA_PATHS[type]) {
        const parent = getParent(full, path);
        assert.ok(parent !== null && typeof parent === "object", `${type}: ${path.join(".")} is populated`);
        const values = [...EDGE_VALUES, DELETE];
        for (const value of values) {
          const x = structuredClone(full);
          const at = getParent(x, path);
          const last = path[path.length - 1]!;
          if (value === DELETE) delete at[last];
          else at[last] = value;
          check(x, stats);
          const raw = JSON.stringify(x);
          if (raw !== undefined) check(JSON.parse(raw), stats);
          cases++;
        }
      }
    }
    assert.ok(cases > 5000, `${cases} cases`);
    // fast accepts, records placed with deviations (zodOnly) and unplaceable ones (rejected: time, event)
    assert.ok(stats.fast > 500 && stats.zodOnly > 2000 && stats.rejected > 50, JSON.stringify(stats));
  });

  it("mutated valid records: fastAccept implies zod accepts; validateRecord's result is zod's", () => {
    const stats = { fast: 0, zodOnly: 0, rejected: 0 };
    fc.assert(
      fc.property(
        fc.nat(),
        fc.array(mutation, { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (seedIndex, mutations, throughJson) => {
          let x: Json = structuredClone(SEEDS[seedIndex % SEEDS.length]);
          for (const m of mutations) x = apply(x, m);
          check(x, stats);
          if (throughJson) {
            // as the reader hands values over (non-finite numbers become null, undefined members vanish)
            const raw = JSON.stringify(x);
            if (raw !== undefined) check(JSON.parse(raw), stats);
          }
        },
      ),
      params(4),
    );
    // The mix exercises both sides: mutations that stay valid (fast), and rejections.
    assert.ok(stats.fast > 100, `fast accepts: ${JSON.stringify(stats)}`);
    assert.ok(stats.zodOnly + stats.rejected > 100, `normalised or rejected: ${JSON.stringify(stats)}`);
  });

  it("records built field by field from valid and edge values: fastAccept implies zod accepts", () => {
    const stats = { fast: 0, zodOnly: 0, rejected: 0 };
    fc.assert(
      fc.property(
        fc.constantFrom(...EVENT_TYPES),
        fc.array(fc.record({ at: fc.nat(), value: anyValue }), { minLength: 1, maxLength: 12 }),
        (type, sets) => {
          // A minimal valid record, then schema paths filled with values.
          let x: Json = structuredClone(SEEDS.find((s) => s.event_type === type));
          for (const s of sets) x = apply(x, { kind: "deep", ...s });
          check(x, stats);
        },
      ),
      params(4),
    );
    assert.ok(stats.fast > 20, `fast accepts: ${JSON.stringify(stats)}`);
  });
});
