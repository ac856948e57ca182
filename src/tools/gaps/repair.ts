/**
 * `gaps --repair`: the files gaps found without documents, ingested here through the one pipeline, or
 * (with --enqueue) announced to the workers' queue like a backfill. Either way only those files.
 */

import type { IngestResult } from "../../core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../core/model.ts";
import type { Logger } from "../../platform/logger.ts";
import { createTaskQueue } from "../../platform/util/queue.ts";
import { addTotals, emptyTotals, type Totals } from "../../runtimes/backfill/checkpoint.ts";
import type { ListedObject } from "../../runtimes/backfill/listing.ts";
import { type FailedObject, message } from "../../runtimes/backfill/listing-run.ts";
import { totalsOf } from "../../runtimes/backfill/run.ts";

export interface InProcessRepair {
  mode: "in-process";
  files: number;
  totals: Totals;
  failed: FailedObject[];
}

/** Ingest each object (`concurrency` at a time); a failure is reported and does not stop the others. */
export async function repairInProcess(opts: {
  bucket: string;
  objects: readonly ListedObject[];
  concurrency: number;
  ingest: (ref: ObjectRef, signal?: AbortSignal) => Promise<IngestResult>;
  logger: Logger;
  signal?: AbortSignal;
}): Promise<InProcessRepair> {
  const totals = emptyTotals();
  const failed: FailedObject[] = [];
  const queue = createTaskQueue(opts.concurrency);
  for (const o of opts.objects) {
    void queue.add(async () => {
      if (opts.signal?.aborted) return;
      const ref: ObjectRef = {
        bucket: opts.bucket,
        key: o.key,
        size: o.size,
        ...(o.etag ? { etag: o.etag } : {}),
      };
      try {
        addTotals(totals, totalsOf(await opts.ingest(ref, opts.signal)));
      } catch (err) {
        const error = message(err);
        failed.push({ key: o.key, error });
        opts.logger.error({ key: o.key, err: error }, "repair: object failed");
      }
    });
  }
  await queue.onIdle();
  return { mode: "in-process", files: totals.files + totals.notFound, totals, failed };
}
