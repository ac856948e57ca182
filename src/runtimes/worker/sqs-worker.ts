import { setMaxListeners } from "node:events";
import {
  ChangeMessageVisibilityCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { backoffMs, sleep } from "../../platform/util/backoff.ts";
import { withDeadline } from "../../platform/util/deadline.ts";
import { MessageDeleter } from "./deletes.ts";
import { errText, handleMessage, type MessageDecision, type MessageDeps } from "./handle-message.ts";

/**
 * How long an SQS call may go unanswered before it is given up on (and retried where that applies).
 * SQS answers in milliseconds; without a bound, one answer lost on the way (a connection dropped
 * silently, an endpoint that hangs) would hold a heartbeat, a message's settlement or the receive
 * loop, and so shutdown, forever. A long poll gets its wait on top.
 */
const SQS_CALL_DEADLINE_MS = 10_000;

/** SQS's longest visibility, counted from the receive (a ChangeMessageVisibility beyond it is refused). */
const MAX_VISIBILITY_SECONDS = 43_200;

/** With a wait of 0 (no long polling), the pause after an empty receive. */
const EMPTY_RECEIVE_PAUSE_MS = 1_000;

interface SqsWorkerOptions {
  queueUrl: string;
  waitSeconds: number;
  maxMessages: number;
  visibilityTimeout: number;
  /**
   * Seconds a message that is not a notification stays hidden after a receive (capped so the total stays
   * within SQS's 12 h): it still reaches the DLQ by the queue's redrive policy, never deleted unread, but
   * without coming back every visibility timeout to take receive slots from real files.
   */
  invalidVisibilityTimeout?: number;
  /**
   * Messages held at once: being read, waiting for an object slot (objects are bounded by the deps'
   * `objects` queue, not here), or being deleted. Receiving pauses while this many are held
   * (back-pressure). More than the object slots (OBJECT_CONCURRENCY + SQS_PREFETCH) keeps the next
   * messages at hand, so no object slot waits on a ReceiveMessage or a DeleteMessage round trip.
   */
  maxInFlightMessages: number;
  shutdownTimeoutMs: number;
}

/**
 * Long-polls SQS and hands each message to `handleMessage`. A message is deleted only when every
 * object in it is ingested (deletes that finish together go out in one batch: MessageDeleter); from its
 * receive to its settlement, waiting for an object slot included, its visibility is extended on a
 * heartbeat (never two extensions at once); on failure it comes back after a backoff that grows with its
 * receive count; on shutdown, messages whose objects have not started are released at once, and
 * unfinished ones at the shutdown deadline, for another worker.
 */
export class SqsWorker {
  private stopping = false;
  private readonly receiveAbort = new AbortController();
  private readonly workAbort = new AbortController();
  private readonly inFlight = new Set<Promise<void>>();
  /** Last time the receive loop went round: liveness. */
  lastLoopAt = Date.now();
  private loop?: Promise<void>;
  private readonly deleter: MessageDeleter;

  constructor(
    private readonly sqs: SQSClient,
    private readonly options: SqsWorkerOptions,
    private readonly deps: MessageDeps,
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
  ) {
    // Every object in flight listens on these signals (GetObject, bulk retries): not a leak.
    setMaxListeners(0, this.workAbort.signal, this.receiveAbort.signal);
    this.deleter = new MessageDeleter(sqs, {
      queueUrl: options.queueUrl,
      callDeadlineMs: SQS_CALL_DEADLINE_MS,
    });
  }

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /**
   * Stop receiving, let in-flight messages finish within the deadline, then release the rest. Called again
   * (the signal handler, then the command once the loop ends), it is the same stop: one deadline, one log.
   */
  stop(deadlineMs = this.options.shutdownTimeoutMs): Promise<void> {
    this.stopped ??= this.stopOnce(deadlineMs);
    return this.stopped;
  }
  private stopped: Promise<void> | undefined;

  private async stopOnce(deadlineMs: number): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.logger.info({ inFlight: this.inFlight.size, deadlineMs }, "stopping: no new messages");
      this.receiveAbort.abort(new Error("worker stopping"));
    }
    const drained = Promise.allSettled([...this.inFlight]).then(() => true);
    const deadline = new AbortController();
    const timedOut = sleep(deadlineMs, deadline.signal).then(
      () => false,
      () => true,
    );
    const finished = await Promise.race([drained, timedOut]);
    deadline.abort(); // never keep the process alive for the deadline timer
    if (!finished) {
      this.logger.warn(
        { inFlight: this.inFlight.size },
        "shutdown deadline reached; releasing unfinished messages",
      );
      this.workAbort.abort(new Error("worker shutdown deadline"));
      await Promise.allSettled([...this.inFlight]);
    }
    await this.loop;
  }

  /** Abort everything now (second signal). Unfinished messages reappear after their visibility timeout. */
  abortNow(): void {
    this.stopping = true;
    this.receiveAbort.abort(new Error("worker aborted"));
    this.workAbort.abort(new Error("worker aborted"));
  }

  private async run(): Promise<void> {
    let errors = 0;
    while (!this.stopping) {
      this.lastLoopAt = Date.now();
      while (this.inFlight.size >= this.options.maxInFlightMessages && !this.stopping) {
        await Promise.race(this.inFlight);
        this.lastLoopAt = Date.now();
      }
      if (this.stopping) break;
      const free = Math.min(this.options.maxMessages, this.options.maxInFlightMessages - this.inFlight.size);
      let messages: Message[];
      try {
        const res = await withDeadline(
          "ReceiveMessage",
          this.options.waitSeconds * 1000 + SQS_CALL_DEADLINE_MS,
          this.receiveAbort.signal,
          (abortSignal) =>
            this.sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: this.options.queueUrl,
                MaxNumberOfMessages: free,
                WaitTimeSeconds: this.options.waitSeconds,
                VisibilityTimeout: this.options.visibilityTimeout,
                MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
              }),
              { abortSignal },
            ),
        );
        messages = res.Messages ?? [];
        errors = 0;
      } catch (err) {
        if (this.stopping) break;
        const wait = backoffMs(errors++, 500, 30_000);
        this.metrics?.retries.inc({ kind: "sqs_receive" });
        this.logger.warn({ err: errText(err), waitMs: wait }, "ReceiveMessage failed; retrying");
        await sleep(wait, this.receiveAbort.signal).catch(() => undefined);
        continue;
      }
      if (messages.length > 0) {
        this.metrics?.messagesReceived.inc(messages.length);
        const oldest = Math.min(...messages.map((m) => Number(m.Attributes?.SentTimestamp ?? Date.now())));
        this.metrics?.queueLag.set(Math.max(0, (Date.now() - oldest) / 1000));
      } else {
        // Nothing waiting: no lag (the last message's age would otherwise stay, and keep an alert firing).
        this.metrics?.queueLag.set(0);
        // Without long polling (a wait of 0), an empty queue would be asked again at once, in a tight loop.
        if (this.options.waitSeconds === 0)
          await sleep(EMPTY_RECEIVE_PAUSE_MS, this.receiveAbort.signal).catch(() => undefined);
      }
      for (const m of messages) {
        const p: Promise<void> = this.process(m).finally(() => this.inFlight.delete(p));
        this.inFlight.add(p);
      }
    }
  }

  private async process(m: Message): Promise<void> {
    const receivedAt = Date.now();
    const id = m.MessageId ?? "?";
    const receipt = m.ReceiptHandle!;
    const log = this.logger.child({ messageId: id });
    this.metrics?.inFlightMessages.inc();
    const stopHeartbeat = this.heartbeat(receipt, log);
    let decision: MessageDecision;
    try {
      // Objects not started when the worker stops are not started: the message goes back at once.
      decision = await handleMessage(
        m.Body ?? "",
        id,
        this.deps,
        this.workAbort.signal,
        this.receiveAbort.signal,
      );
    } catch (err) {
      decision = { action: "retry", error: err, results: [] };
    } finally {
      await stopHeartbeat();
      this.metrics?.inFlightMessages.dec();
    }
    try {
      if (decision.action === "delete") {
        await this.deleter.delete(receipt);
        this.metrics?.messagesDeleted.inc({ reason: decision.reason });
      } else if (decision.action === "retry") {
        const receives = Number(m.Attributes?.ApproximateReceiveCount ?? "1");
        // Released at once on shutdown; otherwise back off so a persistent failure does not spin.
        const shutdown = this.workAbort.signal.aborted || decision.error === this.receiveAbort.signal.reason;
        const delay = shutdown ? 0 : Math.min(900, 5 * 2 ** Math.min(receives - 1, 8));
        this.metrics?.messagesFailed.inc({ reason: shutdown ? "shutdown" : "processing" });
        await this.withRetries("ChangeMessageVisibility", (abortSignal) =>
          this.sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: this.options.queueUrl,
              ReceiptHandle: receipt,
              VisibilityTimeout: delay,
            }),
            { abortSignal },
          ),
        );
        log.info({ visibleInSeconds: delay, receives }, "message returned to the queue");
      } else {
        this.metrics?.messagesFailed.inc({ reason: "invalid" });
        const wanted = this.options.invalidVisibilityTimeout;
        if (wanted !== undefined && wanted > this.options.visibilityTimeout) {
          // Out of the way of real notifications until its next receive (or the DLQ). SQS refuses a total
          // over 12 h counted from the receive (moto counts the receive's own timeout in it too), so that,
          // what has passed since, and a margin are taken off.
          const elapsed = Math.ceil((Date.now() - receivedAt) / 1000);
          const hide = Math.max(
            0,
            Math.min(wanted, MAX_VISIBILITY_SECONDS - this.options.visibilityTimeout - elapsed - 60),
          );
          await this.withRetries("ChangeMessageVisibility", (abortSignal) =>
            this.sqs.send(
              new ChangeMessageVisibilityCommand({
                QueueUrl: this.options.queueUrl,
                ReceiptHandle: receipt,
                VisibilityTimeout: hide,
              }),
              { abortSignal },
            ),
          );
          log.info(
            { hiddenForSeconds: hide, receives: Number(m.Attributes?.ApproximateReceiveCount ?? "1") },
            "message that is not a notification hidden until its next receive (the DLQ after maxReceiveCount)",
          );
        }
      }
    } catch (err) {
      // The message simply becomes visible again after its timeout; ids make redelivery harmless.
      log.warn({ err: errText(err), action: decision.action }, "could not settle the message with SQS");
    }
  }

  /**
   * Extends the message's visibility every third of the timeout; never two calls at once. A call that
   * gets no answer is given up on in time for the next beat, and at the shutdown deadline at once.
   */
  private heartbeat(receipt: string, log: Logger): () => Promise<void> {
    const everyMs = Math.max(1000, (this.options.visibilityTimeout * 1000) / 3);
    let running: Promise<unknown> | undefined;
    const timer = setInterval(() => {
      if (running) return;
      running = withDeadline(
        "heartbeat",
        Math.min(everyMs, SQS_CALL_DEADLINE_MS),
        this.workAbort.signal,
        (abortSignal) =>
          this.sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: this.options.queueUrl,
              ReceiptHandle: receipt,
              VisibilityTimeout: this.options.visibilityTimeout,
            }),
            { abortSignal },
          ),
      )
        .catch((err: unknown) => log.warn({ err: errText(err) }, "heartbeat failed"))
        .finally(() => {
          running = undefined;
        });
    }, everyMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      // Waited for (bounded), so our extension is not sent after the release; one given up on may still
      // reach SQS late and hide the released message for one more timeout (harmless: a short delay).
      await running;
    };
  }

  /** An SQS call that must settle: each attempt bounded, a few attempts with backoff. */
  private async withRetries<T>(
    what: string,
    call: (abortSignal: AbortSignal) => Promise<T>,
    attempts = 4,
  ): Promise<T> {
    for (let i = 0; ; i++) {
      try {
        return await withDeadline(what, SQS_CALL_DEADLINE_MS, undefined, call);
      } catch (err) {
        if (i + 1 >= attempts) throw err;
        await sleep(backoffMs(i, 200, 3000));
      }
    }
  }
}
