import {
  type DocumentOptions,
  type IndexPeriod,
  parseTwingateKeyTime,
  toIndexAction,
  toQuarantineAction,
} from "../documents/index.ts";
import { parseEventTime, validateRecord } from "../events/index.ts";
import type { Logger } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import type { IndexAction, ObjectRef, RecordSource, Rejection } from "../model.ts";
import { readRecordBatches } from "../parse/index.ts";
import type { BulkBatch } from "../sink/bulk-body.ts";
import { type BatchOutcome, type BulkSink, mergeOutcome } from "../sink/bulk-sink.ts";
import type { ObjectSource } from "../sources/types.ts";
import { RejectionCap } from "./reject-cap.ts";

export interface IngestDeps {
  source: ObjectSource;
  sink: BulkSink;
  logger: Logger;
  metrics?: Metrics;
  indexPrefix: string;
  /** Period of the index names (absent: day). */
  indexPeriod?: IndexPeriod | undefined;
  maxRecordBytes: number;
  maxFileBytes: number;
  /** Largest gzip expansion (decompressed / compressed) accepted; none when undefined. */
  maxDecompressionRatio?: number;
  /**
   * How far a record's event time may be from its file's time before it is indexed in the file's period
   * instead (bounded placement); none when undefined.
   */
  maxTimeDeviationMs?: number;
  /** Quarantine documents per rejection reason and file; the rest go into one summary each (default 1000). */
  maxRejectsPerReason?: number;
  now?: () => Date;
  /** Hook for replay/tests: validate differently (defaults to today's schemas). */
  validate?: typeof validateRecord;
  /** How long a read of the object's body may go unanswered (default INPUT_IDLE_MS). */
  inputIdleMs?: number;
}

/**
 * A body that sends nothing for this long while it is being read has stalled (a connection that stays
 * open but carries nothing: the GetObject deadline covers only the response head). The object fails and
 * its message is retried later, instead of the heartbeat holding it forever. Time the reader is held back
 * by the sink (OpenSearch slow or down) does not count.
 */
export const INPUT_IDLE_MS = 60_000;

export interface IngestResult {
  bucket: string;
  key: string;
  /** The object no longer exists (deleted since the notification): nothing to do. */
  notFound: boolean;
  records: number;
  /** Valid records now in OpenSearch (newly created, or already there from an earlier delivery). */
  indexed: number;
  /** Of `indexed`, how many were already there (409 on the deterministic id). */
  duplicates: number;
  /** Records (and file-level errors) rejected: stored in quarantine, or counted into a summary document. */
  rejected: number;
  /** Of `rejected`, those counted into a summary document instead of one each, by reason (none usually). */
  summarised?: Record<string, number>;
  byEventType: Record<string, number>;
  rejectedByReason: Record<string, number>;
  fileError?: { reason: string; message: string };
  bytes: number;
  durationMs: number;
}

/**
 * The pipeline for one object, the only copy of it: stream -> records -> validated documents or
 * quarantine documents -> bounded bulk batches. Resolves once every record is indexed or
 * quarantined; throws (leaving the caller's message unacknowledged) when that cannot be done now.
 */
