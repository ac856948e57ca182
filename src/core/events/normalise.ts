/**
 * The data-quality policy, in one place: "keep the event, annotate the problem" (docs/DATA-QUALITY.md).
 *
 * A record that can be placed (a stream after aliases, an `event` object, a usable time) becomes a document
 * whatever else is odd about it. Walking the event by FIELD_SPECS (every field its stream declares,
 * src/core/streams/), each value is either
 * - kept as it is (it fits its field),
 * - normalised when it has one obvious meaning (`"80"` -> 80 in a port, an id sent as a number -> its text,
 *   `""` in an IP field -> null, `"1.0"` -> `"1"` for version, a time variant), recorded as a deviation, or
 * - set aside when it has none (a hostname in an IP field, `"lat": "north"`, an object where a string
 *   belongs): removed from its typed field and kept verbatim under the document's `set_aside`, keyed by its
 *   path, so that OpenSearch never refuses the document for it and nothing the vendor sent is lost.
 * Fields no spec names are left untouched (the mappings are `dynamic: false`: unmapped fields are kept
 * in `_source` and never refused).
 *
 * Pure: the input is never mutated; objects on a changed path are copied, everything else is shared.
 */
import { EVENT_TYPES, type EventType } from "../model.ts";
import { FIELD_SPECS, type FieldSpec } from "../streams/index.ts";
import { isIpText } from "./ip.ts";
import { type ParsedTime, parseAnyTime } from "./time.ts";
import { isObj, type Obj } from "./values.ts";

/** What was done to a value (stable codes: metric labels and the document's `ingest.deviations`). */
export type DeviationAction =
  /** event_type was an alias of a stream (`network` -> `network_access`); the original is on the document. */
  | "aliased"
  /** A value with one obvious meaning was rewritten to its field's form (type or format). */
  | "coerced"
  /** A missing value with one obvious meaning was filled in (event.version -> "1"). */
  | "defaulted"
  /** An empty value (`""`) in a typed field (an IP) was stored as null. */
  | "emptied"
  /** A field the schema requires is absent, null or empty (the event is kept). */
  | "missing"
  /** A value that fits its field in no obvious way: moved, verbatim, to the document's `set_aside`. */
  | "set_aside"
  /**
   * A field no declaration names (a vendor addition): kept where it is, and copied to the document's
   * `twingate.flat` catch-all, where it is searchable.
   */
  | "undeclared";

export interface Deviation {
  /** The field's path without array indexes (`event.relays.ip`): bounded, for counting and aggregating. */
  readonly path: string;
  readonly action: DeviationAction;
  /** Where exactly (`event.relays[1].ip`; the key of `set_aside`). */
  readonly at: string;
  /** What was wrong, for people (`validate --details`, logs). */
  readonly message: string;
}

/** `path:action`, the form on documents (`ingest.deviations`) and in counts. */
export function deviationKey(d: Deviation): string {
  return `${d.path}:${d.action}`;
}

// ---- stream aliases --------------------------------------------------------------------------------

/**
 * Names of streams other sources use for Twingate's (the vendor's Network Events Schema page writes
 * `network`). Looked up after lower-casing, trimming and turning `-` and spaces into `_`.
 */
const STREAM_ALIASES: Readonly<Record<string, EventType>> = {
  network: "network_access",
  network_event: "network_access",
  network_events: "network_access",
  dns: "dns_filtering",
  dns_filter: "dns_filtering",
  audit: "audit_log",
  audit_logs: "audit_log",
  dlp: "data_loss_prevention",
};

/** The stream an event_type names, directly or through an alias; undefined for none. */
export function resolveEventType(name: string): EventType | undefined {
  if ((EVENT_TYPES as readonly string[]).includes(name)) return name as EventType;
  const folded = name
    .trim()
    .toLowerCase()
    .replace(/[-\s]+/g, "_");
  if ((EVENT_TYPES as readonly string[]).includes(folded)) return folded as EventType;
  return Object.hasOwn(STREAM_ALIASES, folded) ? STREAM_ALIASES[folded] : undefined;
}

// ---- values ---------------------------------------------------------------------------------------

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  return typeof value === "object" ? "an object" : `the ${typeof value} ${String(value)}`;
}

