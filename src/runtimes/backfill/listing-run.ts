/**
 * The frame both backfill modes run in (reading here: run.ts; announcing to the queue: enqueue.ts): take
 * the listing's objects in key order, skip those a resumed checkpoint has done, hand them in batches to a
 * bounded queue (the listing never runs far ahead of the work), checkpoint what finishes, and stop on the
 * caller's signal or on a fatal error. What is done with a batch is the caller's `work`; the frame owns
 * when a run stops and what its checkpoint says.
 */
import type { Logger } from "../../platform/logger.ts";
import { createTaskQueue } from "../../platform/util/queue.ts";
import {
  type CheckpointState,
  type CheckpointStore,
  CoalescingSaver,
  ProgressTracker,
  type Totals,
} from "./checkpoint.ts";
import type { ListedObject } from "./listing.ts";
import type { TimeRange } from "./range.ts";

export interface FailedObject {
  key: string;
  error: string;
}

export interface BackfillProgress {
  listed: number;
  listingDone: boolean;
  done: number;
  records: number;
  bytes: number;
}

export interface ListingCheckpoint {
  file: CheckpointStore;
  id: string;
  sourceLabel: string;
  range: TimeRange;
  allKeys: boolean;
  resume?: CheckpointState | undefined;
}

/** What `work` may do to the run it is part of. */
export interface ListingRunControl {
  /** Aborted when the caller stops the run or a fatal error does. */
  signal: AbortSignal;
  /** Stop the whole run for a fatal reason (the first reason given is the one reported). */
  stop(reason: string): void;
  /** An object finished: the checkpoint's watermark may move over it. */
  completed(key: string): void;
  /** Ask for the checkpoint to be written (coalesced with writes under way). */
  save(): void;
  /** An object failed: it stays unfinished in the checkpoint, the run goes on. */
  failed(key: string, error: string, why: string): void;
  /** Report progress (onProgress) now. */
  progress(): void;
}

export interface ListingRunOptions {
  /** Named in the log line when the run stops ("backfill", "enqueue"). */
  name: string;
  /** The objects, in listing (S3 key) order, from just after `resumeAfter` when given. */
  objects: (resumeAfter: string | undefined, signal: AbortSignal) => AsyncIterable<ListedObject>;
  /** Batches worked on at once. */
  concurrency: number;
  /** Objects per batch (default 1). */
  batchSize?: number;
  work: (batch: ListedObject[], run: ListingRunControl) => Promise<void>;
  /** Totals to record in the checkpoint: this run's and those of the runs it resumed. */
  totals: () => Totals;
  /** This run's share of the progress report. */
  progress: () => Pick<BackfillProgress, "done" | "records" | "bytes">;
  onProgress?: ((p: BackfillProgress) => void) | undefined;
  logger: Logger;
  /** Absent: no checkpoint (dry runs, gaps --repair, tests). */
  checkpoint?: ListingCheckpoint | undefined;
  signal?: AbortSignal | undefined;
}

export interface ListingRunOutcome {
  /** Objects the listing took that an earlier (interrupted) run had already done. */
  alreadyDone: number;
  failed: FailedObject[];
  interrupted: boolean;
  /** Why the run stopped early (checkpoint write failure, a fatal error of `work`...). */
  stopReason?: string;
  resumed: boolean;
  durationMs: number;
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function rangeJson(range: TimeRange): { from?: string; to?: string } {
  return {
    ...(range.fromMs !== undefined ? { from: new Date(range.fromMs).toISOString() } : {}),
    ...(range.toMs !== undefined ? { to: new Date(range.toMs).toISOString() } : {}),
  };
}

/**
 * Run `work` over the listing to its end, or until `signal` aborts (Ctrl-C) or a fatal error (checkpoint
 * not writable, `work` calling stop). In every case the checkpoint holds exactly the objects finished, and
 * the outcome says how the run ended.
 */
export async function runOverListing(opts: ListingRunOptions): Promise<ListingRunOutcome> {
  const started = performance.now();
  const cp = opts.checkpoint;
  const resume = cp?.resume;
  const tracker = new ProgressTracker(resume);
  const failed: FailedObject[] = [];
  const batchSize = opts.batchSize ?? 1;
  let alreadyDone = 0;
  let stopReason: string | undefined;

  // One controller for the run: the caller's signal (Ctrl-C) or a fatal error stops everything.
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason);
  if (opts.signal?.aborted) controller.abort(opts.signal.reason);
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  const stop = (reason: string) => {
    if (stopReason === undefined) stopReason = reason;
    opts.logger.error({ reason }, `stopping the ${opts.name}`);
    controller.abort(new Error(reason));
  };

  const state = (): CheckpointState => ({
    version: 1,
    id: cp!.id,
    source: cp!.sourceLabel,
    range: {
      ...(cp!.range.fromMs !== undefined ? { fromMs: cp!.range.fromMs } : {}),
      ...(cp!.range.toMs !== undefined ? { toMs: cp!.range.toMs } : {}),
    },
    allKeys: cp!.allKeys,
    ...(tracker.watermark !== undefined ? { watermark: tracker.watermark } : {}),
    done: tracker.doneKeys(),
    // A copy: the write serialises later, while objects keep completing.
    totals: opts.totals(),
    updatedAt: new Date().toISOString(),
  });
  const saver = cp
    ? new CoalescingSaver(
        () => cp.file.write(state()),
        (err) => stop(message(err)),
      )
    : undefined;
  // Before any work: the checkpoint must be writable (this also records the run's identity).
  if (cp) {
    await cp.file.checkWritable();
    await cp.file.write(state());
  }

  const queue = createTaskQueue(opts.concurrency);
  let listed = 0;
  let listingDone = false;
  const progress = () => opts.onProgress?.({ listed, listingDone, ...opts.progress() });
  const control: ListingRunControl = {
    signal: controller.signal,
    stop,
    completed: (key) => tracker.completed(key),
    save: () => saver?.request(),
    failed: (key, error, why) => {
      failed.push({ key, error });
      opts.logger.error({ key, err: error }, why);
    },
    progress,
  };
  const task = async (batch: ListedObject[]) => {
    if (controller.signal.aborted) return;
    await opts.work(batch, control);
  };

  let batch: ListedObject[] = [];
  const dispatch = async (): Promise<boolean> => {
    // Bounded look-ahead: the listing never runs far ahead of the work.
    await queue.onSizeLessThan(opts.concurrency * 2);
    if (controller.signal.aborted) return false;
    const b = batch;
    batch = [];
    for (const o of b) {
      tracker.taken(o.key);
      listed++;
    }
    void queue.add(() => task(b));
    return true;
  };
  try {
    for await (const o of opts.objects(tracker.watermark, controller.signal)) {
      if (controller.signal.aborted) break;
      if (tracker.isDone(o.key)) {
        alreadyDone++;
        continue;
      }
      batch.push(o);
      if (batch.length >= batchSize && !(await dispatch())) break;
    }
    if (batch.length > 0 && !controller.signal.aborted) await dispatch();
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
    alreadyDone,
    failed,
    interrupted,
    ...(stopReason !== undefined ? { stopReason } : {}),
    resumed: resume !== undefined,
    durationMs: Math.round(performance.now() - started),
  };
}
