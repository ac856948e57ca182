/**
 * A backfill: list what the range needs, ingest each object through the worker's pipeline
 * (`ingest(ref, signal)`), N objects at a time, checkpointing after each, until done or stopped.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { IngestResult } from "../../core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../core/model.ts";
import { PermanentBulkError } from "../../core/sink/bulk-sink.ts";
import type { Logger } from "../../platform/logger.ts";
import { createTaskQueue } from "../../platform/util/queue.ts";
import {
  addTotals,
  type CheckpointState,
  type CheckpointStore,
  CoalescingSaver,
  emptyTotals,
  ProgressTracker,
  type Totals,
} from "./checkpoint.ts";
import { emptyListingStats, type ListedObject, type ListingStats, listDir, listS3 } from "./listing.ts";
import type { ListPlan, TimeRange } from "./range.ts";

export type BackfillSource = { kind: "s3"; s3: S3Client; bucket: string } | { kind: "dir"; dir: string };

interface BackfillOptions {
  source: BackfillSource;
  plan: ListPlan;
  range: TimeRange;
  concurrency: number;
  /** The one pipeline function (buildPipeline(...).ingest). */
  ingest: (ref: ObjectRef, signal?: AbortSignal) => Promise<IngestResult>;
  logger: Logger;
  /** Absent: no checkpoint (dry runs, tests). */
  checkpoint?: { file: CheckpointStore; id: string; sourceLabel: string; resume?: CheckpointState };
  signal?: AbortSignal;
  /** Called after each object (progress display). */
  onProgress?: (p: BackfillProgress) => void;
  /** ListObjectsV2 page size (tests). */
  pageSize?: number;
}

export interface BackfillProgress {
  listed: number;
  listingDone: boolean;
  done: number;
  records: number;
  bytes: number;
}

export interface FailedObject {
  key: string;
  error: string;
}

export interface BackfillSummary {
  source: string;
  range: { from?: string; to?: string };
  listing: ListingStats;
  /** Objects taken by this run's listing that an earlier (interrupted) run had already done. */
  alreadyDone: number;
  /** Objects read by this run. */
  run: Totals;
  /** Over this run and the interrupted runs it resumed. */
  total: Totals;
  failed: FailedObject[];
  interrupted: boolean;
  /** Why the run stopped early (checkpoint write failure, OpenSearch refusing every request...). */
  stopReason?: string;
  resumed: boolean;
  durationMs: number;
}

export interface DryRunSummary {
  source: string;
  range: { from?: string; to?: string };
  listing: ListingStats;
  alreadyDone: number;
  objects: ListedObject[];
  bytes: number;
}

function rangeJson(range: TimeRange): { from?: string; to?: string } {
  return {
    ...(range.fromMs !== undefined ? { from: new Date(range.fromMs).toISOString() } : {}),
    ...(range.toMs !== undefined ? { to: new Date(range.toMs).toISOString() } : {}),
  };
}

function sourceLabel(source: BackfillSource, plan: ListPlan): string {
  return source.kind === "s3" ? `s3://${source.bucket}/${plan.prefix}` : source.dir;
}

async function* listing(
  opts: Pick<BackfillOptions, "source" | "plan" | "signal" | "pageSize">,
  stats: ListingStats,
  resumeAfter: string | undefined,
): AsyncGenerator<ListedObject> {
  if (opts.source.kind === "s3") {
    yield* listS3(opts.source.s3, opts.source.bucket, opts.plan, stats, {
      ...(resumeAfter !== undefined ? { resumeAfter } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.pageSize ? { pageSize: opts.pageSize } : {}),
    });
  } else {
    yield* await listDir(opts.source.dir, opts.plan, stats);
  }
}

/** What a backfill would read: lists, reads nothing. */
export async function dryRunBackfill(
  opts: Pick<BackfillOptions, "source" | "plan" | "range" | "signal" | "pageSize"> & {
    resume?: CheckpointState;
  },
): Promise<DryRunSummary> {
  const stats = emptyListingStats();
  const tracker = new ProgressTracker(opts.resume);
  const objects: ListedObject[] = [];
  let alreadyDone = 0;
  let bytes = 0;
  for await (const o of listing(opts, stats, tracker.watermark)) {
    if (tracker.isDone(o.key)) {
      alreadyDone++;
      continue;
    }
    objects.push(o);
    bytes += o.size;
  }
  return {
    source: sourceLabel(opts.source, opts.plan),
    range: rangeJson(opts.range),
    listing: stats,
    alreadyDone,
    objects,
    bytes,
  };
}

