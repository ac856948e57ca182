/**
 * The OpenSearch Dashboards (2.x) saved objects, as data: index patterns, visualizations, saved searches and
 * dashboards. `dashboards/build.ts` writes them as NDJSON (`dashboards/twingate.ndjson`, for the default
 * prefix); `setup --dashboards-url` imports them for the configured prefix.
 *
 * Queries are Lucene syntax: Dashboards runs them as an OpenSearch `query_string`, so the tests can run
 * exactly the same query and aggregations against real data.
 */
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import {
  AGGREGATABLE_TYPES,
  commonMappings,
  eventMappings,
  flattenMappings,
  mergeMappings,
  quarantineMappings,
} from "../../platform/opensearch/mappings.ts";

export type PatternKey = EventType | "events" | "quarantine";

export interface AggSpec {
  id: string;
  type: "count" | "sum" | "max" | "avg" | "cardinality" | "date_histogram" | "terms" | "geohash_grid";
  schema: "metric" | "segment" | "group" | "split" | "bucket";
  params: Record<string, unknown>;
}

interface VisSpec {
  id: string;
  title: string;
  /** Shown by Dashboards beside the panel's title (what the panel counts, when that is not obvious). */
  description?: string;
  pattern: PatternKey;
  type: "histogram" | "line" | "area" | "pie" | "table" | "metric" | "tile_map" | "horizontal_bar";
  /** Lucene query ("" for all). */
  query: string;
  aggs: AggSpec[];
}

interface SearchSpec {
  id: string;
  title: string;
  pattern: PatternKey;
  query: string;
  columns: string[];
}

interface DashboardSpec {
  id: string;
  title: string;
  description: string;
  panels: { kind: "visualization" | "search"; id: string }[];
}

interface SavedObject {
  type: "index-pattern" | "visualization" | "search" | "dashboard";
  id: string;
  attributes: Record<string, unknown>;
  references: { name: string; type: string; id: string }[];
  migrationVersion?: Record<string, string>;
}

// ---- aggregation helpers -------------------------------------------------------------------------------

const count = (id = "1"): AggSpec => ({ id, type: "count", schema: "metric", params: {} });
/** A metric with its own label: the legend and the table header show it (else Dashboards writes
 * "Sum of <field>", truncated alike for two fields with a common beginning). */
const metric = (
  id: string,
  type: "sum" | "max" | "avg" | "cardinality",
  field: string,
  label: string,
): AggSpec => ({
  id,
  type,
  schema: "metric",
  params: { field, customLabel: label },
});
const overTime = (id = "2"): AggSpec => ({
  id,
  type: "date_histogram",
  schema: "segment",
  params: {
    field: "@timestamp",
    interval: "auto",
    min_doc_count: 1,
    extended_bounds: {},
    drop_partials: false,
    scaleMetricValues: false,
    useNormalizedOpenSearchInterval: true,
  },
});
/** A terms bucket; the label is required (without one Dashboards heads the column "<field>: Descending"). */
const terms = (
  id: string,
  field: string,
  size: number,
  schema: AggSpec["schema"],
  label: string,
): AggSpec => ({
  id,
  type: "terms",
  schema,
  params: {
    field,
    orderBy: "1",
    order: "desc",
    size,
    otherBucket: false,
    missingBucket: false,
    customLabel: label,
  },
});

/** Where the coordinate map opens (and what the saved object, its uiState and its dashboard panel say). */
const MAP_VIEW = { zoom: 2, center: [20, 0] as [number, number] };

/**
 * A coordinate map's geohash bucket, as Dashboards writes it, with one difference: `isFilteredByCollar` is
 * off. With it on (Dashboards' default), the first request is filtered by a placeholder box (lat 0..1) that
 * holds no point, and the markers come only from a second request the map sends once it knows its own
 * bounds and zoom; on a dashboard that second request does not always come (the panel's uiState, which
 * holds the zoom, is cleared there), and the panel stays empty while Visualize draws the same markers. Off,
 * the first request already returns every cell: the map draws at once, at any zoom.
 */