const NUMERIC = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;

/** A number, or a numeric string's number (the `coerced` case); undefined for anything else. */
function numberOf(v: unknown): { n: number; coerced: boolean } | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? { n: v, coerced: false } : undefined;
  if (typeof v === "string" && NUMERIC.test(v)) {
    const n = Number(v);
    return Number.isFinite(n) ? { n, coerced: true } : undefined;
  }
  return undefined;
}

// ---- the walk -------------------------------------------------------------------------------------

/** What the walk found; `setAside` keys are exact paths (`event.relays[1].ip`). */
interface Walk {
  deviations: Deviation[];
  setAside: Obj | undefined;
  /** The catch-all's copy (`twingate.flat`): values by their path in the record, arrays collapsed. */
  flat: Obj | undefined;
  /** Undeclared fields listed so far (at most MAX_UNDECLARED, then one more-marker). */
  undeclared: number;
  /** Values copied to the catch-all so far (at most MAX_FLAT_VALUES). */
  flatValues: number;
}

/** Marks a value the walk removes (set aside) from its object or array. */
const REMOVE: unique symbol = Symbol("remove");
type Out = unknown | typeof REMOVE;

function note(w: Walk, path: string, at: string, action: DeviationAction, message: string): void {
  w.deviations.push({ path, action, at, message });
}

function setAside(w: Walk, path: string, at: string, value: unknown, why: string): typeof REMOVE {
  w.setAside ??= {};
  // defineProperty: an `at` like "__proto__" stays data
  Object.defineProperty(w.setAside, at, { value, enumerable: true, writable: true, configurable: true });
  note(w, path, at, "set_aside", `${at}: ${why}, got ${describe(value)} (kept under set_aside)`);
  return REMOVE;
}

/** The value normalised by its spec; REMOVE when set aside; the same value when nothing changed. */
function walk(spec: FieldSpec, v: unknown, path: string, at: string, w: Walk): Out {
  const req = (spec.t === "str" || spec.t === "ip" || spec.t === "obj") && spec.req === true;
  if (v === undefined || v === null) {
    if (req) note(w, path, at, "missing", `${at}: missing`);
    return v;
  }
  switch (spec.t) {
    case "str":
      if (typeof v === "string") {
        if (v === "" && req) note(w, path, at, "missing", `${at}: empty`);
        return v;
      }
      if (typeof v === "number" && Number.isFinite(v)) {
        note(w, path, at, "coerced", `${at}: the number ${v} taken as the text "${String(v)}"`);
        return String(v);
      }
      return setAside(w, path, at, v, "must be a string");
    case "ip":
      if (typeof v === "string") {
        if (isIpText(v)) return v;
        if (v.trim() === "") {
          note(w, path, at, req ? "missing" : "emptied", `${at}: empty, stored as null`);
          return null;
        }
        const t = v.trim();
        if (isIpText(t)) {
          note(w, path, at, "coerced", `${at}: surrounding spaces removed`);
          return t;
        }
      }
      return setAside(w, path, at, v, "must be an IPv4 or IPv6 address");
    case "count":
    case "port": {
      const num = numberOf(v);
      const max = spec.t === "port" ? 65535 : Number.MAX_SAFE_INTEGER;
      if (num === undefined || !Number.isSafeInteger(num.n) || num.n < 0 || num.n > max)
        return setAside(
          w,
          path,
          at,
          v,
          spec.t === "port" ? "must be a port (an integer 0..65535)" : "must be a whole number >= 0",
        );
      if (num.coerced)
        note(w, path, at, "coerced", `${at}: the string ${JSON.stringify(v)} taken as ${num.n}`);
      return num.n;
    }
    case "deg": {
      const num = numberOf(v);
      if (num === undefined || num.n < -spec.max || num.n > spec.max)
        return setAside(w, path, at, v, `must be a number between -${spec.max} and ${spec.max}`);
      if (num.coerced)
        note(w, path, at, "coerced", `${at}: the string ${JSON.stringify(v)} taken as ${num.n}`);
      return num.n;
    }
    case "reason":
      if (typeof v === "string") return v;
      if (typeof v === "number" && Number.isFinite(v)) {
        note(w, path, at, "coerced", `${at}: the number ${v} taken as the text "${String(v)}"`);
        return String(v);
      }
      if (isObj(v)) return walkObject(REASON_FIELDS, v, path, at, w);
      return setAside(w, path, at, v, "must be a string or an {id, name} object");
    case "bool":
      if (typeof v === "boolean") return v;
      if (typeof v === "string" && /^\s*(true|false)\s*$/i.test(v)) {
        const b = v.trim().toLowerCase() === "true";
        note(w, path, at, "coerced", `${at}: the string ${JSON.stringify(v)} taken as ${b}`);
        return b;
      }
      return setAside(w, path, at, v, "must be a boolean");
    case "flat":
      addFlat(w, path, v);
      return v;
    case "obj":
      if (!isObj(v)) return setAside(w, path, at, v, "must be an object");
      return walkObject(spec.f, v, path, at, w);
    case "arr": {
      if (!Array.isArray(v)) return setAside(w, path, at, v, "must be an array");
      let out: unknown[] | undefined;
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        const y = walk(spec.of, x, path, `${at}[${i}]`, w);
        if (y !== x && out === undefined) out = v.slice(0, i);
        if (out !== undefined && y !== REMOVE) out.push(y);
      }
      return out ?? v;
    }
  }
}

