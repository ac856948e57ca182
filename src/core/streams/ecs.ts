/**
 * What the streams' ECS builders write with (pure): `EcsWriter`, which writes a document's ECS members as
 * JSON text as they are found, and the value helpers they share.
 *
 * Why text and not objects: the ECS members are a few dozen small values a record (about 800 bytes of a
 * network event's document). Built as objects (absent members left out by a generic `compact`) and then
 * serialised, a record's document took 10.9 us; written as text, 9.3 us (the document stage alone, one
 * process, the two interleaved, best of 20 rounds, Node 20; docs/BENCHMARKS.md). The object is still there
 * for whoever needs it (`ecsFields`: the text parsed), and the text is what `JSON.stringify` of it writes
 * (a unit test holds hostile strings to that). The document builder has the same writer write the rest of
 * the document (`ingest`) and takes its bytes (`bytes`), which go into the bulk batch as they are.
 */

export type Json = Record<string, unknown>;

/** ECS `event.outcome`. */
export type Outcome = "success" | "failure" | "unknown";

/** The decimal places `EcsWriter#number` writes itself; POW10[k] is 10^k (exact up to 10^22). */
const MAX_PLACES = 6;
const POW10 = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16];

/** Up to this many values, `strs` finds a repeated one by looking back (no set to allocate). */
const LOOK_BACK_MAX = 16;

/** ECS `observer`'s text: who reported the event (the same for every document). */
const OBSERVER_TEXT = JSON.stringify({ vendor: "Twingate", product: "Twingate" });

interface EventText {
  category: readonly string[];
  type: readonly string[];
  outcome: Outcome;
  text: string;
}
/** `event`'s texts by stream and action: a stream has a few dozen (its actions and outcomes). */
const EVENT_TEXTS = new Map<string, Map<string, EventText[]>>();
let eventTexts = 0;
/** Beyond this many (a file of made-up actions), further texts are made afresh, not kept. */
const MAX_EVENT_TEXTS = 1024;

const sameList = (a: readonly string[], b: readonly string[]) => {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
};

/**
 * ECS `event`'s text: the event's metadata (the vendor's own event is under `twingate.<stream>`). `kind` is
 * always `event`; `dataset` is `twingate.<stream>`, `module` `twingate`. Made once per distinct members.
 */
function eventText(
  stream: string,
  category: readonly string[],
  type: readonly string[],
  action: string | null | undefined,
  outcome: Outcome,
): string {
  let byAction = EVENT_TEXTS.get(stream);
  const known = byAction?.get(action || "");
  if (known !== undefined)
    for (const k of known)
      if (k.outcome === outcome && sameList(k.category, category) && sameList(k.type, type)) return k.text;
  const event: Json = { kind: "event", category, type };
  if (action) event["action"] = action;
  event["outcome"] = outcome;
  event["dataset"] = `twingate.${stream}`;
  event["module"] = "twingate";
  const text = JSON.stringify(event);
  if (eventTexts >= MAX_EVENT_TEXTS) return text;
  eventTexts++;
  if (byAction === undefined) {
    byAction = new Map();
    EVENT_TEXTS.set(stream, byAction);
  }
  const entry: EventText = { category: [...category], type: [...type], outcome, text };
  if (known === undefined) byAction.set(action || "", [entry]);
  else known.push(entry);
  return text;
}

/**
 * The bytes a writer writes into: one buffer for the process, taken by a writer until its text is read.
 * A writer made while it is taken gets a buffer of its own, which becomes the shared one when its text is
 * read: a writer never read (its builder threw) costs the next one an allocation, nothing more. Builders
 * are synchronous, so one is enough.
 */
let shared: Buffer | undefined = Buffer.allocUnsafeSlow(8192);

/**
 * Writes a document's ECS members as JSON text, each `,"<key>":<value>` (the text follows the document's
 * `twingate` member). A string member is written only when it is a non-empty string, a number only when
 * finite; an object left with no member is left out (no `{}` shells). Keys are the builders' own
 * literals (ASCII, nothing in them to escape); values are escaped as JSON.stringify does.
 *
 * Written as bytes into a reused buffer, then decoded once (`text`) or copied out (`bytes`: the document
 * builder's, which the bulk batch copies as they are): the members as strings grown by `+=`,
 * with a quoted copy of each value, allocated 4.8 KB a network record beyond the 2.4 KB of the rest of
 * its document, and on Node 24 that garbage had records outlive scavenges and be promoted (a fifth of the
 * worker's CPU in the collector; docs/BENCHMARKS.md).
 */
export class EcsWriter {
  private buf: Buffer;
  private pos = 0;
  /** What was read, once read: the text (`text`), or the bytes (`bytes`, after which `text` refuses). */
  private done: string | Buffer | undefined;
  /** For each open object: where its text starts, and whether its parent had no member before it. */
  private readonly marks: number[] = [];
  /** The object being written has no member yet (the top level never: its members follow `twingate`). */
  private empty = false;
  /** Top-level members written, by name. */
  private readonly names: string[] = [];