const geohash = (id: string, field: string): AggSpec => ({
  id,
  type: "geohash_grid",
  schema: "segment",
  params: {
    field,
    autoPrecision: true,
    precision: 2,
    useGeocentroid: true,
    isFilteredByCollar: false,
  },
});

/**
 * An index pattern's scripted field: the first of `sources` that has a value (e.g. an actor's e-mail, else
 * its name, else its id). Dashboards aggregates and shows it like a field, running the script in OpenSearch.
 */
export interface ScriptedFieldSpec {
  name: string;
  pattern: PatternKey;
  sources: string[];
}

export const SCRIPTED_FIELDS: ScriptedFieldSpec[] = [
  {
    name: "audit_actor",
    pattern: "audit_log",
    sources: [
      "twingate.audit_log.actor.info.email",
      "twingate.audit_log.actor.info.name",
      "twingate.audit_log.actor.id",
    ],
  },
];

/** The Painless source of a scripted field: the first source field with a value, else none. */
export function scriptOf(f: ScriptedFieldSpec): string {
  const tries = f.sources.map(
    (s) => `if (doc.containsKey('${s}') && doc['${s}'].size() > 0) { return doc['${s}'].value; }`,
  );
  return [...tries, "return null;"].join(" ");
}

export function scriptedField(pattern: PatternKey, name: string): ScriptedFieldSpec | undefined {
  return SCRIPTED_FIELDS.find((f) => f.pattern === pattern && f.name === name);
}

// ---- the content ---------------------------------------------------------------------------------------

/**
 * A quarantined record may have no usable time (often why it is quarantined), so its document is placed at
 * its ingestion (`@timestamp` = `ingest.ingested_at`), which every one has; placed by the file's time, those
 * whose file time is unknown would never show. The file's time is in its name (`ingest.key`).
 */
const QUARANTINE_TIME =
  "Placed at the time they were ingested, not at their file's time (a quarantined record may have no " +
  "usable time): a range that ends before the ingestion shows none. The file (named by its time) is listed.";

