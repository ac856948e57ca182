/**
 * Validated records and rejections -> OpenSearch documents (pure functions).
 *
 * A record document keeps the vendor's event in the vendor's namespace (`twingate.<stream>.*`, as Elastic's
 * integrations do) and adds `@timestamp`, ECS fields (event.kind/category/type/action/outcome/dataset,
 * source, destination, network, user, host, dns, rule, related: each stream's module, src/core/streams/)
 * and `ingest` (where it came from). Its index is `<prefix>-<event_type>-<period>`
 * by the event's UTC day, ISO week or month (INDEX_PERIOD; period.ts) and its id a hash of `JSON.stringify` of the parsed record: the same record read
 * again, from any file, in any layout or whitespace, gzipped or not, lands on the same index and id.
 */
import * as crypto from "node:crypto";
import {
  deviationKey,
  type Normalisation,
  normalisationOf,
  type ParsedTime,
  parseAnyTime,
  parseEventTime,
  type TwingateRecord,
} from "../events/index.ts";
import type { IndexAction, RecordSource } from "../model.ts";
import { type EcsWriter, membersObject } from "../streams/ecs.ts";
import { expectsPrincipal, writeEcs } from "../streams/index.ts";
import { parseTwingateKeyTime } from "../twingate.ts";
import { isJsonTextOf } from "./json-text.ts";
import { type IndexPeriod, periodSuffix } from "./period.ts";

export { parseTwingateKeyTime } from "../twingate.ts";
export {
  INDEX_PERIODS,
  type IndexPeriod,
  type PeriodRange,
  parsePeriodSuffix,
  periodMaxDays,
  periodOf,
  periodSuffix,
} from "./period.ts";
export { toQuarantineAction } from "./quarantine.ts";

/** Characters of base64url kept from the sha256 (24 chars = 144 bits). */
const ID_CHARS = 24;

export interface DocumentOptions {
  indexPrefix: string;
  /** The period of the index names (INDEX_PERIOD); absent: day. */
  indexPeriod?: IndexPeriod | undefined;
  /** ISO time of ingestion (one per object, so a file's documents share it). */
  ingestedAt: string;
  /**
   * The id to give the document instead of the record's own: a replayed record OpenSearch had refused keeps
   * the id its document had, since its quarantined text is the normalised document, not the vendor's.
   */
  id?: string;
  /**
   * Bounded placement (issue #18): the file's time (its Twingate key's slot, else its first record's time)
   * and how far a record's event time may be from it. A record further away is indexed in the file's period,
   * not its own, with the deviation listed on the document (`ingest.deviations`), so one file touches at
   * most a handful of indices whatever times its records carry. Absent: by the event's time only.
   */
  fileTimeMs?: number | undefined;
  maxTimeDeviationMs?: number | undefined;
  /** The object's LastModified (ISO): places quarantine documents of files not named like Twingate's. */
  objectTime?: string;
}

/**
 * JSON with object keys sorted recursively (undefined and function members dropped, non-finite numbers
 * as null, as JSON.stringify does). Equal values give equal text whatever their key order or layout.
 * Used for the ids of quarantine documents and the hashes of templates: small values, so plain code.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined || typeof v === "function" ? "null" : canonicalJson(v))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const parts: string[] = [];
    for (const k of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[k];
      if (v !== undefined && typeof v !== "function") parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
    }
    return `{${parts.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

const oneShotHash = (crypto as { hash?: (alg: string, data: string, enc: "base64url") => string }).hash;

/**
 * The first ID_CHARS characters of the sha256's base64url (18 bytes: a whole number of base64 groups, so
 * the same characters as encoding just those bytes). Asked of node:crypto as text: a digest Buffer made
 * and then encoded cost twice as much per id. Ids are short-lived (written into a batch's bytes), so the
 * slice keeping its 43-character parent costs nothing.
 */
export function hashId(text: string): string {
  const b64 = oneShotHash
    ? oneShotHash("sha256", text, "base64url")
    : crypto.createHash("sha256").update(text).digest("base64url");
  return b64.slice(0, ID_CHARS);
}

