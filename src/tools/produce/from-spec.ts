/**
 * The producer's values from the stream declarations (src/core/streams/): for every declared field, a
 * plausible value of its kind, drawn from the pools (an `ip` is a user's IPv4 or IPv6 line, a case-blind
 * keyword an e-mail address or host name, sometimes in mixed case, a port one a resource listens on, ...).
 *
 * Two uses. A stream with no hand-written generator (generator.ts) is produced from its declaration alone.
 * A stream with one has each record completed: every declared field the hand-written part did not write
 * is added. A key the hand-written part leaves out on purpose (a service account's connection has no
 * `user`) it sets to `undefined`: JSON leaves it out, and completion leaves it alone. So a field added to a
 * declaration is in the producer's files with no producer edit.
 */
import { isObj } from "../../core/events/values.ts";
import type { FieldSpec, FieldSpecs } from "../../core/streams/index.ts";
import type { Device, Pools, Resource, User } from "./pools.ts";
import type { Rng } from "./prng.ts";

type Json = Record<string, unknown>;

/** The shares of generic forms (the hand-written streams hold their own rates in variety.ts). */
export const SPEC_VARIETY = {
  /** An optional field written as null. */
  nulls: 0.02,
  /** An e-mail address or host name in mixed case (`Jane.Doe@TwinDemo.com`): identities are case-blind. */
  mixedCase: 0.3,
  /** IPv6 addresses (a user's dual-stack line). */
  ipv6: 0.15,
  /** Elements of an array (weights). */
  arrayLength: [
    [0, 2],
    [1, 6],
    [2, 2],
  ] as const,
} as const;

/** What one record's generic values are drawn from: one user, device and resource, so they agree. */
interface Scene {
  user: User;
  device: Device;
  resource: Resource;
}

/** Draws a record's generic values; the scene is drawn on the first value needed (none: no draws at all). */
export class SpecFiller {
  readonly #rng: Rng;
  readonly #pools: Pools;
  /**
   * Write every field (no nulls, arrays of one element) but the `flat` ones: records that populate every
   * path the fast check knows (a flat value is copied to the catch-all, which is the full path's).
   */
  readonly #full: boolean;
  #scene: Scene | undefined;

  constructor(rng: Rng, pools: Pools, opts: { full?: boolean } = {}) {
    this.#rng = rng;
    this.#pools = pools;
    this.#full = opts.full ?? false;
  }