const REASON_FIELDS: Readonly<Record<string, FieldSpec>> = { id: { t: "str" }, name: { t: "str" } };

/** An object walked field by field; a copy only when something in it changed. */
function walkObject(
  fields: Readonly<Record<string, FieldSpec>>,
  v: Obj,
  path: string,
  at: string,
  w: Walk,
  root = false,
): Obj {
  let out: Obj | undefined;
  for (const k in fields) {
    const spec = fields[k]!;
    const x = Object.hasOwn(v, k) ? v[k] : undefined;
    const y = walk(spec, x, `${path}.${k}`, `${at}.${k}`, w);
    if (y === x) continue;
    out ??= copy(v);
    if (y === REMOVE) delete out[k];
    else out[k] = y;
  }
  // Keys OpenSearch refuses in a mapped object, failing the whole document: a key with a dot that starts
  // with a typed field's name (it reads `"ip.x": 1` as `ip: {x: 1}`, against the field's type), and a key
  // with an empty part (`""`, `".a"`, `"a..b"`: "field name cannot be empty").
  for (const k in v) {
    if (Object.hasOwn(fields, k) || (root && (k === "version" || k === "time"))) continue;
    if (isOddKey(k)) {
      out ??= copy(v);
      setAside(
        w,
        `${path}.${ODD_KEY}`,
        `${at}.${k}`,
        v[k],
        "a key OpenSearch cannot store (an empty name or part)",
      );
      delete out[k];
      continue;
    }
    const dot = k.indexOf(".");
    if (dot >= 0 && Object.hasOwn(fields, k.slice(0, dot))) {
      out ??= copy(v);
      setAside(w, `${path}.${k.slice(0, dot)}`, `${at}.${k}`, v[k], "a dotted key under a typed field");
      delete out[k];
      continue;
    }
    undeclared(w, path, k, `${at}.${k}`, v[k]);
  }
  return out ?? v;
}

/** Undeclared fields listed one by one on a record; past this, one deviation says there are more. */
const MAX_UNDECLARED = 20;
/** The path of that deviation (bounded: the fields themselves stay in the event and `twingate.flat`). */
export const MORE_UNDECLARED = "(more undeclared fields)";

/**
 * A field no declaration names: listed (path:undeclared) and copied to the catch-all. Kept where it is.
 */
function undeclared(w: Walk, parent: string, key: string, at: string, value: unknown): void {
  // the path labels metrics and aggregations: a key longer than that is named by its place alone
  const name = key.length > MAX_KEY_LABEL ? LONG_KEY : key;
  const path = parent === "" ? name : `${parent}.${name}`;
  w.undeclared++;
  if (w.undeclared <= MAX_UNDECLARED)
    note(
      w,
      path,
      at.length > 300 ? `${at.slice(0, 300)}…` : at,
      "undeclared",
      `${path}: a field no declaration names, kept and searchable under twingate.flat`,
    );
  else if (w.undeclared === MAX_UNDECLARED + 1)
    note(
      w,
      MORE_UNDECLARED,
      path,
      "undeclared",
      `more than ${MAX_UNDECLARED} undeclared fields; ${path} and after`,
    );
  if (name === key) addFlat(w, parent === "" ? key : `${parent}.${key}`, value);
}

