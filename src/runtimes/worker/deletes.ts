import {
  type BatchResultErrorEntry,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { backoffMs, sleep } from "../../platform/util/backoff.ts";
import { withDeadline } from "../../platform/util/deadline.ts";

/** SQS's most entries in one DeleteMessageBatch. */
const MAX_BATCH = 10;

interface Pending {
  receipt: string;
  attempt: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface DeleterOptions {
  queueUrl: string;
  /** Each call's deadline (an answer that never comes is given up on and the entry tried again). */
  callDeadlineMs: number;
  /** Tries per message before its delete is given up on (it then simply comes back after its timeout). */
  attempts?: number;
  /** Delete calls in flight at once; deletes asked for meanwhile wait and go out together. */
  maxInFlight?: number;
}

/** Why SQS refused one entry of a batch for good (an expired or foreign receipt handle, say). */
export class DeleteRefused extends Error {
  override name = "DeleteRefused";
}

/**
 * Deletes messages, batching those that finish close together: a delete asked for while fewer than
 * `maxInFlight` calls are out goes at once (a lone message pays no wait and is deleted by DeleteMessage,
 * as before); the ones asked for while calls are out wait for a free call and go out in one
 * DeleteMessageBatch of up to 10. A busy worker so makes a tenth of the delete calls, and no delete
 * waits on a timer.
 *
 * Each `delete` settles once its message is deleted (resolves) or given up on (rejects). An entry SQS
 * refuses for good (`SenderFault`: a stale receipt handle) is given up on at once; one it failed for now,
 * one the answer does not mention, and every entry of a call that failed or went unanswered are tried
 * again with backoff, `attempts` times in all. A delete given up on costs nothing but a redelivery:
 * records are written with ids, so the message's second reading writes nothing twice.
 */
export class MessageDeleter {
  private readonly waiting: Pending[] = [];
  private inFlight = 0;
  private readonly attempts: number;
  private readonly maxInFlight: number;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: DeleterOptions,
  ) {
    this.attempts = options.attempts ?? 4;
    this.maxInFlight = options.maxInFlight ?? 2;
  }

  delete(receipt: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ receipt, attempt: 0, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.inFlight < this.maxInFlight) {
      const batch = this.waiting.splice(0, MAX_BATCH);
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async send(batch: Pending[]): Promise<void> {
    const { queueUrl, callDeadlineMs } = this.options;
    try {
      if (batch.length === 1) {
        const [one] = batch as [Pending];
        await withDeadline("DeleteMessage", callDeadlineMs, undefined, (abortSignal) =>
          this.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: one.receipt }), {
            abortSignal,
          }),
        );
        one.resolve();
        return;
      }
      const res = await withDeadline("DeleteMessageBatch", callDeadlineMs, undefined, (abortSignal) =>
        this.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map((p, i) => ({ Id: String(i), ReceiptHandle: p.receipt })),
          }),
          { abortSignal },
        ),
      );
      const done = new Set((res.Successful ?? []).map((s) => s.Id));
      const failed = new Map<string | undefined, BatchResultErrorEntry>(
        (res.Failed ?? []).map((f) => [f.Id, f]),
      );
      batch.forEach((p, i) => {
        const id = String(i);
        const f = failed.get(id);
        if (done.has(id)) p.resolve();
        else if (f?.SenderFault) p.reject(new DeleteRefused(`${f.Code ?? "refused"}: ${f.Message ?? ""}`));
        else this.retry(p, new Error(f ? `${f.Code ?? "failed"}: ${f.Message ?? ""}` : "not in the answer"));
      });
    } catch (err) {
      for (const p of batch) this.retry(p, err);
    }
  }

  private retry(p: Pending, err: unknown): void {
    p.attempt++;
    if (p.attempt >= this.attempts) {
      p.reject(err);
      return;
    }
    void sleep(backoffMs(p.attempt - 1, 200, 3000)).then(() => {
      this.waiting.push(p);
      this.pump();
    });
  }
}
