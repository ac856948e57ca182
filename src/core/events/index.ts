/**
 * Validation of records under the data-quality policy (normalise.ts), by the streams' declarations
 * (src/core/streams/: one module per stream, each field declared once as a zod 4 schema with its spec).
 *
 * - Unknown fields are kept, never stripped: validation CHECKS, it does not copy. `validateRecord`
 *   returns the input object itself (JSON.parse output) when nothing needed normalising, with every field.
 * - A record is checked first by the fast check compiled from its stream's declaration (fast-check.ts:
 *   "nothing to normalise"); anything else goes to the normaliser, which decides what is kept, normalised,
 *   set aside or refused, and says why. zod's parse of the declaration is the reference both are held to in
 *   the tests; ingestion does not run it (docs/BENCHMARKS.md, "Validation").
 */
import { EVENT_TYPES, type EventType } from "../model.ts";
import { FIELD_SPECS, type TwingateRecord } from "../streams/index.ts";
import { compileEventCheck } from "./fast-check.ts";
import { isIpText } from "./ip.ts";
import { type Deviation, normaliseEvent, resolveEventType } from "./normalise.ts";
import { isObj, type Obj } from "./values.ts";

export {
  type AuditLogRecord,
  type DataLossPreventionRecord,
  type DnsFilteringRecord,
  EventTimeSchema,
  FIELD_SPECS,
  type FieldSpec,
  type NetworkAccessRecord,
  RECORD_SCHEMAS,
  type TwingateRecord,
  TwingateRecordSchema,
  VersionSchema,
} from "../streams/index.ts";
export {
  type Deviation,
  type DeviationAction,
  deviationKey,
  resolveEventType,
} from "./normalise.ts";
export { type LooseTime, type ParsedTime, parseAnyTime, parseEventTime, utcDay } from "./time.ts";
export { isIpText };

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

/** The record has no keys but event_type and event (others are listed as undeclared by the normaliser). */
function onlyTypeAndEvent(rec: Obj): boolean {
  for (const k in rec) if (k !== "event_type" && k !== "event") return false;
  return true;
}

/** Each stream's fast check, compiled from its declaration (fast-check.ts). */
const FAST_EVENT_CHECKS = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, compileEventCheck(FIELD_SPECS[t])]),
) as { readonly [K in EventType]: (event: Obj) => boolean };

/**
 * True only when `value` is a record of a known stream that needs no normalising (its declaration's fast
 * check); false means "ask the normaliser" (it may still be valid). Never throws.
 */
export function fastAccept(value: unknown): boolean {
  if (!isObj(value)) return false;
  const eventType = value["event_type"];
  if (!isKnownEventType(eventType)) return false;
  const event = value["event"];
  return isObj(event) && FAST_EVENT_CHECKS[eventType](event) && onlyTypeAndEvent(value);
}

/** A record's normalisation: what the document builder needs besides the normalised record itself. */
export interface Normalisation {
  /** The record as received (parsed): its `JSON.stringify` is what the document id hashes. */
  readonly received: Record<string, unknown>;
  readonly deviations: readonly Deviation[];
  /** Values taken out of their typed fields, verbatim, by exact path. */
  readonly setAside?: Record<string, unknown>;
  /** The catch-all's copy of the values no declaration types (`twingate.flat`). */
  readonly flat?: Record<string, unknown>;
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
  // Most records: the fast check accepts them as they are (see "fast path" above).
  if (
    fast &&
    isKnownEventType(received) &&
    isObj(event) &&
    FAST_EVENT_CHECKS[received](event) &&
    onlyTypeAndEvent(rec)
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
  const placed = normaliseEvent(eventType, event, aliasOf, rec);
  if (!placed.ok) {
    return { ok: false, reason: "schema_invalid", eventType, path: placed.path, message: placed.message };
  }
  if (placed.deviations.length === 0 && placed.event === event && placed.flat === undefined) {
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
    ...(placed.flat ? { flat: placed.flat } : {}),
    ...(aliasOf !== undefined ? { eventTypeOriginal: aliasOf } : {}),
  };
  Object.defineProperty(record, NORMALISATION, { value: meta, enumerable: false });
  return { ok: true, record: record as TwingateRecord, deviations: placed.deviations };
}
