/**
 * Writes held because the cluster cannot take them now (see write-failure.ts): one place that knows
 * whether any writer is holding and why, for the logs (once per change of state, with the cause and, for
 * a permission, the action missing), the metrics (`twingate_ingest_write_held{cause}`) and `/readyz`.
 */
import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { type HoldCause, missingPermission } from "./write-failure.ts";

/**
 * How long one write may be held before it is given up (reported loudly, the message returned to the
 * queue for redrive), unless HOLD_LIMIT says otherwise. 6 hours: longer than an operator's block, a rolling
 * restart or an overnight outage is usually left alone, and under SQS's own ceilings (a message's
 * visibility cannot be extended past 12 hours from its receipt; the default retention is 4 days, so even
 * five receives of 6 hours each end, in the DLQ, before a message would expire).
 */
const DEFAULT_HOLD_LIMIT_MS = 6 * 3_600_000;

/** A write held longer than the hold limit: given up so that its message goes back to the queue. */
export class HoldLimitError extends Error {
  override name = "HoldLimitError";
}

interface Held {
  /** What failed, for the log: "bulk request", "bulk items"... */
  what: string;
  cause: HoldCause;
  message: string;
  since: number;
}

export class WriteHolds {
  private readonly held = new Map<object, Held>();
  /** The state last reported: `cause` (+ the missing permission), or undefined when writing. */
  private reported: string | undefined;
  private heldSince: number | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly metrics?: Metrics,
    readonly limitMs: number = DEFAULT_HOLD_LIMIT_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * `writer` is held for this cause (again). Returns how long it has been held without progress; throws
   * HoldLimitError past the limit.
   */
  hold(writer: object, cause: HoldCause, message: string, what = "write"): number {
    const t = this.now();
    const prior = this.held.get(writer);
    const since = prior?.since ?? t;
    this.held.set(writer, { cause, message, since, what });
    this.heldSince ??= t;
    this.report();
    const heldMs = t - since;
    if (heldMs > this.limitMs) {
      this.release(writer, "abandoned");
      this.metrics?.holdsGivenUp.inc({ cause });
      const text = `writes held for ${Math.round(heldMs / 1000)} s (over the hold limit of ${Math.round(this.limitMs / 1000)} s): ${cause}: ${message}`;
      this.logger.error(
        { cause, heldMs, limitMs: this.limitMs, err: message },
        `${text}; giving up so the message is redriven`,
      );
      throw new HoldLimitError(text);
    }
    return heldMs;
  }

  /**
   * `writer` is no longer held: it made progress (`written`), or it stopped without writing (`abandoned`:
   * given up past the hold limit, aborted by a shutdown, failed), which is not a sign the cluster takes writes.
   */
  release(writer: object, how: "written" | "abandoned" = "written"): void {
    if (!this.held.delete(writer)) return;
    this.lastRelease = how;
    this.report();
  }
  private lastRelease: "written" | "abandoned" = "written";

  /** Why writes are held now (for /readyz), or undefined when they are not. */
  get reason(): string | undefined {
    const h = this.current();
    if (!h) return undefined;
    const perm = h.cause === "permission" ? missingPermission(h.message) : undefined;
    const secs = Math.round((this.now() - h.since) / 1000);
    return `writes held for ${secs} s: ${h.cause}${perm ? ` (missing permission ${perm})` : ""}: ${h.message.slice(0, 300)}`;
  }

  /** The most recent hold among the writers held now. */
  private current(): Held | undefined {
    let latest: Held | undefined;
    for (const h of this.held.values()) if (!latest || h.since >= latest.since) latest = h;
    return latest;
  }

  private report(): void {
    const h = this.current();
    const perm = h?.cause === "permission" ? missingPermission(h.message) : undefined;
    const state = h ? `${h.cause}${perm ? `:${perm}` : ""}` : undefined;
    if (state === this.reported) return;
    const was = this.reported;
    this.reported = state;
    this.metrics?.writeHeld.reset();
    if (h) {
      this.metrics?.writeHeld.set({ cause: h.cause }, 1);
      this.metrics?.holds.inc({ cause: h.cause });
      this.logger.warn(
        { cause: h.cause, ...(perm ? { missingPermission: perm } : {}), err: h.message.slice(0, 500) },
        `${h.what} failed; retrying: OpenSearch cannot take writes now (${h.cause}${perm ? `: missing permission ${perm}` : ""}); holding the data until it clears`,
      );
    } else {
      const heldMs = this.heldSince === undefined ? 0 : this.now() - this.heldSince;
      this.heldSince = undefined;
      if (this.lastRelease === "written")
        this.logger.info({ was, heldMs }, "OpenSearch takes writes again; resuming");
      else
        this.logger.warn(
          { was, heldMs },
          "no write held any more: the held writes were given up or stopped, not written (OpenSearch has not been seen taking writes again)",
        );
    }
  }
}
