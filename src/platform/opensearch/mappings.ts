/**
 * Field mappings for the documents built from Twingate's records (see docs/MAPPINGS.md for the why).
 *
 * Policy: every object is `dynamic: false`. The vendor's fields are under `twingate.<stream>`, typed as their
 * stream declares them (src/core/streams/); ECS fields beside them; any field no declaration names is kept in
 * `_source` and copied to `twingate.flat` (a `flat_object`: every leaf searchable as a keyword, one field in
 * the mapping), so it can never cause a mapping conflict, a rejected document, or a mapping explosion.
 */
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import { FIELD_SPECS, type FieldSpec, type FieldSpecs, type MappingKind } from "../../core/streams/index.ts";

type Mapping = Record<string, unknown>;
type Props = Record<string, Mapping>;

/** Terms longer than this are not indexed (still in _source); protects against Lucene's 32 KiB term limit. */
const IGNORE_ABOVE = 1024;

/** The normalizer of case-blind keywords (index settings: LOWERCASE_ANALYSIS). */
export const LOWERCASE = "twingate_lowercase";
/** The index settings that define it (in the settings component template). */
export const LOWERCASE_ANALYSIS = { normalizer: { [LOWERCASE]: { type: "custom", filter: ["lowercase"] } } };

const kw = (): Mapping => ({ type: "keyword", ignore_above: IGNORE_ABOVE });
/** A case-blind keyword (e-mail addresses, DNS and host names): term queries match any spelling. */
const kwLower = (): Mapping => ({ type: "keyword", ignore_above: IGNORE_ABOVE, normalizer: LOWERCASE });
/** A keyword that people also search by words (device and person names): `.text` sub-field. */
const kwText = (lower = false): Mapping => ({
  type: "keyword",
  ignore_above: IGNORE_ABOVE,
  ...(lower ? { normalizer: LOWERCASE } : {}),
  fields: { text: { type: "text" } },
});
/** Free text that is also aggregated (error messages): text with a `.keyword` sub-field. */
const textKw = (): Mapping => ({
  type: "text",
  fields: { keyword: { type: "keyword", ignore_above: IGNORE_ABOVE } },
});
const ip = (): Mapping => ({ type: "ip" });
const long = (): Mapping => ({ type: "long" });
const port = (): Mapping => ({ type: "integer" });
const geo = (): Mapping => ({ type: "geo_point" });
const double = (): Mapping => ({ type: "double" });
const obj = (properties: Props): Mapping => ({ type: "object", dynamic: false, properties });

const ingest = (): Mapping =>
  obj({
    bucket: kw(),
    key: kw(),
    ordinal: long(),
    line: long(),
    ingested_at: { type: "date" },
    // milliseconds from the event's time to its ingestion (set by the document builder)
    lag_ms: long(),
    // data quality (docs/DATA-QUALITY.md): what was normalised, set aside or placed differently, as
    // `path:action` (e.g. event.resource.port:coerced) or a code (event_time_far_from_file_time), and the paths
    deviations: kw(),
    deviation_paths: kw(),
    file_time: { type: "date" },
    // the event_type as received when it was an alias of the stream (`network`)
    event_type_original: kw(),
  });

/**
 * The root of every index's mapping (events and quarantine): nothing dynamic, no date detection, and the
 * fields every document we write has (its time, its event_type, where it was read) around `fields`.
 */
const documentMapping = (fields: Props): Mapping => ({
  dynamic: false,
  date_detection: false,
  properties: { "@timestamp": { type: "date_nanos" }, event_type: kw(), ...fields, ingest: ingest() },
});

/** Fields every event document has, whatever its stream: ECS (docs/MAPPINGS.md) and the catch-all. */
export function commonMappings(): Mapping {
  const idEmailName = () => ({ id: kw(), email: kwLower(), name: kwText(true), domain: kwLower() });
  return documentMapping({
    twingate: obj({
      // every vendor value no declaration types (and the declared `flat` ones), by its path in the record
      flat: { type: "flat_object" },
      // the record's keys besides event_type and event, as sent
      envelope: { type: "object", enabled: false },
    }),
    event: obj({
      kind: kw(),
      category: kw(),
      type: kw(),
      action: kw(),
      outcome: kw(),
      dataset: kw(),
      module: kw(),
    }),
    observer: obj({ vendor: kw(), product: kw() }),
    source: obj({ ip: ip(), geo: obj({ location: geo() }) }),
    destination: obj({ address: kwLower(), domain: kwLower(), ip: ip(), port: port() }),
    network: obj({ transport: kw(), protocol: kw(), bytes: long() }),
    user: obj({ ...idEmailName(), target: obj(idEmailName()) }),
    host: obj({ id: kw(), name: kwText(true), hostname: kwLower() }),
    dns: obj({
      type: kw(),
      question: obj({ name: kwLower(), registered_domain: kwLower() }),
      reasons: kw(),
    }),
    rule: obj({ id: kw(), name: kw() }),
    related: obj({ ip: ip(), user: kwLower(), hosts: kwLower() }),
    // Values the normaliser took out of their typed fields, verbatim, keyed by path: kept, never parsed
    // (so never refused, whatever their type).
    set_aside: { type: "object", enabled: false },
  });
}