export const VISUALIZATIONS: VisSpec[] = [
  // Overview
  {
    id: "overview-events-over-time",
    title: "Twingate: events per type over time",
    pattern: "events",
    type: "histogram",
    query: "",
    aggs: [count(), overTime(), terms("3", "event_type", 10, "group", "Event type")],
  },
  {
    id: "overview-top-users",
    title: "Twingate: top users",
    pattern: "events",
    type: "table",
    query: "",
    aggs: [count(), terms("2", "user.email", 20, "bucket", "User")],
  },
  {
    id: "overview-top-resources",
    title: "Twingate: top resources",
    pattern: "events",
    type: "table",
    query: "",
    aggs: [count(), terms("2", "destination.address", 20, "bucket", "Resource")],
  },
  {
    id: "overview-denied-blocked",
    title: "Twingate: denied and blocked",
    pattern: "events",
    type: "metric",
    query: "event.outcome:failure",
    aggs: [count(), terms("2", "event_type", 10, "group", "Event type")],
  },
  {
    id: "overview-file-lag",
    title: "Twingate: ingestion lag (ms from event to index)",
    pattern: "events",
    type: "line",
    query: "",
    aggs: [
      metric("1", "max", "ingest.lag_ms", "Max lag (ms)"),
      metric("3", "avg", "ingest.lag_ms", "Average lag (ms)"),
      overTime(),
    ],
  },
  // Network access
  {
    id: "network-status-over-time",
    title: "Network access: connections by status over time",
    pattern: "network_access",
    type: "histogram",
    query: "",
    aggs: [count(), overTime(), terms("3", "event.action", 10, "group", "Status")],
  },
  {
    id: "network-bytes",
    title: "Network access: bytes in / out",
    pattern: "network_access",
    type: "area",
    query: "",
    aggs: [
      metric("1", "sum", "twingate.network_access.connection.bytes_received", "Bytes received"),
      metric("3", "sum", "twingate.network_access.connection.bytes_transferred", "Bytes transferred"),
      overTime(),
    ],
  },
  {
    id: "network-top-resources",
    title: "Network access: top resources",
    pattern: "network_access",
    type: "table",
    query: "",
    aggs: [count(), terms("2", "destination.address", 20, "bucket", "Resource")],
  },
  {
    id: "network-top-connectors",
    title: "Network access: top connectors",
    pattern: "network_access",
    type: "pie",
    query: "",
    aggs: [count(), terms("2", "twingate.network_access.connector.name", 10, "segment", "Connector")],
  },
  {
    id: "network-top-remote-networks",
    title: "Network access: top remote networks",
    pattern: "network_access",
    type: "pie",
    query: "",
    aggs: [
      count(),
      terms("2", "twingate.network_access.remote_network.name", 10, "segment", "Remote network"),
    ],
  },
  {
    id: "network-denied-failed",
    title: "Network access: denied and failed connections",
    pattern: "network_access",
    type: "table",
    query: "event.action:(denied_access OR failed_to_connect)",
    aggs: [
      count(),
      terms("2", "event.action", 5, "bucket", "Status"),
      terms("3", "destination.address", 20, "bucket", "Resource"),
      terms("4", "host.id", 20, "bucket", "Device"),
    ],
  },
  {
    id: "network-client-map",
    title: "Network access: client locations",
    pattern: "network_access",
    type: "tile_map",
    query: "",
    aggs: [count(), geohash("2", "source.geo.location")],
  },
  // DNS filtering
  {
    id: "dns-queries-over-time",
    title: "DNS filtering: queries over time",
    pattern: "dns_filtering",
    type: "histogram",
    query: "",
    aggs: [count(), overTime(), terms("3", "event.action", 5, "group", "Status")],
  },
  {
    id: "dns-blocked-vs-allowed",
    title: "DNS filtering: blocked vs allowed",
    pattern: "dns_filtering",
    type: "pie",
    query: "",
    aggs: [count(), terms("2", "event.action", 5, "segment", "Status")],
  },
  {
    id: "dns-top-blocked-domains",
    title: "DNS filtering: top blocked domains",
    pattern: "dns_filtering",
    type: "table",
    query: "event.action:blocked",
    aggs: [count(), terms("2", "dns.question.name", 20, "bucket", "Domain")],
  },
  {
    id: "dns-top-blocked-roots",
    title: "DNS filtering: top blocked root domains",
    pattern: "dns_filtering",
    type: "table",
    query: "event.action:blocked",
    aggs: [count(), terms("2", "dns.question.registered_domain", 20, "bucket", "Root domain")],
  },
  {
    id: "dns-top-reasons",
    title: "DNS filtering: top block reasons",
    pattern: "dns_filtering",
    type: "pie",
    query: "event.action:blocked",
    aggs: [count(), terms("2", "dns.reasons", 10, "segment", "Reason")],
  },
  {
    id: "dns-devices-most-blocks",
    title: "DNS filtering: devices with most blocks",
    pattern: "dns_filtering",
    type: "table",
    query: "event.action:blocked",
    aggs: [count(), terms("2", "host.name", 20, "bucket", "Device")],
  },
  // Audit log
  {
    id: "audit-actions-over-time",
    title: "Audit log: actions over time by target type",
    pattern: "audit_log",
    type: "histogram",
    query: "",
    aggs: [count(), overTime(), terms("3", "twingate.audit_log.targets.type", 10, "group", "Target type")],
  },
  {
    id: "audit-by-actor",
    title: "Audit log: actions by actor",
    pattern: "audit_log",
    type: "table",
    query: "",
    aggs: [
      count(),
      terms("2", "twingate.audit_log.actor.type", 5, "bucket", "Actor type"),
      // the actor's e-mail, else its name, else its id (an id alone says nothing to a reader)
      terms("3", "audit_actor", 20, "bucket", "Actor"),
      terms("4", "event.action", 5, "bucket", "Action"),
    ],
  },
  {
    id: "audit-targets-changed",
    title: "Audit log: targets changed",
    pattern: "audit_log",
    type: "table",
    query: "",
    aggs: [
      count(),
      terms("2", "twingate.audit_log.targets.type", 10, "bucket", "Target type"),
      terms("3", "twingate.audit_log.targets.name", 20, "bucket", "Target"),
    ],
  },
  // DLP
  {
    id: "dlp-blocked-over-time",
    title: "DLP: blocked uploads / downloads over time",
    pattern: "data_loss_prevention",
    type: "histogram",
    query: "event.outcome:failure",
    aggs: [count(), overTime(), terms("3", "event.action", 10, "group", "Action")],
  },
  {
    id: "dlp-policies",
    title: "DLP: policies triggered",
    pattern: "data_loss_prevention",
    type: "pie",
    query: "",
    aggs: [count(), terms("2", "rule.name", 10, "segment", "Policy")],
  },
  {
    id: "dlp-users",
    title: "DLP: users",
    pattern: "data_loss_prevention",
    type: "table",
    query: "",
    aggs: [count(), terms("2", "user.email", 20, "bucket", "User")],
  },
  {
    id: "dlp-devices",
    title: "DLP: devices",
    pattern: "data_loss_prevention",
    type: "table",
    query: "",
    aggs: [count(), terms("2", "host.name", 20, "bucket", "Device")],
  },
  // Ingestion health
  {
    id: "ingest-deviations-over-time",
    title: "Ingestion health: indexed events with deviations over time (docs/DATA-QUALITY.md)",
    pattern: "events",
    type: "histogram",
    query: "_exists_:ingest.deviations",
    aggs: [count(), overTime(), terms("3", "event_type", 10, "group", "Event type")],
  },
  {
    id: "ingest-deviation-paths",
    title: "Ingestion health: top deviations (path:action)",
    pattern: "events",
    type: "table",
    query: "_exists_:ingest.deviations",
    aggs: [
      count(),
      terms("2", "ingest.deviations", 30, "bucket", "Deviation"),
      terms("3", "event_type", 5, "bucket", "Event type"),
    ],
  },
  {
    id: "ingest-quarantine-by-reason",
    title: "Ingestion health: quarantined records by reason, at ingestion time",
    description: QUARANTINE_TIME,
    pattern: "quarantine",
    type: "histogram",
    query: "",
    aggs: [count(), overTime(), terms("3", "quarantine.reason", 10, "group", "Reason")],
  },
  {
    id: "ingest-quarantine-files",
    title: "Ingestion health: files with quarantined records, at ingestion time",
    description: QUARANTINE_TIME,
    pattern: "quarantine",
    type: "table",
    query: "",
    aggs: [
      count(),
      terms("2", "ingest.key", 20, "bucket", "File"),
      terms("3", "quarantine.reason", 10, "bucket", "Reason"),
    ],
  },
];

