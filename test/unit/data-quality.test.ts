/**
 * The data-quality corpus (test/fixtures/data-quality/cases.json, vendor-shaped: one case per kind of
 * deviation of issue #17's policy, docs/DATA-QUALITY.md) through validateRecord and toIndexAction: each
 * placeable record becomes a document of its stream with exactly the listed deviations and set-aside
 * values; the rest are rejected with their reason and path. Also: every field the index mappings type
 * is covered by the normaliser's specs, so no value of the wrong type reaches a typed field.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { documentId, toIndexAction } from "../../src/core/documents/index.ts";
import {
  FIELD_SPECS,
  type FieldSpec,
  validateRecord,
  validateRecordFull,
} from "../../src/core/events/index.ts";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { EVENT_MAPPINGS, flattenMappings } from "../../src/platform/opensearch/mappings.ts";

interface Case {
  name: string;
  bullet: string;
  record: Record<string, unknown>;
  expect: {
    stream: string | null;
    deviations?: string[];
    timestamp?: string;
    fields?: Record<string, unknown>;
    set_aside?: Record<string, unknown>;
    quarantine?: { reason: string; path: string };
  };
}

const CASES = JSON.parse(
  readFileSync(new URL("../fixtures/data-quality/cases.json", import.meta.url), "utf8"),
) as Case[];
const SRC = { bucket: "b", key: "2025-07-25T18:25:00+00:00.json", ordinal: 0 };
const OPTS = { indexPrefix: "tg", ingestedAt: "2025-07-25T18:30:00.000Z" };

function get(doc: unknown, path: string): unknown {
  let v = doc as Record<string, unknown> | undefined;
  for (const p of path.split(".")) v = v?.[p] as Record<string, unknown> | undefined;
  return v;
}

describe("data-quality corpus", () => {
  it("holds a case for each kind of bullet 1 (unplaceable), 2 (normalised) and 3 (set aside)", () => {
    for (const b of ["1", "2", "3"]) assert.ok(CASES.filter((c) => c.bullet === b).length >= 4, b);
  });

  for (const c of CASES) {
    it(`${c.bullet}: ${c.name}`, () => {
      const before = JSON.stringify(c.record);
      const v = validateRecord(structuredClone(c.record));
      assert.deepEqual(v, validateRecordFull(structuredClone(c.record)), "fast and full path agree");
      if (c.expect.quarantine) {
        assert.ok(!v.ok, "cannot be placed");
        if (v.ok) return;
        assert.equal(v.reason, c.expect.quarantine.reason);
        assert.equal(v.path, c.expect.quarantine.path);
        return;
      }
      assert.ok(v.ok, v.ok ? "" : v.message);
      if (!v.ok) return;
      assert.deepEqual(v.deviations.map((d) => `${d.path}:${d.action}`).sort(), c.expect.deviations);
      const action = toIndexAction(v.record, SRC, OPTS);
      const doc = JSON.parse(action.json!.join("")) as Record<string, unknown>;
      assert.equal(doc["event_type"], c.expect.stream);
      assert.ok(action.index.startsWith(`tg-${c.expect.stream}-`), action.index);
      // the id is the record's as received: a re-read of the file gives the same
      assert.equal(action.id, documentId(JSON.parse(before)));
      const ingest = doc["ingest"] as Record<string, unknown>;
      // the document also notes an event of a stream with principals that names none (documents.test.ts)
      const listed = ((ingest["deviations"] as string[] | undefined) ?? []).filter(
        (d) => d !== "no_principal",
      );
      assert.deepEqual([...listed].sort(), c.expect.deviations);
      if (c.expect.timestamp) assert.equal(doc["@timestamp"], c.expect.timestamp);
      // the vendor's paths (event.*) are under twingate.<stream> in the document
      const vendor = (path: string) => path.replace(/^event\./, `twingate.${c.expect.stream}.`);
      for (const [path, want] of Object.entries(c.expect.fields ?? {}))
        assert.deepEqual(get(doc, vendor(path)), want, path);
      assert.deepEqual(doc["set_aside"], c.expect.set_aside, "set aside verbatim, by path");
      for (const at of Object.keys(c.expect.set_aside ?? {}))
        assert.equal(get(doc, vendor(at)), undefined, `${at} is not in its typed field`);
    });
  }
});

/** The spec kinds a mapping type takes without refusing a document. */
const COMPATIBLE: Record<string, FieldSpec["t"][]> = {
  keyword: ["str"],
  text: ["str"],
  ip: ["ip"],
  long: ["count"],
  integer: ["port"],
  double: ["deg"],
  boolean: ["bool"],
};

function specAt(fields: Readonly<Record<string, FieldSpec>>, path: string[]): FieldSpec | undefined {
  let spec: FieldSpec | undefined = { t: "obj", f: fields };
  for (const p of path) {
    while (spec?.t === "arr") spec = spec.of;
    if (spec?.t !== "obj") return undefined;
    spec = spec.f[p];
  }
  while (spec?.t === "arr") spec = spec.of;
  return spec;
}

describe("mappings against the normaliser", () => {
  it("every typed field of every stream's event has a spec of a compatible kind", () => {
    for (const t of EVENT_TYPES) {
      const flat = flattenMappings({ properties: EVENT_MAPPINGS[t] });
      for (const [path, type] of flat) {
        const parts = path.split(".");
        if (parts.length > 1 && flat.has(parts.slice(0, -1).join("."))) continue; // a multi-field (name.text)
        if (type === "object") continue; // enabled: false (dns reasons): takes anything
        const spec = specAt(FIELD_SPECS[t], parts);
        assert.ok(spec, `${t}: event.${path} (${type}) has a spec`);
        assert.ok(COMPATIBLE[type]?.includes(spec!.t), `${t}: event.${path} is ${type}, spec ${spec!.t}`);
      }
    }
  });
});