/**
 * Index names by event type, for the last prefix and period seen: a file's records share a few, and reusing
 * one string spares building (and a batch entry holding) a concatenation per record.
 */
const recordIndexes = new Map<string, { prefix: string; day: string; name: string }>();

function recordIndexName(prefix: string, eventType: string, day: string): string {
  const hit = recordIndexes.get(eventType);
  if (hit !== undefined && hit.day === day && hit.prefix === prefix) return hit.name;
  const name = `${prefix}-${eventType}-${day}`;
  if (hit !== undefined || recordIndexes.size < 64) recordIndexes.set(eventType, { prefix, day, name });
  return name;
}

/**
 * Deterministic id of a record: sha256 (base64url, 24 chars) of `JSON.stringify` of the parsed record,
 * event_type included.
 *
 * - Independent of whitespace, layout (NDJSON, array, concatenated), gzip and file name: the text hashed
 *   is re-serialised from the parsed value, so a pretty-printed copy or a re-upload gets the same id, and
 *   the same object re-processed gives the same ids (the idempotency contract: `create` + 409).
 * - It depends on the vendor's key order (reordered keys give another id); Twingate's serializer keeps
 *   its order fixed. In exchange it is V8's native serializer instead of a sorted-key walk in JS
 *   (`canonicalJson`, the id until issue #9): the whole parse path got ~1.2× faster.
 * - The product had not shipped when the id changed from the sorted-key JSON, so no stored id moved.
 */
export function documentId(record: TwingateRecord | Record<string, unknown>): string {
  // A normalised record's id is the record's as received: normalising never moves an id.
  return hashId(JSON.stringify(normalisationOf(record)?.received ?? record));
}

