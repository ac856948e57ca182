/**
 * Quarantine documents, built here only, from one `Rejection` type, with the raw text cut here only:
 * a record the reader could not read, a record that failed validation, a record that cannot be stored as
 * a document, one OpenSearch refused, and a file-level error all become `toQuarantineAction(rejection)`.
 */
import type { ValidationResult } from "../events/index.ts";
import { cutRaw, type IndexAction, type RecordSource, type Rejection } from "../model.ts";
import { canonicalJson, hashId, ingestOf, parseTwingateKeyTime, quarantineIndexOf } from "./index.ts";
import type { IndexPeriod } from "./period.ts";

/** A stored document's `ingest` object, as quarantine (of a refused document) and replay read it back. */
export interface StoredIngest {
  bucket?: string;
  key?: string;
  ordinal?: number;
  line?: number;
  ingested_at?: string;
  /** The file's time bounded placement used (documents placed by it; quarantine of a non-Twingate key). */
  file_time?: string;
}

/** `ingest.file_time` in milliseconds, when the document has a valid one. */
export function storedFileTimeMs(ingest: StoredIngest): number | undefined {
  const ms = ingest.file_time === undefined ? Number.NaN : Date.parse(ingest.file_time);
  return Number.isNaN(ms) ? undefined : ms;
}

/** A failed validation as a Rejection (for quarantine), with where the record came from. */
export function toRejection(
  failure: Extract<ValidationResult, { ok: false }>,
  item: { raw: string; ordinal: number; line?: number },
): Rejection {
  const { raw, truncated } = cutRaw(item.raw);
  const rejection: Rejection = {
    reason: failure.reason,
    message: failure.message,
    raw,
    ordinal: item.ordinal,
  };
  if (truncated) rejection.rawTruncated = true;
  if (failure.path !== undefined) rejection.path = failure.path;
  if (failure.eventType !== undefined) rejection.eventType = failure.eventType;
  if (item.line !== undefined) rejection.line = item.line;
  return rejection;
}

/** A valid record that cannot be made into a document (e.g. nested too deep for the call stack). */
export function unstorableRejection(
  err: unknown,
  eventType: string,
  item: { raw: string; ordinal: number; line?: number },
): Rejection {
  const why = err instanceof Error ? err.message : String(err);
  return toRejection(
    {
      ok: false,
      reason: "schema_invalid",
      message: `the record cannot be stored as a document: ${why}`,
      eventType,
    },
    item,
  );
}

/** A file-level error (the rest of the file unreadable): recorded once, with no raw text. */
export function fileErrorRejection(item: {
  reason: Rejection["reason"];
  message: string;
  ordinal: number;
}): Rejection {
  return { reason: item.reason, message: item.message, raw: "", ordinal: item.ordinal };
}

/**
 * The quarantine action for a rejection. Same file, ordinal, reason and raw text -> same index and id, so
 * reprocessing is idempotent.
 */
export function toQuarantineAction(
  rejection: Rejection,
  source: { bucket: string; key: string },
  opts: {
    indexPrefix: string;
    ingestedAt: string;
    indexPeriod?: IndexPeriod | undefined;
    /** The object's LastModified: places a file not named like Twingate's (see quarantineIndexName). */
    objectTime?: string | undefined;
    /**
     * The file's time bounded placement used (ingest-object.ts), when known: kept on the document as
     * `ingest.file_time` for a key not named like Twingate's (whose time is its first valid record's, which
     * replay cannot see), so that replay places the record where a re-read of the file does.
     */
    fileTimeMs?: number | undefined;
  },
): IndexAction {
  const { raw, truncated } = cutRaw(rejection.raw);
  const quarantine: Record<string, unknown> = { reason: rejection.reason, message: rejection.message };
  if (rejection.path !== undefined) quarantine["path"] = rejection.path;
  quarantine["raw"] = raw;
  quarantine["raw_truncated"] = truncated || rejection.rawTruncated === true;
  if (rejection.recordId !== undefined) quarantine["record_id"] = rejection.recordId;
  const document: Record<string, unknown> = { "@timestamp": opts.ingestedAt };
  if (rejection.eventType !== undefined) document["event_type"] = rejection.eventType;
  document["quarantine"] = quarantine;
  const src: RecordSource = { bucket: source.bucket, key: source.key, ordinal: rejection.ordinal };
  if (rejection.line !== undefined) src.line = rejection.line;
  const ingest = ingestOf(src, opts.ingestedAt);
  if (opts.fileTimeMs !== undefined && !parseTwingateKeyTime(source.key))
    ingest["file_time"] = new Date(opts.fileTimeMs).toISOString();
  document["ingest"] = ingest;
  const action: IndexAction = {
    index: quarantineIndexOf(source.key, raw, opts),
    id: hashId(canonicalJson([source.bucket, source.key, rejection.ordinal, rejection.reason, raw])),
    document,
    kind: "quarantine",
    reason: rejection.reason,
  };
  if (rejection.eventType !== undefined) action.eventType = rejection.eventType;
  return action;
}

/**
 * A record OpenSearch refused (mapping or parse error: `index_rejected`; alone over the cluster's
 * http.max_content_length: `record_too_large`, its raw text a preview) becomes a quarantine document,
 * rebuilt from the document itself so the sink needs nothing but the action.
 */
export function quarantineRefused(
  action: IndexAction,
  message: string,
  indexPrefix: string,
  indexPeriod?: IndexPeriod,
  reason: "index_rejected" | "record_too_large" = "index_rejected",
): IndexAction {
  const doc = action.document as {
    event_type?: string;
    event?: unknown;
    twingate?: Record<string, unknown>;
    ingest?: StoredIngest;
  };
  const ingest = doc.ingest ?? {};
  // A record placed by its file's time keeps it (a key not named like Twingate's: replay reads it there).
  const fileTimeMs = storedFileTimeMs(ingest);
  return toQuarantineAction(
    {
      reason,
      message,
      // A normalised record as received (else the record as the document holds it, its other keys back at
      // the top: the same record), and the id the document had: replay validates it again (a normalised
      // one's deviations listed again) and keeps that id, so a re-read of the file finds it already there.
      raw: action.received ?? JSON.stringify(heldRecord(doc)),
      recordId: action.id,
      ...(doc.event_type !== undefined ? { eventType: doc.event_type } : {}),
      ordinal: ingest.ordinal ?? 0,
      ...(ingest.line !== undefined ? { line: ingest.line } : {}),
    },
    { bucket: ingest.bucket ?? "", key: ingest.key ?? "" },
    {
      indexPrefix,
      indexPeriod,
      ingestedAt: ingest.ingested_at ?? new Date().toISOString(),
      ...(fileTimeMs === undefined ? {} : { fileTimeMs }),
    },
  );
}

/**
 * The record a document holds: its event_type, the vendor's event (`twingate.<stream>`) and the record's
 * other keys (`twingate.envelope`) back at the top.
 */
function heldRecord(doc: {
  event_type?: string;
  twingate?: Record<string, unknown>;
}): Record<string, unknown> {
  const t = doc.twingate ?? {};
  const envelope = (t["envelope"] ?? {}) as Record<string, unknown>;
  return {
    event_type: doc.event_type,
    event: doc.event_type === undefined ? undefined : t[doc.event_type],
    ...envelope,
  };
}