export const SEARCHES: SearchSpec[] = [
  {
    id: "search-denied-access-by-user",
    title: "Investigate: denied access by user",
    pattern: "network_access",
    query: "event.action:denied_access",
    columns: [
      "user.email",
      "destination.address",
      "twingate.network_access.connection.error_message",
      "source.ip",
    ],
  },
  {
    id: "search-blocked-dns-by-device",
    title: "Investigate: blocked DNS by device",
    pattern: "dns_filtering",
    query: "event.action:blocked",
    columns: ["host.name", "dns.question.name", "dns.reasons", "source.ip"],
  },
  {
    id: "search-admin-deletes",
    title: "Investigate: admin deletes",
    pattern: "audit_log",
    query: "event.action:delete",
    columns: [
      "twingate.audit_log.actor.type",
      "audit_actor",
      "twingate.audit_log.targets.type",
      "twingate.audit_log.targets.name",
    ],
  },
  {
    id: "search-audit-recent-changes",
    title: "Audit log: recent changes",
    pattern: "audit_log",
    query: "",
    columns: [
      "event.action",
      "twingate.audit_log.actor.type",
      "audit_actor",
      "twingate.audit_log.targets.type",
      "twingate.audit_log.targets.name",
    ],
  },
  {
    id: "search-quarantine",
    title: "Ingestion health: quarantined records, at ingestion time",
    pattern: "quarantine",
    query: "",
    columns: ["quarantine.reason", "quarantine.path", "quarantine.message", "ingest.key"],
  },
];

