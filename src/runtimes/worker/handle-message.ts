import type { IngestResult } from "../../core/ingest/ingest-object.ts";
import type { ObjectRef } from "../../core/model.ts";
import { filterObject, type ObjectFilter, parseNotification } from "../../core/notifications/index.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import type { TaskQueue } from "../../platform/util/queue.ts";

/** What the caller (SQS poller or Lambda) should do with the message. */
export type MessageDecision =
  | { action: "delete"; reason: "ingested" | "test_event" | "nothing_to_do"; results: IngestResult[] }
  /** Processing failed for now: make the message visible again (after a backoff) so it is retried. */
  | { action: "retry"; error: unknown; results: IngestResult[] }
  /** Not a message we understand: leave it for SQS redrive to move to the DLQ after maxReceiveCount. */
  | { action: "leave"; reason: string };

export interface MessageDeps {
  filter: ObjectFilter;
  ingest: (ref: ObjectRef, signal?: AbortSignal) => Promise<IngestResult>;
  /** Bounds objects in flight across all messages. */
  objects: TaskQueue;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * One SQS message: decode the envelope, filter the objects, ingest each (in parallel, bounded),
 * and decide. The message is deletable only when every object in it is done. `signal` aborts the
 * objects' work; once `startBefore` aborts, objects still waiting for a slot are not started (they fail
 * with its reason, and the message is retried).
 */
export async function handleMessage(
  body: string,
  messageId: string,
  deps: MessageDeps,
  signal?: AbortSignal,
  startBefore?: AbortSignal,
): Promise<MessageDecision> {
  const log = deps.logger.child({ messageId });
  const n = parseNotification(body);
  if (n.kind === "invalid") {
    log.warn({ reason: n.reason }, "message is not an S3 notification; leaving it for redrive to the DLQ");
    return { action: "leave", reason: n.reason };
  }
  if (n.kind === "test") {
    log.info({ bucket: n.bucket, via: n.source }, "s3:TestEvent received; acknowledging");
    return { action: "delete", reason: "test_event", results: [] };
  }
  for (const s of n.skipped) log.debug(s, "skipping a record that is not an object creation");
  const wanted: ObjectRef[] = [];
  const seen = new Set<string>();
  for (const ref of n.objects) {
    // The same object named twice in one message (S3 may batch repeated events) is read once.
    const id = `${ref.bucket}\0${ref.key}\0${ref.versionId ?? ""}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const f = filterObject(ref, deps.filter);
    if (f.ok) wanted.push(ref);
    else {
      deps.metrics?.objects.inc({ outcome: "filtered" });
      log.info(
        { bucket: ref.bucket, key: ref.key, reason: f.reason },
        "object outside the filters; not fetched",
      );
    }
  }
  if (wanted.length === 0) return { action: "delete", reason: "nothing_to_do", results: [] };

  const settled = await Promise.allSettled(
    wanted.map((ref) =>
      unlessStopped(
        startBefore,
        (started) =>
          deps.objects.add(
            async () => {
              startBefore?.throwIfAborted();
              started();
              deps.metrics?.inFlightObjects.inc();
              try {
                const r = await deps.ingest(ref, signal);
                deps.metrics?.objects.inc({
                  outcome: r.notFound ? "not_found" : r.fileError ? "file_error" : "ingested",
                });
                log.info(
                  {
                    bucket: r.bucket,
                    key: r.key,
                    records: r.records,
                    indexed: r.indexed,
                    duplicates: r.duplicates,
                    rejected: r.rejected,
                    bytes: r.bytes,
                    durationMs: Math.round(r.durationMs),
                    ...(r.notFound ? { notFound: true } : {}),
                    ...(r.fileError ? { fileError: r.fileError.reason } : {}),
                  },
                  "object ingested",
                );
                return r;
              } catch (err) {
                deps.metrics?.objects.inc({ outcome: "failed" });
                if (!signal?.aborted) {
                  log.error(
                    { bucket: ref.bucket, key: ref.key, err: errText(err) },
                    "object failed; message will be retried",
                  );
                }
                throw err;
              } finally {
                deps.metrics?.inFlightObjects.dec();
              }
            },
            signal ? { signal } : {},
          ) as Promise<IngestResult>,
      ),
    ),
  );
  const results = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
  const failed = settled.find((s) => s.status === "rejected");
  if (failed) return { action: "retry", error: (failed as PromiseRejectedResult).reason, results };
  return { action: "delete", reason: "ingested", results };
}

/**
 * `queue(started)`'s promise, except that once `stop` aborts it rejects at once with its reason if the
 * task has not called `started` yet (it is still waiting for a slot; when it gets one, it must see `stop`
 * aborted and do nothing). Without `stop`, the task's own promise.
 */
function unlessStopped<T>(
  stop: AbortSignal | undefined,
  queue: (started: () => void) => Promise<T>,
): Promise<T> {
  let running = false;
  const task = queue(() => {
    running = true;
  });
  if (!stop) return task;
  return new Promise<T>((resolve, reject) => {
    const onStop = () => {
      if (!running) reject(stop.reason);
    };
    stop.addEventListener("abort", onStop, { once: true });
    if (stop.aborted) onStop();
    task.then(resolve, reject).finally(() => stop.removeEventListener("abort", onStop));
  });
}

export function errText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 1000);
  return String(err).slice(0, 1000);
}
