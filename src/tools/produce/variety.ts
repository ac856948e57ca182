/**
 * The variety real files have, as rates: how often the producer writes each form the vendor's pages and
 * other consumers' fixtures show beside the usual one (the sync page's examples). Every draw is from the
 * seeded PRNG, so a seed gives the same mix every time; the unit tests hold each rate.
 *
 * And the drift: fields no declaration has (fields Twingate may add tomorrow), planted at a low,
 * configurable rate (`--drift-rate`) so that schema drift shows up downstream.
 */
import { isObj } from "../../core/events/values.ts";
import type { EventType } from "../../core/model.ts";
import { FIELD_SPECS } from "../../core/streams/index.ts";
import type { Rng } from "./prng.ts";
import { type TimeForm, timeFormMs } from "./slots.ts";

export const VARIETY = {
  /** Network and DNS events from the user's IPv6 (dual-stack) address; relays are then reached over IPv6. */
  clientIpv6: 0.15,
  /** Connections to a resource defined by a name that resolved to its IPv6 (AAAA) address. */
  resourceIpv6: 0.1,
  /** Network events whose principal is a service account (headless client) instead of a user, never both. */
  serviceAccount: 0.06,
  /** Relays per connection (weights): none is peer to peer; denied connections never have one. */
  relays: [
    [0, 35],
    [1, 50],
    [2, 12],
    [3, 3],
  ] as const,
  /** `location`: an object, null, or no key at all (weights). */
  location: [
    ["object", 90],
    ["null", 4],
    ["missing", 6],
  ] as const,
  /** Denied connections without connector and remote_network (refused before a connector was chosen). */
  deniedWithoutConnector: 0.5,
  /** failed_to_connect events without bytes_received/bytes_transferred (else both 0). */
  failedWithoutBytes: 0.5,
  /** Event time forms beside `micros` (the rest): shares per record. */
  timeForms: { micros_z: 0.02, millis_z: 0.02, minutes_z: 0.005 } as Readonly<
    Record<Exclude<TimeForm, "micros">, number>
  >,
  /** The audit schema page's example is minutes-only: audit events take that form more often. */
  auditMinutes: 0.05,
  /** Audit events whose `version` is the string "1" (the audit schema page) instead of the number 1 (the sync page). */
  auditVersionString: 0.3,
  /** Audit targets whose `version` is "1" (the audit schema page) instead of "1.0" (the sync page). */
  targetVersionOne: 0.5,
  /** Audit events that change a relation (a user added to a group, a group given a resource): `edit`, two targets. */
  auditRelation: 0.2,
  /** Edited audit targets that carry their previous values under `before`. */
  auditBefore: 0.7,
  /** Public API key targets spelled `publicAPIKey` (the audit schema page) instead of `PublicAPIKey` (the sync page). */
  apiKeyLowerCamel: 0.5,
  /** DNS events whose (non-empty) reasons are plain strings (the reason's id) instead of {id, name} objects. */
  reasonStrings: 0.05,
} as const;

/** Records carrying a field no declaration has, unless `--drift-rate` says otherwise. */
export const DEFAULT_DRIFT_RATE = 0.002;

/**
 * The time form of one record. `minutes_z` only when the cut minute is still inside the window, so that
 * every record's time stays in its file's slot (and the clipped range).
 */
export function pickTimeForm(
  rng: Rng,
  eventType: EventType,
  epochMicros: number,
  windowStartMs: number,
): TimeForm {
  const r = rng.next();
  const f = VARIETY.timeForms;
  const minutes = eventType === "audit_log" ? VARIETY.auditMinutes : f.minutes_z;
  let form: TimeForm = "micros";
  if (r < f.micros_z) form = "micros_z";
  else if (r < f.micros_z + f.millis_z) form = "millis_z";
  else if (r < f.micros_z + f.millis_z + minutes) form = "minutes_z";
  return timeFormMs(epochMicros, form) >= windowStartMs ? form : "micros";
}

type Json = Record<string, unknown>;

const OS = ["macOS 15.1.1", "macOS 14.7", "Windows 11 23H2", "Windows 10 22H2", "Ubuntu 24.04", "Fedora 41"];
const FILES = [
  ["customer-export.csv", "text/csv"],
  ["q3-forecast.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"],
  ["main.py", "text/x-python"],
  ["contract-draft.pdf", "application/pdf"],
  ["id_rsa", "application/octet-stream"],
] as const;

/**
 * Plant a field no declaration has in `event` (a record of `eventType`, not yet serialised); returns its
 * path (`event.connection.tunnel_path`). The fields are ones a vendor could plausibly add: a tunnel path,
 * a city in `location`, the device's OS, the actor's IP, the file a DLP policy looked at.
 */
export function plantDrift(rng: Rng, eventType: EventType, event: Json): string {
  switch (eventType) {
    case "network_access": {
      const location = event["location"];
      const relays = event["relays"];
      if (isObj(location) && rng.chance(0.5)) {
        location["city"] = rng.pick(["New York", "London", "Berlin", "Tokyo", "Sao Paulo", "Lagos"]);
        return "event.location.city";
      }
      (event["connection"] as Json)["tunnel_path"] =
        Array.isArray(relays) && relays.length > 0 ? "relay" : "peer_to_peer";
      return "event.connection.tunnel_path";
    }
    case "dns_filtering":
      (event["device"] as Json)["os"] = rng.pick(OS);
      return "event.device.os";
    case "audit_log":
      (event["actor"] as Json)["ip_address"] =
        `${rng.pick([23, 52, 81, 104])}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      return "event.actor.ip_address";
    case "data_loss_prevention": {
      const [name, mime] = rng.pick(FILES);
      event["file"] = { name, size: rng.logNormalInt(200_000, 1.5, 2_000_000_000), mime_type: mime };
      return "event.file";
    }
    default: {
      const key = newStreamDriftKey(eventType);
      event[key] = rng.pick(["us-east-1", "eu-central-1", "ap-southeast-2"]);
      return `event.${key}`;
    }
  }
}

/** The field planted in a stream with no drift of its own above: a region, under a name it does not declare. */
export function newStreamDriftKey(eventType: EventType): string {
  let key = "region";
  while (Object.hasOwn(FIELD_SPECS[eventType], key)) key = `x_${key}`;
  return key;
}
