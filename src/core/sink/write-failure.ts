/**
 * What a write failure means, decided in this one place for every writer (the ingest sink, replay's
 * rewrites and deletes, quarantine documents alike):
 *
 * - `stored`: created, or already there (409 on `create`: the same deterministic id, an earlier delivery).
 * - `record`: OpenSearch refused this one document for what it holds (mapping or parse error): sending it
 *   again fails the same way, so the record goes to quarantine. Only error types named below qualify.
 * - `hold`: the cluster cannot take writes now (a block, a missing permission, the shard limit, throttled,
 *   down, unreachable, timed out): nothing is wrong with the data; keep it and retry until it clears.
 * - `fail`: the request itself is wrong (a 400 on the whole request, a redirect, an answer that is not a
 *   bulk answer): retrying cannot help, so the writer stops loudly.
 *
 * Anything not recognised is `hold`, never `record`: a good record is never quarantined for a cluster's
 * state we did not foresee (the hold limit bounds how long an unexplained one can last).
 */
import { NotABulkResponseError } from "./bulk-response.ts";

/** Per-item result of `_bulk` as we read it (filter_path keeps only these). */
export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

/** Why writes are held: a short stable code (a metric label) and the cause in words. */
export type HoldCause =
  | "index_block"
  | "cluster_block"
  | "permission"
  | "shard_limit"
  | "throttled"
  | "shards_unavailable"
  | "node_unavailable"
  | "server_error"
  | "unreachable"
  | "timeout"
  /** The index templates are missing or outdated and may not be installed (index-guard.ts). */
  | "templates"
  | "unknown";

type WriteVerdict =
  | { kind: "stored"; duplicate: boolean }
  | { kind: "record"; message: string }
  | { kind: "hold"; cause: HoldCause; message: string }
  | { kind: "fail"; message: string };

/**
 * Error types that mean "this document cannot be stored as it is", whatever the cluster's state: the
 * mapping or the parser refused its content. A 400 item of another type is not assumed to be the record's.
 */
const RECORD_FAULTS = new Set([
  "mapper_parsing_exception",
  "document_parsing_exception",
  "strict_dynamic_mapping_exception",
  "mapper_exception",
  "illegal_argument_exception",
  "parse_exception",
  "json_parse_exception",
  "x_content_parse_exception",
  "number_format_exception",
]);

/**
 * A cluster of several nodes while one dies, restarts or freezes: a shard has no active primary (being
 * promoted, relocating, recovering) — or the node the write went through lost the one holding it.
 * Held like any 5xx, named for what they are (the log, `twingate_ingest_write_held{cause}`).
 */
const SHARDS_UNAVAILABLE =
  /\b(unavailable_shards_exception|no_shard_available_action_exception|primary_missing_action_exception|illegal_index_shard_state_exception|index_shard_closed_exception|shard_not_in_primary_mode_exception|retry_on_primary_exception|shard_not_found_exception)\b/;
const NODE_UNAVAILABLE =
  /\b(node_disconnected_exception|node_not_connected_exception|node_closed_exception|connect_transport_exception|send_request_transport_exception|receive_timeout_transport_exception|cluster_manager_not_discovered_exception|master_not_discovered_exception|not_cluster_manager_exception|not_master_exception|failed_to_commit_cluster_state_exception|node_shutting_down_exception)\b/;

/** A request that threw is held or failed (what it stored, if anything, is unknown). */
type RequestVerdict = Extract<WriteVerdict, { kind: "hold" | "fail" }>;

/** An item is never "fail": a request wrong as a whole is refused as a whole. */
type ItemVerdict = Exclude<WriteVerdict, { kind: "fail" }>;

/**
 * One `_bulk` item's result, classified (see the module comment). For a `delete` (replay's), a 404 is
 * stored too: the document is gone, which is what was asked (an earlier, interrupted run deleted it).
 */
export function classifyItem(
  item: BulkItemResult,
  op: "create" | "index" | "delete" = "create",
): ItemVerdict {
  const s = item.status;
  if (s >= 200 && s < 300) return { kind: "stored", duplicate: false };
  if (s === 409) return { kind: "stored", duplicate: true };
  if (s === 404 && op === "delete") return { kind: "stored", duplicate: true };
  const message = itemErrorMessage(item);
  const held = holdCause(s, item.error?.type, message);
  if (held) return { kind: "hold", cause: held, message };
  if (s >= 400 && s < 500 && RECORD_FAULTS.has(item.error?.type ?? "")) return { kind: "record", message };
  return { kind: "hold", cause: "unknown", message };
}

