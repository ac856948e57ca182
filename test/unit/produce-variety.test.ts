/**
 * The producer's variety (src/tools/produce/variety.ts): each form real files have appears, at its rate,
 * with a fixed seed; every record stays placeable and valid, with deviations only where the vendor's own
 * form is one (an empty resource ip after a resolve failure).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { validateRecord } from "../../src/core/events/index.ts";
import { isIpText } from "../../src/core/events/ip.ts";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { DEFAULT_MIX, generateSlot, NO_FAULTS, type SlotPlan } from "../../src/tools/produce/generator.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { timeFormMs, timeText } from "../../src/tools/produce/slots.ts";
import { newStreamDriftKey, VARIETY } from "../../src/tools/produce/variety.ts";

const T = Date.parse("2025-07-25T18:20:00Z");
const SLOT = { startMs: T, endMs: T + 300_000 };

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON records, read field by field
type Any = any;

function plan(over: Partial<SlotPlan> = {}): SlotPlan {
  return {
    seed: 42,
    slot: SLOT,
    window: SLOT,
    count: 30_000,
    mix: DEFAULT_MIX,
    faults: NO_FAULTS,
    oversized: 0,
    oversizedBytes: 4096,
    driftRate: 0,
    ...over,
  };
}

/**
 * `hits` of `n` draws at `rate`: within 4 standard deviations of n*rate (the seed is fixed, so this holds
 * or fails for good; the band says what "at its rate" means).
 */
function atRate(what: string, hits: number, n: number, rate: number): void {
  const sd = Math.sqrt(n * rate * (1 - rate));
  assert.ok(n > 0, `${what}: no draws`);
  assert.ok(
    Math.abs(hits - n * rate) <= 4 * sd + 1,
    `${what}: ${hits} of ${n} (${((100 * hits) / n).toFixed(2)} %), expected about ${(100 * rate).toFixed(2)} %`,
  );
}

const weightShare = (weights: readonly (readonly [unknown, number])[], key: unknown) =>
  weights.find(([k]) => k === key)![1] / weights.reduce((s, [, w]) => s + w, 0);

const pools = buildPools(42);
const records = generateSlot(pools, plan());
const events: { type: string; e: Any }[] = records.map((r) => {
  const v = JSON.parse(r.text);
  return { type: v.event_type, e: v.event };
});
const of = (type: string) => events.filter((x) => x.type === type).map((x) => x.e);
const net = of("network_access");
const dns = of("dns_filtering");
const audit = of("audit_log");
const dlp = of("data_loss_prevention");