const DASHBOARDS: DashboardSpec[] = [
  {
    id: "overview",
    title: "Twingate: Overview",
    description: "Events per type, top users and resources, denied/blocked counts, ingestion lag",
    panels: [
      { kind: "visualization", id: "overview-events-over-time" },
      { kind: "visualization", id: "overview-denied-blocked" },
      { kind: "visualization", id: "overview-top-users" },
      { kind: "visualization", id: "overview-top-resources" },
      { kind: "visualization", id: "overview-file-lag" },
    ],
  },
  {
    id: "network-access",
    title: "Twingate: Network access",
    description:
      "Connections by status, bytes, top resources / connectors / remote networks, denials, locations",
    panels: [
      { kind: "visualization", id: "network-status-over-time" },
      { kind: "visualization", id: "network-bytes" },
      { kind: "visualization", id: "network-top-resources" },
      { kind: "visualization", id: "network-top-connectors" },
      { kind: "visualization", id: "network-top-remote-networks" },
      { kind: "visualization", id: "network-denied-failed" },
      { kind: "visualization", id: "network-client-map" },
      { kind: "search", id: "search-denied-access-by-user" },
    ],
  },
  {
    id: "dns-filtering",
    title: "Twingate: DNS filtering",
    description: "Queries, blocked vs allowed, top blocked domains and root domains, reasons, devices",
    panels: [
      { kind: "visualization", id: "dns-queries-over-time" },
      { kind: "visualization", id: "dns-blocked-vs-allowed" },
      { kind: "visualization", id: "dns-top-blocked-domains" },
      { kind: "visualization", id: "dns-top-blocked-roots" },
      { kind: "visualization", id: "dns-top-reasons" },
      { kind: "visualization", id: "dns-devices-most-blocks" },
      { kind: "search", id: "search-blocked-dns-by-device" },
    ],
  },
  {
    id: "audit-log",
    title: "Twingate: Audit log",
    description: "Admin actions over time, by actor, targets changed, recent changes",
    panels: [
      { kind: "visualization", id: "audit-actions-over-time" },
      { kind: "visualization", id: "audit-by-actor" },
      { kind: "visualization", id: "audit-targets-changed" },
      { kind: "search", id: "search-audit-recent-changes" },
    ],
  },
  {
    id: "dlp",
    title: "Twingate: Data loss prevention",
    description: "Blocked uploads and downloads, policies, users, devices",
    panels: [
      { kind: "visualization", id: "dlp-blocked-over-time" },
      { kind: "visualization", id: "dlp-policies" },
      { kind: "visualization", id: "dlp-users" },
      { kind: "visualization", id: "dlp-devices" },
    ],
  },
  {
    id: "ingestion-health",
    title: "Twingate: Ingestion health",
    description:
      "Records quarantined by reason, and the files they came from (placed at their ingestion time, not their " +
      "file's); events indexed with deviations (data quality)",
    panels: [
      { kind: "visualization", id: "ingest-deviations-over-time" },
      { kind: "visualization", id: "ingest-deviation-paths" },
      { kind: "visualization", id: "ingest-quarantine-by-reason" },
      { kind: "visualization", id: "ingest-quarantine-files" },
      { kind: "search", id: "search-quarantine" },
    ],
  },
];

// ---- saved objects -------------------------------------------------------------------------------------

/** The index pattern title (what it matches) for a key. */
export function patternTitle(prefix: string, key: PatternKey): string {
  if (key === "events") return EVENT_TYPES.map((t) => `${prefix}-${t}-*`).join(",");
  return `${prefix}-${key}-*`;
}