export async function ingestObject(
  ref: ObjectRef,
  deps: IngestDeps,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const started = performance.now();
  const now = deps.now ?? (() => new Date());
  const validate = deps.validate ?? validateRecord;
  const log = deps.logger.child({ bucket: ref.bucket, key: ref.key });
  const result: IngestResult = {
    bucket: ref.bucket,
    key: ref.key,
    notFound: false,
    records: 0,
    indexed: 0,
    duplicates: 0,
    rejected: 0,
    byEventType: {},
    rejectedByReason: {},
    bytes: 0,
    durationMs: 0,
  };
  const body = await deps.source.open(ref, signal);
  if (!body) {
    result.notFound = true;
    result.durationMs = performance.now() - started;
    log.warn("object no longer exists; nothing to ingest");
    return result;
  }
  body.on("data", (chunk: Buffer) => {
    result.bytes += chunk.length;
  });
  const ingestedAt = now().toISOString();
  // The file's time for bounded placement: its Twingate key's slot; for another key, its first valid record's
  // time (stable: the same bytes give the same first record), set below.
  const docOpts: DocumentOptions = {
    indexPrefix: deps.indexPrefix,
    indexPeriod: deps.indexPeriod,
    ingestedAt,
    maxTimeDeviationMs: deps.maxTimeDeviationMs,
    fileTimeMs: parseTwingateKeyTime(ref.key)?.getTime(),
  };
  const source = { bucket: ref.bucket, key: ref.key };
  const outcome: BatchOutcome = {
    created: 0,
    duplicates: 0,
    quarantinedOnIndex: 0,
    indexedByType: {},
    quarantinedByReason: {},
  };
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let batch = deps.sink.newBatch();

  const flush = async () => {
    if (batch.size === 0) return;
    const full: BulkBatch = batch;
    batch = deps.sink.newBatch();
    await deps.sink.ready();
    if (failure) throw failure;
    const p: Promise<void> = deps.sink.write(full, signal).then(
      (o) => {
        mergeOutcome(outcome, o);
      },
      (err: unknown) => {
        failure ??= err;
      },
    );
    const tracked = p.finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
  };
  const cap = new RejectionCap(deps.maxRejectsPerReason);
  const quarantine = (rejection: Rejection) =>
    cap.admit(rejection) ? toQuarantineAction(rejection, source, docOpts) : undefined;

  try {
    for await (const items of readRecordBatches(body, {
      maxRecordBytes: deps.maxRecordBytes,
      maxFileBytes: deps.maxFileBytes,
      ...(deps.maxDecompressionRatio !== undefined
        ? { maxDecompressionRatio: deps.maxDecompressionRatio }
        : {}),
      inputIdleMs: deps.inputIdleMs ?? INPUT_IDLE_MS,
    })) {
      for (const item of items) {
        if (failure) throw failure;
        let action: IndexAction | undefined;
        if (item.kind === "record") {
          result.records++;
          const v = validate(item.value);
          if (v.ok) {
            const src: RecordSource = { bucket: ref.bucket, key: ref.key, ordinal: item.ordinal };
            if (item.line !== undefined) src.line = item.line;
            try {
              // Built and serialised (batch.add) here, so that one record that cannot be (e.g. nested too
              // deep for the call stack) goes to quarantine alone instead of failing its whole file on
              // every delivery.
              if (docOpts.fileTimeMs === undefined && docOpts.maxTimeDeviationMs !== undefined)
                docOpts.fileTimeMs = parseEventTime(v.record.event.time)?.epochMs;
              batch.add(toIndexAction(v.record, src, docOpts));
              action = undefined;
            } catch (err) {
              const why = err instanceof Error ? err.message : String(err);
              action = quarantine({
                reason: "schema_invalid",
                message: `the record cannot be stored as a document: ${why}`,
                eventType: v.record.event_type,
                raw: item.raw,
                ordinal: item.ordinal,
                ...(item.line !== undefined ? { line: item.line } : {}),
              });
            }
          } else {
            action = quarantine({
              reason: v.reason,
              message: v.message,
              ...(v.path !== undefined ? { path: v.path } : {}),
              ...(v.eventType !== undefined ? { eventType: v.eventType } : {}),
              raw: item.raw,
              ordinal: item.ordinal,
              ...(item.line !== undefined ? { line: item.line } : {}),
            });
          }
        } else if (item.kind === "rejected") {
          result.records++;
          action = quarantine(item.rejection);
        } else {
          // A file-level problem: what was read before it is kept; the file itself is recorded in quarantine.
          result.fileError = { reason: item.reason, message: item.message };
          log.warn(
            { reason: item.reason, error: item.message },
            "file-level error; the rest of the file is unreadable",
          );
          // Never capped: one per file.
          action = toQuarantineAction(
            { reason: item.reason, message: item.message, raw: "", ordinal: item.ordinal },
            source,
            docOpts,
          );
        }
        // Awaits only when a batch is full (one microtask hop per batch, not per record).
        if (action !== undefined) batch.add(action);
        if (deps.sink.isFull(batch)) await flush();
      }
    }
    for (const summary of cap.actions(source, docOpts)) {
      batch.add(summary);
      if (deps.sink.isFull(batch)) await flush();
    }
    await flush();
    while (inFlight.size > 0) await Promise.all(inFlight);
    if (failure) throw failure;
  } catch (err) {
    body.destroy();
    deps.sink.discard(batch);
    // Let batches already sent settle, so nothing keeps writing after we report failure.
    await Promise.allSettled(inFlight);
    throw err;
  }

  deps.sink.discard(batch); // the empty batch flush left: its memory goes back to the sink's pool
  result.duplicates = outcome.duplicates;
  result.byEventType = outcome.indexedByType;
  result.rejectedByReason = outcome.quarantinedByReason;
  const summarised = cap.summarised();
  if (Object.keys(summarised).length > 0) {
    // Each summary document stands for `n` records (counted once by the sink).
    result.summarised = summarised;
    for (const [r, n] of Object.entries(summarised))
      result.rejectedByReason[r] = (result.rejectedByReason[r] ?? 0) + n - 1;
    log.warn(
      { summarised, cap: cap.cap },
      "rejections over the per-reason cap counted into summary documents",
    );
  }
  result.rejected = sum(result.rejectedByReason);
  result.indexed = sum(outcome.indexedByType);
  result.durationMs = performance.now() - started;
  const m = deps.metrics;
  if (m) {
    for (const [t, n] of Object.entries(outcome.indexedByType))
      m.records.inc({ event_type: t, outcome: "indexed" }, n);
    for (const [r, n] of Object.entries(result.rejectedByReason)) m.rejected.inc({ reason: r }, n);
    if (outcome.duplicates > 0)
      m.records.inc({ event_type: "all", outcome: "duplicate" }, outcome.duplicates);
    m.fileIngested(parseTwingateKeyTime(ref.key));
  }
  return result;
}

function sum(o: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(o)) n += v;
  return n;
}

/**
 * A record OpenSearch refused (mapping or parse error) becomes a quarantine document, rebuilt
 * from the document itself so the sink needs nothing but the action.
 */
export function quarantineRefused(
  action: IndexAction,
  message: string,
  indexPrefix: string,
  indexPeriod?: IndexPeriod,
): IndexAction {
  const doc = action.document as {
    event_type?: string;
    event?: unknown;
    twingate?: Record<string, unknown>;
    ingest?: { bucket?: string; key?: string; ordinal?: number; line?: number; ingested_at?: string };
  };
  const ingest = doc.ingest ?? {};
  return toQuarantineAction(
    {
      reason: "index_rejected",
      message,
      // The record as the document holds it (normalised, its other keys back at the top), and the id the
      // document had: replay keeps that id, so a later re-read of the file finds the record already there.
      raw: JSON.stringify({ event_type: doc.event_type, event: doc.event, ...doc.twingate }),
      recordId: action.id,
      ...(doc.event_type !== undefined ? { eventType: doc.event_type } : {}),
      ordinal: ingest.ordinal ?? 0,
      ...(ingest.line !== undefined ? { line: ingest.line } : {}),
    },
    { bucket: ingest.bucket ?? "", key: ingest.key ?? "" },
    { indexPrefix, indexPeriod, ingestedAt: ingest.ingested_at ?? new Date().toISOString() },
  );
}
