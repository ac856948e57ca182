/**
 * Property-based fuzzing of what follows the reader: validateRecord, toIndexAction, toQuarantineAction,
 * over arbitrary JSON and over valid Twingate records mutated at random paths, and of the whole
 * reader -> validator -> documents chain over corrupted file bytes.
 *
 * Properties: nothing throws, nothing hangs, every input ends as exactly one document (its index or
 * quarantine), ids are deterministic, and no input pollutes Object.prototype.
 *
 * FUZZ_RUNS scales the number of cases (CI default below; scripts/fuzz-nightly.mjs raises it).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import {
  documentId,
  recordDocument,
  toIndexAction,
  toQuarantineAction,
} from "../../src/core/documents/index.ts";
import { validateRecord } from "../../src/core/events/index.ts";
import type { IndexAction } from "../../src/core/model.ts";
import { readRecords } from "../../src/core/parse/index.ts";

const RUNS = Number(process.env["FUZZ_RUNS"] ?? 1500);
const SEED = process.env["FUZZ_SEED"] ? Number(process.env["FUZZ_SEED"]) : undefined;
const params = (scale = 1) => ({
  numRuns: Math.max(10, Math.round(RUNS * scale)),
  ...(SEED ? { seed: SEED } : {}),
});

const FIXTURES = new URL("../fixtures/files/", import.meta.url);
const VALID: unknown[] = ["network_access", "dns_filtering", "audit_log", "data_loss_prevention"].map((t) =>
  JSON.parse(readFileSync(new URL(`${t}.json`, FIXTURES), "utf8")),
);
const REASONS = new Set([
  "invalid_json",
  "record_too_large",
  "not_an_object",
  "unknown_event_type",
  "schema_invalid",
  "file_too_large",
  "decompression_ratio",
  "truncated_gzip",
  "syntax_error",
  "invalid_utf8",
]);
const SOURCE = { bucket: "b", key: "2025-07-25T18:20:00+00:00.json" };
const OPTS = { indexPrefix: "fz", ingestedAt: "2025-07-25T18:25:00.000Z" };

/** The one document a parsed value becomes (what ingestObject does for a record item). */
function documentFor(value: unknown, raw: string, ordinal: number): IndexAction {
  const v = validateRecord(value);
  if (v.ok) {
    const source = { ...SOURCE, ordinal };
    const action = toIndexAction(v.record, source, OPTS);
    // The serialiser writes exactly the defined document, and the id is the record's.
    assert.equal(action.json?.join(""), JSON.stringify(recordDocument(v.record, source, OPTS)));
    assert.equal(action.id, documentId(v.record));
    return action;
  }
  assert.ok(REASONS.has(v.reason), `known reason ${v.reason}`);
  assert.equal(typeof v.message, "string");
  assert.ok(v.message.length > 0 && v.message.length < 5000, "a bounded, non-empty message");
  return toQuarantineAction(
    {
      reason: v.reason,
      message: v.message,
      raw,
      ordinal,
      ...(v.path !== undefined ? { path: v.path } : {}),
      ...(v.eventType !== undefined ? { eventType: v.eventType } : {}),
    },
    SOURCE,
    OPTS,
  );
}

function checkAction(a: IndexAction) {
  assert.match(a.index, /^fz-[a-z0-9_.-]+$/, `index name ${a.index}`);
  assert.equal(typeof a.id, "string");
  assert.ok(a.id.length > 0 && a.id.length <= 512);
  assert.ok(a.kind === "record" || a.kind === "quarantine");
  // The document must survive the bulk body's serialisation.
  JSON.parse(JSON.stringify(a.document));
}

const protoBefore = Object.getOwnPropertyNames(Object.prototype).sort().join(",");
function assertNoPollution() {
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort().join(","), protoBefore);
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
}

/** Values JSON.parse can produce, including awkward keys. */
const key = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.constantFrom("__proto__", "constructor", "prototype", "event_type", "event", "time", "toString", ""),
);
const leaf = fc.oneof(
  fc.string({ maxLength: 20, unit: "binary" }),
  fc.double(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "1e400",
    "-1e400",
    "9007199254740993",
    "2025-07-25T18:19:41Z",
    "1.2.3.4",
    "\u0000\u001f",
    "\ud800",
  ),
);
const { json } = fc.letrec((tie) => ({
  json: fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("arr"), tie("obj")),
  arr: fc.array(tie("json"), { maxLength: 4 }),
  obj: fc.dictionary(key, tie("json"), { maxKeys: 5 }),
}));
/** Through text, as the reader hands values over (so "__proto__" is an own key, as JSON.parse makes it). */
const asParsed = (v: unknown) => {
  const raw = JSON.stringify(v) ?? "null";
  return { value: JSON.parse(raw) as unknown, raw };
};

type Path = (string | number)[];
function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (v && typeof v === "object") {
    for (const [k, c] of Object.entries(v)) paths(c, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

type Mutation = { kind: "delete" } | { kind: "set"; value: unknown } | { kind: "proto"; value: unknown };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: "delete" } as Mutation),
  json.map((value) => ({ kind: "set", value }) as Mutation),
  fc
    .constantFrom<unknown>(
      "",
      -1,
      0,
      1e308,
      Number.MAX_SAFE_INTEGER + 2,
      [],
      {},
      "x".repeat(5000),
      "not-an-ip",
      "2025-13-45T99:99:99Z",
      true,
    )
    .map((value) => ({ kind: "set", value }) as Mutation),
  json.map((value) => ({ kind: "proto", value }) as Mutation),
);

