/**
 * A backfill: list what the range needs, ingest each object through the worker's pipeline
 * (`ingest(ref, signal)`), N objects at a time, checkpointing after each, until done or stopped.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { IngestResult } from "../../core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../core/model.ts";
import { PermanentBulkError } from "../../core/sink/bulk-sink.ts";
import type { Logger } from "../../platform/logger.ts";
import {
  addTotals,
  type CheckpointState,
  type CheckpointStore,
  emptyTotals,
  ProgressTracker,
  type Totals,
} from "./checkpoint.ts";
import { emptyListingStats, type ListedObject, type ListingStats, listDir, listS3 } from "./listing.ts";
import {
  type BackfillProgress,
  type FailedObject,
  message,
  rangeJson,
  runOverListing,
} from "./listing-run.ts";
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

/**
 * Run a backfill to the end of its listing, or until `signal` aborts (Ctrl-C) or a fatal error
 * (checkpoint not writable, OpenSearch refusing requests for good). In every case the checkpoint
 * holds exactly the objects finished, and the summary says how the run ended.
 */
export async function runBackfill(opts: BackfillOptions): Promise<BackfillSummary> {
  const resume = opts.checkpoint?.resume;
  const stats = emptyListingStats();
  const run = emptyTotals();
  const total = addTotals(emptyTotals(), resume?.totals ?? emptyTotals());
  const ref = (o: ListedObject): ObjectRef =>
    opts.source.kind === "s3"
      ? { bucket: opts.source.bucket, key: o.key, size: o.size, ...(o.etag ? { etag: o.etag } : {}) }
      : { bucket: "", key: o.key, size: o.size };

  const outcome = await runOverListing({
    name: "backfill",
    objects: (resumeAfter, signal) => listing({ ...opts, signal }, stats, resumeAfter),
    concurrency: opts.concurrency,
    work: async ([o], r) => {
      try {
        const t = totalsOf(await opts.ingest(ref(o!), r.signal));
        addTotals(run, t);
        addTotals(total, t);
        r.completed(o!.key);
        r.save();
        r.progress();
      } catch (err) {
        if (r.signal.aborted) return; // stopped: the object stays unfinished in the checkpoint
        r.failed(o!.key, message(err), "object failed; it stays unfinished in the checkpoint");
        if (err instanceof PermanentBulkError) r.stop(`OpenSearch refused a bulk request: ${message(err)}`);
      }
    },
    // A copy: the write serialises later, while objects keep completing.
    totals: () => addTotals(emptyTotals(), total),
    progress: () => ({ done: run.files + run.notFound, records: run.records, bytes: run.bytes }),
    onProgress: opts.onProgress,
    logger: opts.logger,
    checkpoint: opts.checkpoint && { ...opts.checkpoint, range: opts.range, allKeys: opts.plan.allKeys },
    signal: opts.signal,
  });
  return {
    source: sourceLabel(opts.source, opts.plan),
    range: rangeJson(opts.range),
    listing: stats,
    alreadyDone: outcome.alreadyDone,
    run,
    total,
    failed: outcome.failed,
    interrupted: outcome.interrupted,
    ...(outcome.stopReason !== undefined ? { stopReason: outcome.stopReason } : {}),
    resumed: outcome.resumed,
    durationMs: outcome.durationMs,
  };
}
