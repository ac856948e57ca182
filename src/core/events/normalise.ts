/**
 * The data-quality policy, in one place: "keep the event, annotate the problem" (docs/DATA-QUALITY.md).
 *
 * A record that can be placed (a stream after aliases, an `event` object, a usable time) becomes a document
 * whatever else is odd about it. Walking the event by FIELD_SPECS (every field the schemas or the index
 * mappings type), each value is either
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
import { type ParsedTime, parseAnyTime } from "./time.ts";

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
  | "set_aside";

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

// ---- field specs ----------------------------------------------------------------------------------

/** How a field is typed. `req`: the schema requires it (absent/null/empty is a `missing` deviation). */
export type FieldSpec =
  /** keyword text: strings; numbers become their text (ids sent as JSON numbers) */
  | { readonly t: "str"; readonly req?: boolean }
  /** an `ip`: IPv4 or IPv6 text; "" becomes null */
  | { readonly t: "ip"; readonly req?: boolean }
  /** a `long` count: a safe integer >= 0; numeric strings become numbers */
  | { readonly t: "count" }
  /** an `integer` port 0..65535; numeric strings become numbers */
  | { readonly t: "port" }
  /** a `double` in [-max, max] (latitude 90, longitude 180); numeric strings become numbers */
  | { readonly t: "deg"; readonly max: number }
  /** an object with typed fields (others kept as they are) */
  | { readonly t: "obj"; readonly req?: boolean; readonly f: Readonly<Record<string, FieldSpec>> }
  /** an array of values of one spec */
  | { readonly t: "arr"; readonly of: FieldSpec }
  /** a DNS filtering reason: a string or an {id, name} object (stored `enabled: false`) */
  | { readonly t: "reason" };

const str: FieldSpec = { t: "str" };
const reqStr: FieldSpec = { t: "str", req: true };
const obj = (f: Record<string, FieldSpec>, req = false): FieldSpec => ({ t: "obj", f, req });
const arr = (of: FieldSpec): FieldSpec => ({ t: "arr", of });
const idName = obj({ id: str, name: str });
const user = obj({ id: str, email: str });
const device = obj({
  id: str,
  name: str,
  model: obj({ hostname: str, local_name: str, serial_number: str }),
});

/**
 * Every typed field of each stream's `event` (but version and time, which decide placement): what the zod
 * schemas check and what src/platform/opensearch/mappings.ts maps (a unit test holds every mapped field to a spec
 * of a compatible kind).
 */
export const FIELD_SPECS: { readonly [K in EventType]: Readonly<Record<string, FieldSpec>> } = {
  network_access: {
    status: reqStr,
    connection: obj(
      {
        client_ip: { t: "ip", req: true },
        protocol: str,
        bytes_received: { t: "count" },
        bytes_transferred: { t: "count" },
        error_message: str,
      },
      true,
    ),
    connector: idName,
    remote_network: idName,
    resource: obj({ address: str, applied_rule: str, id: str, ip: { t: "ip" }, port: { t: "port" } }),
    relays: arr(obj({ ip: { t: "ip" }, name: str, port: { t: "port" } })),
    device,
    user,
    service_account: obj({ id: str, name: str, key: str, key_id: str }),
    location: obj({ lat: { t: "deg", max: 90 }, lon: { t: "deg", max: 180 } }),
  },
  dns_filtering: {
    domain: reqStr,
    root: str,
    status: reqStr,
    device,
    connection: obj({ client_ip: { t: "ip" }, protocol: str }),
    reasons: arr({ t: "reason" }),
  },
  audit_log: {
    action: reqStr,
    actor: obj({ type: reqStr, id: str, info: obj({ email: str, name: str }) }, true),
    targets: arr(obj({ version: str, type: reqStr, id: str, name: str })),
  },
  data_loss_prevention: {
    action: reqStr,
    status: str,
    data_loss_prevention_policies: arr(idName),
    device,
    user,
    resource: obj({ address: str, applied_rule: str, id: str }),
  },
};