function requireTime(isoTime: string): ParsedTime {
  const t = parseEventTime(isoTime);
  if (t) return t;
  const ms = Date.parse(isoTime);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 time: ${JSON.stringify(isoTime)}`);
  return { epochMs: ms, fraction: "", utc: new Date(ms).toISOString() };
}

/** `<prefix>-<event_type>-<period>` by the UTC period (default: day, `YYYY.MM.DD`) of the time. */
export function indexName(
  prefix: string,
  eventType: string,
  isoTime: string,
  period: IndexPeriod = "day",
): string {
  return `${prefix}-${eventType}-${periodSuffix(requireTime(isoTime).epochMs, period)}`;
}

/** What can place a quarantine document whose file is not named like Twingate's (see quarantineIndexName). */
interface QuarantineTimes {
  /** The rejected record's own event time (ms), when it has a usable one. */
  recordMs?: number;
  /** The object's LastModified (ISO), when the source knows it. */
  objectTime?: string;
}

/**
 * `<prefix>-quarantine-YYYY.MM.DD`, by a day that does not change between deliveries of the same object:
 * the file's slot when the key is a Twingate file name; else the record's own event time when it has a
 * usable one; else the object's LastModified. Only when none is known (a source that gives no
 * LastModified) the ingestion day.
 */
export function quarantineIndexName(
  prefix: string,
  key: string,
  ingestedAt: string,
  period: IndexPeriod = "day",
  times: QuarantineTimes = {},
): string {
  const slot = parseTwingateKeyTime(key);
  const objectMs = times.objectTime !== undefined ? Date.parse(times.objectTime) : Number.NaN;
  const ms = slot
    ? slot.getTime()
    : (times.recordMs ?? (Number.isNaN(objectMs) ? requireTime(ingestedAt).epochMs : objectMs));
  return `${prefix}-quarantine-${periodSuffix(ms, period)}`;
}

/** The event time of a quarantined record's raw text, when it is JSON with a usable `event.time`. */
function recordTimeOf(raw: string): number | undefined {
  if (raw === "" || raw.charCodeAt(0) !== 0x7b) return undefined;
  try {
    const value = JSON.parse(raw) as { event?: { time?: unknown } } | null;
    return parseAnyTime(value?.event?.time)?.time.epochMs;
  } catch {
    return undefined;
  }
}

type Json = Record<string, unknown>;

export function ingestOf(source: RecordSource, ingestedAt: string): Json {
  const ingest: Json = { bucket: source.bucket, key: source.key, ordinal: source.ordinal };
  if (source.line !== undefined) ingest["line"] = source.line;
  ingest["ingested_at"] = ingestedAt;
  return ingest;
}

/**
 * What normalisation changes in the vendor's event besides `version` (which becomes a string): empty-string
 * IPs become null and string DNS reasons `{id}` objects. Undefined when nothing (the usual case).
 */
function eventRewrites(record: TwingateRecord): Json | undefined {
  let out: Json | undefined;
  if (record.event_type === "network_access") {
    const e = record.event;
    if (e.connection?.client_ip === "") out = { ...out, connection: { ...e.connection, client_ip: null } };
    if (e.resource && e.resource.ip === "") out = { ...out, resource: { ...e.resource, ip: null } };
    if (e.relays?.some((r) => r?.ip === "")) {
      out = { ...out, relays: e.relays.map((r) => (r?.ip === "" ? { ...r, ip: null } : r)) };
    }
  } else if (record.event_type === "dns_filtering") {
    const c = record.event.connection;
    if (c && c.client_ip === "") out = { ...out, connection: { ...c, client_ip: null } };
    // Reasons come as strings or {id, name}; an index cannot map both, so strings become {id}.
    const reasons = record.event.reasons;
    if (reasons?.some((r) => typeof r === "string")) {
      out = { ...out, reasons: reasons.map((r) => (typeof r === "string" ? { id: r } : r)) };
    }
  }
  return out;
}

/**
 * The vendor's event with version as a string and `eventRewrites` applied (no input mutation; keys keep
 * their order: an overridden key stays where it was).
 */
function normaliseEvent(record: TwingateRecord): Json {
  const v = record.event.version as unknown;
  // version is absent only when the normaliser set it aside (then it is under set_aside)
  return v === undefined
    ? { ...record.event, ...eventRewrites(record) }
    : { ...record.event, version: String(v), ...eventRewrites(record) };
}

// One-entry memo: a file's documents share one ingestedAt.
let lastIngestedAt: string | undefined;
let lastIngestedMs = Number.NaN;

function parseIngestedAt(iso: string): number {
  if (iso !== lastIngestedAt) {
    lastIngestedMs = Date.parse(iso);
    lastIngestedAt = iso;
  }
  return lastIngestedMs;
}

function parseTime(record: TwingateRecord): ParsedTime {
  // A normalised record keeps the vendor's time as sent (a variant, an epoch number): read it the same way.
  const time = normalisationOf(record)
    ? parseAnyTime(record.event.time)?.time
    : parseEventTime(record.event.time);
  if (!time) throw new RangeError(`record has an invalid event.time: ${JSON.stringify(record.event.time)}`);
  return time;
}

/**
 * The record's keys besides `event_type` and `event` (none in Twingate's records today), as the vendor
 * sent them: the document keeps them at `twingate.envelope` rather than beside our own fields, whose names
 * they could take. Undefined when there are none (the usual case).
 */
function recordExtras(record: TwingateRecord): Json | undefined {
  let extra: [string, unknown][] | undefined;
  for (const k in record) {
    if (k === "event_type" || k === "event") continue;
    extra ??= [];
    extra.push([k, (record as Json)[k]]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return extra && (Object.fromEntries(extra) as Json);
}

/**
 * What `twingate` holds after the vendor's event (`twingate.<stream>`): the catch-all's copy of the values
 * no declaration types (`flat`) and the record's other keys (`envelope`); undefined for neither (the usual
 * case).
 */
function twingateExtras(record: TwingateRecord): Json | undefined {
  const flat = normalisationOf(record)?.flat;
  const envelope = recordExtras(record);
  if (flat === undefined && envelope === undefined) return undefined;
  const out: Json = {};
  if (flat !== undefined) out["flat"] = flat;
  if (envelope !== undefined) out["envelope"] = envelope;
  return out;
}

/**
 * What a record's document holds after `twingate`, written by `w` (which holds its ECS fields already):
 * `set_aside` (what normalising took out) and `ingest` (where it came from, how late, what was noted).
 * The usual record (not normalised, nothing to note) has its `ingest` written member by member; the others
 * build the object (`restOf`) and write its JSON. Either way the text is what JSON.stringify writes of
 * `restOf`'s object (recordDocument's: a test holds the two to the same bytes).
 */
function writeTail(
  w: EcsWriter,
  record: TwingateRecord,
  time: ParsedTime,
  source: RecordSource,
  opts: DocumentOptions,
): void {
  if (normalisationOf(record) || placedByFile(time, opts) || noPrincipal(w, record)) {
    const rest = restOf(w, record, time, source, opts);
    for (const k in rest) w.json(k, JSON.stringify(rest[k]));
    return;
  }
  w.obj("ingest").field("bucket", source.bucket).field("key", source.key).num("ordinal", source.ordinal);
  if (source.line !== undefined) w.num("line", source.line);
  w.field("ingested_at", opts.ingestedAt);
  // none when ingestedAt is not a time (NaN: `num` writes finite numbers only)
  w.num("lag_ms", parseIngestedAt(opts.ingestedAt) - time.epochMs);
  w.end();
}

/** An event of a stream with principals whose ECS fields name none (no user, no service account). */
function noPrincipal(w: EcsWriter, record: TwingateRecord): boolean {
  return !w.has("user") && expectsPrincipal(record);
}

/**
 * `set_aside` and `ingest` of a record's document, as an object (see writeTail). What it adds beyond
 * where the record came from and `lag_ms` must also send writeTail down its object path (its condition).
 */
function restOf(
  w: EcsWriter,
  record: TwingateRecord,
  time: ParsedTime,
  source: RecordSource,
  opts: DocumentOptions,
): Json {
  const rest: Json = {};
  const meta = normalisationOf(record);
  if (meta?.setAside) rest["set_aside"] = meta.setAside;
  const ingest = ingestOf(source, opts.ingestedAt);
  if (meta) addDeviations(ingest, meta);
  // How late the record reached the index (Twingate's delay + ours): the Overview's lag panel.
  const ingestedMs = parseIngestedAt(opts.ingestedAt);
  if (!Number.isNaN(ingestedMs)) ingest["lag_ms"] = ingestedMs - time.epochMs;
  if (noPrincipal(w, record)) addNote(ingest, NO_PRINCIPAL, "user");
  if (placedByFile(time, opts)) {
    // after the normaliser's deviations, when there are any (one list: docs/DATA-QUALITY.md)
    addNote(ingest, TIME_FAR_FROM_FILE, "event.time");
    ingest["file_time"] = new Date(opts.fileTimeMs!).toISOString();
  }
  rest["ingest"] = ingest;
  return rest;
}

/** A document-level note in the deviations list (docs/DATA-QUALITY.md), after the normaliser's. */
function addNote(ingest: Json, code: string, path: string): void {
  ingest["deviations"] = [...((ingest["deviations"] as string[] | undefined) ?? []), code];
  const paths = (ingest["deviation_paths"] as string[] | undefined) ?? [];
  if (!paths.includes(path)) ingest["deviation_paths"] = [...paths, path];
}

/** The note on an event of a stream with principals that names none (no user, no service account). */
const NO_PRINCIPAL = "no_principal";

/** The deviation listed on a record indexed in its file's period rather than its own. */
const TIME_FAR_FROM_FILE = "event_time_far_from_file_time";

/** The record's event time is further from its file's time than allowed: indexed by the file's time. */
function placedByFile(time: ParsedTime, opts: DocumentOptions): boolean {
  return (
    opts.fileTimeMs !== undefined &&
    opts.maxTimeDeviationMs !== undefined &&
    Math.abs(time.epochMs - opts.fileTimeMs) > opts.maxTimeDeviationMs
  );
}

/**
 * What normalising did, on the document: `ingest.deviations` (`path:action`, the aggregatable list),
 * `ingest.deviation_paths` (the paths alone, for "top paths") and `ingest.event_type_original` (an alias
 * received). Each entry once, in the order found.
 */
function addDeviations(ingest: Json, meta: Normalisation): void {
  if (meta.eventTypeOriginal !== undefined) ingest["event_type_original"] = meta.eventTypeOriginal;
  if (meta.deviations.length === 0) return;
  const keys = new Set<string>();
  const paths = new Set<string>();
  for (const d of meta.deviations) {
    keys.add(deviationKey(d));
    paths.add(d.path);
  }
  ingest["deviations"] = [...keys];
  ingest["deviation_paths"] = [...paths];
}

/**
 * A validated record's document: `@timestamp`, the vendor's `event_type`, `twingate` (the (normalised)
 * event at `twingate.<stream>`, then the catch-all's copy and the record's other keys), the stream's ECS
 * fields (`event` is ECS's: kind, category, type, action, outcome, dataset), `set_aside` and `ingest`, in
 * that order. The definition; `toIndexAction` serialises the same
 * document without building it (a test holds the two to the same bytes).
 */
export function recordDocument(record: TwingateRecord, source: RecordSource, opts: DocumentOptions): Json {
  const time = parseTime(record);
  // the stream's ECS fields (src/core/streams/)
  const ecs = writeEcs(record);
  const rest = restOf(ecs, record, time, source, opts);
  return {
    "@timestamp": time.utc,
    event_type: record.event_type,
    twingate: { [record.event_type]: normaliseEvent(record), ...twingateExtras(record) },
    ...membersObject(ecs.text),
    ...rest,
  };
}

/**
 * A record's action, its document held as pieces of JSON: the head (`@timestamp`, `event_type`,
 * `"twingate":{"<stream>":`), the normalised event's text (one or two pieces), what closes `twingate`,
 * and the rest of the document as UTF-8 bytes (its ECS fields, `set_aside` and `ingest`: written as
 * bytes, and copied into the batch as they are). `document` parses it all back when asked for (a record
 * OpenSearch refused, turned into quarantine: rare).
 */
class RecordAction implements IndexAction {
  readonly kind = "record";
  deviations?: IndexAction["deviations"];
  /** A normalised record's text as received (serialised for its id anyway): see IndexAction.received. */
  received?: string;
  constructor(
    readonly index: string,
    readonly id: string,
    readonly eventType: string,
    private readonly head: readonly string[],
    /** What closes `twingate` after the vendor's event: `}`, or its flat copy and envelope first. */
    private readonly close: string,
    private readonly tail: Buffer,
  ) {}

  get json(): readonly (string | Buffer)[] {
    return [...this.head, this.close, this.tail];
  }

  get document(): Record<string, unknown> {
    return JSON.parse(this.json.join("")) as Record<string, unknown>;
  }
}

/**
 * The index action for a validated record: `recordDocument`, with the event serialised once for both the
 * document (`json`, as `JSON.stringify` writes it; a test holds the two to the same bytes) and the id.
 * - The id hashes `JSON.stringify(record)`; for a record with just `event_type` and `event`, in that order
 *   (Twingate's), the event's text is a slice of it; another shape has its event serialised again.
 * - The normalised event is the same text but for `"version":1` becoming `"version":"1"`: spliced when
 *   version is the event's first key, as Twingate writes it; the rare other rewrites serialise afresh.
 * - `text`: the record's text as read, when known: used instead of serialising the record when it is
 *   exactly `JSON.stringify(record)` (json-text.ts: a compactly written file), else ignored.
 * Throws only if the record's time is invalid (not validated).
 */
export function toIndexAction(
  record: TwingateRecord,
  source: RecordSource,
  opts: DocumentOptions,
  text?: string,
): IndexAction {
  const time = parseTime(record);
  const type = record.event_type;
  const index = recordIndexName(
    opts.indexPrefix,
    type,
    periodSuffix(placedByFile(time, opts) ? opts.fileTimeMs! : time.epochMs, opts.indexPeriod ?? "day"),
  );
  // Both strings are safe to quote as they are: an ISO time we wrote, and a validated event type name.
  const head = `{"@timestamp":"${time.utc}","event_type":"${type}","twingate":{"${type}":`;
  const w = writeEcs(record);
  writeTail(w, record, time, source, opts);
  const tail = w.bytes("}");
  const meta = normalisationOf(record);
  if (meta) {
    // A normalised record (rare): the id hashes the record as received, the event is serialised afresh.
    const received = JSON.stringify(meta.received);
    const id = opts.id ?? hashId(received);
    const action = new RecordAction(
      index,
      id,
      type,
      [head, JSON.stringify(normaliseEvent(record))],
      closeTwingate(record),
      tail,
    );
    action.received = received;
    if (meta.deviations.length > 0) action.deviations = meta.deviations;
    return action;
  }
  const json = text !== undefined && isJsonTextOf(text, record) ? text : JSON.stringify(record);
  const id = opts.id ?? hashId(json);
  // Twingate's shape, {"event_type":"<type>","event":<event>}: the event's text is a slice of the record's
  // (a view, no copy). The type is a validated name: nothing in it to escape.
  const event = isTypeThenEvent(record)
    ? json.slice(EVENT_AT.length + type.length, json.length - 1)
    : JSON.stringify(record.event);
  return new RecordAction(index, id, type, eventPieces(head, record, event), closeTwingate(record), tail);
}

/** The text after the vendor's event in `twingate`: its other members, then the closing brace. */
function closeTwingate(record: TwingateRecord): string {
  const extras = twingateExtras(record);
  return extras === undefined ? "}" : `,${JSON.stringify(extras).slice(1)}`;
}

/**
 * The document's JSON pieces, given its head and the record's event text: that text with `"version":1`
 * spliced to `"version":"1"` when version is its first key (as Twingate writes it) or already a string,
 * else (other rewrites, another key order) serialised afresh.
 */
function eventPieces(head: string, record: TwingateRecord, event: string): readonly string[] {
  if (eventRewrites(record) === undefined) {
    const v = record.event.version;
    if (typeof v === "string") return [head, event];
    // a validated safe integer: its JSON is String(v); version 1 (every record today) without a new string
    const versionFirst = v === 1 ? VERSION_1 : `{"version":${v}`;
    const after = event.charCodeAt(versionFirst.length);
    if (event.startsWith(versionFirst) && (after === 0x2c || after === 0x7d))
      return [head, v === 1 ? VERSION_1_TEXT : `{"version":"${v}"`, event.slice(versionFirst.length)];
  }
  return [head, JSON.stringify(normaliseEvent(record))];
}

const VERSION_1 = '{"version":1';
const VERSION_1_TEXT = '{"version":"1"';

/** What precedes the event's text in the record's, the type's name aside. */
const EVENT_AT = '{"event_type":"","event":';

/** The record's own keys are exactly `event_type` then `event`. */
function isTypeThenEvent(record: object): boolean {
  let n = 0;
  for (const k in record) {
    if (n === 0 ? k !== "event_type" : n !== 1 || k !== "event") return false;
    n++;
  }
  return n === 2;
}

/** The quarantine index of a rejection's raw text from a file (see quarantineIndexName). */
export function quarantineIndexOf(
  key: string,
  raw: string,
  opts: {
    indexPrefix: string;
    ingestedAt: string;
    indexPeriod?: IndexPeriod | undefined;
    objectTime?: string;
  },
): string {
  const period = opts.indexPeriod ?? "day";
  // A Twingate file name decides alone: the record's text is not read then.
  if (parseTwingateKeyTime(key)) return quarantineIndexName(opts.indexPrefix, key, opts.ingestedAt, period);
  const recordMs = recordTimeOf(raw);
  return quarantineIndexName(opts.indexPrefix, key, opts.ingestedAt, period, {
    ...(recordMs !== undefined ? { recordMs } : {}),
    ...(opts.objectTime !== undefined ? { objectTime: opts.objectTime } : {}),
  });
}
