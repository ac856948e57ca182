/**
 * zod 4 schemas of Twingate's S3 sync records, one per event_type; the TypeScript types are inferred
 * from them (one source of truth).
 *
 * Policy:
 * - Unknown fields are kept, never stripped: the schemas CHECK, they do not copy. `validateRecord`
 *   returns the input object itself (JSON.parse output) once it passed, with every vendor field.
 *   The objects are `z.object` rather than `z.looseObject` because zod's compiled fast path is about
 *   twice as fast without a catchall (see docs/BENCHMARKS.md); calling a schema's `parse` directly
 *   therefore returns the known fields only: use `validateRecord`.
 * - Fields that become `ip`, `date`, numeric or `geo_point` in OpenSearch are checked here, so a bad
 *   value is a quarantined record rather than a mapping error at index time.
 * - Where the vendor is vague we are lenient: optional sub-objects may be absent or null, enums are
 *   open (non-empty) strings, `reasons` may be strings or `{id, name}` objects.
 */
import { z } from "zod";
import { EVENT_TYPES, type EventType } from "../model.ts";
import { type Deviation, hasPlainKeys, isIpText, normaliseEvent, resolveEventType } from "./normalise.ts";
import { parseEventTime } from "./time.ts";

export {
  type Deviation,
  type DeviationAction,
  deviationKey,
  FIELD_SPECS,
  type FieldSpec,
  resolveEventType,
} from "./normalise.ts";
export { type LooseTime, type ParsedTime, parseAnyTime, parseEventTime, utcDay } from "./time.ts";
export { isIpText };

// ---- building blocks --------------------------------------------------------------------------

/** An IP address as OpenSearch's `ip` field takes it (one definition: `isIpText`, also the fast path's). */
export const IpSchema = z
  .string({ error: "invalid IP address" })
  .refine(isIpText, { error: "invalid IP address" });
/** An IP that may be empty or null (resource.ip when DNS resolution failed). */
const OptionalIp = z.union([IpSchema, z.literal("")]).nullish();

const optStr = z.string().nullish();
/** An open enum: the vendor may add values. */
const openEnum = z.string().min(1, { error: "must be a non-empty string" });
const count = z
  .number({ error: "must be a number" })
  .int({ error: "must be an integer" })
  .min(0, { error: "must not be negative" })
  .max(Number.MAX_SAFE_INTEGER, { error: "is too large" });
const port = z
  .number({ error: "must be a number" })
  .int({ error: "must be an integer" })
  .min(0, { error: "must be a port (0..65535)" })
  .max(65535, { error: "must be a port (0..65535)" });

/** `1` in the sync examples, `"1"` on the audit schema page; any positive integer or numeric string. */
const VERSION_STRING = /^[1-9]\d{0,8}$/;
export const VersionSchema = z.union([z.number().int().positive(), z.string().regex(VERSION_STRING)], {
  error: "must be a positive integer or a numeric string",
});

export const EventTimeSchema = z
  .string({ error: "must be a string" })
  .refine((s) => parseEventTime(s) !== undefined, {
    error:
      "must be an ISO-8601 time with Z or a ±hh:mm offset (e.g. 2025-07-25T18:19:41.236597+00:00), between 1970 and 2262",
  });

export const LocationSchema = z.object({
  lat: z.number({ error: "must be a number" }).min(-90, { error: "latitude out of range" }).max(90, {
    error: "latitude out of range",
  }),
  lon: z.number({ error: "must be a number" }).min(-180, { error: "longitude out of range" }).max(180, {
    error: "longitude out of range",
  }),
});

const IdName = z.object({ id: optStr, name: optStr });
const UserSchema = z.object({ id: optStr, email: optStr });
const ServiceAccountSchema = z.object({ id: optStr, name: optStr, key: optStr, key_id: optStr });
const DeviceModelSchema = z.object({ hostname: optStr, local_name: optStr, serial_number: optStr });
const DeviceSchema = z.object({ id: optStr, name: optStr, model: DeviceModelSchema.nullish() });

/** Fields every event has. */
const base = {
  version: VersionSchema,
  time: EventTimeSchema,
};

// ---- network_access ---------------------------------------------------------------------------

