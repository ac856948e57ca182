/**
 * `setup --upgrade-indices`: brings indices written before the document layout of issue #27 (the vendor's
 * event at `event.*`, no ECS metadata) to today's layout, in place, so no event is ever in two documents:
 *
 * 1. the index gets the lowercase normalizer (analysis settings change only on a closed index: it is closed
 *    for a moment; writers hold meanwhile, an `index_block`, and resume) and the fields today's mappings add
 *    (PUT _mapping: additions only; a field both layouts have keeps its old definition);
 * 2. every document without `event.dataset` indexed is read (a scroll) and written again under the same id
 *    in the same index: an old-layout one rebuilt by today's document builder from the record it holds
 *    (its `ingest` kept, deviations found now added), a new-layout one written before its fields were
 *    mapped written as it is, so that its fields are indexed.
 *
 * Idempotent and resumable (a second run finds nothing to do); the worker may run meanwhile: its writes
 * are `create`s of new ids or 409s, never a second copy.
 */
import type { Client } from "@opensearch-project/opensearch";
import { recordDocument } from "../../core/documents/index.ts";
import { validateRecord } from "../../core/events/index.ts";
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  commonMappings,
  eventMappings,
  LOWERCASE,
  LOWERCASE_ANALYSIS,
  mergeMappings,
} from "../../platform/opensearch/mappings.ts";

type Json = Record<string, unknown>;

export interface UpgradeOptions {
  indexPrefix: string;
  dryRun?: boolean;
  /** Documents per scroll page and bulk request (default 500). */
  batch?: number;
}

export interface IndexUpgrade {
  index: string;
  /** Documents of the old layout (or new ones written before their fields were mapped) found. */
  pending: number;
  rewritten: number;
  /** Documents that could not be rebuilt (their record no longer validates): left as they are. */
  skipped: number;
  normalizerAdded: boolean;
  fieldsAdded: number;
}

/** The mapping's properties today's layout adds to `existing` (additions only: a field both have stays). */
export function mappingAdditions(desired: Json, existing: Json): Json {
  const out: Json = {};
  for (const [k, def] of Object.entries(desired)) {
    const d = def as Json;
    const e = existing[k] as Json | undefined;
    if (e === undefined) out[k] = d;
    else if (d["properties"] && e["properties"]) {
      const sub = mappingAdditions(d["properties"] as Json, e["properties"] as Json);
      if (Object.keys(sub).length > 0) out[k] = { properties: sub };
    }
  }
  return out;
}

const countLeaves = (props: Json): number =>
  Object.values(props).reduce<number>((n, d) => {
    const p = (d as Json)["properties"] as Json | undefined;
    return n + (p ? countLeaves(p) : 1);
  }, 0);

/**
 * An old-layout document (the vendor's event at `event`, the record's other keys at `twingate`) in today's
 * layout, its `ingest` kept (deviations found now added); undefined when its record no longer validates.
 */
export function upgradeDocument(old: Json, indexPrefix: string): Json | undefined {
  const eventType = old["event_type"];
  if (typeof eventType !== "string") return undefined;
  const extras = (old["twingate"] ?? {}) as Json;
  const v = validateRecord({ event_type: eventType, event: old["event"], ...extras });
  if (!v.ok) return undefined;
  const ingest = (old["ingest"] ?? {}) as Json;
  const source = {
    bucket: String(ingest["bucket"] ?? ""),
    key: String(ingest["key"] ?? ""),
    ordinal: Number(ingest["ordinal"] ?? 0),
    ...(typeof ingest["line"] === "number" ? { line: ingest["line"] } : {}),
  };
  const ingestedAt =
    typeof ingest["ingested_at"] === "string" ? ingest["ingested_at"] : new Date().toISOString();
  const doc = recordDocument(v.record, source, { indexPrefix, ingestedAt });
  const now = (doc["ingest"] ?? {}) as Json;
  const union = (k: string) => {
    const all = [...((ingest[k] as string[] | undefined) ?? []), ...((now[k] as string[] | undefined) ?? [])];
    return all.length > 0 ? [...new Set(all)] : undefined;
  };
  const merged: Json = { ...ingest };
  for (const k of ["deviations", "deviation_paths"]) {
    const u = union(k);
    if (u) merged[k] = u;
  }
  doc["ingest"] = merged;
  if (old["set_aside"] !== undefined) doc["set_aside"] = old["set_aside"];
  return doc;
}

async function req(
  client: Client,
  method: string,
  path: string,
  body?: unknown,
  query?: Json,
): Promise<Json> {
  const res = await client.transport.request({
    method,
    path,
    ...(body !== undefined ? { body: body as Json } : {}),
    ...(query ? { querystring: query as Record<string, string> } : {}),
  });
  return (res.body ?? {}) as Json;
}