const patternId = (prefix: string, key: PatternKey) => `${prefix}-ip-${key}`;
const objId = (prefix: string, id: string) => `${prefix}-${id}`;
const INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index";

function searchSource(query: string): string {
  return JSON.stringify({
    query: { query, language: "lucene" },
    filter: [],
    indexRefName: INDEX_REF,
  });
}

export const PATTERN_KEYS: PatternKey[] = ["events", ...EVENT_TYPES, "quarantine"];

// ---- index pattern field lists --------------------------------------------------------------------------

type Mapping = Record<string, unknown>;

/** The mappings of the indices a pattern matches (as the index templates compose them). */
export function patternMappings(key: PatternKey): Mapping[] {
  if (key === "quarantine") return [quarantineMappings()];
  const types: readonly EventType[] = key === "events" ? EVENT_TYPES : [key];
  return types.map((t) => mergeMappings(commonMappings(), eventMappings(t)));
}

/** A field as Dashboards stores it in an index pattern's `fields` (what it would read from _field_caps). */
export interface FieldSpec {
  name: string;
  type: string;
  esTypes?: string[];
  count: 0;
  scripted: boolean;
  searchable: boolean;
  aggregatable: boolean;
  readFromDocValues: boolean;
  script?: string;
  lang?: "painless";
  subType?: { multi: { parent: string } };
}

/** OpenSearch's type -> Dashboards' field type. */
function dashboardsType(esType: string): string {
  switch (esType) {
    case "keyword":
    case "text":
      return "string";
    case "long":
    case "integer":
    case "short":
    case "byte":
    case "double":
    case "float":
    case "half_float":
    case "scaled_float":
    case "unsigned_long":
      return "number";
    case "date":
    case "date_nanos":
      return "date";
    default:
      return esType; // ip, boolean, geo_point
  }
}

/** The definition of a flattened path in a mapping (a multi-field `a.b.text` under `a.b`'s `fields`). */
function definitionAt(m: Mapping, path: string): { def: Mapping; parent?: string } | undefined {
  let props = m["properties"] as Record<string, Mapping> | undefined;
  const parts = path.split(".");
  for (let i = 0; i < parts.length; i++) {
    const def = props?.[parts[i]!];
    if (!def) return undefined;
    if (i === parts.length - 1) return { def };
    const sub = (def["fields"] as Record<string, Mapping> | undefined)?.[parts[i + 1]!];
    if (sub && i === parts.length - 2 && !def["properties"])
      return { def: sub, parent: parts.slice(0, i + 1).join(".") };
    props = def["properties"] as Record<string, Mapping> | undefined;
  }
  return undefined;
}

/** Fields OpenSearch reports besides the mapped ones, as Dashboards lists them. */
const META_FIELDS: FieldSpec[] = [
  ["_id", "string", true, true],
  ["_index", "string", true, true],
  ["_score", "number", false, false],
  ["_source", "_source", false, false],
].map(([name, type, searchable, aggregatable]) => ({
  name: String(name),
  type: String(type),
  esTypes: [String(name)],
  count: 0,
  scripted: false,
  searchable: Boolean(searchable),
  aggregatable: Boolean(aggregatable),
  readFromDocValues: false,
}));

/**
 * An index pattern's field list, from the mappings (so it follows them): shipped with the pattern, Dashboards
 * needs no field refresh on first view (which every panel of a dashboard wrote at once: HTTP 409s). Object
 * fields and unindexed objects (`enabled: false`) are not fields; a path typed differently by two streams
 * would be a `conflict` (a unit test keeps there being none).
 */