export const NetworkAccessEventSchema = z.object({
  ...base,
  status: openEnum,
  connection: z.object({
    client_ip: IpSchema,
    protocol: openEnum.nullish(),
    bytes_received: count.nullish(),
    bytes_transferred: count.nullish(),
    error_message: optStr,
  }),
  connector: IdName.nullish(),
  remote_network: IdName.nullish(),
  resource: z
    .object({
      address: optStr,
      applied_rule: optStr,
      id: optStr,
      ip: OptionalIp,
      port: port.nullish(),
    })
    .nullish(),
  relays: z.array(z.object({ ip: OptionalIp, name: optStr, port: port.nullish() })).nullish(),
  device: DeviceSchema.nullish(),
  user: UserSchema.nullish(),
  service_account: ServiceAccountSchema.nullish(),
  location: LocationSchema.nullish(),
});

// ---- dns_filtering ----------------------------------------------------------------------------

export const DnsReasonSchema = z.union([z.string(), z.object({ id: optStr, name: optStr })], {
  error: "must be a string or an {id, name} object",
});

export const DnsFilteringEventSchema = z.object({
  ...base,
  domain: z.string().min(1, { error: "must be a non-empty string" }),
  root: optStr,
  status: openEnum,
  device: DeviceSchema.nullish(),
  connection: z.object({ client_ip: IpSchema.nullish(), protocol: optStr }).nullish(),
  reasons: z.array(DnsReasonSchema).nullish(),
});

// ---- audit_log --------------------------------------------------------------------------------

export const AuditTargetSchema = z.object({
  type: z.string({ error: "must be a string" }).min(1, { error: "must be a non-empty string" }),
  id: optStr,
  name: optStr,
});

export const AuditActorSchema = z.object({
  type: openEnum,
  id: optStr,
  info: z.object({ email: optStr, name: optStr }).nullish(),
});

export const AuditLogEventSchema = z.object({
  ...base,
  action: openEnum,
  actor: AuditActorSchema,
  targets: z.array(AuditTargetSchema).nullish(),
});

// ---- data_loss_prevention ---------------------------------------------------------------------

export const DataLossPreventionEventSchema = z.object({
  ...base,
  action: openEnum,
  status: openEnum.nullish(),
  data_loss_prevention_policies: z.array(IdName).nullish(),
  device: DeviceSchema.nullish(),
  user: UserSchema.nullish(),
  resource: z.object({ address: optStr, applied_rule: optStr, id: optStr }).nullish(),
});

// ---- records (envelope + event) ---------------------------------------------------------------

export const NetworkAccessRecordSchema = z.object({
  event_type: z.literal("network_access"),
  event: NetworkAccessEventSchema,
});
export const DnsFilteringRecordSchema = z.object({
  event_type: z.literal("dns_filtering"),
  event: DnsFilteringEventSchema,
});
export const AuditLogRecordSchema = z.object({
  event_type: z.literal("audit_log"),
  event: AuditLogEventSchema,
});
export const DataLossPreventionRecordSchema = z.object({
  event_type: z.literal("data_loss_prevention"),
  event: DataLossPreventionEventSchema,
});

export const TwingateRecordSchema = z.discriminatedUnion("event_type", [
  NetworkAccessRecordSchema,
  DnsFilteringRecordSchema,
  AuditLogRecordSchema,
  DataLossPreventionRecordSchema,
]);

export type NetworkAccessRecord = z.infer<typeof NetworkAccessRecordSchema>;
export type DnsFilteringRecord = z.infer<typeof DnsFilteringRecordSchema>;
export type AuditLogRecord = z.infer<typeof AuditLogRecordSchema>;
export type DataLossPreventionRecord = z.infer<typeof DataLossPreventionRecordSchema>;
export type TwingateRecord = z.infer<typeof TwingateRecordSchema>;
export type NetworkAccessEvent = z.infer<typeof NetworkAccessEventSchema>;
export type DnsFilteringEvent = z.infer<typeof DnsFilteringEventSchema>;
export type AuditLogEvent = z.infer<typeof AuditLogEventSchema>;
export type DataLossPreventionEvent = z.infer<typeof DataLossPreventionEventSchema>;

/** The schema of each known event_type. */
export const RECORD_SCHEMAS: {
  readonly [K in EventType]: z.ZodType<Extract<TwingateRecord, { event_type: K }>>;
} = {
  network_access: NetworkAccessRecordSchema,
  dns_filtering: DnsFilteringRecordSchema,
  audit_log: AuditLogRecordSchema,
  data_loss_prevention: DataLossPreventionRecordSchema,
};

export function isKnownEventType(t: unknown): t is EventType {
  return typeof t === "string" && (EVENT_TYPES as readonly string[]).includes(t);
}

// ---- validation -------------------------------------------------------------------------------