  constructor() {
    if (shared !== undefined) {
      this.buf = shared;
      shared = undefined;
    } else this.buf = Buffer.allocUnsafeSlow(8192);
  }

  /** The members written, `,"key":value` each (empty for none). The writer is done with once it is read. */
  get text(): string {
    if (this.done === undefined) {
      this.done = this.buf.toString("utf8", 0, this.pos);
      shared ??= this.buf;
    }
    if (typeof this.done !== "string") throw new Error("EcsWriter: its bytes were read");
    return this.done;
  }

  /**
   * The members written, then `end` (ASCII: the document's closing brace), as UTF-8 bytes of their own
   * (what `text` would decode), for a document that is written into a bulk batch as bytes. The writer is
   * done with once they are read.
   */
  bytes(end = ""): Buffer {
    if (this.done !== undefined) throw new Error("EcsWriter: read twice");
    this.ascii(end);
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.done = out;
    shared ??= this.buf;
    return out;
  }

  /** Whether a top-level member of this name was written. */
  has(name: string): boolean {
    return this.names.includes(name);
  }

  /** The object being written has no member yet. */
  get isEmpty(): boolean {
    return this.empty;
  }

  /** Room for `bytes` more. */
  private room(bytes: number): void {
    if (this.done !== undefined) throw new Error("EcsWriter: written after its text was read");
    if (this.pos + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(grown, 0, 0, this.pos);
    this.buf = grown;
  }

  /** ASCII text with nothing to escape (keys, punctuation). */
  private ascii(s: string): void {
    this.room(s.length);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** JSON text, any characters. */
  private utf8(s: string): void {
    this.room(s.length * 3);
    this.pos += this.buf.write(s, this.pos, "utf8");
  }

  /** `"k":` (`,"k":` after a member): one pass, the most frequent write. */
  private key(k: string): void {
    this.room(k.length + 4);
    const b = this.buf;
    let p = this.pos;
    if (!this.empty) b[p++] = 0x2c;
    b[p++] = 0x22;
    for (let i = 0; i < k.length; i++) b[p++] = k.charCodeAt(i);
    b[p++] = 0x22;
    b[p++] = 0x3a;
    this.pos = p;
    this.empty = false;
    if (this.marks.length === 0) this.names.push(k);
  }

  /**
   * A string's JSON text as JSON.stringify writes it: printable ASCII with no quote or backslash as it is
   * (the usual case, one pass), anything else through JSON.stringify (escapes, lone surrogates) as UTF-8.
   */
  private quoted(v: string): void {
    this.room(v.length + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = 0x22;
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        this.utf8(JSON.stringify(v));
        return;
      }
      b[p++] = c;
    }
    b[p++] = 0x22;
    this.pos = p;
  }

  /** ECS `event` (kind, category, type, action, outcome, dataset, module) and `observer`. */
  event(
    stream: string,
    category: readonly string[],
    type: readonly string[],
    action: string | null | undefined,
    outcome: Outcome,
  ): this {
    this.json("event", eventText(stream, category, type, action, outcome));
    return this.json("observer", OBSERVER_TEXT);
  }

  /** Opens an object member; `end` closes it. */
  obj(k: string): this {
    const start = this.pos;
    const parentEmpty = this.empty ? 1 : 0;
    this.key(k);
    this.marks.push(start, parentEmpty);
    this.ascii("{");
    this.empty = true;
    return this;
  }

  /** Closes the object `obj` opened; leaves it out when it got no member. True when it was kept. */
  end(): boolean {
    const parentEmpty = this.marks.pop() === 1;
    const start = this.marks.pop() ?? 0;
    if (this.empty) {
      this.pos = start;
      this.empty = parentEmpty;
      if (this.marks.length === 0) this.names.pop();
      return false;
    }
    this.ascii("}");
    return true;
  }

  /** A string member, when the value is a non-empty string. */
  str(k: string, v: unknown): this {
    if (typeof v === "string" && v !== "") {
      this.key(k);
      this.quoted(v);
    }
    return this;
  }

  /** A string member, whatever the string (empty too). */
  field(k: string, v: string): this {
    this.key(k);
    this.quoted(v);
    return this;
  }

  /** A string member, lowercased. */
  lower(k: string, v: unknown): this {
    return this.str(k, typeof v === "string" ? v.toLowerCase() : undefined);
  }

  /** A number member, when the value is a finite number. */
  num(k: string, v: unknown): this {
    if (typeof v === "number" && Number.isFinite(v)) {
      this.key(k);
      this.number(v);
    }
    return this;
  }

  /**
   * A finite number's JSON text (`String(v)`), its digits written here when it is an integer or a decimal
   * of at most 6 places, below 1e15 either way (ports, byte counts, GeoIP latitudes and longitudes): V8's
   * `String` of a decimal cost 230-440 ns on Node 24, two a network event. Exact, not approximate: the
   * decimal `n / 10^k` (k the fewest places for which it equals `v`, n an integer below 1e15, so at most 15
   * significant digits) is `v`'s shortest text, since two decimals of at most 15 significant digits never
   * round to the same double; from 1e-6 to 1e21 `String` writes it without an exponent. Anything else
   * through `String(v)`. A unit test holds the two to the same text.
   */
  private number(v: number): void {
    let n = v;
    let places = 0;
    if (!Number.isInteger(v)) {
      for (places = 1; places <= MAX_PLACES; places++) {
        n = Math.round(v * POW10[places]!);
        if (n / POW10[places]! === v) break;
      }
    }
    if (places > MAX_PLACES || !(n < 1e15 && n > -1e15)) {
      this.ascii(String(v));
      return;
    }
    // -0 is written as 0, as String(-0); the last of `places` digits is not 0 (with one place fewer, the
    // same decimal would have matched first)
    let a = n < 0 ? -n : n;
    let digits = 1;
    while (digits < 16 && a >= POW10[digits]!) digits++;
    // a decimal below 1 has a 0 before its point
    const intDigits = digits > places ? digits - places : 1;
    const len = (n < 0 ? 1 : 0) + intDigits + (places > 0 ? places + 1 : 0);
    this.room(len);
    const b = this.buf;
    let p = this.pos + len;
    this.pos = p;
    for (let i = 0; i < places; i++) {
      const q = Math.floor(a / 10);
      b[--p] = 0x30 + (a - q * 10);
      a = q;
    }
    if (places > 0) b[--p] = 0x2e; // "."
    for (let i = 0; i < intDigits; i++) {
      const q = Math.floor(a / 10);
      b[--p] = 0x30 + (a - q * 10);
      a = q;
    }
    if (n < 0) b[--p] = 0x2d; // "-"
  }

  /** A member whose value is JSON text already. */
  json(k: string, text: string): this {
    this.key(k);
    this.utf8(text);
    return this;
  }

  /**
   * An array of the non-empty strings, in order; each once when `distinct`; left out when there are none.
   * A few values (the usual: an event's IPs) are told apart by looking back; many (a record with thousands
   * of relays) through a set, so that a record's cost stays linear in its size.
   */
  strs(k: string, values: readonly unknown[], distinct = true): this {
    const seen = distinct && values.length > LOOK_BACK_MAX ? new Set<string>() : undefined;
    let n = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (typeof v !== "string" || v === "") continue;
      if (seen !== undefined) {
        if (seen.has(v)) continue;
        seen.add(v);
      } else if (distinct && values.indexOf(v) < i) continue; // written already
      if (n++ === 0) {
        this.key(k);
        this.ascii("[");
      } else this.ascii(",");
      this.quoted(v);
    }
    if (n > 0) this.ascii("]");
    return this;
  }