/** Longest key named in a deviation's path; a longer one is `(long key)` (and not copied to the catch-all). */
const MAX_KEY_LABEL = 100;
const LONG_KEY = "(long key)";

/**
 * What the catch-all copy may hold. A flat_object indexes each leaf as one keyword term of its path and value,
 * and Lucene refuses a term over 32,766 bytes (the document with it): a string over 24,000 UTF-8 bytes, a
 * path over 1,000 characters (4,000 bytes at most) or deeper than 20 levels, and a key OpenSearch cannot
 * store (an empty or blank part) are left out; so is anything past 100 values a record. What is left out
 * stays in `_source`, in the vendor's object.
 */
const MAX_FLAT_STRING_BYTES = 24_000;
const MAX_FLAT_PATH = 1000;
const MAX_FLAT_DEPTH = 20;
const MAX_FLAT_VALUES = 100;

/** `value` for the catch-all under `path` (see the limits above); undefined when nothing of it fits. */
function flatCopy(w: Walk, value: unknown, path: string, depth: number): unknown {
  if (typeof value === "string") {
    if (value.length * 3 > MAX_FLAT_STRING_BYTES && Buffer.byteLength(value) > MAX_FLAT_STRING_BYTES)
      return undefined;
    return ++w.flatValues > MAX_FLAT_VALUES ? undefined : value;
  }
  if (value === null || typeof value !== "object")
    return ++w.flatValues > MAX_FLAT_VALUES ? undefined : value;
  if (depth >= MAX_FLAT_DEPTH) return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (const x of value) {
      const y = flatCopy(w, x, path, depth + 1);
      if (y !== undefined) out.push(y);
    }
    return out.length > 0 ? out : undefined;
  }
  const out: Obj = {};
  let any = false;
  for (const k of Object.keys(value)) {
    const p = `${path}.${k}`;
    if (p.length > MAX_FLAT_PATH || isOddKey(k)) continue;
    const y = flatCopy(w, (value as Obj)[k], p, depth + 1);
    if (y === undefined) continue;
    Object.defineProperty(out, k, { value: y, enumerable: true, writable: true, configurable: true });
    any = true;
  }
  return any ? out : undefined;
}

/**
 * Adds `value` to the catch-all at `path` (`event.targets.before`: the record's path, arrays collapsed, so
 * several targets' values become one array). A flat_object takes an object or an array of objects only:
 * the copy is always an object (the record's shape), whatever the value is.
 */
function addFlat(w: Walk, path: string, value: unknown): void {
  if (value === null || value === undefined || w.flatValues >= MAX_FLAT_VALUES) return;
  const parts = path.split(".");
  if (path.length > MAX_FLAT_PATH || parts.length > MAX_FLAT_DEPTH || parts.some((p) => p.trim() === ""))
    return;
  const copied = flatCopy(w, value, path, parts.length);
  if (copied === undefined) return;
  w.flat ??= {};
  let node: Obj = w.flat;
  for (let i = 0; i < parts.length - 1; i++) {
    const k = parts[i]!;
    const next = Object.hasOwn(node, k) ? node[k] : undefined;
    if (next === undefined) {
      const child: Obj = {};
      Object.defineProperty(node, k, { value: child, enumerable: true, writable: true, configurable: true });
      node = child;
    } else if (isObj(next)) node = next;
    else return; // a value already there where an object would go: left out (still in _source)
  }
  const last = parts[parts.length - 1]!;
  const prev = Object.hasOwn(node, last) ? node[last] : undefined;
  const v = prev === undefined ? copied : Array.isArray(prev) ? [...prev, copied] : [prev, copied];
  Object.defineProperty(node, last, { value: v, enumerable: true, writable: true, configurable: true });
}

/** The path's last part for a key OpenSearch cannot store (bounded: the key itself is under set_aside). */
const ODD_KEY = "(empty key part)";

