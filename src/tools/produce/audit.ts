/**
 * Audit log events: who (a user, an API key, Twingate Support) did what (create, edit, delete) to which
 * objects, with each target type's own fields as the audit schema page shows them (a user's e-mail and
 * admin flag, a resource's address {type, value}, protocols and isActive, an API key's permission and
 * allowed IP ranges, a connector's remote network) and, on edits, the previous values under `before`.
 *
 * Relations. The vendor's action enum is create / edit / delete only (the schema page) and `targets` is a
 * list of the objects an event impacted, so a change of a relation (a user added to or removed from a
 * group, a group given access to a resource, a service account given a resource) is written here as an
 * `edit` of the owning object with the related object as the second target: `[group, user]`,
 * `[group, resource]`, `[serviceAccount, resource]`. No known source shows whether an addition and a
 * removal differ in the record; neither does this one.
 */
import { leaveOut } from "./from-spec.ts";
import type { Pools } from "./pools.ts";
import type { Rng } from "./prng.ts";
import { VARIETY } from "./variety.ts";

type Json = Record<string, unknown>;

const TARGET_TYPES = [
  ["resource", 30],
  ["user", 15],
  ["group", 15],
  ["device", 10],
  ["connector", 8],
  ["remoteNetwork", 6],
  ["serviceAccount", 5],
  ["serviceAccountKey", 5],
  ["PublicAPIKey", 6],
] as const;
type TargetType = (typeof TARGET_TYPES)[number][0];

const PERMISSIONS = ["read only", "read write", "provision"] as const;

/** A target's type-specific fields: a target of another type has none of them (left out on purpose). */
const DETAIL = [
  "email",
  "permission",
  "state",
  "role",
  "isAdmin",
  "isActive",
  "address",
  "allowedIpRanges",
  "protocols",
  "location",
  "remoteNetwork",
  "isTrusted",
  "activeState",
  "serialNumber",
  "user",
  "before",
];

function target(rng: Rng, pools: Pools, type: TargetType, edited: boolean): Json {
  const t = typed(rng, pools, type, edited);
  leaveOut(t, ...DETAIL);
  return t;
}