// ---- values ---------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string")
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  return typeof value === "object" ? "an object" : `the ${typeof value} ${String(value)}`;
}

/** zod's IPv4 pattern (no leading zeros, as OpenSearch's ip field). */
const IPV4 =
  /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;

/** IPv6 text: 8 groups, or fewer with one `::`, optionally ending in dotted IPv4; no zone id. */
function isIpv6(s: string): boolean {
  if (s.length < 2 || s.length > 45 || !/^[0-9A-Fa-f:.]+$/.test(s)) return false;
  let text = s;
  let groupsForV4 = 0;
  const lastColon = s.lastIndexOf(":");
  const tail = s.slice(lastColon + 1);
  if (tail.includes(".")) {
    if (!IPV4.test(tail)) return false;
    text = `${s.slice(0, lastColon + 1)}0:0`;
    groupsForV4 = 0;
  }
  const dbl = text.indexOf("::");
  if (dbl !== text.lastIndexOf("::")) return false;
  const group = /^[0-9A-Fa-f]{1,4}$/;
  if (dbl < 0) {
    const parts = text.split(":");
    return parts.length === 8 + groupsForV4 && parts.every((p) => group.test(p));
  }
  const head = text.slice(0, dbl);
  const rest = text.slice(dbl + 2);
  const hp = head === "" ? [] : head.split(":");
  const rp = rest === "" ? [] : rest.split(":");
  return hp.length + rp.length <= 7 && [...hp, ...rp].every((p) => group.test(p));
}

/** An IP address OpenSearch's `ip` field takes (IPv4 dotted decimal, IPv6 without a zone). */
export function isIpText(s: string): boolean {
  return IPV4.test(s) || (s.includes(":") && isIpv6(s));
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

const REASON_FIELDS: Readonly<Record<string, FieldSpec>> = { id: str, name: str };

/** An object walked field by field; a copy only when something in it changed. */
function walkObject(
  fields: Readonly<Record<string, FieldSpec>>,
  v: Obj,
  path: string,
  at: string,
  w: Walk,
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
    const dot = k.indexOf(".");
    if (dot < 0 && k !== "") continue;
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
    if (!Object.hasOwn(fields, k.slice(0, dot))) continue;
    out ??= copy(v);
    setAside(w, `${path}.${k.slice(0, dot)}`, `${at}.${k}`, v[k], "a dotted key under a typed field");
    delete out[k];
  }
  return out ?? v;
}

/** The path's last part for a key OpenSearch cannot store (bounded: the key itself is under set_aside). */
const ODD_KEY = "(empty key part)";

/** A field name with an empty part: "", ".a", "a..b" (a trailing dot OpenSearch takes). */
function isOddKey(k: string): boolean {
  return k === "" || k.charCodeAt(0) === 0x2e || k.includes("..");
}

/** The typed objects under a spec's fields, as lists (hasPlainKeys' walk, compiled once per spec). */
interface KeyWalk {
  readonly objs: readonly (readonly [string, KeyWalk])[];
  readonly arrs: readonly (readonly [string, KeyWalk])[];
}

const keyWalks = new Map<Readonly<Record<string, FieldSpec>>, KeyWalk>();

function keyWalkOf(fields: Readonly<Record<string, FieldSpec>>): KeyWalk {
  let kw = keyWalks.get(fields);
  if (kw === undefined) {
    const objs: [string, KeyWalk][] = [];
    const arrs: [string, KeyWalk][] = [];
    for (const [k, spec] of Object.entries(fields)) {
      if (spec.t === "obj") objs.push([k, keyWalkOf(spec.f)]);
      else if (spec.t === "arr" && spec.of.t === "obj") arrs.push([k, keyWalkOf(spec.of.f)]);
      // a reason object is walked too (its id and name)
      else if (spec.t === "arr" && spec.of.t === "reason") arrs.push([k, keyWalkOf(REASON_FIELDS)]);
    }
    kw = { objs, arrs };
    keyWalks.set(fields, kw);
  }
  return kw;
}