export type ValidationResult =
  | {
      ok: true;
      /** The record to index: the input itself, or its normalised copy (see `normalisationOf`). */
      record: TwingateRecord;
      /** What normalising did (empty for most records). */
      deviations: readonly Deviation[];
    }
  | {
      ok: false;
      reason: "not_an_object" | "unknown_event_type" | "schema_invalid";
      message: string;
      path?: string;
      eventType?: string;
    };

/** `["event", "relays", 0, "ip"]` -> `event.relays[0].ip` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

// ---- fast path --------------------------------------------------------------------------------
//
// Hand-written checks that say "certainly valid under the zod schema" for the common case, so that most
// records skip zod (whose compiled checks still allocate a result object per sub-object). They only ever
// ACCEPT: anything they do not accept goes to zod, which stays the single source of verdicts for failures
// and of every error message. Each check mirrors its schema above rule by rule (keep them in step; the
// differential property test test/unit/events-fastpath.test.ts asserts fastAccept(x) => zod accepts x).
// zod semantics mirrored: objects are `typeof "object"`, not null, not arrays, read by `obj[key]` and
// extra keys ignored; z.number() is finite; .int() is a safe integer; nullish = undefined or null.

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isNullish(v: unknown): v is null | undefined {
  return v === undefined || v === null;
}

/** optStr */
function isOptStr(v: unknown): boolean {
  return v === undefined || v === null || typeof v === "string";
}

/** openEnum */
function isOpenEnum(v: unknown): boolean {
  return typeof v === "string" && v.length >= 1;
}