  /** ECS `user` members of an e-mail identity: id, e-mail, name (else the e-mail: what people log in with), domain. */
  emailUser(id: unknown, email: unknown, name?: unknown): this {
    return this.str("id", id)
      .str("email", email)
      .str("name", typeof name === "string" && name !== "" ? name : email)
      .str("domain", emailDomain(email));
  }

  /** ECS `user` of a Twingate user object `{id, email}`; true when written. */
  user(user: { id?: string | null; email?: string | null } | null | undefined): boolean {
    if (!user) return false;
    return this.obj("user").emailUser(user.id, user.email).end();
  }

  /** ECS `host` of a Twingate device. */
  host(device: Device | null | undefined): this {
    if (device)
      this.obj("host")
        .str("id", device.id)
        .str("name", device.name)
        .str("hostname", device.model?.hostname)
        .end();
    return this;
  }

  /** ECS `related`: every IP, user and host name of the event, for one search whatever role it played. */
  related(ip: readonly unknown[], user: readonly unknown[], hosts: readonly unknown[]): this {
    this.obj("related").strs("ip", ip).strs("user", user).strs("hosts", hosts).end();
    return this;
  }
}

/** The members an EcsWriter wrote (its `text`), as an object. */
export function membersObject(text: string): Json {
  return JSON.parse(`{${text.slice(1)}}`) as Json;
}

type Device = { id?: string | null; name?: string | null; model?: { hostname?: string | null } | null };

/** The domain part of an e-mail address, lowercased; undefined for none. */
export function emailDomain(email: unknown): string | undefined {
  if (typeof email !== "string") return undefined;
  const at = email.lastIndexOf("@");
  return at > 0 && at < email.length - 1 ? email.slice(at + 1).toLowerCase() : undefined;
}

const IPV4_OR_CIDR = /^[\d.]+(\/\d+)?$/;
const DNS_NAME = /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$/;

/** The address when it is a DNS name (not an IP, a CIDR or a wildcard pattern), lowercased. */
export function domainOf(address: unknown): string | undefined {
  if (typeof address !== "string" || address.length > 253 || address.includes(":")) return undefined;
  if (IPV4_OR_CIDR.test(address) || address.startsWith("*") || !DNS_NAME.test(address)) return undefined;
  return address.toLowerCase();
}

/**
 * The value lowercased when it is a string, else "". Builders read validated events, but a normalised one
 * may lack a required field (listed as `missing`): no builder may assume one.
 */
export function lc(v: unknown): string {
  return typeof v === "string" ? v.toLowerCase() : "";
}
