/**
 * The seeded event generator: for one slot, the records of one Twingate file, valid or faulty on purpose.
 * Pure: (seed, pools, plan) -> records. A slot's records depend only on the seed, the slot's start and the
 * plan, never on which other slots are produced in the same run, so a file is reproducible on its own.
 *
 * An event is its stream's declaration (src/core/streams/) filled in (from-spec.ts), with the realism a
 * declaration cannot say layered on top by a hand-written generator where the stream has one (REFINED): a
 * stream without one, and a field no hand-written generator knows, come from the declaration alone.
 */
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import { FIELD_SPECS } from "../../core/streams/index.ts";
import type { Slot } from "../../core/twingate.ts";
import { auditLog } from "./audit.ts";
import { leaveOut, SpecFiller } from "./from-spec.ts";
import type { Pools, Resource, User } from "./pools.ts";
import { Rng } from "./prng.ts";
import { isoMicros, timeText } from "./slots.ts";
import { DEFAULT_DRIFT_RATE, pickTimeForm, plantDrift, VARIETY } from "./variety.ts";

/** What a record is, so a test knows how the consumer must treat it. */
type RecordKind = "valid" | "invalid" | "corrupt" | "unknown_type" | "oversized";

export interface ProducedRecord {
  kind: RecordKind;
  /** The stream it belongs to; for `unknown_type`, the made-up stream name written. */
  eventType: string;
  /** The record's JSON text, one line, no newline. For `corrupt`, text that is not JSON. */
  text: string;
  /** For `invalid`: the field that breaks the schema (e.g. `event.connection.client_ip`) and how. */
  invalid?: { path: string; problem: string };
  /** For a valid record with a planted field no declaration has: its path (`event.connection.tunnel_path`). */
  drift?: string;
  /** The instant drawn for the record; its text may be cut to milliseconds or minutes (see slots.ts). */
  timeMicros: number;
}

/** Shares of the event types in a file; a type not named has none. */
export type Mix = { [K in EventType]?: number };

/** The streams' shares by default; a stream with none of its own here gets NEW_STREAM_SHARE. */
const SHARES: Mix = { network_access: 60, dns_filtering: 30, audit_log: 5, data_loss_prevention: 5 };
const NEW_STREAM_SHARE = 5;

export const DEFAULT_MIX: { readonly [K in EventType]: number } = Object.fromEntries(
  EVENT_TYPES.map((t) => [t, SHARES[t] ?? NEW_STREAM_SHARE]),
) as { readonly [K in EventType]: number };

export interface FaultRates {
  /** Share of records that fail their event type's schema. */
  invalid: number;
  /** Share of records whose text is not JSON (NDJSON only: other layouts would lose the rest of the file). */
  corrupt: number;
  /** Share of records with an event_type no schema knows. */
  unknownType: number;
}

export const NO_FAULTS: FaultRates = { invalid: 0, corrupt: 0, unknownType: 0 };

export interface SlotPlan {
  seed: number | string;
  /** The slot (file) the records belong to: identifies the PRNG stream. */
  slot: Slot;
  /** Where event times fall: the slot, possibly clipped to the requested range. */
  window: Slot;
  count: number;
  mix: Mix;
  faults: FaultRates;
  /** Records in this file that exceed the reader's record size limit. */
  oversized: number;
  /** Serialized size each oversized record reaches (at least). */
  oversizedBytes: number;
  /** Share of valid records carrying a field no declaration has [default: DEFAULT_DRIFT_RATE]. */
  driftRate?: number;
}

/** Counts per slot: from a fixed number, or from a rate with some natural variation. */
export function slotEventCount(
  seed: number | string,
  slot: Slot,
  window: Slot,
  opts: { eventsPerFile?: number; ratePerSecond?: number; emptySlotRate?: number },
): number {
  const rng = new Rng(seed, "count", slot.startMs);
  if (opts.emptySlotRate && rng.chance(opts.emptySlotRate)) return 0;
  if (opts.eventsPerFile !== undefined) return opts.eventsPerFile;
  const seconds = Math.max(0, window.endMs - window.startMs) / 1000;
  const mean = (opts.ratePerSecond ?? 0) * seconds;
  if (mean <= 0) return 0;
  // +-20% around the mean, as traffic ebbs and flows between slots.
  return Math.max(0, Math.round(mean * (0.8 + 0.4 * rng.next())));
}

