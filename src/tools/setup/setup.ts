/**
 * `setup`: installs the templates, pipeline and retention (ISM policy when the plugin exists), idempotently.
 * Also the worker's start-up check (`checkTemplates`) and the `--prune-older-than` fallback for clusters
 * without Index State Management.
 */
import type { Client } from "@opensearch-project/opensearch";
import type { IndexPeriod } from "../../core/documents/period.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  compareInstalled,
  installedHash,
  installedRevision,
  ismPolicyBody,
  ismPolicyName,
  type Kind,
  type Managed,
  managedObjects,
  periodIndexRange,
} from "../../platform/opensearch/templates.ts";

export interface SetupOptions {
  indexPrefix: string;
  /** Period of the index names (INDEX_PERIOD; default day): the retention policy waits for a period's end. */
  indexPeriod?: IndexPeriod | undefined;
  /** Primary shards per daily index (default 1). */
  shards?: number;
  /** Replicas; default: 0 on a single data node, else 1. */
  replicas?: number;
  /** Default "5s". */
  refreshInterval?: string;
  /** Days before the ISM policy deletes an index (default 90). */
  retentionDays?: number;
  /** Report what would change, change nothing. */
  dryRun?: boolean;
  /** Also delete this tool's daily indices whose day ended more than this many days ago. */
  pruneOlderThanDays?: number;
  /** For tests: the current time used by pruning. */
  now?: Date;
}

type ObjectKind = Kind | "ism_policy" | "index";
type ActionResult = "create" | "update" | "unchanged" | "delete" | "skip";

export interface SetupAction {
  kind: ObjectKind;
  name: string;
  result: ActionResult;
  detail?: string;
}

export interface SetupReport {
  indexPrefix: string;
  dryRun: boolean;
  dataNodes: number;
  replicas: number;
  shards: number;
  /** Whether the Index State Management plugin was found (and so the retention policy installed). */
  ism: boolean;
  actions: SetupAction[];
  /** Objects created, updated or deleted (or that would be, in a dry run). */
  changed: number;
  warnings: string[];
}

export const DEFAULT_RETENTION_DAYS = 90;

type Body = Record<string, unknown>;

async function request(
  client: Client,
  method: "GET" | "PUT" | "DELETE" | "POST",
  path: string,
  body?: Body,
  querystring?: Record<string, string | number>,
): Promise<{ statusCode: number; body: Body }> {
  const res = await client.transport.request(
    { method, path, ...(body ? { body } : {}), ...(querystring ? { querystring } : {}) },
    { ignore: method === "GET" || method === "DELETE" ? [404] : [] },
  );
  return { statusCode: res.statusCode ?? 0, body: (res.body ?? {}) as Body };
}

const objectPath = (kind: Kind, name: string) =>
  `/${kind === "component_template" ? "_component_template" : "_index_template"}/${encodeURIComponent(name)}`;

/** This tool's objects as installed now, by `${kind}/${name}` (GET's echo, unwrapped); absent ones missing. */
type Installed = Map<string, Body>;
const installedKey = (kind: Kind, name: string) => `${kind}/${name}`;

/**
 * Every component and index template under `<prefix>-*`, in two wildcard GETs (not one per object: the
 * guard checks at start-up and again before new indices). OpenSearch answers a wildcard matching nothing
 * with 404 and an empty list.
 */
async function installedObjects(client: Client, prefix: string): Promise<Installed> {
  const pattern = encodeURIComponent(`${prefix}-*`);
  const [components, templates] = await Promise.all([
    request(client, "GET", `/_component_template/${pattern}`),
    request(client, "GET", `/_index_template/${pattern}`),
  ]);
  const out: Installed = new Map();
  const cs = (components.body["component_templates"] ?? []) as { name: string; component_template: Body }[];
  for (const c of cs) out.set(installedKey("component_template", c.name), c.component_template);
  const is = (templates.body["index_templates"] ?? []) as { name: string; index_template: Body }[];
  for (const t of is) out.set(installedKey("index_template", t.name), t.index_template);
  return out;
}

