import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { type DocumentOptions, type IndexPeriod, parseTwingateKeyTime } from "../documents/index.ts";
import { type DeviationTracker, processDeviations } from "../events/deviation-tracker.ts";
import { validateRecord } from "../events/index.ts";
import type { ObjectRef } from "../model.ts";
import { readRecordBatches } from "../parse/index.ts";
import { emptyOutcome, type Sink, type SinkOutcome } from "../sink/sink.ts";
import { notifiedVersionMismatch } from "../sources/notified-version.ts";
import type { ObjectSource } from "../sources/types.ts";
import { actionsFor } from "./actions.ts";
import { RejectionCap } from "./reject-cap.ts";

export interface IngestDeps {
  source: ObjectSource;
  sink: Sink;
  logger: Logger;
  metrics?: Metrics;
  indexPrefix: string;
  /** Period of the index names (absent: day). */
  indexPeriod?: IndexPeriod | undefined;
  /** The reader's limits (its defaults when absent). */
  maxRecordBytes?: number;
  maxFileBytes?: number;
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
  /** Counts deviations and logs each new one once (default: the process's). */
  deviations?: DeviationTracker;
}

/**
 * A body that sends nothing for this long while it is being read has stalled (a connection that stays
 * open but carries nothing: the GetObject deadline covers only the response head). The object fails and
 * its message is retried later, instead of the heartbeat holding it forever. Time the reader is held back
 * by the sink (OpenSearch slow or down) does not count.
 */
const INPUT_IDLE_MS = 60_000;

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
 * The pipeline for one object, the only copy of it: source -> records -> documents or quarantine
 * documents (actions.ts) -> sink. Resolves once every record is stored or quarantined; throws (leaving the
 * caller's message unacknowledged) when that cannot be done now.
 */
export async function ingestObject(
  ref: ObjectRef,
  deps: IngestDeps,
  signal?: AbortSignal,
): Promise<IngestResult> {
  const log = deps.logger.child({ bucket: ref.bucket, key: ref.key });
  const seen: Seen = { notFound: false, records: 0, bytes: 0, started: performance.now() };
  const cap = new RejectionCap(deps.maxRejectsPerReason);
  const body = await deps.source.open(ref, signal);
  if (!body) {
    log.warn("object no longer exists; nothing to ingest");
    return summarise(ref, { ...seen, notFound: true }, emptyOutcome(), cap);
  }
  const overwritten = notifiedVersionMismatch(ref, ref.read);
  if (overwritten) {
    deps.metrics?.objectVersionMismatch.inc();
    log.warn(
      { mismatch: overwritten, versionId: ref.read?.versionId },
      "the object read is not the version the notification announced: it was overwritten before it was read; the notified version is lost unless the bucket is versioned (docs/DEPLOY.md)",
    );
  }
  body.on("data", (chunk: Buffer) => {
    seen.bytes += chunk.length;
  });
  const docOpts: DocumentOptions = {
    indexPrefix: deps.indexPrefix,
    indexPeriod: deps.indexPeriod,
    ingestedAt: (deps.now ?? (() => new Date()))().toISOString(),
    maxTimeDeviationMs: deps.maxTimeDeviationMs,
    // The file's time for bounded placement: its Twingate key's slot; for another key, its first valid
    // record's time (set by the stage: the same bytes give the same first record).
    fileTimeMs: parseTwingateKeyTime(ref.key)?.getTime(),
    ...(ref.lastModified !== undefined ? { objectTime: ref.lastModified } : {}),
  };
  const toAction = actionsFor(ref, { docOpts, validate: deps.validate ?? validateRecord, cap });
  const tracker = deps.deviations ?? processDeviations;
  const newDeviation = (d: { path: string; action: string; message: string }, eventType: string) =>
    log.warn(
      { event_type: eventType, path: d.path, action: d.action, example: d.message },
      "new data-quality deviation: such events are indexed with the value normalised or set aside (logged once per path)",
    );
  const writer = deps.sink.open(signal);
  let outcome: SinkOutcome;
  try {
    for await (const items of readRecordBatches(body, readerOptions(deps))) {
      for (const item of items) {
        if (item.kind === "file_error") {
          // What was read before it is kept; the file itself is recorded in quarantine.
          seen.fileError = { reason: item.reason, message: item.message };
          log.warn(
            { reason: item.reason, error: item.message },
            "file-level error; the rest of the file is unreadable",
          );
        } else seen.records++;
        const action = toAction(item); // undefined: counted into its reason's summary (over the cap)
        if (action?.deviations)
          tracker.record(
            action.eventType ?? "unknown",
            action.deviations,
            deps.metrics?.deviations,
            newDeviation,
          );
        const wait = action && writer.add(action); // a promise only when a batch went out (back-pressure)
        if (wait) await wait;
      }
    }
    for (const summary of cap.actions({ bucket: ref.bucket, key: ref.key }, docOpts))
      await writer.add(summary);
    outcome = await writer.finish();
  } catch (err) {
    body.destroy();
    await writer.abort();
    throw err;
  }
  const result = summarise(ref, seen, outcome, cap);
  if (result.summarised)
    log.warn(
      { summarised: result.summarised, cap: cap.cap },
      "rejections over the per-reason cap counted into summary documents",
    );
  if (deps.metrics) countMetrics(deps.metrics, ref, result);
  return result;
}

interface Seen {
  notFound: boolean;
  records: number;
  bytes: number;
  started: number;
  fileError?: { reason: string; message: string };
}

function readerOptions(deps: IngestDeps) {
  return {
    ...(deps.maxRecordBytes !== undefined ? { maxRecordBytes: deps.maxRecordBytes } : {}),
    ...(deps.maxFileBytes !== undefined ? { maxFileBytes: deps.maxFileBytes } : {}),
    ...(deps.maxDecompressionRatio !== undefined
      ? { maxDecompressionRatio: deps.maxDecompressionRatio }
      : {}),
    inputIdleMs: deps.inputIdleMs ?? INPUT_IDLE_MS,
  };
}

function summarise(ref: ObjectRef, seen: Seen, outcome: SinkOutcome, cap: RejectionCap): IngestResult {
  const rejectedByReason = outcome.quarantinedByReason;
  const summarised = cap.summarised();
  // Each summary document stands for `n` records (counted once by the sink).
  for (const [r, n] of Object.entries(summarised)) rejectedByReason[r] = (rejectedByReason[r] ?? 0) + n - 1;
  return {
    bucket: ref.bucket,
    key: ref.key,
    notFound: seen.notFound,
    records: seen.records,
    indexed: sum(outcome.indexedByType),
    duplicates: outcome.duplicates,
    rejected: sum(rejectedByReason),
    ...(Object.keys(summarised).length > 0 ? { summarised } : {}),
    byEventType: outcome.indexedByType,
    rejectedByReason,
    ...(seen.fileError ? { fileError: seen.fileError } : {}),
    bytes: seen.bytes,
    durationMs: performance.now() - seen.started,
  };
}

function countMetrics(m: Metrics, ref: ObjectRef, r: IngestResult): void {
  for (const [t, n] of Object.entries(r.byEventType)) m.records.inc({ event_type: t, outcome: "indexed" }, n);
  for (const [reason, n] of Object.entries(r.rejectedByReason)) m.rejected.inc({ reason }, n);
  if (r.duplicates > 0) m.records.inc({ event_type: "all", outcome: "duplicate" }, r.duplicates);
  m.fileIngested(parseTwingateKeyTime(ref.key));
}

function sum(o: Record<string, number>): number {
  let n = 0;
  for (const v of Object.values(o)) n += v;
  return n;
}