/** The HTTP status of a whole-request failure, from our transport's error or the client's (`meta`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number | null; meta?: { statusCode?: number | null } } | null | undefined;
  // The client's ConnectionError carries `meta.statusCode: null`: no answer at all.
  const s = e?.statusCode ?? e?.meta?.statusCode;
  return typeof s === "number" && s > 0 ? s : undefined;
}

/**
 * A whole request that failed (the transport threw), classified. A 413 is the caller's to halve first.
 * 401/403 are a permission or a block (held, whatever the body says: a proxy's or a managed domain's
 * denial has no OpenSearch error type); a 400 is held only when it names a block or the shard limit.
 */
export function classifyRequestError(err: unknown): RequestVerdict {
  const message = describe(err);
  if (err instanceof NotABulkResponseError) return { kind: "fail", message };
  const status = httpStatusOf(err);
  const type = errorTypeOf(err, message);
  if (status === undefined) {
    if (isTimeout(err, message)) return { kind: "hold", cause: "timeout", message };
    if (isUnreachable(err, message)) return { kind: "hold", cause: "unreachable", message };
    return { kind: "hold", cause: "unknown", message };
  }
  const held = holdCause(status, type, message);
  if (held) return { kind: "hold", cause: held, message };
  if (status >= 300 && status < 500) return { kind: "fail", message: `HTTP ${status}: ${message}` };
  return { kind: "hold", cause: "unknown", message };
}

/** The hold a status and error type stand for, if any (shared by items and whole requests). */
function holdCause(status: number, type: string | undefined, message: string): HoldCause | undefined {
  // `index [x] blocked by: [FORBIDDEN/8/index write (api)]` (index.blocks.write, ISM's read_only, the disk
  // flood stage) or `blocked by: [FORBIDDEN/6/cluster read-only (api)]` (cluster.blocks.read_only).
  if (type === "cluster_block_exception" || /blocked by: \[/.test(message))
    return /index \[/.test(message) ? "index_block" : "cluster_block";
  // A closed index (an operator's, or `setup --upgrade-indices` adding the normalizer) opens again: held.
  if (type === "index_closed_exception") return "index_block";
  if (type === "security_exception" || /no permissions for \[/.test(message)) return "permission";
  if (/maximum (normal )?shards open|would add \[\d+\] total shards/i.test(message)) return "shard_limit";
  if (status === 401 || status === 403) return "permission";
  if (status === 429 || type === "es_rejected_execution_exception" || type === "rejected_execution_exception")
    return "throttled";
  if (status === 408) return "timeout";
  // the type, or a cause the message names (`remote_transport_exception ... (node_disconnected_exception: ...)`)
  const named = `${type ?? ""} ${message}`;
  if (SHARDS_UNAVAILABLE.test(named)) return "shards_unavailable";
  if (NODE_UNAVAILABLE.test(named)) return "node_unavailable";
  if (status >= 500) return "server_error";
  return undefined;
}

/** For a permission hold: the action the user lacks (`indices:data/write/bulk[s]`), when the cluster named it. */
export function missingPermission(message: string): string | undefined {
  return /no permissions for \[([^\]]*\]?)\]/.exec(message)?.[1];
}

function itemErrorMessage(item: BulkItemResult): string {
  const e = item.error;
  if (!e) return `status ${item.status}`;
  const cause = e.caused_by ? ` (${e.caused_by.type}: ${e.caused_by.reason})` : "";
  return `${e.type ?? "error"}: ${e.reason ?? ""}${cause}`.slice(0, 2000);
}

function errorTypeOf(err: unknown, message: string): string | undefined {
  const body = (err as { meta?: { body?: { error?: { type?: string } } } } | null)?.meta?.body;
  if (typeof body?.error?.type === "string") return body.error.type;
  // Our transport's message: `HTTP 403: cluster_block_exception: ...`.
  return /HTTP \d{3}: ([a-z_]+_exception)/.exec(message)?.[1];
}

function isTimeout(err: unknown, message: string): boolean {
  const name = (err as { name?: string } | null)?.name ?? "";
  return /Timeout|Stalled|Deadline/i.test(name) || /timed? ?out|ETIMEDOUT|stalled/i.test(message);
}

function isUnreachable(err: unknown, message: string): boolean {
  const code = (err as { code?: string } | null)?.code ?? "";
  return (
    /ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE|ENETUNREACH/.test(code + message) ||
    /ConnectionError|NoLivingConnections|socket hang up/i.test(
      `${(err as { name?: string } | null)?.name ?? ""} ${message}`,
    )
  );
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 2000);
  return String(err).slice(0, 2000);
}