  get #s(): Scene {
    if (!this.#scene) {
      const user = this.#rng.skewed(this.#pools.users);
      this.#scene = {
        user,
        device: this.#rng.pick(user.devices),
        resource: this.#rng.skewed(this.#pools.resources),
      };
    }
    return this.#scene;
  }

  /** Every declared field of `fields` in `obj`: absent keys are drawn, present objects and arrays completed. */
  complete(fields: FieldSpecs, obj: Json): Json {
    for (const [key, spec] of Object.entries(fields)) {
      if (!Object.hasOwn(obj, key)) {
        if (!(this.#full && spec.t === "flat")) obj[key] = this.value(key, spec);
        continue;
      }
      const v = obj[key];
      const inner = spec.t === "arr" ? spec.of : spec;
      if (inner.t !== "obj") continue;
      if (spec.t === "arr" && Array.isArray(v)) {
        for (const x of v) if (isObj(x)) this.complete(inner.f, x);
      } else if (spec.t === "obj" && isObj(v)) this.complete(inner.f, v);
    }
    return obj;
  }

  /** A value for a field declared `spec` under `key` (null now and then when the field is optional). */
  value(key: string, spec: FieldSpec): unknown {
    const rng = this.#rng;
    const req = "req" in spec && spec.req === true;
    if (!req && !this.#full && rng.chance(SPEC_VARIETY.nulls)) return null;
    switch (spec.t) {
      case "obj":
        return this.complete(spec.f, {});
      case "arr": {
        const n = this.#full ? 1 : rng.weighted(SPEC_VARIETY.arrayLength);
        return Array.from({ length: n }, () => this.value(key, { ...spec.of, req: true } as FieldSpec));
      }
      case "ip":
        return rng.chance(SPEC_VARIETY.ipv6) ? this.#s.user.homeIp6 : this.#s.user.homeIp;
      case "port":
        return rng.pick(this.#s.resource.ports);
      case "count":
        return rng.logNormalInt(4_000, 2, 5_000_000_000);
      case "deg": {
        const loc = this.#s.user.location;
        const v = /^lat/i.test(key)
          ? loc.lat
          : /^(lon|lng)/i.test(key)
            ? loc.lon
            : (rng.next() * 2 - 1) * spec.max;
        return Math.round(Math.max(-spec.max, Math.min(spec.max, v)) * 100) / 100;
      }
      case "bool":
        return rng.chance(0.5);
      case "reason": {
        const listed = this.#pools.domains.flatMap((d) => (d.category ? [d.category] : []));
        const r =
          rng.chance(0.5) && listed.length > 0 ? rng.pick(listed) : { id: "allowlist", name: "Allowlist" };
        return !this.#full && rng.chance(0.05) ? r.id : { ...r };
      }
      case "flat":
        return rng.chance(0.5) ? { state: rng.pick(["ACTIVE", "DISABLED"]) } : [key, rng.int(1, 9)];
      case "str":
        return this.#keyword(key, spec);
    }
  }

  #keyword(key: string, spec: Extract<FieldSpec, { t: "str" }>): string {
    const rng = this.#rng;
    const listed = documentedValues(spec.doc);
    if (listed) return rng.pick(listed);
    const s = this.#s;
    if (/e-?mail/i.test(key)) return this.#mixedCase(s.user.email);
    if (spec.lower)
      return this.#mixedCase(
        rng.chance(0.5) && s.device.model
          ? s.device.model.hostname
          : host(s.resource, this.#pools.internalDomain),
      );
    if (spec.map === "text_keyword") return rng.pick(MESSAGES);
    if (/(^|_)id$|Id$/.test(key)) return rng.chance(0.5) ? s.user.id : s.device.id;
    if (/name$/i.test(key) || spec.map === "keyword_text")
      return rng.chance(0.5) ? s.user.name : s.device.name;
    if (/version/i.test(key)) return "1";
    return `${key}-${rng.chars(6, "abcdefghijklmnopqrstuvwxyz0123456789")}`;
  }

  /** `jane.doe@twindemo.com` as `Jane.Doe@Twindemo.com`, now and then (the top-level domain as it was). */
  #mixedCase(text: string): string {
    if (!this.#rng.chance(SPEC_VARIETY.mixedCase)) return text;
    const dot = text.lastIndexOf(".");
    const head = dot > 0 ? text.slice(0, dot) : text;
    return (
      head.replace(/(^|[.@_+-])([a-z])/g, (_, sep: string, c: string) => sep + c.toUpperCase()) +
      text.slice(head.length)
    );
  }
}

/** Marks `keys` of `obj` that are not there as left out on purpose (`undefined`: JSON leaves them out). */
export function leaveOut(obj: Json, ...keys: string[]): void {
  for (const k of keys) if (!Object.hasOwn(obj, k)) obj[k] = undefined;
}

const MESSAGES = ["Connection refused", "Connection timed out", "Access denied by policy"] as const;

/** A resource's host name: its address when that is a name (a wildcard made concrete), else one from its name. */
function host(r: Resource, internalDomain: string): string {
  if (r.addressType === "DNS") return r.address.replace(/^\*\./, "app.");
  return `${r.name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")}.${internalDomain}`;
}

/**
 * The values a declaration's doc lists, when it lists some: `"passed, failed"`, `"e.g. block_upload"`,
 * `"PublicAPIKey, resource, user, group, ..."`. A sentence (`"the user's e-mail address"`) lists none.
 */
export function documentedValues(doc: string | undefined): readonly string[] | undefined {
  if (!doc) return undefined;
  const example = /^e\.g\. /.test(doc);
  const parts = doc
    .replace(/^e\.g\. /, "")
    .split(/,\s*/)
    .filter((p) => p !== "..." && p !== "");
  if (parts.length === 0 || (!example && parts.length < 2)) return undefined;
  return parts.every((p) => /^[A-Za-z0-9_][A-Za-z0-9_. -]{0,40}$/.test(p)) ? parts : undefined;
}