export function patternFields(key: PatternKey): FieldSpec[] {
  const byName = new Map<string, FieldSpec>();
  for (const m of patternMappings(key)) {
    for (const [name, esType] of flattenMappings(m)) {
      const at = definitionAt(m, name);
      if (!at || esType === "object" || at.def["enabled"] === false) continue;
      const searchable = at.def["index"] !== false;
      const aggregatable = AGGREGATABLE_TYPES.has(esType) && at.def["doc_values"] !== false;
      const field: FieldSpec = {
        name,
        type: dashboardsType(esType),
        esTypes: [esType],
        count: 0,
        scripted: false,
        searchable,
        aggregatable,
        readFromDocValues: aggregatable,
        ...(at.parent ? { subType: { multi: { parent: at.parent } } } : {}),
      };
      const seen = byName.get(name);
      if (seen && seen.esTypes?.[0] !== esType) {
        byName.set(name, { ...seen, type: "conflict", aggregatable: false, searchable: true });
      } else byName.set(name, field);
    }
  }
  const scripted: FieldSpec[] = SCRIPTED_FIELDS.filter((f) => f.pattern === key).map((f) => ({
    name: f.name,
    type: "string",
    count: 0,
    scripted: true,
    script: scriptOf(f),
    lang: "painless",
    searchable: true,
    aggregatable: true,
    readFromDocValues: false,
  }));
  return [...META_FIELDS, ...[...byName.values()].sort((a, b) => a.name.localeCompare(b.name)), ...scripted];
}

function visParams(v: VisSpec): Record<string, unknown> {
  const seriesParams = v.aggs
    .filter((a) => a.schema === "metric")
    .map((a) => ({
      show: true,
      type: v.type === "histogram" ? "histogram" : v.type === "area" ? "area" : "line",
      mode: v.type === "histogram" ? "stacked" : "normal",
      data: { label: a.type === "count" ? "Count" : String(a.params["customLabel"]), id: a.id },
      valueAxis: "ValueAxis-1",
      drawLinesBetweenPoints: true,
      showCircles: true,
    }));
  switch (v.type) {
    case "histogram":
    case "line":
    case "area":
      return {
        type: v.type,
        grid: { categoryLines: false },
        categoryAxes: [
          {
            id: "CategoryAxis-1",
            type: "category",
            position: "bottom",
            show: true,
            scale: { type: "linear" },
            labels: { show: true, filter: true, truncate: 100 },
            title: {},
          },
        ],
        valueAxes: [
          {
            id: "ValueAxis-1",
            name: "LeftAxis-1",
            type: "value",
            position: "left",
            show: true,
            scale: { type: "linear", mode: "normal" },
            labels: { show: true, rotate: 0, filter: false, truncate: 100 },
            title: { text: "" },
          },
        ],
        seriesParams,
        addTooltip: true,
        addLegend: true,
        legendPosition: "right",
        times: [],
        addTimeMarker: false,
      };
    case "pie":
      return {
        type: "pie",
        addTooltip: true,
        addLegend: true,
        legendPosition: "right",
        isDonut: true,
        labels: { show: false, values: true, last_level: true, truncate: 100 },
      };
    case "table":
      return {
        perPage: 10,
        showPartialRows: false,
        showMetricsAtAllLevels: false,
        showTotal: false,
        totalFunc: "sum",
        percentageCol: "",
      };
    case "metric":
      return {
        addTooltip: true,
        addLegend: false,
        type: "metric",
        metric: {
          percentageMode: false,
          useRanges: false,
          colorSchema: "Green to Red",
          metricColorMode: "None",
          colorsRange: [{ from: 0, to: 10000 }],
          labels: { show: true },
          invertColors: false,
          style: { bgFill: "#000", bgColor: false, labelColor: false, subText: "", fontSize: 60 },
        },
      };
    case "tile_map":
      return {
        colorSchema: "Yellow to Red",
        mapType: "Scaled Circle Markers",
        isDesaturated: true,
        addTooltip: true,
        heatClusterSize: 1.5,
        legendPosition: "bottomright",
        mapZoom: MAP_VIEW.zoom,
        mapCenter: MAP_VIEW.center,
        wms: { enabled: false, options: { format: "image/png", transparent: true } },
      };
    default:
      return {};
  }
}

/** What Dashboards keeps beside a visualization (and in its dashboard panel): a map's view. */
function uiState(v: VisSpec | undefined): Record<string, unknown> {
  return v?.type === "tile_map" ? { mapZoom: MAP_VIEW.zoom, mapCenter: MAP_VIEW.center } : {};
}