describe("produce: variety, at its rate (seed 42, 30 000 records)", () => {
  it("every record is placeable and valid; the only deviation is the vendor's empty ip after a resolve failure", () => {
    for (const r of records) {
      const v = validateRecord(JSON.parse(r.text));
      assert.ok(v.ok, r.text);
      for (const d of v.deviations) {
        assert.equal(`${d.path}:${d.action}`, "event.resource.ip:emptied", r.text);
        assert.match(JSON.parse(r.text).event.connection.error_message, /^Failed to resolve /);
      }
    }
  });

  it("IPv6 client addresses (users' dual-stack lines); relays reached in the client's address family", () => {
    const byUser = [...net.filter((e) => e.user), ...dns];
    atRate(
      "IPv6 clients",
      byUser.filter((e) => e.connection.client_ip.includes(":")).length,
      byUser.length,
      VARIETY.clientIpv6,
    );
    for (const e of [...net, ...dns]) assert.ok(isIpText(e.connection.client_ip), e.connection.client_ip);
    let v6Relays = 0;
    for (const e of net) {
      const v6 = e.connection.client_ip.includes(":");
      for (const r of e.relays) {
        assert.ok(isIpText(r.ip));
        assert.equal(r.ip.includes(":"), v6, JSON.stringify(e));
        if (v6) v6Relays++;
      }
    }
    assert.ok(v6Relays > 100, `IPv6 relays: ${v6Relays}`);
  });

  it("IPv6 resource addresses: names answering AAAA, and resources defined by an IPv6 address", () => {
    const named = net.filter((e) => e.resource.ip !== "" && !isIpText(e.resource.address));
    const v6 = named.filter((e) => e.resource.ip.includes(":"));
    // Only names with an AAAA record answer IPv6 (not every name has one): at most the rate, well above 0.
    assert.ok(v6.length <= named.length * VARIETY.resourceIpv6 * 1.2 && v6.length > named.length * 0.03);
    const byIp6 = net.filter((e) => isIpText(e.resource.address) && e.resource.address.includes(":"));
    assert.ok(byIp6.length > 0, "a resource defined by an IPv6 address");
    for (const e of byIp6) assert.equal(e.resource.ip, e.resource.address);
  });

  it("several relays, one, or none (peer to peer); denied connections none", () => {
    const tunnelled = net.filter((e) => e.status !== "denied_access");
    for (const [count] of VARIETY.relays) {
      atRate(
        `${count} relays`,
        tunnelled.filter((e) => e.relays.length === count).length,
        tunnelled.length,
        weightShare(VARIETY.relays, count),
      );
    }
    for (const e of tunnelled)
      assert.equal(new Set(e.relays.map((r: Any) => r.port + r.ip)).size, e.relays.length);
    assert.ok(net.filter((e) => e.status === "denied_access").every((e) => e.relays.length === 0));
  });

  it("a service account as the principal instead of a user, never both, never neither", () => {
    for (const e of net) assert.notEqual("user" in e, "service_account" in e);
    atRate(
      "service accounts",
      net.filter((e) => e.service_account).length,
      net.length,
      VARIETY.serviceAccount,
    );
    for (const e of net.filter((x) => x.service_account))
      assert.deepEqual(Object.keys(e.service_account).sort(), ["id", "key", "key_id", "name"]);
  });

  it("location an object, null, or missing; model null; connector and remote_network missing on some denials", () => {
    const where = (e: Any) => (!("location" in e) ? "missing" : e.location === null ? "null" : "object");
    for (const [kind] of VARIETY.location)
      atRate(
        `location ${kind}`,
        net.filter((e) => where(e) === kind).length,
        net.length,
        weightShare(VARIETY.location, kind),
      );
    assert.ok(dns.some((e) => e.device.model === null) && dns.some((e) => e.device.model !== null));
    const denied = net.filter((e) => e.status === "denied_access");
    for (const e of denied) assert.equal("connector" in e, "remote_network" in e);
    atRate(
      "denied without connector",
      denied.filter((e) => !("connector" in e)).length,
      denied.length,
      VARIETY.deniedWithoutConnector,
    );
    assert.ok(net.filter((e) => e.status !== "denied_access").every((e) => e.connector && e.remote_network));
  });

  it("bytes absent on errors: never on denials, on failures at its rate; error_message only on denied/failed", () => {
    for (const e of net) {
      const failedOrDenied = e.status === "denied_access" || e.status === "failed_to_connect";
      assert.equal(typeof e.connection.error_message === "string", failedOrDenied);
      if (e.status === "denied_access") assert.ok(!("bytes_received" in e.connection));
      if (!failedOrDenied) assert.ok(Number.isInteger(e.connection.bytes_received));
      assert.equal("bytes_received" in e.connection, "bytes_transferred" in e.connection);
    }
    const failed = net.filter((e) => e.status === "failed_to_connect");
    atRate(
      "failures without bytes",
      failed.filter((e) => !("bytes_received" in e.connection)).length,
      failed.length,
      VARIETY.failedWithoutBytes,
    );
  });

  it("resolve failures name a host name, never an IP address, with the vendor's empty ip", () => {
    const resolve = net.filter((e) => /^Failed to resolve /.test(e.connection.error_message ?? ""));
    assert.ok(resolve.length > 100, `resolve failures: ${resolve.length}`);
    for (const e of resolve) {
      const host = e.connection.error_message.slice("Failed to resolve ".length);
      assert.ok(!isIpText(host) && /^[a-z0-9.-]+\.[a-z]+$/.test(host), e.connection.error_message);
      assert.equal(host, e.resource.address);
      assert.equal(e.status, "failed_to_connect");
      assert.equal(e.resource.ip, "");
    }
    // No message anywhere names an IP address as something resolved.
    for (const e of net)
      assert.doesNotMatch(
        e.connection.error_message ?? "",
        /resolve.*(\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f:]+)/i,
      );
    // Only a resolve failure leaves the ip empty.
    assert.equal(net.filter((e) => e.resource.ip === "").length, resolve.length);
  });

  it("time forms: microseconds +00:00 as usual; Z, milliseconds and minutes-only at their rates", () => {
    const form = (t: string) =>
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/.test(t)
        ? "micros"
        : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/.test(t)
          ? "micros_z"
          : /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(t)
            ? "millis_z"
            : /^\d{4}-\d\d-\d\dT\d\d:\d\dZ$/.test(t)
              ? "minutes_z"
              : "other";
    const notAudit = [...net, ...dns, ...dlp];
    for (const [f, rate] of Object.entries(VARIETY.timeForms)) {
      atRate(f, notAudit.filter((e) => form(e.time) === f).length, notAudit.length, rate);
    }
    atRate(
      "audit minutes-only",
      audit.filter((e) => form(e.time) === "minutes_z").length,
      audit.length,
      VARIETY.auditMinutes,
    );
    assert.ok(events.every(({ e }) => form(e.time) !== "other"));
    // Each text stands for an instant inside the slot, at or before the drawn one.
    records.forEach((r, i) => {
      const ms = Date.parse(events[i]!.e.time);
      assert.ok(ms >= SLOT.startMs && ms <= r.timeMicros / 1000, events[i]!.e.time);
    });
  });

  it("a minutes-only time never leaves its window (a clipped range, a 30 s slot)", () => {
    const window = { startMs: T + 30_000, endMs: T + 60_000 };
    const rs = generateSlot(
      pools,
      plan({ count: 3000, window, slot: window, mix: { ...DEFAULT_MIX, audit_log: 100 } }),
    );
    for (const r of rs) {
      const t = JSON.parse(r.text).event.time;
      assert.ok(Date.parse(t) >= window.startMs, t);
      assert.doesNotMatch(t, /T\d\d:\d\dZ$/, "no minute mark inside [:30, :60)");
    }
    assert.equal(
      timeText(Date.UTC(2021, 7, 15, 14, 30, 59, 999) * 1000 + 999, "minutes_z"),
      "2021-08-15T14:30Z",
    );
    assert.equal(
      timeFormMs(Date.UTC(2021, 7, 15, 14, 30, 59, 999) * 1000, "minutes_z"),
      Date.UTC(2021, 7, 15, 14, 30),
    );
  });

  it("no two records of a file are the same text (a cut time would merge them into one document)", () => {
    // One user, few combinations: minute-cut DLP records would collide without the guard.
    const small = buildPools(3, { users: 1, resources: 1 });
    const rs = generateSlot(
      small,
      plan({
        seed: 3,
        count: 20_000,
        mix: { ...DEFAULT_MIX, network_access: 0, dns_filtering: 0, audit_log: 0 },
      }),
    );
    assert.equal(new Set(rs.map((r) => r.text)).size, rs.length);
    assert.ok(
      rs.some((r) => /T\d\d:\d\dZ"/.test(r.text)),
      "minutes-only times are there",
    );
  });

  it('audit versions as the string "1" beside the number 1; target versions "1" and "1.0"', () => {
    atRate(
      'audit version "1"',
      audit.filter((e) => e.version === "1").length,
      audit.length,
      VARIETY.auditVersionString,
    );
    assert.ok(audit.every((e) => e.version === "1" || e.version === 1));
    assert.ok([...net, ...dns, ...dlp].every((e) => e.version === 1));
    const targets = audit.flatMap((e) => e.targets);
    atRate(
      "target version 1",
      targets.filter((t) => t.version === "1").length,
      targets.length,
      VARIETY.targetVersionOne,
    );
    assert.ok(targets.every((t) => t.version === "1" || t.version === "1.0"));
  });

  it("relation changes: an edit with the owner first and the related object second (a user added to a group)", () => {
    const isRelation = (e: Any) =>
      e.action === "edit" &&
      e.targets.length === 2 &&
      ["group/user", "group/resource", "serviceAccount/resource"].includes(
        e.targets.map((t: Any) => t.type).join("/"),
      );
    const relations = audit.filter(isRelation);
    // Unrelated two-target edits can look alike, so at least the rate.
    assert.ok(relations.length >= audit.length * VARIETY.auditRelation * 0.85, `${relations.length}`);
    const addUser = relations.find((e) => e.targets[1].type === "user")!;
    assert.ok(addUser.targets[0].name && addUser.targets[1].email);
  });

  it("target detail: users' email, isAdmin and role; resources' address, protocols, isActive; API keys' permission and ranges", () => {
    const targets = audit.flatMap((e) => e.targets);
    const users = targets.filter((t) => t.type === "user");
    assert.ok(users.length > 100);
    for (const t of users) {
      assert.match(t.email, /^[a-z]+@[a-z]+\.com$/);
      assert.equal(typeof t.isAdmin, "boolean");
      assert.equal(t.role, t.isAdmin ? "ADMIN" : "MEMBER");
      assert.ok(["ACTIVE", "DISABLED"].includes(t.state));
    }
    const resources = targets.filter((t) => t.type === "resource");
    for (const t of resources) {
      assert.ok(["DNS", "IP"].includes(t.address.type) && typeof t.address.value === "string");
      assert.equal(typeof t.isActive, "boolean");
      assert.ok(t.protocols.tcp.policy && Array.isArray(t.protocols.tcp.ports));
    }
    assert.ok(
      resources.some((t) => t.address.type === "IP") && resources.some((t) => t.address.type === "DNS"),
    );
    const keys = targets.filter((t) => /^[Pp]ublicAPIKey$/.test(t.type));
    for (const t of keys) {
      assert.ok(["read only", "read write", "provision"].includes(t.permission));
      assert.ok(Array.isArray(t.allowedIpRanges) && t.allowedIpRanges.length > 0);
    }
    atRate(
      "publicAPIKey spelling",
      keys.filter((t) => t.type === "publicAPIKey").length,
      keys.length,
      VARIETY.apiKeyLowerCamel,
    );
    const devices = targets.filter((t) => t.type === "device");
    assert.ok(devices.length > 0 && devices.every((t) => typeof t.isTrusted === "boolean" && t.user.email));
    assert.ok(
      targets.filter((t) => t.type === "connector").every((t) => t.remoteNetwork.id && t.remoteNetwork.name),
    );
  });

  it("a `before` state on edited targets, at its rate (an admin made: isAdmin before false)", () => {
    const edits = audit.filter((e) => e.action === "edit");
    const single = edits.filter((e) => e.targets.length === 1).map((e) => e.targets[0]);
    atRate("before on edits", single.filter((t) => t.before).length, single.length, VARIETY.auditBefore);
    assert.ok(audit.filter((e) => e.action !== "edit").every((e) => e.targets.every((t: Any) => !t.before)));
    assert.ok(single.some((t) => t.type === "user" && t.isAdmin === true && t.before?.isAdmin === false));
  });

  it("DNS statuses default/blocked/allowed with reasons as objects and, at its rate, as plain strings", () => {
    assert.deepEqual([...new Set(dns.map((e) => e.status))].sort(), ["allowed", "blocked", "default"]);
    const withReasons = dns.filter((e) => e.reasons.length > 0);
    const strings = withReasons.filter((e) => e.reasons.every((r: Any) => typeof r === "string"));
    atRate("reasons as strings", strings.length, withReasons.length, VARIETY.reasonStrings);
    for (const e of withReasons.filter((x) => !strings.includes(x)))
      for (const r of e.reasons) assert.ok(r.id && r.name);
    assert.ok(strings.every((e) => e.reasons.every((r: string) => /^[a-z]+(:[a-z-]+)?$/.test(r))));
  });
});