function typed(rng: Rng, pools: Pools, type: TargetType, edited: boolean): Json {
  const base = (id: string, name: string): Json => ({
    version: rng.chance(VARIETY.targetVersionOne) ? "1" : "1.0",
    type,
    id,
    name,
  });
  const before = edited && rng.chance(VARIETY.auditBefore);
  switch (type) {
    case "resource": {
      const r = rng.pick(pools.resources);
      const tcpPorts = r.protocol === "tcp" ? r.ports.map((p) => `${p}`) : [];
      const isActive = rng.chance(0.95);
      const t: Json = {
        ...base(r.graphId, r.name),
        address: { type: r.addressType, value: r.appliedRule },
        protocols: {
          allowIcmp: rng.chance(0.5),
          tcp: { policy: tcpPorts.length > 0 ? "RESTRICTED" : "DENY_ALL", ports: tcpPorts },
          udp: { policy: r.protocol === "udp" ? "RESTRICTED" : "DENY_ALL", ports: [] },
        },
        isActive,
      };
      if (before) {
        t["before"] = rng.chance(0.5)
          ? { isActive: !isActive }
          : {
              address: { type: r.addressType, value: r.appliedRule.replace(/^[^.*]+/, "legacy") },
              protocols: { allowIcmp: true, tcp: { policy: "ALLOW_ALL", ports: [] } },
            };
      }
      return t;
    }
    case "user": {
      const u = rng.pick(pools.users);
      const state = edited && rng.chance(0.1) ? "DISABLED" : "ACTIVE";
      const t: Json = {
        ...base(u.graphId, u.name),
        email: u.email,
        isAdmin: u.isAdmin,
        role: u.isAdmin ? "ADMIN" : "MEMBER",
        state,
      };
      // "Who made sam.lee an admin": the admin flag before the edit.
      if (before)
        t["before"] =
          state === "DISABLED"
            ? { state: "ACTIVE" }
            : { isAdmin: !u.isAdmin, role: u.isAdmin ? "MEMBER" : "ADMIN" };
      return t;
    }
    case "group": {
      const g = rng.pick(pools.groups);
      const t: Json = { ...base(g.id, g.name), isActive: true };
      if (before) t["before"] = { name: `${g.name} (old)` };
      return t;
    }
    case "device": {
      const u = rng.pick(pools.users);
      const d = rng.pick(u.devices);
      const isTrusted = rng.chance(0.7);
      const t: Json = {
        ...base(d.graphId, d.name),
        isTrusted,
        activeState: "ACTIVE",
        ...(d.model ? { serialNumber: d.model.serial_number } : {}),
        user: { id: u.graphId, email: u.email },
      };
      if (before) t["before"] = { isTrusted: !isTrusted };
      return t;
    }
    case "connector": {
      const n = rng.pick(pools.networks);
      const c = rng.pick(n.connectors);
      const t: Json = { ...base(c.graphId, c.name), remoteNetwork: { id: n.graphId, name: n.name } };
      if (before) t["before"] = { name: `connector-${c.id}` };
      return t;
    }
    case "remoteNetwork": {
      const n = rng.pick(pools.networks);
      const t: Json = {
        ...base(n.graphId, n.name),
        location: n.name.startsWith("office") ? "ON_PREMISE" : "AWS",
        isActive: true,
      };
      if (before) t["before"] = { isActive: false };
      return t;
    }
    case "serviceAccount": {
      const s = rng.pick(pools.serviceAccounts);
      const t = base(s.graphId, s.name);
      if (before) t["before"] = { name: `${s.name}-old` };
      return t;
    }
    case "serviceAccountKey": {
      const s = rng.pick(pools.serviceAccounts);
      const t: Json = { ...base(s.keyId, `${s.name}-key`), state: edited ? "REVOKED" : "ACTIVE" };
      if (before) t["before"] = { state: "ACTIVE" };
      return t;
    }
    case "PublicAPIKey": {
      const k = rng.pick(pools.apiKeys);
      const permission = rng.pick(PERMISSIONS);
      const t: Json = {
        ...base(k.id, k.name),
        ...(rng.chance(VARIETY.apiKeyLowerCamel) ? { type: "publicAPIKey" } : {}),
        permission,
        allowedIpRanges: rng.chance(0.6)
          ? ["0.0.0.0/0", "::/0"]
          : [`${rng.int(1, 223)}.${rng.int(0, 255)}.0.0/16`],
      };
      if (before) t["before"] = { permission: PERMISSIONS[(PERMISSIONS.indexOf(permission) + 1) % 3] };
      return t;
    }
  }
}

/** The two targets of a relation change: the owning object first. */
function relation(rng: Rng, pools: Pools): Json[] {
  const kind = rng.weighted([
    [["group", "user"], 60],
    [["group", "resource"], 30],
    [["serviceAccount", "resource"], 10],
  ] as const);
  return kind.map((type) => target(rng, pools, type, false));
}

function actor(rng: Rng, pools: Pools): Json {
  const type = rng.weighted([
    ["User", 80],
    ["API", 15],
    ["Twingate Support", 5],
  ] as const);
  if (type === "User") {
    const admin = rng.skewed(pools.admins);
    return { type: "User", id: admin.graphId, info: { email: admin.email, name: admin.name } };
  }
  if (type === "API") {
    const key = rng.pick(pools.apiKeys);
    return { type: "API", id: key.id, info: { name: key.name, email: undefined } };
  }
  return { type: "Twingate Support", id: "VHdpbmdhdGVTdXBwb3J0OjE=", info: null };
}

export function auditLog(rng: Rng, pools: Pools, time: string): Json {
  const version = rng.chance(VARIETY.auditVersionString) ? "1" : 1;
  let action: "create" | "edit" | "delete";
  let targets: Json[];
  if (rng.chance(VARIETY.auditRelation)) {
    action = "edit";
    targets = relation(rng, pools);
  } else {
    action = rng.weighted([
      ["edit", 50],
      ["create", 35],
      ["delete", 15],
    ] as const);
    const count = rng.chance(0.1) ? 2 : 1;
    targets = [];
    for (let i = 0; i < count; i++)
      targets.push(target(rng, pools, rng.weighted(TARGET_TYPES), action === "edit"));
  }
  return { version, time, action, targets, actor: actor(rng, pools) };
}
