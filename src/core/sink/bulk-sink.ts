import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { backoffMs, sleep } from "../../platform/util/backoff.ts";
import { createTaskQueue, type TaskQueue } from "../../platform/util/queue.ts";
import type { IndexAction } from "../model.ts";
import { BulkBatch } from "./bulk-body.ts";
import type { BulkResponse } from "./bulk-response.ts";
import { WriteHolds } from "./holds.ts";
import { type IndexGuard, TemplatesMissingError } from "./index-guard.ts";
import {
  countStored,
  type DocumentAction,
  emptyOutcome,
  mergeOutcome,
  type Sink,
  type SinkOutcome,
  type SinkWriter,
  type WriteAction,
} from "./sink.ts";
import { classifyItem, classifyRequestError, type HoldCause, httpStatusOf } from "./write-failure.ts";

export type { BulkResponse } from "./bulk-response.ts";

/**
 * Sends one `_bulk` body (NDJSON, UTF-8). Throws on whole-request failures (with `statusCode` when HTTP
 * answered).
 */
export type BulkTransport = (body: Buffer, signal?: AbortSignal) => Promise<BulkResponse>;

interface BulkSinkOptions {
  maxDocs: number;
  maxBytes: number;
  /** Bulk requests in flight at once, for the whole process. */
  concurrency: number;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  /**
   * Turns a record OpenSearch refused into its quarantine document: `index_rejected` (a mapping error) or
   * `record_too_large` (alone in a request, still over the cluster's http.max_content_length: a 413).
   * Written as the action says (`create` by default; replay asks `index`, replacing the one it read).
   */
  quarantine: (action: IndexAction, message: string, reason?: RefusedReason) => DocumentAction;
  /** Where holds are reported (shared with /readyz); a sink of its own, with the default limit, if absent. */
  holds?: WriteHolds;
  /** Asked before the first write to each index name: no index born without the templates (index-guard.ts). */
  indexGuard?: IndexGuard;
}

/** Why OpenSearch refused a record itself: its content (a mapping error) or its size (a 413 when alone). */
export type RefusedReason = "index_rejected" | "record_too_large";

/** What one object's writes share across its batches: the 413 halving is logged once per object. */
interface ObjectWrites {
  halvingLogged: boolean;
}

/** What one batch stored (the sink-wide outcome type). */
export type BatchOutcome = SinkOutcome;

export class PermanentBulkError extends Error {
  override name = "PermanentBulkError";
}

/**
 * Writes batches to OpenSearch until every action in them is created, already there (409) or
 * quarantined (and, for replay, replaced or deleted: sink.ts WriteAction). What the cluster cannot take
 * now (blocks, permissions, the shard limit, 429/5xx, unreachable) is held: retried with exponential
 * backoff and jitter for as long as the caller's signal and the hold limit allow. A record is never
 * dropped, the caller's message is simply not acknowledged yet. The one writer: ingestion, backfill,
 * repair and replay all write through it.
 */
export class BulkSink implements Sink {
  private readonly queue: TaskQueue;
  /** Whether (and why) writes are held now: for /readyz. */
  readonly holds: WriteHolds;

  constructor(
    private readonly transport: BulkTransport,
    readonly options: BulkSinkOptions,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    this.queue = createTaskQueue(options.concurrency);
    this.holds = options.holds ?? new WriteHolds(logger, metrics);
  }

