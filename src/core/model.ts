/**
 * Types shared along the data path:
 * notification -> ObjectRef -> reader items -> validated records / rejections -> index actions -> outcome.
 */

export { EVENT_TYPES, type EventType } from "./twingate.ts";

/** One S3 object (or local file, with bucket "" and key = path) to ingest. */
export interface ObjectRef {
  bucket: string;
  key: string;
  size?: number;
  etag?: string;
  versionId?: string;
  /** S3's event `sequencer` when the ref came from a notification (orders events for the same key). */
  sequencer?: string;
  /**
   * When the object was last written (S3's LastModified, a local file's mtime), ISO; set by the source
   * when it opens the object. The same on every delivery of the same object version: quarantine documents
   * of a file not named like Twingate's are placed by it (see quarantineIndexName).
   */
  lastModified?: string;
  /** What the source read (S3: the object's ETag, size and version), compared with the notification's. */
  read?: { etag?: string | undefined; size?: number | undefined; versionId?: string | undefined };
}

/** Where a record came from. `line` is set for NDJSON (1-based). `ordinal` is 0-based within the file. */
export interface RecordSource {
  bucket: string;
  key: string;
  ordinal: number;
  line?: number;
}

/**
 * Why a record (or a whole file) was not indexed. Stable codes: they are metric labels,
 * quarantine fields and `validate --json` keys.
 */
export type RejectReason =
  | "invalid_json" // the record's text is not JSON
  | "record_too_large" // over maxRecordBytes
  | "not_an_object" // JSON, but not an object ({event_type, event})
  | "unknown_event_type" // an event_type we have no schema for (the vendor added a stream?)
  | "schema_invalid" // failed its event_type's zod schema
  | "index_rejected" // OpenSearch refused the document (mapping/parse error)
  // file-level
  | "file_too_large" // decompressed size over maxFileBytes
  | "decompression_ratio" // gzip inflating beyond maxDecompressionRatio (a decompression bomb)
  | "truncated_gzip" // gzip stream ended early or is corrupt
  | "syntax_error" // array/concatenated layout broken: rest of the file unreadable
  | "invalid_utf8"; // bytes that are not UTF-8 where the layout needs it

/** A record that will go to quarantine instead of its index. */
export interface Rejection {
  reason: RejectReason;
  /** Human-readable problem, e.g. "event.connection.client_ip: Invalid IP address". */
  message: string;
  /** Path of the offending field from zod's issues (e.g. "event.connection.client_ip"), when known. */
  path?: string;
  /** The record's raw text, cut to a bounded size (see MAX_RAW_QUARANTINE_CHARS). */
  raw: string;
  /** True when `raw` was cut (the record was longer than MAX_RAW_QUARANTINE_CHARS). */
  rawTruncated?: boolean;
  /** event_type when it could be read. */
  eventType?: string;
  ordinal: number;
  line?: number;
  /** The id of the document OpenSearch refused (index_rejected): replay gives the record that id again. */
  recordId?: string;
}

export const MAX_RAW_QUARANTINE_CHARS = 16 * 1024;

/**
 * A record's raw text as quarantine keeps it: at most MAX_RAW_QUARANTINE_CHARS, and whether it was cut.
 * The one place raw text is cut (the reader's rejections, validation failures, refused writes).
 */
export function cutRaw(text: string): { raw: string; truncated: boolean } {
  return text.length > MAX_RAW_QUARANTINE_CHARS
    ? { raw: text.slice(0, MAX_RAW_QUARANTINE_CHARS), truncated: true }
    : { raw: text, truncated: false };
}

/** One document for OpenSearch `_bulk` (op "index"... we use "create" so a redelivery is a harmless conflict). */
export interface IndexAction {
  index: string;
  id: string;
  document: Record<string, unknown>;
  /**
   * The document already serialised, when its builder did it: pieces whose concatenation is exactly
   * `JSON.stringify(document)` (pieces, so that a shared serialisation is not copied to join them), as
   * text or as UTF-8 bytes (a Buffer: `join("")` decodes them).
   */
  json?: readonly (string | Buffer)[];
  /** "record" for a valid event, "quarantine" for a rejection. */
  kind: "record" | "quarantine";
  eventType?: string;
  reason?: RejectReason;
  /** A record's data-quality deviations (docs/DATA-QUALITY.md), when it had any: for counting and logs. */
  deviations?: readonly { path: string; action: string; at: string; message: string }[];
  /**
   * A normalised record's text as received (`JSON.stringify` of the record as read: its id's text): what a
   * refusal by OpenSearch stores in quarantine, so that replay validates what the vendor sent (and lists its
   * deviations again), not the normalised document. Absent for a record indexed as received: its document
   * gives back the same record.
   */
  received?: string;
}