/** Chosen positions for each fault: expected counts are n*rate (floor plus a draw on the fraction). */
function assignKinds(rng: Rng, n: number, faults: FaultRates, oversized: number): RecordKind[] {
  const kinds: RecordKind[] = new Array(n).fill("valid");
  const draw = (rate: number) => {
    const exact = n * rate;
    return Math.floor(exact) + (rng.chance(exact - Math.floor(exact)) ? 1 : 0);
  };
  const wanted: [RecordKind, number][] = [
    ["oversized", oversized],
    ["invalid", draw(faults.invalid)],
    ["corrupt", draw(faults.corrupt)],
    ["unknown_type", draw(faults.unknownType)],
  ];
  // The first record stays valid: readers sniff the layout from it, and a broken first line would
  // make an NDJSON file look like something else (and turn one bad record into a lost file).
  const total = Math.min(
    Math.max(0, n - 1),
    wanted.reduce((s, [, c]) => s + c, 0),
  );
  const positions = rng.sample(Math.max(0, n - 1), total).map((i) => i + 1);
  // Shuffle the chosen positions so kinds are not grouped by position.
  for (let i = positions.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [positions[i], positions[j]] = [positions[j]!, positions[i]!];
  }
  let p = 0;
  for (const [kind, count] of wanted) {
    for (let i = 0; i < count && p < positions.length; i++) kinds[positions[p++]!] = kind;
  }
  return kinds;
}

