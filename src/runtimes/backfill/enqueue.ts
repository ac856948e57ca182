/**
 * `backfill --enqueue` (and `gaps --repair --enqueue`): instead of reading the files here, send one S3
 * event notification per file to the queue the workers (or the Lambda) already consume, so the fleet
 * ingests history like live files. Messages go 10 to a SendMessageBatch, paced to a rate; entries a
 * batch refused are sent again alone; progress is recorded (in the checkpoint) only for files SQS has
 * acknowledged, so a second run of the same range after a crash sends only what is left. A file sent
 * twice (a crash between SQS's answer and the checkpoint's write, overlap with live traffic) is harmless:
 * a document's id comes from its record.
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { encodeS3Key } from "../../core/notifications/keys.ts";
import type { Logger } from "../../platform/logger.ts";
import { backoffMs, sleep } from "../../platform/util/backoff.ts";
import { addTotals, emptyTotals, type Totals } from "./checkpoint.ts";
import type { ListedObject, ListingStats } from "./listing.ts";
import {
  type BackfillProgress,
  type FailedObject,
  type ListingCheckpoint,
  type ListingRunControl,
  message,
  rangeJson,
  runOverListing,
} from "./listing-run.ts";
import { compareKeys } from "./range.ts";

/** SQS's limit of entries per SendMessageBatch. */
const BATCH_ENTRIES = 10;
/** Marks the messages this tool forged (userIdentity / configurationId), so logs can tell them from S3's. */
const ENQUEUE_PRINCIPAL = "twingate-ingest-backfill";

/**
 * The body of an S3 event notification for one object, in the shape S3 itself sends to SQS (key
 * URL-encoded the way S3 does), so the workers' notification parser takes it exactly like a live one.
 */
export function notificationBody(
  bucket: string,
  obj: ListedObject,
  opts: { region?: string | undefined; eventTime: Date },
): string {
  const etag = obj.etag?.replace(/^"(.*)"$/, "$1");
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: opts.region ?? "us-east-1",
        eventTime: opts.eventTime.toISOString(),
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: ENQUEUE_PRINCIPAL },
        requestParameters: { sourceIPAddress: "s3.amazonaws.com" },
        responseElements: { "x-amz-request-id": ENQUEUE_PRINCIPAL, "x-amz-id-2": ENQUEUE_PRINCIPAL },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: ENQUEUE_PRINCIPAL,
          bucket: {
            name: bucket,
            ownerIdentity: { principalId: ENQUEUE_PRINCIPAL },
            arn: `arn:aws:s3:::${bucket}`,
          },
          object: { key: encodeS3Key(obj.key), size: obj.size, ...(etag ? { eTag: etag } : {}) },
        },
      },
    ],
  });
}

/**
 * Paces sends to `perSecond` messages a second (0: no limit). Each call reserves its share of time after
 * the previous one's and waits until its own turn: bursts are never larger than one batch.
 */
export class RatePacer {
  private next: number | undefined;

  constructor(
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
    private readonly wait: (ms: number, signal?: AbortSignal) => Promise<void> = sleep,
  ) {}

  /** Waits for the turn of `n` messages. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    if (!(this.perSecond > 0)) return;
    const t = this.now();
    const at = Math.max(this.next ?? t, t);
    this.next = at + (n * 1000) / this.perSecond;
    if (at > t) await this.wait(at - t, signal);
  }
}

export interface BatchOutcome {
  /** Entry ids SQS accepted. */
  sent: string[];
  /** Entries refused for good (the sender's fault, or still refused after every attempt). */
  failed: { id: string; error: string }[];
}

/**
 * One SendMessageBatch, with the entries it refused sent again (only those), up to `attempts` calls in
 * all. An entry refused as the sender's fault (too large, invalid) is not retried. A call that fails as
 * a whole (after the SDK's own retries) throws: nothing of it is known to be sent. A call under way is
 * never abandoned (its answer says what was sent); `signal` only cuts the wait before a retry, leaving
 * the entries not yet accepted in neither list.
 */
export async function sendBatch(
  sqs: Pick<SQSClient, "send">,
  queueUrl: string,
  entries: SendMessageBatchRequestEntry[],
  opts: {
    signal?: AbortSignal;
    attempts?: number;
    backoff?: (attempt: number) => number;
    sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  } = {},
): Promise<BatchOutcome> {
  const attempts = opts.attempts ?? 5;
  const out: BatchOutcome = { sent: [], failed: [] };
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt++) {
    const res = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
    const ok = new Set((res.Successful ?? []).map((s) => s.Id!));
    for (const id of ok) out.sent.push(id);
    const refused = new Map((res.Failed ?? []).map((f) => [f.Id!, f]));
    const again: SendMessageBatchRequestEntry[] = [];
    for (const e of pending) {
      if (ok.has(e.Id!)) continue;
      const f = refused.get(e.Id!);
      const error = f ? `${f.Code ?? "error"}: ${f.Message ?? "refused"}` : "not in SQS's answer";
      if (f?.SenderFault || attempt >= attempts) out.failed.push({ id: e.Id!, error });
      else again.push(e);
    }
    pending = again;
    if (pending.length > 0) {
      const wait = opts.backoff ? opts.backoff(attempt) : backoffMs(attempt, 100, 5000);
      try {
        await (opts.sleep ?? sleep)(wait, opts.signal);
      } catch {
        break; // stopped: what was not accepted stays unsent
      }
    }
  }
  return out;
}

