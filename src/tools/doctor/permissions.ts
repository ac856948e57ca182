/**
 * Doctor's OpenSearch permission check, for clusters with the security plugin: who the configured user is
 * (its roles), and whether it holds each permission the worker needs (docs/SECURITY.md,
 * deploy/opensearch/security-roles.json). Nothing is written: every probe is a request the security plugin
 * judges before OpenSearch would act on it, built to fail right after that judgement when allowed (an ingest
 * pipeline that does not exist, an index with 0 shards, a template that does not exist). A 403 names the
 * missing permission; anything else means the plugin let it through.
 */
import type { Client } from "@opensearch-project/opensearch";
import type { Check, CheckResult } from "./types.ts";

/** A pipeline name nobody has: a write with it fails after the permission check and stores nothing. */
const NO_PIPELINE = "twingate-doctor-probe-no-such-pipeline";

interface Probe {
  permission: string;
  /** cluster-wide, or on the prefix's indices */
  scope: "cluster" | "index";
  request: (prefix: string) => {
    method: "GET" | "POST" | "PUT";
    path: string;
    body?: unknown;
    bulkBody?: unknown[];
    querystring?: Record<string, string>;
  };
}

const probeIndex = (prefix: string) => `${prefix}-doctor-probe`;

export const PERMISSION_PROBES: readonly Probe[] = [
  { permission: "cluster:monitor/main", scope: "cluster", request: () => ({ method: "GET", path: "/" }) },
  {
    permission: "cluster:monitor/health",
    scope: "cluster",
    request: () => ({ method: "GET", path: "/_cluster/health" }),
  },
  {
    permission: "indices:admin/index_template/get",
    scope: "cluster",
    request: (p) => ({ method: "GET", path: `/_index_template/${encodeURIComponent(probeIndex(p))}` }),
  },
  {
    permission: "cluster:admin/component_template/get",
    scope: "cluster",
    request: (p) => ({ method: "GET", path: `/_component_template/${encodeURIComponent(probeIndex(p))}` }),
  },
  {
    permission: "indices:data/write/bulk",
    scope: "cluster",
    request: (p) => ({
      method: "POST",
      path: "/_bulk",
      querystring: { pipeline: NO_PIPELINE },
      bulkBody: [{ create: { _index: probeIndex(p) } }, { probe: true }],
    }),
  },
  {
    permission: "indices:data/write/index",
    scope: "index",
    request: (p) => ({
      method: "POST",
      path: `/${encodeURIComponent(probeIndex(p))}/_doc`,
      querystring: { pipeline: NO_PIPELINE },
      body: { probe: true },
    }),
  },
  {
    permission: "indices:admin/create",
    scope: "index",
    request: (p) => ({
      method: "PUT",
      path: `/${encodeURIComponent(probeIndex(p))}`,
      body: { settings: { "index.number_of_shards": 0 } },
    }),
  },
];

/** The permission a security plugin 403 names ("no permissions for [X] and User [...]"), if any. */
export function missingPermission(body: unknown): string | undefined {
  const text = typeof body === "string" ? body : JSON.stringify(body ?? "");
  return /no permissions for \[([^\]]+)\]/.exec(text)?.[1];
}

interface Answer {
  status: number;
  body: unknown;
}

async function ask(client: Client, req: ReturnType<Probe["request"]>): Promise<Answer> {
  const res = await client.transport.request(
    {
      method: req.method,
      path: req.path,
      ...(req.querystring ? { querystring: req.querystring } : {}),
      ...(req.body !== undefined ? { body: req.body as never } : {}),
      ...(req.bulkBody ? { bulkBody: req.bulkBody as never } : {}),
    },
    { ignore: [400, 401, 403, 404, 405, 500] },
  );
  return { status: res.statusCode ?? 0, body: res.body };
}

export const checkOpenSearchPermissions: Check = async (ctx): Promise<Omit<CheckResult, "ok">> => {
  const name = "OpenSearch permissions";
  const client = ctx.deps.opensearch;
  const prefix = ctx.opts.indexPrefix;
  let who: Answer;
  try {
    who = await ask(client, { method: "GET", path: "/_plugins/_security/authinfo" });
  } catch (err) {
    return {
      name,
      status: "skip",
      detail: `not checked: OpenSearch not reachable (${(err as Error).message?.slice(0, 200)})`,
    };
  }
  if (who.status === 401) {
    return {
      name,
      status: "fail",
      detail: "the security plugin refused the credentials (HTTP 401)",
      hint: "check OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD (an expired or changed password?)",
    };
  }
  const info = who.body as { user_name?: string; roles?: string[]; backend_roles?: string[] } | undefined;
  if (who.status !== 200 || typeof info?.user_name !== "string") {
    return {
      name,
      status: "skip",
      detail: "no security plugin answered (_plugins/_security/authinfo): no users or roles to check",
    };
  }
  const missing: { permission: string; scope: Probe["scope"] }[] = [];
  const unclear: string[] = [];
  for (const probe of PERMISSION_PROBES) {
    let a: Answer;
    try {
      a = await ask(client, probe.request(prefix));
    } catch (err) {
      unclear.push(`${probe.permission}: ${(err as Error).message?.slice(0, 120)}`);
      continue;
    }
    if (a.status !== 403) continue;
    // the plugin names what it refused; a 403 naming nothing is still this probe's permission
    missing.push({ permission: missingPermission(a.body) ?? probe.permission, scope: probe.scope });
  }
  const user = `user ${JSON.stringify(info.user_name)} (roles: ${(info.roles ?? []).join(", ") || "none"})`;
  const data = {
    user: info.user_name,
    roles: info.roles ?? [],
    backendRoles: info.backend_roles ?? [],
    missing: missing.map((m) => m.permission),
    checked: PERMISSION_PROBES.map((p) => p.permission),
  };
  if (missing.length > 0) {
    const list = missing
      .map((m) => (m.scope === "index" ? `${m.permission} on ${prefix}-*` : m.permission))
      .join(", ");
    return {
      name,
      status: "fail",
      detail: `${user} lacks ${list}`,
      hint: `give the worker's user the role in deploy/opensearch/security-roles.json (docs/SECURITY.md), with index pattern ${prefix}-*; the worker holds its messages until then`,
      data,
    };
  }
  if (unclear.length > 0) {
    return {
      name,
      status: "warn",
      detail: `${user}; some probes did not answer: ${unclear.join("; ")}`,
      data,
    };
  }
  return {
    name,
    status: "pass",
    detail: `${user} holds ${PERMISSION_PROBES.map((p) => p.permission).join(", ")} (indices:data/write/bulk[s] and indices:admin/mapping/put are judged only on a real write)`,
    data,
  };
};