async function dataNodeCount(client: Client): Promise<number> {
  const { body } = await request(client, "GET", "/_cluster/health");
  const n = Number(body["number_of_data_nodes"]);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

async function hasIsm(client: Client): Promise<boolean> {
  const res = await client.transport.request({
    method: "GET",
    path: "/_cat/plugins",
    querystring: { format: "json" },
  });
  const list = (res.body ?? []) as { component?: string }[];
  return list.some((p) => p.component === "opensearch-index-management");
}

export interface TemplatesState {
  /** Not installed. */
  missing: string[];
  /** Installed with other content by this or an older version: this version installs its own. */
  outdated: string[];
  /** Installed by a newer version (a higher `_meta.revision`): left as they are, and written with. */
  newer: string[];
}

/**
 * Which of the tool's templates are absent, which differ from this version's, and which a newer version
 * installed. The settings component is only checked for presence: its shard and replica counts are the
 * operator's. Two requests, whatever the number of templates.
 */
export async function checkTemplates(client: Client, prefix: string): Promise<TemplatesState> {
  const state: TemplatesState = { missing: [], outdated: [], newer: [] };
  const installed = await installedObjects(client, prefix);
  for (const m of managedObjects({ prefix, shards: 1, replicas: 0, refreshInterval: "5s" })) {
    const got = installed.get(installedKey(m.kind, m.name));
    if (!got) state.missing.push(m.name);
    else if (m.name !== `${prefix}-settings`) {
      const c = compareInstalled(got, m);
      if (c !== "current") state[c].push(m.name);
    }
  }
  return state;
}

/** Install or update everything; report per object. Running it twice reports no change the second time. */
export async function runSetup(client: Client, opts: SetupOptions, logger: Logger): Promise<SetupReport> {
  const dryRun = opts.dryRun ?? false;
  const shards = opts.shards ?? 1;
  const dataNodes = await dataNodeCount(client);
  const replicas = opts.replicas ?? (dataNodes <= 1 ? 0 : 1);
  const warnings: string[] = [];
  if (replicas >= dataNodes) {
    warnings.push(
      `${replicas} replica(s) on ${dataNodes} data node(s): replicas cannot be allocated and indices stay yellow`,
    );
  }
  const actions: SetupAction[] = [];
  const objects = managedObjects({
    prefix: opts.indexPrefix,
    shards,
    replicas,
    refreshInterval: opts.refreshInterval ?? "5s",
  });
  const installed = await installedObjects(client, opts.indexPrefix);
  for (const m of objects) {
    actions.push(await apply(client, m, installed.get(installedKey(m.kind, m.name)), dryRun));
  }
  const newer = actions.filter((a) => a.result === "skip" && a.kind !== "index");
  if (newer.length > 0) {
    warnings.push(
      `${newer.map((a) => a.name).join(", ")}: installed by a newer version of twingate-ingest, left as they are (an older version never overwrites a newer one's templates: docs/DEPLOY.md, "Upgrading")`,
    );
  }

  const ism = await hasIsm(client);
  const days = opts.retentionDays ?? DEFAULT_RETENTION_DAYS;
  if (ism) {
    actions.push(await applyIsm(client, opts.indexPrefix, days, opts.indexPeriod ?? "day", dryRun));
  } else {
    warnings.push(
      "The Index State Management plugin is not installed (e.g. the minimal distribution): no retention policy. " +
        `Delete old indices with \`twingate-ingest setup --prune-older-than ${days}d\` (e.g. daily from cron).`,
    );
  }
  if (opts.pruneOlderThanDays !== undefined) {
    actions.push(
      ...(await pruneIndices(client, opts.indexPrefix, opts.pruneOlderThanDays, {
        dryRun,
        now: opts.now ?? new Date(),
      })),
    );
  }
  if (actions.some((a) => a.kind === "index_template" && a.result === "update")) {
    warnings.push(
      "Updated index templates apply to indices created from now on (the next day's, week's or month's indices).",
    );
  }
  const changed = actions.filter((a) => a.result !== "unchanged" && a.result !== "skip").length;
  const report: SetupReport = {
    indexPrefix: opts.indexPrefix,
    dryRun,
    dataNodes,
    replicas,
    shards,
    ism,
    actions,
    changed,
    warnings,
  };
  for (const a of actions) {
    if (a.result !== "unchanged") logger.info({ ...a, dryRun }, `setup: ${a.result} ${a.kind} ${a.name}`);
  }
  for (const w of warnings) logger.warn(w);
  return report;
}

async function apply(
  client: Client,
  m: Managed,
  got: Body | undefined,
  dryRun: boolean,
): Promise<SetupAction> {
  const base = { kind: m.kind, name: m.name };
  const state = got ? compareInstalled(got, m) : undefined;
  if (state === "current") return { ...base, result: "unchanged" };
  if (got && state === "newer") {
    return {
      ...base,
      result: "skip",
      detail: `a newer version's: template revision ${installedRevision(got)}, this version's ${m.revision}`,
    };
  }
  const result: ActionResult = got ? "update" : "create";
  const detail = got ? `installed hash ${installedHash(got) ?? "none"}, new ${m.hash}` : undefined;
  if (!dryRun) await request(client, "PUT", objectPath(m.kind, m.name), m.body);
  return { ...base, result, ...(detail ? { detail } : {}) };
}

async function applyIsm(
  client: Client,
  prefix: string,
  days: number,
  period: IndexPeriod,
  dryRun: boolean,
): Promise<SetupAction> {
  const name = ismPolicyName(prefix);
  const path = `/_plugins/_ism/policies/${encodeURIComponent(name)}`;
  const body = ismPolicyBody(prefix, days, period);
  const wanted = String((body["policy"] as Body)["description"]);
  const { statusCode, body: got } = await request(client, "GET", path);
  const base = { kind: "ism_policy" as const, name, detail: `delete after ${days}d` };
  if (statusCode !== 404) {
    const current = (got["policy"] as Body | undefined)?.["description"];
    if (current === wanted) return { ...base, result: "unchanged" };
    if (!dryRun) {
      await request(client, "PUT", path, body, {
        if_seq_no: Number(got["_seq_no"]),
        if_primary_term: Number(got["_primary_term"]),
      });
    }
    return { ...base, result: "update" };
  }
  if (!dryRun) await request(client, "PUT", path, body);
  return { ...base, result: "create" };
}

const DAY_MS = 86_400_000;

/**
 * Delete the tool's indices (`<prefix>-<stream>-<day, week or month>`, whatever INDEX_PERIOD is now) whose
 * whole period is older than `days`. Other indices, even under the prefix, are never touched.
 */
export async function pruneIndices(
  client: Client,
  prefix: string,
  days: number,
  opts: { dryRun?: boolean; now?: Date } = {},
): Promise<SetupAction[]> {
  const now = (opts.now ?? new Date()).getTime();
  const cutoff = now - days * DAY_MS;
  const res = await client.transport.request(
    {
      method: "GET",
      path: `/_cat/indices/${encodeURIComponent(`${prefix}-*`)}`,
      querystring: { format: "json", h: "index,docs.count", expand_wildcards: "open,closed" },
    },
    { ignore: [404] },
  );
  const rows = (Array.isArray(res.body) ? res.body : []) as { index: string; "docs.count"?: string }[];
  const out: SetupAction[] = [];
  for (const row of rows.sort((a, b) => a.index.localeCompare(b.index))) {
    const period = periodIndexRange(prefix, row.index);
    if (!period || period.endMs > cutoff) continue;
    if (!opts.dryRun) await request(client, "DELETE", `/${encodeURIComponent(row.index)}`);
    out.push({
      kind: "index",
      name: row.index,
      result: "delete",
      detail: `older than ${days}d (${row["docs.count"] ?? "?"} docs)`,
    });
  }
  return out;
}

/** "90d", "90" or "12w" → days. */
export function parseDays(input: string): number {
  const m = /^\s*(\d+)\s*(d|w)?\s*$/i.exec(input);
  if (!m) throw new Error(`not a duration in days: ${JSON.stringify(input)} (e.g. 90d)`);
  const n = Number(m[1]) * (m[2]?.toLowerCase() === "w" ? 7 : 1);
  if (n < 1) throw new Error("the age must be at least 1 day");
  return n;
}