export function totalsOf(r: IngestResult): Totals {
  const t = emptyTotals();
  if (r.notFound) t.notFound = 1;
  else t.files = 1;
  if (r.fileError) t.fileErrors = 1;
  t.records = r.records;
  t.indexed = r.indexed;
  t.duplicates = r.duplicates;
  t.rejected = r.rejected;
  t.bytes = r.bytes;
  t.byEventType = { ...r.byEventType };
  t.rejectedByReason = { ...r.rejectedByReason };
  return t;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Run a backfill to the end of its listing, or until `signal` aborts (Ctrl-C) or a fatal error
 * (checkpoint not writable, OpenSearch refusing requests for good). In every case the checkpoint
 * holds exactly the objects finished, and the summary says how the run ended.
 */
export async function runBackfill(opts: BackfillOptions): Promise<BackfillSummary> {
  const started = performance.now();
  const resume = opts.checkpoint?.resume;
  const tracker = new ProgressTracker(resume);
  const stats = emptyListingStats();
  const run = emptyTotals();
  const total = addTotals(emptyTotals(), resume?.totals ?? emptyTotals());
  const failed: FailedObject[] = [];
  let alreadyDone = 0;
  let stopReason: string | undefined;

  // One controller for the run: the caller's signal (Ctrl-C) or a fatal error stops everything.
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const stop = (reason: string) => {
    if (stopReason === undefined) stopReason = reason;
    opts.logger.error({ reason }, "stopping the backfill");
    controller.abort(new Error(reason));
  };

  const cp = opts.checkpoint;
  const state = (): CheckpointState => ({
    version: 1,
    id: cp!.id,
    source: cp!.sourceLabel,
    range: {
      ...(opts.range.fromMs !== undefined ? { fromMs: opts.range.fromMs } : {}),
      ...(opts.range.toMs !== undefined ? { toMs: opts.range.toMs } : {}),
    },
    allKeys: opts.plan.allKeys,
    ...(tracker.watermark !== undefined ? { watermark: tracker.watermark } : {}),
    done: tracker.doneKeys(),
    // A copy: the write serialises later, while objects keep completing.
    totals: addTotals(emptyTotals(), total),
    updatedAt: new Date().toISOString(),
  });
  const saver = cp
    ? new CoalescingSaver(
        () => cp.file.write(state()),
        (err) => stop(message(err)),
      )
    : undefined;
  // Before reading anything: the checkpoint must be writable (this also records the run's identity).
  if (cp) {
    await cp.file.checkWritable();
    await cp.file.write(state());
  }

  const queue = createTaskQueue(opts.concurrency);
  let listed = 0;
  let listingDone = false;
  const progress = () =>
    opts.onProgress?.({
      listed,
      listingDone,
      done: run.files + run.notFound,
      records: run.records,
      bytes: run.bytes,
    });

  const task = async (o: ListedObject) => {
    if (controller.signal.aborted) return;
    const ref: ObjectRef =
      opts.source.kind === "s3"
        ? { bucket: opts.source.bucket, key: o.key, size: o.size, ...(o.etag ? { etag: o.etag } : {}) }
        : { bucket: "", key: o.key, size: o.size };
    try {
      const result = await opts.ingest(ref, controller.signal);
      const t = totalsOf(result);
      addTotals(run, t);
      addTotals(total, t);
      tracker.completed(o.key);
      saver?.request();
      progress();
    } catch (err) {
      if (controller.signal.aborted) return; // stopped: the object stays unfinished in the checkpoint
      failed.push({ key: o.key, error: message(err) });
      opts.logger.error(
        { key: o.key, err: message(err) },
        "object failed; it stays unfinished in the checkpoint",
      );
      if (err instanceof PermanentBulkError) stop(`OpenSearch refused a bulk request: ${message(err)}`);
    }
  };

  try {
    for await (const o of listing({ ...opts, signal: controller.signal }, stats, tracker.watermark)) {
      if (controller.signal.aborted) break;
      if (tracker.isDone(o.key)) {
        alreadyDone++;
        continue;
      }
      // Bounded look-ahead: listing never runs far ahead of ingestion.
      await queue.onSizeLessThan(opts.concurrency * 2);
      if (controller.signal.aborted) break;
      tracker.taken(o.key);
      listed++;
      void queue.add(() => task(o));
    }
  } catch (err) {
    if (!controller.signal.aborted) stop(`listing failed: ${message(err)}`);
  }
  listingDone = true;
  await queue.onIdle();
  progress();
  opts.signal?.removeEventListener("abort", onAbort);

  const interrupted = controller.signal.aborted && stopReason === undefined;
  const complete = !controller.signal.aborted && failed.length === 0;
  if (cp && saver) {
    try {
      await saver.flush();
      if (complete) await cp.file.remove();
    } catch (err) {
      stopReason ??= message(err);
    }
  }
  return {
    source: sourceLabel(opts.source, opts.plan),
    range: rangeJson(opts.range),
    listing: stats,
    alreadyDone,
    run,
    total,
    failed,
    interrupted,
    ...(stopReason !== undefined ? { stopReason } : {}),
    resumed: resume !== undefined,
    durationMs: Math.round(performance.now() - started),
  };
}
