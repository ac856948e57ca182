/**
 * Helpers the streams' ECS builders share (pure): build small objects without `{}` shells or absent members.
 */

export type Json = Record<string, unknown>;

/**
 * The defined members, in order; undefined for none (no `{}` shells). The object itself when all are
 * defined (the usual case: no copy); else a copy rather than `delete`s: a deleted property turns an
 * object into a slow dictionary, which JSON.stringify then walks slowly.
 */
export function compact(obj: Json): Json | undefined {
  let keys = 0;
  let defined = 0;
  for (const k in obj) {
    keys++;
    if (obj[k] !== undefined) defined++;
  }
  if (defined === keys) return keys === 0 ? undefined : obj;
  if (defined === 0) return undefined;
  const out: Json = {};
  for (const k in obj) {
    const v = obj[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A value usable as a document field (null and "" count as absent). */
export function present<T>(v: T | null | undefined | ""): T | undefined {
  return v === null || v === undefined || v === "" ? undefined : (v as T);
}

/** Sets `out[key]` when `value` is defined. */
export function setDefined(out: Json, key: string, value: Json | undefined): void {
  if (value !== undefined) out[key] = value;
}

type Device = { id?: string | null; name?: string | null; model?: { hostname?: string | null } | null };

/** ECS `host` of a Twingate device. */
export function hostOf(device: Device | null | undefined): Json | undefined {
  if (!device) return undefined;
  return compact({
    id: present(device.id),
    name: present(device.name),
    hostname: present(device.model?.hostname),
  });
}

/** ECS `user` of a Twingate user object `{id, email}`. */
export function userOf(
  user: { id?: string | null; email?: string | null } | null | undefined,
): Json | undefined {
  return user ? emailUser(user.id, user.email) : undefined;
}

/** ECS `event.outcome`. */
export type Outcome = "success" | "failure" | "unknown";

/**
 * ECS `event`: the event's metadata (the vendor's own event is under `twingate.<stream>`). `kind` is always
 * `event`; `dataset` is `twingate.<stream>`, `module` `twingate`.
 */
export function ecsEvent(
  stream: string,
  category: readonly string[],
  type: readonly string[],
  action: string | null | undefined,
  outcome: Outcome,
): Json {
  const event: Json = { kind: "event", category, type };
  if (action) event["action"] = action;
  event["outcome"] = outcome;
  event["dataset"] = `twingate.${stream}`;
  event["module"] = "twingate";
  return event;
}

/** ECS `observer`: who reported the event (the same object for every document). */
export const OBSERVER: Json = Object.freeze({ vendor: "Twingate", product: "Twingate" });

/** The domain part of an e-mail address, lowercased; undefined for none. */
export function emailDomain(email: string | null | undefined): string | undefined {
  if (typeof email !== "string") return undefined;
  const at = email.lastIndexOf("@");
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : undefined;
}

const IPV4_OR_CIDR = /^[\d.]+(\/\d+)?$/;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/** The address when it is a DNS name (not an IP, a CIDR or a wildcard pattern), lowercased. */
export function domainOf(address: string | null | undefined): string | undefined {
  if (typeof address !== "string" || address.length > 253 || address.includes(":")) return undefined;
  if (IPV4_OR_CIDR.test(address) || address.startsWith("*") || !DNS_NAME.test(address)) return undefined;
  return address.toLowerCase();
}

/** Distinct present values, in order; undefined for none (ECS `related.*` arrays). */
export function distinct(values: readonly (string | null | undefined)[]): string[] | undefined {
  let out: string[] | undefined;
  for (const v of values) {
    if (typeof v !== "string" || v === "") continue;
    out ??= [];
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** ECS `related`: every IP, user and host name of the event, for one search whatever role it played. */
export function related(
  ip: readonly (string | null | undefined)[],
  user: readonly (string | null | undefined)[],
  hosts: readonly (string | null | undefined)[],
): Json | undefined {
  return compact({ ip: distinct(ip), user: distinct(user), hosts: distinct(hosts) });
}

/** ECS `user` of an e-mail identity: id, e-mail, name (the e-mail: what people log in with), domain. */
export function emailUser(
  id: string | null | undefined,
  email: string | null | undefined,
  name?: string | null,
): Json | undefined {
  return compact({
    id: present(id),
    email: present(email),
    name: present(name) ?? present(email),
    domain: emailDomain(email),
  });
}

/**
 * The value lowercased when it is a string, else "". Builders read validated events, but a normalised one
 * may lack a required field (listed as `missing`): no builder may assume one.
 */
export function lc(v: unknown): string {
  return typeof v === "string" ? v.toLowerCase() : "";
}