  /**
   * One object's writer: actions go into a batch; a full batch is sent (at most `concurrency` requests in
   * flight for the whole process, one batch waiting); the first failure stops the object.
   */
  open(signal?: AbortSignal): BulkSinkWriter {
    const outcome = emptyOutcome();
    const shared: ObjectWrites = { halvingLogged: false };
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let batch = this.newBatch();
    const guard = this.options.indexGuard;
    /** The index of the last action added: the guard's answer for it is known (most records share one). */
    let lastIndex: string | undefined;
    const add = (action: WriteAction): Promise<void> | undefined => {
      batch.add(action);
      return this.isFull(batch) ? flush() : undefined;
    };
    const flush = async () => {
      if (batch.size === 0) return;
      const full = batch;
      batch = this.newBatch();
      await this.ready();
      if (failure) throw failure;
      const p: Promise<void> = this.write(full, signal, shared).then(
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
    return {
      add: (action) => {
        if (failure) throw failure;
        const index = action.index;
        // a delete creates no index (OpenSearch's bulk does not create one for it): nothing to guard
        if (guard && index !== lastIndex && action.op !== "delete") {
          if (!guard.ready(index)) {
            return this.guardIndex(guard, index, signal).then(() => {
              lastIndex = index;
              return add(action);
            });
          }
          lastIndex = index;
        }
        return add(action);
      },
      finish: async () => {
        await flush();
        while (inFlight.size > 0) await Promise.all(inFlight);
        if (failure) throw failure;
        this.discard(batch); // the empty batch flush left: its memory goes back to the pool
        return outcome;
      },
      abort: async () => {
        this.discard(batch);
        // Let batches already sent settle, so nothing keeps writing after the failure is reported.
        await Promise.allSettled(inFlight);
      },
    };
  }

  /**
   * Waits until the guard lets `index` be written (born from the templates): what it cannot settle now
   * (templates missing and not installable, OpenSearch down) is held like a write, with backoff, reported
   * through `holds` (/readyz) and given up past the hold limit; a request wrong as a whole fails.
   */
  private async guardIndex(guard: IndexGuard, index: string, signal?: AbortSignal): Promise<void> {
    const writer = {};
    let attempt = 0;
    try {
      for (;;) {
        signal?.throwIfAborted();
        try {
          await guard.ensure(index, signal);
          return;
        } catch (err) {
          if (signal?.aborted) throw signal.reason;
          const v: { kind: "hold"; cause: HoldCause; message: string } | { kind: "fail"; message: string } =
            err instanceof TemplatesMissingError
              ? { kind: "hold", cause: "templates", message: err.message }
              : classifyRequestError(err);
          if (v.kind === "fail")
            throw new PermanentBulkError(`checking the templates for ${index} failed: ${v.message}`);
          this.holds.hold(writer, v.cause, v.message, `the first write to ${index}`);
          const ms = backoffMs(attempt++, this.options.backoffBaseMs, this.options.backoffCapMs);
          this.metrics?.retries.inc({ kind: "index_guard" });
          this.logger.debug(
            { index, cause: v.cause, err: v.message, waitMs: ms },
            "index guard held; retrying",
          );
          await sleep(ms, signal);
        }
      }
    } finally {
      this.holds.release(writer);
    }
  }

  /** A new empty batch; `isFull` tells when to hand it to `write`. */
  newBatch(): BulkBatch {
    return new BulkBatch(this.batchCapacity, this.pool.pop());
  }

  /** Room for a full batch and one more large record (isFull is checked after each add). */
  private get batchCapacity(): number {
    return this.options.maxBytes + 1024 * 1024;
  }

  /**
   * Batch memory for reuse. A batch's buffer is reused once its request has been answered with
   * per-item results (the body was read whole) and its retries copied out: freed buffers would
   * otherwise stay resident until a full GC, since their small JS wrappers live long enough to be
   * promoted. Bounded: batches in flight, one waiting and one being built per object.
   */
  private readonly pool: Buffer[] = [];

  private recycle(batch: BulkBatch): void {
    const buf = batch.release();
    if (buf.length === this.batchCapacity && this.pool.length < this.options.concurrency + 2)
      this.pool.push(buf);
  }

  /**
   * Gives back a batch that will not be written (the empty one left when an object ends, or one being
   * built when its object failed): its memory returns to the pool instead of waiting for a GC.
   */
  discard(batch: BulkBatch): void {
    this.recycle(batch);
  }

  isFull(batch: BulkBatch): boolean {
    return batch.size >= this.options.maxDocs || batch.bytes >= this.options.maxBytes;
  }

  /**
   * Resolves when another batch may be queued without growing memory (back-pressure): when no batch
   * is waiting for a free request slot. One waiting batch is enough to keep every slot busy (a batch
   * is built in a fraction of a bulk request's time); more would only be held in memory.
   */
  async ready(): Promise<void> {
    await this.queue.onSizeLessThan(1);
  }

  async idle(): Promise<void> {
    await this.queue.onIdle();
  }

  /**
   * Writes the batch until every action is stored (created or already there) or, refused for its content,
   * quarantined. A failure is classified by write-failure.ts: held (retried with backoff, reported through
   * `holds`, given up past the hold limit), the record's fault (quarantined) or the request's (thrown).
   */
  async write(
    batch: BulkBatch,
    signal?: AbortSignal,
    shared: ObjectWrites = { halvingLogged: false },
  ): Promise<BatchOutcome> {
    const outcome = emptyOutcome();
    const writer = {};
    let written = false;
    try {
      await this.writeHeld(batch, outcome, writer, shared, signal);
      written = true;
    } finally {
      this.holds.release(writer, written ? "written" : "abandoned");
    }
    return outcome;
  }

  private async writeHeld(
    batch: BulkBatch,
    outcome: BatchOutcome,
    writer: object,
    shared: ObjectWrites,
    signal?: AbortSignal,
  ): Promise<void> {
    let pending = batch;
    let attempt = 0;
    const wait = async (cause: HoldCause, message: string, kind: string, n: number) => {
      this.holds.hold(writer, cause, message, kind === "bulk_request" ? "bulk request" : "bulk items");
      const ms = backoffMs(attempt++, this.options.backoffBaseMs, this.options.backoffCapMs);
      this.metrics?.retries.inc({ kind }, n);
      this.logger.debug({ cause, err: message, docs: n, attempt, waitMs: ms }, "bulk write held; retrying");
      await sleep(ms, signal);
    };
    while (pending.size > 0) {
      signal?.throwIfAborted();
      let response: BulkResponse;
      try {
        response = await this.send(pending, signal);
      } catch (err) {
        if (signal?.aborted) throw signal.reason;
        if (httpStatusOf(err) === 413 && pending.size > 1) {
          // Too large for the cluster's http.max_content_length: halve and go on (said once per object).
          this.tooLargeHalved(pending, shared);
          const half = Math.ceil(pending.size / 2);
          const whole = pending;
          const first = whole.slice(0, half);
          pending = whole.slice(half, whole.size);
          this.recycle(whole);
          await this.writeHeld(first, outcome, writer, shared, signal);
          continue;
        }
        if (httpStatusOf(err) === 413) {
          // One document alone over http.max_content_length: no wait or split can help, the record's fault.
          const refused = pending;
          pending = BulkBatch.of([this.tooLargeAlone(refused)]);
          this.recycle(refused);
          outcome.quarantinedOnIndex++;
          continue;
        }
        const v = classifyRequestError(err);
        if (v.kind === "hold") {
          await wait(v.cause, v.message, "bulk_request", pending.size);
          continue;
        }
        throw new PermanentBulkError(`OpenSearch refused a _bulk request: ${v.message}`);
      }
      const answeredItems =
        "created" in response ? response.created + response.duplicates : response.items.length;
      if (answeredItems !== pending.size) {
        throw new PermanentBulkError(
          `_bulk answered ${answeredItems} items for ${pending.size} actions; refusing to guess`,
        );
      }
      if ("created" in response) {
        // Every item stored: created, or already there (409; only a `create` can be), replaced or deleted.
        let other = 0;
        for (let i = 0; i < pending.size; i++) {
          const op = pending.opOf(i);
          if (op === "create") countAt(outcome, pending, i);
          else {
            other++;
            if (op === "delete") outcome.deleted++;
            else {
              outcome.replaced++;
              countAt(outcome, pending, i);
            }
          }
        }
        outcome.created += response.created - other;
        outcome.duplicates += response.duplicates;
        this.recycle(pending);
        break;
      }
      const retry: WriteAction[] = [];
      let held: { cause: HoldCause; message: string } | undefined;
      let progress = false;
      response.items.forEach((entry, i) => {
        const op = pending.opOf(i);
        const item = entry[op] ?? Object.values(entry)[0] ?? { status: 500 };
        const v = classifyItem(item, op);
        if (v.kind === "stored") {
          progress = true;
          if (op === "delete") {
            outcome.deleted++;
            return;
          }
          if (op === "index") outcome.replaced++;
          else if (v.duplicate) outcome.duplicates++;
          else outcome.created++;
          countAt(outcome, pending, i);
        } else if (v.kind === "record") {
          progress = true;
          const action = pending.action(i);
          if (op === "delete")
            throw new PermanentBulkError(
              `OpenSearch refused to delete ${action.index}/${action.id}: ${v.message}`,
            );
          if (action.kind === "quarantine") {
            throw new PermanentBulkError(
              `the quarantine index refused a document (${action.index}/${action.id}): ${v.message}`,
            );
          }
          this.logger.warn(
            { index: action.index, id: action.id, error: v.message },
            "document refused; quarantined",
          );
          outcome.quarantinedOnIndex++;
          retry.push(this.options.quarantine(action, v.message));
        } else {
          held ??= v; // the same action again, after the backoff
          retry.push(pending.action(i));
        }
      });
      const answered = pending;
      pending = BulkBatch.of(retry);
      this.recycle(answered);
      if (progress) {
        this.holds.release(writer);
        attempt = 0;
      }
      if (held) await wait(held.cause, held.message, "bulk_item", retry.length);
    }
  }

  /** A 413 on a batch of several: logged once per object, with the setting that avoids it. */
  private tooLargeHalved(batch: BulkBatch, shared: ObjectWrites): void {
    this.metrics?.retries.inc({ kind: "bulk_too_large" }, batch.size);
    if (shared.halvingLogged) return;
    shared.halvingLogged = true;
    this.logger.warn(
      { docs: batch.size, bytes: batch.bytes, bulkMaxBytes: this.options.maxBytes },
      `OpenSearch refused a _bulk request of ${batch.bytes} bytes as too large (HTTP 413: over its http.max_content_length); sending it in halves. Set BULK_MAX_BYTES (now ${this.options.maxBytes}) below the cluster's http.max_content_length to avoid the extra requests`,
    );
  }

  /**
   * The quarantine document of a record refused alone with a 413 (`record_too_large`, its raw text cut to a
   * preview); a quarantine document refused so fails the object (nowhere safer to put it).
   */
  private tooLargeAlone(batch: BulkBatch): DocumentAction {
    const action = batch.action(0);
    const message = `OpenSearch refused the document as too large: a _bulk request of it alone (${batch.bytes} bytes) is over the cluster's http.max_content_length (HTTP 413)`;
    if (action.kind === "quarantine" || batch.opOf(0) === "delete")
      throw new PermanentBulkError(
        `the quarantine index refused a document (${action.index}/${action.id}): ${message}`,
      );
    this.logger.warn(
      { index: action.index, id: action.id, bytes: batch.bytes },
      "document too large for OpenSearch; quarantined",
    );
    return this.options.quarantine(action, message, "record_too_large");
  }

  private async send(batch: BulkBatch, signal?: AbortSignal): Promise<BulkResponse> {
    return this.queue.add(async () => {
      const started = performance.now();
      this.metrics?.inFlightBulk.inc();
      this.metrics?.bulkDocs.inc(batch.size);
      let ok = false;
      try {
        const r = await this.transport(batch.body(), signal);
        ok = true;
        return r;
      } finally {
        this.metrics?.inFlightBulk.dec();
        this.metrics?.bulkLatency.observe(
          { outcome: ok ? "ok" : "error" },
          (performance.now() - started) / 1000,
        );
      }
    }) as Promise<BulkResponse>;
  }
}

/** A writer that also takes replay's `index` and `delete` actions (sink.ts WriteAction). */
export interface BulkSinkWriter extends SinkWriter {
  add(action: WriteAction): Promise<void> | undefined;
}

/** Counts action i of the batch, stored (created or already there), by event type or quarantine reason. */
function countAt(outcome: BatchOutcome, batch: BulkBatch, i: number): void {
  countStored(outcome, batch.kindOf(i), batch.eventTypeOf(i), batch.reasonOf(i));
}