/** A field name with an empty or blank part: "", " ", ".a", "a..b", "x. " (a trailing dot OpenSearch takes). */
function isOddKey(k: string): boolean {
  if (k.indexOf(".") < 0) return k.trim() === "";
  // OpenSearch splits a name on dots (trailing empty parts dropped) and refuses an empty or blank part
  const parts = k.split(".");
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop();
  return parts.length === 0 || parts.some((p) => p.trim() === "");
}

/** A shallow copy keeping key order, `__proto__` keys as data. */
function copy(v: Obj): Obj {
  const out: Obj = {};
  for (const k of Object.keys(v))
    Object.defineProperty(out, k, { value: v[k], enumerable: true, writable: true, configurable: true });
  return out;
}

// ---- version and time ----------------------------------------------------------------------------

const VERSION_NUMBER = /^\s*([1-9]\d{0,8})(?:\.0+)?\s*$/;

/** event.version: a positive integer or its text as is; "1.0", " 1" coerced; missing defaulted to "1". */
function normaliseVersion(v: unknown, w: Walk): Out {
  if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return v;
  if (typeof v === "string" && /^[1-9]\d{0,8}$/.test(v)) return v;
  if (v === undefined || v === null || v === "") {
    note(w, "event.version", "event.version", "defaulted", "event.version: missing, taken as 1");
    return "1";
  }
  const m = typeof v === "string" ? VERSION_NUMBER.exec(v) : null;
  if (m) {
    note(
      w,
      "event.version",
      "event.version",
      "coerced",
      `event.version: ${JSON.stringify(v)} taken as "${m[1]}"`,
    );
    return m[1];
  }
  return setAside(w, "event.version", "event.version", v, "must be a positive whole number");
}

// ---- the record ---------------------------------------------------------------------------------

type Placement =
  | {
      ok: true;
      eventType: EventType;
      /** The event as it goes into the document (the input's own object when nothing changed). */
      event: Obj;
      time: ParsedTime;
      deviations: Deviation[];
      setAside: Obj | undefined;
      flat: Obj | undefined;
    }
  | { ok: false; path: string; message: string };

const TIME_HELP =
  "must be a time: ISO-8601 (e.g. 2025-07-25T18:19:41.236597+00:00; no offset is UTC) or epoch seconds or milliseconds as a number, between 1970 and 2262";

/**
 * Normalise an event of a resolved stream: its time (required: without one the event cannot be placed),
 * version and typed fields. `aliasOf`: the event_type as received when it was an alias; `record`: the
 * record, whose keys besides event_type and event are listed as undeclared.
 */
export function normaliseEvent(eventType: EventType, event: Obj, aliasOf?: string, record?: Obj): Placement {
  const rawTime = event["time"];
  const parsed = parseAnyTime(rawTime);
  if (!parsed) {
    return {
      ok: false,
      path: "event.time",
      message:
        rawTime === undefined || rawTime === null
          ? "event.time: missing"
          : `event.time: ${TIME_HELP}, got ${describe(rawTime)}`,
    };
  }
  const w: Walk = { deviations: [], setAside: undefined, flat: undefined, undeclared: 0, flatValues: 0 };
  if (aliasOf !== undefined)
    note(
      w,
      "event_type",
      "event_type",
      "aliased",
      `event_type: ${JSON.stringify(aliasOf)} taken as ${eventType}`,
    );
  if (parsed.coerced)
    note(
      w,
      "event.time",
      "event.time",
      "coerced",
      `event.time: ${describe(rawTime)} read as ${parsed.time.utc}`,
    );
  // the record's own keys besides event_type and event: no declaration names them
  if (record)
    for (const k in record) if (k !== "event_type" && k !== "event") undeclared(w, "", k, k, record[k]);
  let out: Obj | undefined;
  const version = normaliseVersion(event["version"], w);
  if (version !== event["version"]) {
    out = copy(event);
    if (version === REMOVE) delete out["version"];
    else if (Object.hasOwn(event, "version")) out["version"] = version;
    else out = { version, ...out }; // first, where Twingate writes it
  }
  const walked = walkObject(FIELD_SPECS[eventType], out ?? event, "event", "event", w, true);
  return {
    ok: true,
    eventType,
    event: walked,
    time: parsed.time,
    deviations: w.deviations,
    setAside: w.setAside,
    flat: w.flat,
  };
}