/** Applies mutations to a deep copy, as text (so numbers out of range become Infinity via "1e400"). */
function mutate(record: unknown, ms: { at: number; m: Mutation }[]): string {
  const copy = JSON.parse(JSON.stringify(record)) as Record<string, unknown>;
  for (const { at, m } of ms) {
    const all = paths(copy).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const p = all[at % all.length]!;
    let parent: Record<string | number, unknown> = copy;
    for (const seg of p.slice(0, -1)) parent = parent[seg] as Record<string | number, unknown>;
    const last = p[p.length - 1]!;
    if (m.kind === "delete") {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else if (m.kind === "set") parent[last] = m.value;
    else if (parent && typeof parent === "object" && !Array.isArray(parent)) {
      Object.defineProperty(parent, "__proto__", {
        value: m.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return JSON.stringify(copy).replace(/"__INF__"/g, "1e400");
}

describe("fuzz: validators and documents", () => {
  it("arbitrary JSON: never throws, always exactly one document", () => {
    fc.assert(
      fc.property(json, fc.nat(), (v, ordinal) => {
        const { value, raw } = asParsed(v);
        checkAction(documentFor(value, raw, ordinal));
      }),
      params(),
    );
    assertNoPollution();
  });

  it("arbitrary {event_type, event} for each known type: never throws, always one document", () => {
    const typed = fc.record({
      event_type: fc.constantFrom(
        "network_access",
        "dns_filtering",
        "audit_log",
        "data_loss_prevention",
        "other",
      ),
      event: fc.dictionary(
        fc.constantFrom(
          "version",
          "time",
          "status",
          "connection",
          "user",
          "device",
          "domain",
          "action",
          "target",
          "actor",
          "__proto__",
        ),
        json,
        { maxKeys: 8 },
      ),
    });
    fc.assert(
      fc.property(typed, (v) => {
        const { value, raw } = asParsed(v);
        checkAction(documentFor(value, raw, 0));
      }),
      params(),
    );
    assertNoPollution();
  });

  it("valid records mutated at random paths (types, deletions, out-of-range numbers, __proto__ keys)", () => {
    let valid = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        fc.constantFrom(...VALID),
        fc.array(fc.record({ at: fc.nat(), m: mutation }), { minLength: 1, maxLength: 4 }),
        fc.boolean(),
        (record, ms, infinity) => {
          let raw = mutate(record, ms);
          if (infinity) raw = raw.replace(/(?<=[:[,])(-?\d+(\.\d+)?)(?=[,\]}])/, "1e400");
          const value = JSON.parse(raw) as unknown;
          const a = documentFor(value, raw, 1);
          checkAction(a);
          if (a.kind === "record") valid++;
          else rejected++;
          // Deterministic: the same text gives the same id.
          assert.equal(documentFor(JSON.parse(raw), raw, 1).id, a.id);
        },
      ),
      params(),
    );
    assert.ok(rejected > 0, "mutations do get rejected");
    assert.ok(valid > 0, "some mutations stay valid");
    assertNoPollution();
  });

  it("the valid fixtures pass, and whitespace and layout do not change their id", () => {
    for (const r of VALID) {
      const a = documentFor(r, JSON.stringify(r), 0);
      assert.equal(a.kind, "record");
      const pretty = JSON.stringify(r, null, 2);
      assert.equal(documentFor(JSON.parse(pretty), pretty, 0).id, a.id);
    }
  });

  it("reader -> validator -> documents over corrupted bytes: every item ends as a document or a rejection", async () => {
    const file = fc.record({
      records: fc.array(fc.oneof(fc.constantFrom(...VALID), json), { maxLength: 8 }),
      layout: fc.constantFrom("ndjson", "array", "concat"),
      flips: fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      gzip: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(file, async (f) => {
        const text =
          f.layout === "ndjson"
            ? f.records.map((r) => JSON.stringify(r)).join("\n")
            : f.layout === "array"
              ? JSON.stringify(f.records)
              : f.records.map((r) => JSON.stringify(r, null, 1)).join("");
        let bytes = Buffer.from(text, "utf8");
        if (f.gzip) bytes = gzipSync(bytes);
        bytes = Buffer.from(bytes);
        for (const { at, byte } of f.flips) if (bytes.length > 0) bytes[at % bytes.length] = byte;
        if (f.cut !== undefined && bytes.length > 0) bytes = bytes.subarray(0, f.cut % bytes.length);
        let fileErrors = 0;
        let items = 0;
        for await (const item of readRecords(Readable.from([bytes]), {
          maxRecordBytes: 4096,
          maxFileBytes: 1 << 20,
        })) {
          items++;
          assert.equal(fileErrors, 0, "a file error is the last item");
          if (item.kind === "record") checkAction(documentFor(item.value, item.raw, item.ordinal));
          else if (item.kind === "rejected") {
            assert.ok(REASONS.has(item.rejection.reason));
            checkAction(toQuarantineAction(item.rejection, SOURCE, OPTS));
          } else {
            fileErrors++;
            assert.ok(REASONS.has(item.reason));
            checkAction(
              toQuarantineAction(
                { reason: item.reason, message: item.message, raw: "", ordinal: item.ordinal },
                SOURCE,
                OPTS,
              ),
            );
          }
        }
        assert.ok(items <= bytes.length + 1, "no more items than bytes");
      }),
      params(0.5),
    );
    assertNoPollution();
  });
});