describe("produce: drift, a field no declaration has, at a configurable rate", () => {
  const rate = 0.01;
  const drifted = generateSlot(pools, plan({ driftRate: rate }));

  it("appears at the rate given, at the path reported, in every stream", () => {
    const withDrift = drifted.filter((r) => r.drift);
    atRate("drift", withDrift.length, drifted.length, rate);
    const paths = new Set(withDrift.map((r) => r.drift));
    assert.deepEqual(
      [...paths].sort(),
      [
        "event.actor.ip_address",
        "event.connection.tunnel_path",
        "event.device.os",
        "event.file",
        "event.location.city",
        // a stream added since the four: a field its declaration does not have
        ...EVENT_TYPES.slice(4).map((t) => `event.${newStreamDriftKey(t)}`),
      ].sort(),
    );
    for (const r of withDrift) {
      let node: Any = JSON.parse(r.text);
      for (const part of r.drift!.split(".")) {
        assert.ok(node && Object.hasOwn(node, part), `${r.drift} in ${r.text}`);
        node = node[part];
      }
      const v = validateRecord(JSON.parse(r.text));
      assert.ok(v.ok);
      // the planted field is listed as undeclared (drift made visible), and nothing else but the vendor's empty ip
      assert.ok(
        v.deviations.some((d) => d.path === r.drift && d.action === "undeclared"),
        r.drift,
      );
      assert.ok(
        v.deviations.every(
          (d) => d.path === "event.resource.ip" || (d.path === r.drift && d.action === "undeclared"),
        ),
      );
    }
  });

  it("changes nothing else: without the drift field each record is the one written at rate 0", () => {
    assert.equal(drifted.length, records.length);
    drifted.forEach((r, i) => {
      if (!r.drift) {
        assert.equal(r.text, records[i]!.text);
        return;
      }
      const v = JSON.parse(r.text);
      const parts = r.drift.split(".");
      let node = v;
      for (const part of parts.slice(0, -1)) node = node[part];
      delete node[parts.at(-1)!];
      assert.equal(JSON.stringify(v), records[i]!.text);
    });
  });

  it("rate 0 plants none; the default plants a few", () => {
    assert.ok(records.every((r) => r.drift === undefined));
    const { driftRate: _, ...noRate } = plan();
    const byDefault = generateSlot(pools, noRate).filter((r) => r.drift).length;
    assert.ok(byDefault > 0 && byDefault < 200, `${byDefault}`);
  });
});