function visualization(prefix: string, v: VisSpec): SavedObject {
  const visState = {
    title: v.title,
    type: v.type,
    params: visParams(v),
    aggs: v.aggs.map((a) => ({ id: a.id, enabled: true, type: a.type, schema: a.schema, params: a.params })),
  };
  return {
    type: "visualization",
    id: objId(prefix, v.id),
    attributes: {
      title: v.title,
      visState: JSON.stringify(visState),
      uiStateJSON: JSON.stringify(uiState(v)),
      description: v.description ?? "",
      version: 1,
      kibanaSavedObjectMeta: { searchSourceJSON: searchSource(v.query) },
    },
    references: [{ name: INDEX_REF, type: "index-pattern", id: patternId(prefix, v.pattern) }],
    migrationVersion: { visualization: "7.10.0" },
  };
}

function search(prefix: string, s: SearchSpec): SavedObject {
  return {
    type: "search",
    id: objId(prefix, s.id),
    attributes: {
      title: s.title,
      description: "",
      hits: 0,
      columns: s.columns,
      sort: [["@timestamp", "desc"]],
      version: 1,
      kibanaSavedObjectMeta: { searchSourceJSON: searchSource(s.query) },
    },
    references: [{ name: INDEX_REF, type: "index-pattern", id: patternId(prefix, s.pattern) }],
    migrationVersion: { search: "7.9.3" },
  };
}

function dashboard(prefix: string, d: DashboardSpec): SavedObject {
  const panels = d.panels.map((p, i) => {
    const wide = p.kind === "search" || i === 0;
    // Two columns of 24 units; the first panel and saved searches take the whole width.
    return {
      version: "2.19.0",
      panelIndex: String(i + 1),
      gridData: { x: wide ? 0 : ((i + 1) % 2) * 24, y: i * 15, w: wide ? 48 : 24, h: 15, i: String(i + 1) },
      embeddableConfig: uiState(VISUALIZATIONS.find((v) => p.kind === "visualization" && v.id === p.id)),
      panelRefName: `panel_${i}`,
    };
  });
  return {
    type: "dashboard",
    id: objId(prefix, d.id),
    attributes: {
      title: d.title,
      description: d.description,
      hits: 0,
      panelsJSON: JSON.stringify(panels),
      optionsJSON: JSON.stringify({ hidePanelTitles: false, useMargins: true }),
      version: 1,
      timeRestore: true,
      timeFrom: "now-24h",
      timeTo: "now",
      refreshInterval: { pause: false, value: 300_000 },
      kibanaSavedObjectMeta: {
        searchSourceJSON: JSON.stringify({ query: { query: "", language: "lucene" }, filter: [] }),
      },
    },
    references: d.panels.map((p, i) => ({ name: `panel_${i}`, type: p.kind, id: objId(prefix, p.id) })),
    migrationVersion: { dashboard: "7.9.3" },
  };
}

/** Every saved object, referenced objects before those referring to them. */
export function buildSavedObjects(prefix: string): SavedObject[] {
  const patterns: SavedObject[] = PATTERN_KEYS.map((k) => ({
    type: "index-pattern",
    id: patternId(prefix, k),
    attributes: {
      title: patternTitle(prefix, k),
      timeFieldName: "@timestamp",
      fields: JSON.stringify(patternFields(k)),
    },
    references: [],
    migrationVersion: { "index-pattern": "7.6.0" },
  }));
  return [
    ...patterns,
    ...VISUALIZATIONS.map((v) => visualization(prefix, v)),
    ...SEARCHES.map((s) => search(prefix, s)),
    ...DASHBOARDS.map((d) => dashboard(prefix, d)),
  ];
}

export function toNdjson(objects: readonly SavedObject[]): string {
  return `${objects.map((o) => JSON.stringify(o)).join("\n")}\n`;
}

export const DEFAULT_DASHBOARDS_PREFIX = "twingate";