export function generateSlot(pools: Pools, plan: SlotPlan): ProducedRecord[] {
  const rng = new Rng(plan.seed, "slot", plan.slot.startMs);
  const n = plan.count;
  const spanMicros = Math.max(1, (plan.window.endMs - plan.window.startMs) * 1000);
  const times = Array.from(
    { length: n },
    () => plan.window.startMs * 1000 + Math.floor(rng.next() * spanMicros),
  );
  times.sort((a, b) => a - b);
  const mixEntries = EVENT_TYPES.map((t) => [t, plan.mix[t] ?? 0] as const).filter(([, share]) => share > 0);
  if (n > 0 && mixEntries.length === 0)
    throw new RangeError("the event mix has no type with a positive share");
  const kinds = assignKinds(rng, n, plan.faults, plan.oversized);
  const out: ProducedRecord[] = [];
  const drift = {
    rng: new Rng(plan.seed, "drift", plan.slot.startMs),
    rate: plan.driftRate ?? DEFAULT_DRIFT_RATE,
  };
  // The declared fields no hand-written generator wrote, from a PRNG stream of their own: a field added to a
  // declaration changes that field in the files and nothing else.
  const fill = new Rng(plan.seed, "fields", plan.slot.startMs);
  // Texts of this file's valid records: a time cut to minutes could make two records the same text, i.e.
  // the same document id, one record fewer downstream than the summary counts. Such a record keeps its
  // microseconds instead. (Records of different files never collide: a cut time stays in its own slot.)
  const texts = new Set<string>();
  for (let i = 0; i < n; i++) {
    const timeMicros = times[i]!;
    const eventType = rng.weighted(mixEntries);
    const made = makeRecord(rng, pools, eventType, timeMicros, plan.window, drift, fill);
    const record = made.record as Json;
    const kind = kinds[i]!;
    switch (kind) {
      case "valid": {
        let text = JSON.stringify(record);
        if (texts.has(text)) {
          made.record.event["time"] = isoMicros(timeMicros);
          text = JSON.stringify(record);
        }
        texts.add(text);
        out.push({ kind, eventType, text, timeMicros, ...(made.drift ? { drift: made.drift } : {}) });
        break;
      }
      case "invalid": {
        const invalid = breakRecord(rng, record, eventType);
        out.push({ kind, eventType, text: JSON.stringify(record), invalid, timeMicros });
        break;
      }
      case "corrupt":
        out.push({ kind, eventType, text: corruptText(rng, JSON.stringify(record)), timeMicros });
        break;
      case "unknown_type": {
        const unknown = unknownRecord(rng, pools, timeMicros);
        out.push({ kind, eventType: unknown.event_type, text: JSON.stringify(unknown), timeMicros });
        break;
      }
      case "oversized":
        out.push({
          kind,
          eventType,
          text: JSON.stringify(inflate(rng, record, plan.oversizedBytes)),
          timeMicros,
        });
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------- events

type Json = Record<string, unknown>;

/** A valid record before serialisation, with what variety it carries. */
interface Made {
  record: { event_type: EventType; event: Json };
  /** Path of a planted field no declaration has. */
  drift?: string;
}

/**
 * The hand-written generators: what a declaration cannot say (statuses and the fields that follow them, the
 * pools' users and resources, the vendor's forms at their rates). They may leave declared fields out, on
 * purpose (a key set to `undefined`) or not; a stream with none is produced from its declaration alone.
 */
const REFINED: { readonly [K in EventType]?: (rng: Rng, pools: Pools, time: string) => Json } = {
  network_access: networkAccess,
  dns_filtering: dnsFiltering,
  audit_log: auditLog,
  data_loss_prevention: dataLossPrevention,
};

/** An event as its hand-written generator writes it, before completion: `{version, time}` when it has none. */
export function handWritten(rng: Rng, pools: Pools, eventType: EventType, time: string): Json {
  const refined = REFINED[eventType];
  return refined ? refined(rng, pools, time) : { version: 1, time };
}

function makeRecord(
  rng: Rng,
  pools: Pools,
  eventType: EventType,
  timeMicros: number,
  window: Slot,
  drift: { rng: Rng; rate: number },
  fill: Rng,
): Made {
  const time = timeText(timeMicros, pickTimeForm(rng, eventType, timeMicros, window.startMs));
  const event = new SpecFiller(fill, pools).complete(
    FIELD_SPECS[eventType],
    handWritten(rng, pools, eventType, time),
  );
  const record = { event_type: eventType, event };
  // From a PRNG stream of its own, drawn for every record: the drift rate changes which records carry a
  // drift field and nothing else in the file.
  return drift.rng.next() < drift.rate
    ? { record, drift: plantDrift(drift.rng, eventType, event) }
    : { record };
}

/** The client's address: mostly the user's home line (IPv4 or, dual stack, IPv6); sometimes travelling. */
function clientIp(rng: Rng, user: User): string {
  if (rng.chance(VARIETY.clientIpv6)) return user.homeIp6;
  if (rng.chance(0.85)) return user.homeIp;
  return `${rng.pick([24, 37, 68, 82, 98, 109, 174, 188])}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Why a connection failed, as an error message. A resolve failure names the host name that did not
 * resolve: only a resource defined by a name has one (an IP address is never resolved).
 */
function failure(rng: Rng, resource: Resource, unresolvable: boolean): { message: string; dns: boolean } {
  if (unresolvable) return { message: `Failed to resolve ${resource.address}`, dns: true };
  const why = rng.pick(
    resource.addressType === "DNS"
      ? (["refused", "timeout", "dns"] as const)
      : (["refused", "timeout", "unreachable"] as const),
  );
  if (why === "dns") return { message: `Failed to resolve ${resource.address}`, dns: true };
  return {
    message: {
      refused: "Connection refused",
      timeout: "Connection timed out",
      unreachable: "No route to host",
    }[why],
    dns: false,
  };
}

function networkAccess(rng: Rng, pools: Pools, time: string): Json {
  const resource: Resource = rng.skewed(pools.resources);
  // A name that does not resolve: every connection to it fails to resolve (the DNS_ERROR of the console's
  // CSV export is, in the S3 format, a failed_to_connect with the resolve error).
  const unresolvable = resource.ips.length === 0;
  const status = unresolvable
    ? "failed_to_connect"
    : rng.weighted([
        ["closed_connection", 48],
        ["established_connection", 38],
        ["denied_access", 8],
        ["failed_to_connect", 6],
      ] as const);
  const asService = rng.chance(VARIETY.serviceAccount);
  const user = rng.skewed(pools.users);
  const sa = rng.pick(pools.serviceAccounts);
  const ip = asService ? sa.ip : clientIp(rng, user);
  const port = rng.pick(resource.ports);
  const connection: Json = { client_ip: ip, protocol: resource.protocol };
  let resolvedIp = "";
  if (!unresolvable) {
    resolvedIp =
      resource.ip6 !== undefined && rng.chance(VARIETY.resourceIpv6) ? resource.ip6 : rng.pick(resource.ips);
  }
  if (status === "closed_connection") {
    // Long-tailed transfer sizes: most connections are small, a few move a lot.
    connection["bytes_received"] = rng.logNormalInt(4_000, 2.2, 5_000_000_000);
    connection["bytes_transferred"] = rng.logNormalInt(12_000, 2.6, 20_000_000_000);
  } else if (status === "established_connection") {
    connection["bytes_received"] = rng.int(0, 1_500);
    connection["bytes_transferred"] = rng.int(0, 1_500);
  } else if (status === "denied_access") {
    connection["error_message"] = rng.pick([
      "Access to resource denied by policy",
      "Device does not meet the security policy",
      "User is not in a group with access to the resource",
    ]);
  } else {
    const why = failure(rng, resource, unresolvable);
    // The vendor writes an empty ip when the name did not resolve (docs/DATA-QUALITY.md: stored as null).
    if (why.dns) resolvedIp = "";
    if (!rng.chance(VARIETY.failedWithoutBytes)) {
      connection["bytes_received"] = 0;
      connection["bytes_transferred"] = 0;
    }
    connection["error_message"] = why.message;
  }
  const connector = rng.pick(resource.network.connectors);
  const relayCount = status === "denied_access" ? 0 : rng.weighted(VARIETY.relays);
  // Relays are reached in the client's address family.
  const v6 = ip.includes(":");
  const relays = (
    relayCount === 1
      ? [pools.relays.indexOf(rng.skewed(pools.relays))]
      : rng.sample(pools.relays.length, relayCount)
  )
    .map((i) => pools.relays[i]!)
    .map((r) => ({ ip: v6 ? r.ip6 : r.ip, name: r.name, port: r.port }));
  const withoutConnector = status === "denied_access" && rng.chance(VARIETY.deniedWithoutConnector);
  const event: Json = { version: 1, time, status, connection };
  if (!withoutConnector) {
    event["connector"] = { id: connector.id, name: connector.name };
    event["remote_network"] = { id: resource.network.id, name: resource.network.name };
  }
  event["resource"] = {
    address: resource.address,
    applied_rule: resource.appliedRule,
    id: resource.id,
    ip: resolvedIp,
    port,
  };
  event["relays"] = relays;
  event["device"] = { id: asService ? sa.deviceId : rng.pick(user.devices).id };
  if (asService) event["service_account"] = { name: sa.name, id: sa.id, key: sa.key, key_id: sa.keyId };
  else event["user"] = { id: user.id, email: user.email };
  const where = rng.weighted(VARIETY.location);
  if (where === "null") event["location"] = null;
  else if (where === "object") {
    const loc = user.location;
    event["location"] = {
      lat: round2(loc.lat + (rng.next() - 0.5) * 0.2),
      lon: round2(loc.lon + (rng.next() - 0.5) * 0.2),
    };
  }
  // What follows from the status and the principal is left out on purpose (from-spec.ts fills the rest).
  leaveOut(connection, "bytes_received", "bytes_transferred", "error_message");
  leaveOut(event, "connector", "remote_network", "user", "service_account", "location");
  return event;
}

function dnsFiltering(rng: Rng, pools: Pools, time: string): Json {
  const user = rng.skewed(pools.users);
  const device = rng.pick(user.devices);
  const domain = rng.skewed(pools.domains);
  let status: "default" | "blocked" | "allowed" = "default";
  let reasons: { id: string; name: string }[] = [];
  if (domain.threat) {
    status = "blocked";
    reasons = [domain.threat];
  } else if (domain.category) {
    if (rng.chance(0.75)) {
      status = "blocked";
      reasons = [domain.category];
    } else {
      status = "allowed";
      reasons = [{ id: "allowlist", name: "Allowlist" }];
    }
  } else if (domain.root === pools.internalDomain || rng.chance(0.03)) {
    status = "allowed";
    reasons = [{ id: "allowlist", name: "Allowlist" }];
  }
  const asStrings = reasons.length > 0 && rng.chance(VARIETY.reasonStrings);
  return {
    version: 1,
    time,
    domain: domain.domain,
    root: domain.root,
    device: { id: device.graphId, name: device.name, model: device.model ? { ...device.model } : null },
    // the device's user (the vendor's DNS Filtering Logs carry it; the sync page's sample shows none)
    user: { id: user.id, email: user.email },
    connection: {
      client_ip: clientIp(rng, user),
      protocol: rng.weighted([
        ["DNS-over-HTTPS", 8],
        ["DNS", 2],
      ] as const),
    },
    status,
    reasons: asStrings ? reasons.map((r) => r.id) : reasons.map((r) => ({ ...r })),
  };
}

function dataLossPrevention(rng: Rng, pools: Pools, time: string): Json {
  const user = rng.skewed(pools.users);
  const device = rng.pick(user.devices);
  const app = rng.skewed(pools.dlpApps);
  const [action, status] = rng.weighted([
    [["block_upload", "blocked"], 45],
    [["block_paste", "blocked"], 20],
    [["block_download", "blocked"], 10],
    [["warn_upload", "warned"], 15],
    [["log_upload", "allowed"], 10],
  ] as const);
  const policyCount = rng.chance(0.2) ? 2 : 1;
  const policies = rng
    .sample(pools.dlpPolicies.length, policyCount)
    .map((i) => ({ ...pools.dlpPolicies[i]! }));
  return {
    version: 1,
    time,
    action,
    status,
    data_loss_prevention_policies: policies,
    device: { id: device.id, name: device.model?.hostname.replace(/\.local$/, "") ?? device.name },
    user: { id: user.id, email: user.email },
    resource: { address: app.address, applied_rule: app.appliedRule, id: app.id },
  };
}

// ---------------------------------------------------------------------------------------------- faults

/** Streams Twingate might add one day: records the consumer must set aside as `unknown_event_type`. */
const UNKNOWN_TYPES = ["device_posture", "session_recording", "identity_provider_sync"].filter(
  (t) => !(EVENT_TYPES as readonly string[]).includes(t),
);

function unknownRecord(rng: Rng, pools: Pools, timeMicros: number): { event_type: string; event: Json } {
  const user = rng.skewed(pools.users);
  const device = rng.pick(user.devices);
  return {
    event_type: rng.pick(UNKNOWN_TYPES),
    event: {
      version: 1,
      time: isoMicros(timeMicros),
      device: { id: device.id },
      user: { id: user.id, email: user.email },
      result: rng.pick(["passed", "failed"]),
    },
  };
}

/** A change that breaks a record's schema: set `path` (under the record) to `value`, or remove it. */
interface Breakage {
  path: string;
  problem: string;
  value?: unknown;
  remove?: true;
}

const obj = (v: unknown): Json => v as Json;

/**
 * What the consumer cannot place (docs/DATA-QUALITY.md): no usable event time, or no event object. A value
 * that is merely wrong (a bad IP, a port out of range) is indexed with a deviation, so it is no "invalid"
 * record: see the corpus in test/fixtures/data-quality for those.
 */
const COMMON_BREAKAGES: Breakage[] = [
  { path: "event.time", problem: "not an ISO-8601 time", value: "25/07/2025 18:19:41" },
  { path: "event.time", problem: "missing", remove: true },
  { path: "event.time", problem: "epoch seconds as a string", value: "1753467581" },
  { path: "event.time", problem: "a date without a time", value: "2025-07-25" },
  { path: "event.time", problem: "before 1970", value: "1969-07-20T20:17:40Z" },
  { path: "event.time", problem: "an object", value: { seconds: 1753467581 } },
];

const TYPE_BREAKAGES: { readonly [K in EventType]?: Breakage[] } = {
  network_access: [{ path: "event", problem: "not an object", value: "closed_connection" }],
  dns_filtering: [{ path: "event", problem: "missing", remove: true }],
  audit_log: [{ path: "event", problem: "an array", value: [] }],
  data_loss_prevention: [{ path: "event", problem: "null", value: null }],
};
/** A stream with no breakage of its own: an event that is a number. */
const NEW_STREAM_BREAKAGES: Breakage[] = [{ path: "event", problem: "a number", value: 42 }];

function applyBreakage(record: Json, b: Breakage): void {
  const parts = b.path.split(".");
  let node = record;
  for (const part of parts.slice(0, -1)) node = obj(node[part]);
  const last = parts.at(-1)!;
  if (b.remove) delete node[last];
  else node[last] = b.value;
}

/** Every way the generator breaks a record of a type (for tests and docs). */
export function breakagesFor(eventType: EventType): readonly { path: string; problem: string }[] {
  return [...COMMON_BREAKAGES, ...(TYPE_BREAKAGES[eventType] ?? NEW_STREAM_BREAKAGES)].map(
    ({ path, problem }) => ({ path, problem }),
  );
}

function breakRecord(rng: Rng, record: Json, eventType: EventType): { path: string; problem: string } {
  const b = rng.pick([...COMMON_BREAKAGES, ...(TYPE_BREAKAGES[eventType] ?? NEW_STREAM_BREAKAGES)]);
  applyBreakage(record, b);
  return { path: b.path, problem: b.problem };
}

/** A record's text made unparseable: cut short, or with a stray character, as a broken writer would leave it. */
function corruptText(rng: Rng, text: string): string {
  const how = rng.pick(["cut", "quote", "brace"] as const);
  if (how === "cut") return text.slice(0, rng.int(1, Math.max(1, text.length - 2)));
  if (how === "quote") {
    // Drop the opening quote of the first key: {event_type":...
    return `{${text.slice(2)}`;
  }
  return `${text.slice(0, -1)},}`;
}

/** A valid-looking record padded past `bytes` (a huge error message or target list, as a bug might write). */
function inflate(rng: Rng, record: Json, bytes: number): Json {
  const event = obj(record["event"]);
  const size = JSON.stringify(record).length;
  const pad = Math.max(0, bytes - size) + 1024;
  const filler = rng
    .chars(64, "abcdefghijklmnopqrstuvwxyz0123456789 ")
    .repeat(Math.ceil(pad / 64))
    .slice(0, pad);
  event["debug_trace"] = filler;
  return record;
}