interface EnqueueOptions {
  sqs: Pick<SQSClient, "send">;
  queueUrl: string;
  bucket: string;
  /** The objects to announce, in listing order (S3's key order). */
  objects: (
    stats: ListingStats,
    resumeAfter: string | undefined,
    signal: AbortSignal,
  ) => AsyncIterable<ListedObject>;
  stats: ListingStats;
  /** Messages a second (0: as fast as SQS answers). */
  rate: number;
  /** SendMessageBatch calls in flight. */
  concurrency: number;
  region?: string | undefined;
  logger: Logger;
  /** Absent: no checkpoint (gaps --repair, tests). */
  checkpoint?: ListingCheckpoint;
  signal?: AbortSignal;
  onProgress?: (p: BackfillProgress) => void;
  /** Attempts per batch entry (tests). */
  attempts?: number;
  backoff?: (attempt: number) => number;
  now?: () => Date;
}

export interface EnqueueSummary {
  mode: "enqueue";
  source: string;
  queueUrl: string;
  range: { from?: string; to?: string };
  listing: ListingStats;
  /** Objects the listing took that an earlier (interrupted) run had already sent. */
  alreadyDone: number;
  /** This run: `files` messages sent (and `bytes` of the objects they announce). */
  run: { files: number; bytes: number };
  /** Over this run and the interrupted runs it resumed. */
  total: { files: number; bytes: number };
  failed: FailedObject[];
  interrupted: boolean;
  stopReason?: string;
  resumed: boolean;
  /** The pace asked for (messages a second; 0: none) and the one reached. */
  rate: number;
  messagesPerSecond: number;
  durationMs: number;
}

/**
 * Send one notification per listed object. The checkpoint (when given) moves only over objects SQS has
 * acknowledged: stopped by a signal, the batches in flight finish and the checkpoint is saved; killed,
 * at most the batches in flight and one unsaved write are sent again by the next run.
 */
export async function runEnqueue(opts: EnqueueOptions): Promise<EnqueueSummary> {
  const cp = opts.checkpoint;
  const run = { files: 0, bytes: 0 };
  const earlier: Totals = addTotals(emptyTotals(), cp?.resume?.totals ?? emptyTotals());
  const pacer = new RatePacer(opts.rate);
  const now = opts.now ?? (() => new Date());

  const work = async (batch: ListedObject[], r: ListingRunControl) => {
    try {
      await pacer.take(batch.length, r.signal);
    } catch {
      return; // stopped while waiting: nothing of the batch was sent
    }
    const eventTime = now();
    const entries = batch.map((o, i) => ({
      Id: String(i),
      MessageBody: notificationBody(opts.bucket, o, { region: opts.region, eventTime }),
    }));
    let outcome: BatchOutcome;
    try {
      outcome = await sendBatch(opts.sqs, opts.queueUrl, entries, {
        signal: r.signal,
        ...(opts.attempts !== undefined ? { attempts: opts.attempts } : {}),
        ...(opts.backoff ? { backoff: opts.backoff } : {}),
      });
    } catch (err) {
      // Not known to be sent: stays unfinished, the next run sends it.
      r.stop(`SendMessageBatch failed: ${message(err)}`);
      return;
    }
    for (const id of outcome.sent) {
      const o = batch[Number(id)]!;
      run.files++;
      run.bytes += o.size;
      r.completed(o.key);
    }
    for (const f of outcome.failed) {
      r.failed(
        batch[Number(f.id)]!.key,
        f.error,
        "SQS refused the message; it stays unsent in the checkpoint",
      );
    }
    if (outcome.sent.length > 0) r.save();
    r.progress();
  };

  const outcome = await runOverListing({
    name: "enqueue",
    objects: (resumeAfter, signal) => opts.objects(opts.stats, resumeAfter, signal),
    concurrency: opts.concurrency,
    batchSize: BATCH_ENTRIES,
    work,
    totals: () => {
      const t = addTotals(emptyTotals(), earlier);
      t.files += run.files;
      t.bytes += run.bytes;
      return t;
    },
    progress: () => ({ done: run.files, records: 0, bytes: run.bytes }),
    onProgress: opts.onProgress,
    logger: opts.logger,
    checkpoint: cp,
    signal: opts.signal,
  });
  return {
    mode: "enqueue",
    source: cp?.sourceLabel ?? `s3://${opts.bucket}/`,
    queueUrl: opts.queueUrl,
    range: rangeJson(cp?.range ?? {}),
    listing: opts.stats,
    alreadyDone: outcome.alreadyDone,
    run,
    total: { files: earlier.files + run.files, bytes: earlier.bytes + run.bytes },
    failed: outcome.failed,
    interrupted: outcome.interrupted,
    ...(outcome.stopReason !== undefined ? { stopReason: outcome.stopReason } : {}),
    resumed: outcome.resumed,
    rate: opts.rate,
    messagesPerSecond: Math.round((run.files * 1000) / Math.max(outcome.durationMs, 1)),
    durationMs: outcome.durationMs,
  };
}

/** Async iterable over a fixed list (gaps --repair's keys), counted as a listing. */
export function fixedObjects(objects: readonly ListedObject[]): EnqueueOptions["objects"] {
  const sorted = [...objects].sort((a, b) => compareKeys(a.key, b.key));
  return async function* (stats) {
    for (const o of sorted) {
      stats.seen++;
      stats.taken++;
      yield o;
    }
  };
}