/**
 * The walk as straight-line code, compiled once per event type from the (static) specs: the property names
 * become literals, so each load is a named one V8 caches per site, where the generic walk's `v[k]` with `k`
 * from a list is a keyed load that sees every name (megamorphic): about half the time per record.
 */
function compileKeyWalk(kw: KeyWalk): (event: Obj) => boolean {
  let n = 0;
  const body = (walk: KeyWalk, v: string): string => {
    let code = `for (const k in ${v}) if (k.length === 0 || k.indexOf(".") >= 0) return false;\n`;
    for (const [k, sub] of walk.objs) {
      const x = `o${n++}`;
      code += `{ const ${x} = ${v}[${JSON.stringify(k)}];\nif (isObj(${x})) {\n${body(sub, x)}} }\n`;
    }
    for (const [k, sub] of walk.arrs) {
      const a = `a${n++}`;
      const y = `y${n++}`;
      code += `{ const ${a} = ${v}[${JSON.stringify(k)}];\nif (Array.isArray(${a})) for (let i = 0; i < ${a}.length; i++) {\nconst ${y} = ${a}[i];\nif (isObj(${y})) {\n${body(sub, y)}} } }\n`;
    }
    return code;
  };
  try {
    return new Function("isObj", `return function (e) {\n${body(kw, "e")}return true;\n};`)(isObj) as (
      event: Obj,
    ) => boolean;
  } catch {
    // A runtime that forbids code from strings (--disallow-code-generation-from-strings): the same walk, generic.
    return (event) => plainKeys(kw, event);
  }
}

/** The walk as a loop over the compiled lists (where code cannot be generated). */
function plainKeys(kw: KeyWalk, v: Obj): boolean {
  for (const k in v) if (k.length === 0 || k.indexOf(".") >= 0) return false;
  for (const [k, sub] of kw.objs) {
    const x = v[k];
    if (isObj(x) && !plainKeys(sub, x)) return false;
  }
  for (const [k, sub] of kw.arrs) {
    const x = v[k];
    if (!Array.isArray(x)) continue;
    for (const y of x as unknown[]) if (isObj(y) && !plainKeys(sub, y)) return false;
  }
  return true;
}

const EVENT_KEY_WALKS = Object.fromEntries(EVENT_TYPES.map((t) => [t, keyWalkOf(FIELD_SPECS[t])])) as {
  readonly [K in EventType]: KeyWalk;
};
const EVENT_KEY_CHECKS = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, compileKeyWalk(EVENT_KEY_WALKS[t])]),
) as { readonly [K in EventType]: (event: Obj) => boolean };

/**
 * True when no object the walk types (the event and its typed objects, recursively) has a key with a dot
 * or an empty key: the fast path's condition (such keys are left to the walk, which decides what to set
 * aside).
 */
export function hasPlainKeys(eventType: EventType, event: Obj): boolean {
  return EVENT_KEY_CHECKS[eventType](event);
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
    }
  | { ok: false; path: string; message: string };

const TIME_HELP =
  "must be a time: ISO-8601 (e.g. 2025-07-25T18:19:41.236597+00:00; no offset is UTC) or epoch seconds or milliseconds as a number, between 1970 and 2262";

/**
 * Normalise an event of a resolved stream: its time (required: without one the event cannot be placed),
 * version and typed fields. `aliasOf`: the event_type as received when it was an alias.
 */
export function normaliseEvent(eventType: EventType, event: Obj, aliasOf?: string): Placement {
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
  const w: Walk = { deviations: [], setAside: undefined };
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
  let out: Obj | undefined;
  const version = normaliseVersion(event["version"], w);
  if (version !== event["version"]) {
    out = copy(event);
    if (version === REMOVE) delete out["version"];
    else if (Object.hasOwn(event, "version")) out["version"] = version;
    else out = { version, ...out }; // first, where Twingate writes it
  }
  const walked = walkObject(FIELD_SPECS[eventType], out ?? event, "event", "event", w);
  return {
    ok: true,
    eventType,
    event: walked,
    time: parsed.time,
    deviations: w.deviations,
    setAside: w.setAside,
  };
}