/** A declared leaf's mapping (its `map`, else its kind's default). */
function leafMapping(kind: MappingKind, lower: boolean): Mapping {
  switch (kind) {
    case "keyword":
      return lower ? kwLower() : kw();
    case "keyword_text":
      return kwText(lower);
    case "text_keyword":
      return textKw();
    case "ip":
      return ip();
    case "long":
      return long();
    case "integer":
      return port();
    case "double":
      return double();
    case "boolean":
      return { type: "boolean" };
    case "disabled":
      return { type: "object", enabled: false };
  }
}

const DEFAULT_MAPPING = {
  str: "keyword",
  ip: "ip",
  count: "long",
  port: "integer",
  deg: "double",
  reason: "disabled",
  bool: "boolean",
  flat: "disabled",
} as const satisfies Record<Exclude<FieldSpec["t"], "obj" | "arr">, MappingKind>;

/** A declared field's mapping: objects are `dynamic: false` objects, arrays map as their elements. */
export function fieldMapping(spec: FieldSpec): Mapping {
  switch (spec.t) {
    case "obj":
      return obj(propsOf(spec.f));
    case "arr":
      return fieldMapping(spec.of);
    default:
      return leafMapping(spec.map ?? DEFAULT_MAPPING[spec.t], spec.lower === true);
  }
}

function propsOf(fields: FieldSpecs): Props {
  const props: Props = {};
  for (const [k, spec] of Object.entries(fields)) props[k] = fieldMapping(spec);
  return props;
}

/** The vendor's `event` object per stream (at `twingate.<stream>`), from its declaration (src/core/streams/). */
export const EVENT_MAPPINGS = Object.fromEntries(EVENT_TYPES.map((t) => [t, propsOf(FIELD_SPECS[t])])) as {
  readonly [K in EventType]: Props;
};

export function eventMappings(type: EventType): Mapping {
  return { properties: { twingate: obj({ [type]: obj(EVENT_MAPPINGS[type]) }) } };
}

/** Records that could not be indexed as events. `raw` is stored (in _source) but not indexed. */
export function quarantineMappings(): Mapping {
  return documentMapping({
    quarantine: obj({
      reason: kw(),
      message: textKw(),
      path: kw(),
      raw: { type: "keyword", index: false, doc_values: false },
      raw_truncated: { type: "boolean" },
      record_id: kw(),
      // A summary of the rejections over the per-reason cap of one file (src/core/ingest/reject-cap.ts).
      summary: obj({
        count: { type: "long" },
        first_ordinal: { type: "long" },
        last_ordinal: { type: "long" },
        first_line: { type: "long" },
        last_line: { type: "long" },
      }),
    }),
  });
}

/** Every field path with its mapping type, flattened (multi-fields included as `a.b.text`). */
export function flattenMappings(m: Mapping, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  const props = (m["properties"] ?? {}) as Props;
  for (const [name, def] of Object.entries(props)) {
    const path = prefix ? `${prefix}.${name}` : name;
    if (def["properties"]) {
      for (const [k, v] of flattenMappings(def, path)) out.set(k, v);
    } else {
      out.set(path, String(def["type"] ?? "object"));
      for (const [sub, sdef] of Object.entries((def["fields"] ?? {}) as Props)) {
        out.set(`${path}.${sub}`, String(sdef["type"]));
      }
    }
  }
  return out;
}

/** Deep merge of mappings' `properties` (how OpenSearch composes component templates). */
export function mergeMappings(...ms: Mapping[]): Mapping {
  const out: Mapping = {};
  for (const m of ms) {
    for (const [k, v] of Object.entries(m)) {
      const prev = out[k];
      if (isPlainObject(prev) && isPlainObject(v)) out[k] = mergeMappings(prev, v);
      else out[k] = v;
    }
  }
  return out;
}

function isPlainObject(v: unknown): v is Mapping {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Types a Dashboards visualization can aggregate on. */
export const AGGREGATABLE_TYPES = new Set([
  "keyword",
  "long",
  "integer",
  "short",
  "byte",
  "double",
  "float",
  "date",
  "date_nanos",
  "ip",
  "boolean",
  "geo_point",
]);