/** count */
function isCount(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

/** port */
function isPort(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 65535;
}

/** IpSchema */
function isIp(v: unknown): boolean {
  return typeof v === "string" && isIpText(v);
}

/** OptionalIp, but for "" (valid, but normalised to null with an `emptied` deviation: not the fast path's) */
function isOptionalIp(v: unknown): boolean {
  return v === undefined || v === null || isIp(v);
}

/** base: version (VersionSchema) and time (EventTimeSchema). */
function isBase(e: Obj): boolean {
  const version = e["version"];
  if (typeof version === "number") {
    if (!(Number.isSafeInteger(version) && version > 0)) return false;
  } else if (typeof version !== "string" || !VERSION_STRING.test(version)) return false;
  const time = e["time"];
  return typeof time === "string" && parseEventTime(time) !== undefined;
}

/** IdName */
function isIdName(v: unknown): boolean {
  return isObj(v) && isOptStr(v["id"]) && isOptStr(v["name"]);
}

/** IdName.nullish() */
function isOptIdName(v: unknown): boolean {
  return isNullish(v) || isIdName(v);
}

/** UserSchema.nullish() */
function isOptUser(v: unknown): boolean {
  return isNullish(v) || (isObj(v) && isOptStr(v["id"]) && isOptStr(v["email"]));
}

/** DeviceSchema.nullish() */
function isOptDevice(v: unknown): boolean {
  if (isNullish(v)) return true;
  if (!isObj(v) || !isOptStr(v["id"]) || !isOptStr(v["name"])) return false;
  const m = v["model"];
  return (
    isNullish(m) ||
    (isObj(m) && isOptStr(m["hostname"]) && isOptStr(m["local_name"]) && isOptStr(m["serial_number"]))
  );
}

/** LocationSchema.nullish() */
function isOptLocation(v: unknown): boolean {
  if (isNullish(v)) return true;
  if (!isObj(v)) return false;
  const lat = v["lat"];
  const lon = v["lon"];
  return (
    typeof lat === "number" && lat >= -90 && lat <= 90 && typeof lon === "number" && lon >= -180 && lon <= 180
  ); // the ranges exclude NaN and the infinities, as z.number() does
}

/** NetworkAccessEventSchema */
function isNetworkAccessEvent(e: Obj): boolean {
  if (!isBase(e) || !isOpenEnum(e["status"])) return false;
  const c = e["connection"];
  if (
    !isObj(c) ||
    !isIp(c["client_ip"]) ||
    !(isNullish(c["protocol"]) || isOpenEnum(c["protocol"])) ||
    !(isNullish(c["bytes_received"]) || isCount(c["bytes_received"])) ||
    !(isNullish(c["bytes_transferred"]) || isCount(c["bytes_transferred"])) ||
    !isOptStr(c["error_message"])
  )
    return false;
  if (!isOptIdName(e["connector"]) || !isOptIdName(e["remote_network"])) return false;
  const r = e["resource"];
  if (
    !isNullish(r) &&
    !(
      isObj(r) &&
      isOptStr(r["address"]) &&
      isOptStr(r["applied_rule"]) &&
      isOptStr(r["id"]) &&
      isOptionalIp(r["ip"]) &&
      (isNullish(r["port"]) || isPort(r["port"]))
    )
  )
    return false;
  const relays = e["relays"];
  if (!isNullish(relays)) {
    if (!Array.isArray(relays)) return false;
    for (let i = 0; i < relays.length; i++) {
      const x: unknown = relays[i];
      if (
        !isObj(x) ||
        !isOptionalIp(x["ip"]) ||
        !isOptStr(x["name"]) ||
        !(isNullish(x["port"]) || isPort(x["port"]))
      )
        return false;
    }
  }
  if (!isOptDevice(e["device"]) || !isOptUser(e["user"])) return false;
  const sa = e["service_account"];
  if (
    !isNullish(sa) &&
    !(
      isObj(sa) &&
      isOptStr(sa["id"]) &&
      isOptStr(sa["name"]) &&
      isOptStr(sa["key"]) &&
      isOptStr(sa["key_id"])
    )
  )
    return false;
  return isOptLocation(e["location"]);
}

/** DnsFilteringEventSchema */
function isDnsFilteringEvent(e: Obj): boolean {
  if (!isBase(e)) return false;
  const domain = e["domain"];
  if (typeof domain !== "string" || domain.length < 1) return false;
  if (!isOptStr(e["root"]) || !isOpenEnum(e["status"]) || !isOptDevice(e["device"])) return false;
  const c = e["connection"];
  if (
    !isNullish(c) &&
    !(isObj(c) && (isNullish(c["client_ip"]) || isIp(c["client_ip"])) && isOptStr(c["protocol"]))
  )
    return false;
  const reasons = e["reasons"];
  if (!isNullish(reasons)) {
    if (!Array.isArray(reasons)) return false;
    for (let i = 0; i < reasons.length; i++) {
      const x: unknown = reasons[i];
      if (typeof x !== "string" && !(isObj(x) && isOptStr(x["id"]) && isOptStr(x["name"]))) return false;
    }
  }
  return true;
}

/** AuditLogEventSchema */
function isAuditLogEvent(e: Obj): boolean {
  if (!isBase(e) || !isOpenEnum(e["action"])) return false;
  const a = e["actor"];
  if (!isObj(a) || !isOpenEnum(a["type"]) || !isOptStr(a["id"])) return false;
  const info = a["info"];
  if (!isNullish(info) && !(isObj(info) && isOptStr(info["email"]) && isOptStr(info["name"]))) return false;
  const targets = e["targets"];
  if (!isNullish(targets)) {
    if (!Array.isArray(targets)) return false;
    for (let i = 0; i < targets.length; i++) {
      const x: unknown = targets[i];
      if (
        !isObj(x) ||
        !isOpenEnum(x["type"]) ||
        !isOptStr(x["id"]) ||
        !isOptStr(x["name"]) ||
        !isOptStr(x["version"]) // not in the schema, but mapped (keyword): the normaliser checks it
      )
        return false;
    }
  }
  return true;
}

/** DataLossPreventionEventSchema */
function isDataLossPreventionEvent(e: Obj): boolean {
  if (!isBase(e) || !isOpenEnum(e["action"])) return false;
  if (!(isNullish(e["status"]) || isOpenEnum(e["status"]))) return false;
  const policies = e["data_loss_prevention_policies"];
  if (!isNullish(policies)) {
    if (!Array.isArray(policies)) return false;
    for (let i = 0; i < policies.length; i++) if (!isIdName(policies[i])) return false;
  }
  if (!isOptDevice(e["device"]) || !isOptUser(e["user"])) return false;
  const r = e["resource"];
  return (
    isNullish(r) || (isObj(r) && isOptStr(r["address"]) && isOptStr(r["applied_rule"]) && isOptStr(r["id"]))
  );
}

const FAST_EVENT_CHECKS: { readonly [K in EventType]: (event: Obj) => boolean } = {
  network_access: isNetworkAccessEvent,
  dns_filtering: isDnsFilteringEvent,
  audit_log: isAuditLogEvent,
  data_loss_prevention: isDataLossPreventionEvent,
};

/**
 * True only when `value` is certainly a valid record under RECORD_SCHEMAS (its event_type's schema);
 * false means "ask zod" (it may still be valid). Never throws.
 */
export function fastAccept(value: unknown): boolean {
  if (!isObj(value)) return false;
  const eventType = value["event_type"];
  if (!isKnownEventType(eventType)) return false;
  const event = value["event"];
  return isObj(event) && FAST_EVENT_CHECKS[eventType](event) && hasPlainKeys(eventType, event);
}

/** A record's normalisation: what the document builder needs besides the normalised record itself. */
export interface Normalisation {
  /** The record as received (parsed): its `JSON.stringify` is what the document id hashes. */
  readonly received: Record<string, unknown>;
  readonly deviations: readonly Deviation[];
  /** Values taken out of their typed fields, verbatim, by exact path. */
  readonly setAside?: Record<string, unknown>;
  /** The event_type as received when it was an alias of the stream. */
  readonly eventTypeOriginal?: string;
}

const NORMALISATION: unique symbol = Symbol("twingate.normalisation");

/**
 * The normalisation of a record `validateRecord` rewrote (held on the record as a non-enumerable symbol
 * property: JSON.stringify, for-in and deepEqual do not see it); undefined for a record that needed none
 * (the usual case: then the record is the received object itself).
 */
export function normalisationOf(record: object): Normalisation | undefined {
  return (record as { [NORMALISATION]?: Normalisation })[NORMALISATION];
}

const NO_DEVIATIONS: readonly Deviation[] = Object.freeze([]);

/**
 * Validate one parsed record under the data-quality policy (src/core/events/normalise.ts). Never throws.
 * `ok` when the record can be placed (a stream after aliases, an `event` object, a usable time): `record`
 * is then the input itself when nothing needed normalising, else the normalised record (see
 * `normalisationOf`), and `deviations` lists what was done. Not ok only for what cannot be placed; the
 * message names the path and the problem.
 */
export function validateRecord(value: unknown): ValidationResult {
  return validate(value, true);
}

/**
 * validateRecord without the fast path: the normaliser decides every record. Same results as
 * validateRecord (the differential tests hold them to the same documents and deviations).
 */
export function validateRecordFull(value: unknown): ValidationResult {
  return validate(value, false);
}

/** The former name of validateRecordFull. */
export const validateRecordWithZod = validateRecordFull;

function validate(value: unknown, fast: boolean): ValidationResult {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return {
      ok: false,
      reason: "not_an_object",
      message: `a record must be a JSON object {event_type, event}, got ${describe(value)}`,
    };
  }
  const rec = value as Record<string, unknown>;
  const received = rec["event_type"];
  if (typeof received !== "string") {
    return {
      ok: false,
      reason: "schema_invalid",
      path: "event_type",
      message:
        received === undefined
          ? "event_type: missing"
          : `event_type: must be a string, got ${describe(received)}`,
    };
  }
  const event = rec["event"];
  // Most records: the hand-written check accepts them as they are (see "fast path" above).
  if (
    fast &&
    isKnownEventType(received) &&
    isObj(event) &&
    FAST_EVENT_CHECKS[received](event) &&
    hasPlainKeys(received, event)
  ) {
    return { ok: true, record: value as TwingateRecord, deviations: NO_DEVIATIONS };
  }
  const eventType = resolveEventType(received);
  if (eventType === undefined) {
    return {
      ok: false,
      reason: "unknown_event_type",
      eventType: received,
      path: "event_type",
      message: `unknown event_type ${JSON.stringify(received.slice(0, 100))}`,
    };
  }
  if (!isObj(event)) {
    return {
      ok: false,
      reason: "schema_invalid",
      eventType,
      path: "event",
      message: event === undefined ? "event: missing" : `event: must be an object, got ${describe(event)}`,
    };
  }
  const aliasOf = eventType === received ? undefined : received;
  const placed = normaliseEvent(eventType, event, aliasOf);
  if (!placed.ok) {
    return { ok: false, reason: "schema_invalid", eventType, path: placed.path, message: placed.message };
  }
  if (placed.deviations.length === 0 && placed.event === event) {
    return { ok: true, record: value as TwingateRecord, deviations: NO_DEVIATIONS };
  }
  // The normalised record: the stream's name, the normalised event, the record's other keys as received.
  const record: Record<string, unknown> = { event_type: eventType, event: placed.event };
  for (const k of Object.keys(rec)) {
    if (k === "event_type" || k === "event") continue;
    Object.defineProperty(record, k, { value: rec[k], enumerable: true, writable: true, configurable: true });
  }
  const meta: Normalisation = {
    received: rec,
    deviations: placed.deviations,
    ...(placed.setAside ? { setAside: placed.setAside } : {}),
    ...(aliasOf !== undefined ? { eventTypeOriginal: aliasOf } : {}),
  };
  Object.defineProperty(record, NORMALISATION, { value: meta, enumerable: false });
  return { ok: true, record: record as TwingateRecord, deviations: placed.deviations };
}
