/**
 * The data-quality check: which deviation paths the indexed documents carry (ingest.deviation_paths, see
 * docs/DATA-QUALITY.md), and which of them first appeared recently. A path seen for the first time is
 * how a change on the vendor's side shows (a field renamed, a type changed): the records are indexed, but
 * someone should look. Read-only: one aggregation over the stream indices.
 */
import { EVENT_TYPES } from "../../core/twingate.ts";
import { isOpenSearchUp } from "./reached.ts";
import type { Check } from "./types.ts";

/** A deviation path whose first document was indexed this recently is reported as new. */
export const NEW_DEVIATION_SECONDS = 24 * 3600;
/** Paths listed at most (the aggregation's size). */
const MAX_PATHS = 100;

interface PathBucket {
  key: string;
  doc_count: number;
  first?: { value?: number | null };
}

export interface DeviationPath {
  path: string;
  documents: number;
  /** When its first document was indexed (ISO), if known. */
  firstSeen?: string;
}

/** The paths, most frequent first, and those first seen within NEW_DEVIATION_SECONDS of `nowMs`. */
export function deviationFindings(
  buckets: readonly PathBucket[],
  nowMs: number,
): { paths: DeviationPath[]; fresh: DeviationPath[] } {
  const paths = buckets.map((b) => {
    const first = b.first?.value;
    const p: DeviationPath = { path: b.key, documents: b.doc_count };
    if (typeof first === "number" && Number.isFinite(first)) p.firstSeen = new Date(first).toISOString();
    return p;
  });
  const fresh = paths.filter(
    (p) => p.firstSeen !== undefined && nowMs - Date.parse(p.firstSeen) <= NEW_DEVIATION_SECONDS * 1000,
  );
  return { paths, fresh };
}

const list = (ps: readonly DeviationPath[], n = 5): string =>
  ps
    .slice(0, n)
    .map((p) => `${p.path} (${p.documents})`)
    .join(", ") + (ps.length > n ? `, and ${ps.length - n} more` : "");

export const checkDeviations: Check = async (ctx) => {
  const name = "Data quality";
  if (!isOpenSearchUp(ctx)) return { name, status: "skip", detail: "OpenSearch not reachable (see above)" };
  const prefix = ctx.opts.indexPrefix;
  const index = EVENT_TYPES.map((t) => `${prefix}-${t}-*`).join(",");
  let buckets: PathBucket[];
  try {
    const res = await ctx.deps.opensearch.transport.request({
      method: "POST",
      path: `/${index}/_search`,
      querystring: { ignore_unavailable: true, allow_no_indices: true },
      body: {
        size: 0,
        track_total_hits: false,
        aggs: {
          paths: {
            terms: { field: "ingest.deviation_paths", size: MAX_PATHS },
            aggs: { first: { min: { field: "ingest.ingested_at" } } },
          },
        },
      },
    });
    const aggs = (res.body as { aggregations?: { paths?: { buckets?: PathBucket[] } } }).aggregations;
    buckets = aggs?.paths?.buckets ?? [];
  } catch (err) {
    const e = err as { name?: string; message?: string };
    return {
      name,
      status: "skip",
      detail: `cannot aggregate ingest.deviation_paths: ${e.name ?? "Error"}: ${e.message ?? String(err)}`,
    };
  }
  const { paths, fresh } = deviationFindings(buckets, ctx.deps.now?.() ?? Date.now());
  if (paths.length === 0)
    return { name, status: "pass", detail: "no document carries a deviation", data: { paths } };
  if (fresh.length > 0) {
    return {
      name,
      status: "warn",
      detail: `new deviation path(s) in the last 24 h: ${list(fresh)}; ${paths.length} path(s) in all`,
      hint: "the records are indexed; a new path often means the vendor changed a field: `twingate-ingest validate --details FILE` shows each record's deviations, docs/DATA-QUALITY.md what each action means",
      data: { paths, fresh: fresh.map((p) => p.path) },
    };
  }
  return {
    name,
    status: "pass",
    detail: `${paths.length} deviation path(s), none new in the last 24 h: ${list(paths)}`,
    data: { paths },
  };
};