/** The stream indices of the prefix (`<prefix>-<stream>-<period>`), with their stream. */
async function streamIndices(
  client: Client,
  prefix: string,
): Promise<{ index: string; stream: EventType }[]> {
  const out: { index: string; stream: EventType }[] = [];
  for (const stream of EVENT_TYPES) {
    const body = await req(client, "GET", `/${prefix}-${stream}-*/_mapping`, undefined, {
      allow_no_indices: "true",
      ignore_unavailable: "true",
    });
    for (const index of Object.keys(body).sort()) out.push({ index, stream });
  }
  return out;
}

const OLD_LAYOUT = { bool: { must_not: [{ exists: { field: "event.dataset" } }] } };

/** Upgrades every stream index of the prefix (see the module comment); one report per index. */
export async function upgradeIndices(
  client: Client,
  opts: UpgradeOptions,
  log: Logger,
): Promise<IndexUpgrade[]> {
  const batch = opts.batch ?? 500;
  const reports: IndexUpgrade[] = [];
  for (const { index, stream } of await streamIndices(client, opts.indexPrefix)) {
    const report: IndexUpgrade = {
      index,
      pending: 0,
      rewritten: 0,
      skipped: 0,
      normalizerAdded: false,
      fieldsAdded: 0,
    };
    reports.push(report);
    const counted = await req(client, "POST", `/${index}/_count`, { query: OLD_LAYOUT });
    report.pending = Number(counted["count"] ?? 0);
    const settings = await req(client, "GET", `/${index}/_settings`);
    const analysis = (((settings[index] as Json)?.["settings"] as Json)?.["index"] as Json)?.["analysis"] as
      | Json
      | undefined;
    const hasNormalizer = (analysis?.["normalizer"] as Json | undefined)?.[LOWERCASE] !== undefined;
    const mapping = await req(client, "GET", `/${index}/_mapping`);
    const existing = (((mapping[index] as Json)?.["mappings"] as Json)?.["properties"] ?? {}) as Json;
    const desired = (mergeMappings(commonMappings(), eventMappings(stream))["properties"] ?? {}) as Json;
    const additions = mappingAdditions(desired, existing);
    report.fieldsAdded = countLeaves(additions);
    if (opts.dryRun) continue;
    if (!hasNormalizer) {
      // analysis settings are static: closed for the moment it takes (writers hold: index_block)
      await req(client, "POST", `/${index}/_close`);
      try {
        await req(client, "PUT", `/${index}/_settings`, { analysis: LOWERCASE_ANALYSIS });
      } finally {
        await req(client, "POST", `/${index}/_open`, undefined, { wait_for_active_shards: "1" });
      }
      report.normalizerAdded = true;
    }
    if (report.fieldsAdded > 0) await req(client, "PUT", `/${index}/_mapping`, { properties: additions });
    if (report.pending === 0) continue;
    let page = await req(
      client,
      "POST",
      `/${index}/_search`,
      { size: batch, query: OLD_LAYOUT, sort: ["_doc"] },
      {
        scroll: "2m",
      },
    );
    try {
      for (;;) {
        const hits = ((page["hits"] as Json)?.["hits"] ?? []) as { _id: string; _source: Json }[];
        if (hits.length === 0) break;
        const lines: Json[] = [];
        for (const h of hits) {
          const src = h._source;
          // a document of today's layout (it has event.dataset) written before its fields were mapped:
          // indexed again as it is; an old one rebuilt
          const dataset = (src["event"] as Json | undefined)?.["dataset"];
          const doc = typeof dataset === "string" ? src : upgradeDocument(src, opts.indexPrefix);
          if (!doc) {
            report.skipped++;
            continue;
          }
          lines.push({ index: { _index: index, _id: h._id } }, doc);
        }
        if (lines.length > 0) {
          const res = await client.bulk({ body: lines });
          const items = (res.body.items ?? []) as Record<string, { status: number; error?: unknown }>[];
          for (const it of items) {
            const r = Object.values(it)[0]!;
            if (r.status >= 200 && r.status < 300) report.rewritten++;
            else {
              // one document OpenSearch refuses does not stop the others: left as it was, reported
              report.skipped++;
              log.warn(
                { index, status: r.status, error: JSON.stringify(r.error).slice(0, 500) },
                "upgrade: a document could not be written again; left as it was",
              );
            }
          }
        }
        page = await req(client, "POST", "/_search/scroll", { scroll: "2m", scroll_id: page["_scroll_id"] });
      }
    } finally {
      if (typeof page["_scroll_id"] === "string")
        await req(client, "DELETE", "/_search/scroll", { scroll_id: page["_scroll_id"] }).catch(
          () => undefined,
        );
    }
    await req(client, "POST", `/${index}/_refresh`);
    log.info({ ...report }, `upgraded ${index}: ${report.rewritten} document(s) written in today's layout`);
  }
  return reports;
}
