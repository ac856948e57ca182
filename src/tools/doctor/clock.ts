/**
 * Clock skew seen from the `Date` header of the responses the other checks get anyway (S3, SQS,
 * OpenSearch): SigV4 refuses requests more than 5 minutes off, and file ages and lag metrics are
 * only as right as the local clock.
 */

export interface DateSample {
  /** Which service answered. */
  source: string;
  /** The server's time from its `Date` header (second precision). */
  serverMs: number;
  /** Local time when the response arrived. */
  localMs: number;
}

export class ClockProbe {
  readonly samples: DateSample[] = [];
  constructor(private readonly now: () => number = Date.now) {}

  /** Record a `Date` header value; ignored when absent or unparsable. */
  record(source: string, dateHeader: unknown): void {
    const value = Array.isArray(dateHeader) ? dateHeader[0] : dateHeader;
    if (typeof value !== "string" || value.length === 0) return;
    const serverMs = Date.parse(value);
    if (Number.isNaN(serverMs)) return;
    this.samples.push({ source, serverMs, localMs: this.now() });
  }

  /**
   * Add a middleware to an AWS SDK v3 client that records the `Date` header of each response.
   * Structural type, so any client (S3, SQS, SNS) fits without importing their packages here.
   */
  attach(source: string, client: { middlewareStack: object }): void {
    (client.middlewareStack as DeserializeStack).add(
      (next) => async (args) => {
        const out = await next(args);
        const headers = (out as { response?: { headers?: Record<string, string> } }).response?.headers;
        if (headers) this.record(source, headers["date"] ?? headers["Date"]);
        return out;
      },
      { step: "deserialize", name: `twingateDoctorClock_${source}`, override: true },
    );
  }
}

/** The one overload of the SDK's middleware stack used here (its generic types differ per client). */
interface DeserializeStack {
  add(
    middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
    options: { step: "deserialize"; name: string; override: boolean },
  ): void;
}

/**
 * The largest skew over the samples, in seconds, positive when the local clock is ahead.
 * `Date` has one-second precision, so up to 1 s of the difference is rounding, not skew.
 */
export function worstSkewSeconds(
  samples: readonly DateSample[],
): { source: string; skew: number } | undefined {
  let worst: { source: string; skew: number } | undefined;
  for (const s of samples) {
    const raw = (s.localMs - s.serverMs) / 1000;
    const skew = raw > 0 ? Math.max(0, raw - 1) : raw;
    if (!worst || Math.abs(skew) > Math.abs(worst.skew)) worst = { source: s.source, skew };
  }
  return worst;
}
