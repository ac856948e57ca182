/**
 * What replay does with one quarantine document (pure): run its raw record through the pipeline's own
 * record stages (the reader's rules for a record's text, then ingest/actions.ts placeRecord: today's
 * validators and the placement ingestion gives its file) and say whether it now passes (its index
 * action) or still fails (its new quarantine document), or cannot be replayed at all.
 */
import { type IndexPeriod, parseTwingateKeyTime, toQuarantineAction } from "../../core/documents/index.ts";
import { type StoredIngest, storedFileTimeMs } from "../../core/documents/quarantine.ts";
import { validateRecord } from "../../core/events/index.ts";
import { placeRecord } from "../../core/ingest/actions.ts";
import type { IndexAction, RecordSource, Rejection, RejectReason } from "../../core/model.ts";
import { readRecordText } from "../../core/parse/index.ts";

/** A quarantine document as stored (the fields replay reads). */
export interface QuarantineHit {
  _index: string;
  _id: string;
  _source: {
    "@timestamp"?: string;
    event_type?: string;
    quarantine?: {
      reason?: string;
      message?: string;
      path?: string;
      raw?: string;
      raw_truncated?: boolean;
      /** The refused document's id (index_rejected). */
      record_id?: string;
    };
    ingest?: StoredIngest;
  };
}

export type SkipWhy =
  /** The stored raw text was cut (record over the quarantine's raw limit): the file has to be backfilled again. */
  | "raw_truncated"
  /** A file-level error (truncated gzip, broken array...): no record to replay; backfill the file again. */
  | "file_level"
  /**
   * The record was not UTF-8: the stored text has U+FFFD where its bytes were, so it is not what the file
   * holds (a re-read rejects the bytes again); backfill the file once the vendor has fixed it.
   */
  | "invalid_utf8";

type ReplayDecision =
  | { kind: "skip"; why: SkipWhy }
  | { kind: "pass"; action: IndexAction }
  | {
      kind: "fail";
      reason: RejectReason;
      /** The quarantine document as today's ingestion would write it. */
      action: IndexAction;
      /** True when the stored document already says exactly this (same place, reason, message, path). */
      unchanged: boolean;
    };

export interface PlanOptions {
  indexPrefix: string;
  /** Period of the index names (absent: day). */
  indexPeriod?: IndexPeriod | undefined;
  maxRecordBytes: number;
  /** Time given to documents that now pass (ingest.ingested_at). */
  ingestedAt: string;
  /** Bounded placement's limit (MAX_EVENT_TIME_DEVIATION_HOURS), as ingestion applies it; none when absent. */
  maxTimeDeviationMs?: number | undefined;
  validate?: typeof validateRecord;
}

/**
 * Every stored reason is retried when the raw text is complete: `invalid_json` and `record_too_large`
 * may pass now if the record was fixed upstream or the size limit was raised; `index_rejected` may pass
 * after a mapping fix (it is then validated like any record).
 */
export function planReplay(hit: QuarantineHit, opts: PlanOptions): ReplayDecision {
  const q = hit._source.quarantine ?? {};
  const raw = q.raw ?? "";
  if (q.raw_truncated) return { kind: "skip", why: "raw_truncated" };
  if (raw === "") return { kind: "skip", why: "file_level" };
  if (q.reason === "invalid_utf8") return { kind: "skip", why: "invalid_utf8" };
  const ingest = hit._source.ingest ?? {};
  // Bounded placement as ingestion applies it: the file's time is its Twingate key's slot, or for another
  // key the time ingestion took from the file's first valid record (stored on the quarantine document).
  // A record quarantined before any record of its file was valid has none: its own time then, which is
  // what a re-read gives when it is now that first valid record.
  const fileTimeMs = parseTwingateKeyTime(ingest.key ?? "")?.getTime() ?? storedFileTimeMs(ingest);
  const source: RecordSource = {
    bucket: ingest.bucket ?? "",
    key: ingest.key ?? "",
    ordinal: ingest.ordinal ?? 0,
    ...(ingest.line !== undefined ? { line: ingest.line } : {}),
  };
  const fail = (r: Omit<Rejection, "raw" | "ordinal" | "line">): ReplayDecision => {
    const rejection: Rejection = {
      ...r,
      raw,
      ordinal: source.ordinal,
      ...(source.line !== undefined ? { line: source.line } : {}),
      ...(q.record_id ? { recordId: q.record_id } : {}),
    };
    // The quarantine document keeps its original ingestion time (and so its index).
    const action = toQuarantineAction(
      rejection,
      { bucket: source.bucket, key: source.key },
      {
        indexPrefix: opts.indexPrefix,
        indexPeriod: opts.indexPeriod,
        ingestedAt: ingest.ingested_at ?? hit._source["@timestamp"] ?? opts.ingestedAt,
        fileTimeMs,
      },
    );
    const newQ = action.document["quarantine"] as { reason: string; message: string; path?: string };
    const unchanged =
      action.index === hit._index &&
      action.id === hit._id &&
      newQ.reason === q.reason &&
      newQ.message === q.message &&
      newQ.path === q.path;
    return { kind: "fail", reason: r.reason, action, unchanged };
  };

  // The pipeline's own stages for one record: the reader's rules for a record's text, then the record
  // stage (validate, place, build the document) with the placement ingestion gives the file.
  const item = readRecordText(raw, source, opts.maxRecordBytes);
  if (item.kind === "rejected") return fail({ ...eventTypeOf(hit), ...item.rejection });
  if (item.kind !== "record") return { kind: "skip", why: "file_level" };
  const placed = placeRecord(
    item,
    source,
    {
      indexPrefix: opts.indexPrefix,
      indexPeriod: opts.indexPeriod,
      ingestedAt: opts.ingestedAt,
      ...(q.record_id ? { id: q.record_id } : {}),
      maxTimeDeviationMs: opts.maxTimeDeviationMs,
      fileTimeMs,
    },
    opts.validate ?? validateRecord,
  );
  if (placed.rejection) return fail(placed.rejection);
  return { kind: "pass", action: placed.action };
}

function eventTypeOf(hit: QuarantineHit): { eventType?: string } {
  return hit._source.event_type !== undefined ? { eventType: hit._source.event_type } : {};
}

/** The query for quarantine documents by ingestion time range and/or reasons (and event types). */
export function quarantineQuery(filter: {
  fromMs?: number;
  toMs?: number;
  reasons?: readonly string[];
  eventTypes?: readonly string[];
}): Record<string, unknown> {
  const must: Record<string, unknown>[] = [];
  if (filter.fromMs !== undefined || filter.toMs !== undefined) {
    must.push({
      range: {
        "@timestamp": {
          ...(filter.fromMs !== undefined ? { gte: new Date(filter.fromMs).toISOString() } : {}),
          ...(filter.toMs !== undefined ? { lt: new Date(filter.toMs).toISOString() } : {}),
        },
      },
    });
  }
  if (filter.reasons && filter.reasons.length > 0)
    must.push({ terms: { "quarantine.reason": [...filter.reasons] } });
  if (filter.eventTypes && filter.eventTypes.length > 0)
    must.push({ terms: { event_type: [...filter.eventTypes] } });
  return must.length === 0 ? { match_all: {} } : { bool: { filter: must } };
}
