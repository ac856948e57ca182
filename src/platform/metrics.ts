import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * Every metric the product exports, on one registry (never the global one, so tests and several
 * pipelines in one process do not collide). Names follow Prometheus conventions.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesReceived = new Counter({
    name: "twingate_ingest_sqs_messages_received_total",
    help: "SQS messages received",
    registers: [this.registry],
  });
  readonly messagesDeleted = new Counter({
    name: "twingate_ingest_sqs_messages_deleted_total",
    help: "SQS messages deleted after all their objects were ingested (or were test events / filtered)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly messagesFailed = new Counter({
    name: "twingate_ingest_sqs_messages_failed_total",
    help: "SQS messages returned to the queue (processing failed) or left for redrive (invalid)",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly objects = new Counter({
    name: "twingate_ingest_objects_total",
    help: "Objects by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly records = new Counter({
    name: "twingate_ingest_records_total",
    help: "Records by event type and outcome (indexed, duplicate, quarantined)",
    labelNames: ["event_type", "outcome"] as const,
    registers: [this.registry],
  });
  readonly rejected = new Counter({
    name: "twingate_ingest_rejected_total",
    help: "Records and files sent to quarantine, by reason",
    labelNames: ["reason"] as const,
    registers: [this.registry],
  });
  readonly deviations = new Counter({
    name: "twingate_ingest_deviations_total",
    help: "Values normalised or set aside in records that were indexed (docs/DATA-QUALITY.md), by event type, path and action",
    labelNames: ["event_type", "path", "action"] as const,
    registers: [this.registry],
  });
  readonly bulkLatency = new Histogram({
    name: "twingate_ingest_bulk_request_seconds",
    help: "Latency of _bulk requests",
    labelNames: ["outcome"] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly bulkDocs = new Counter({
    name: "twingate_ingest_bulk_documents_total",
    help: "Documents sent in _bulk requests (including retries)",
    registers: [this.registry],
  });
  readonly objectVersionMismatch = new Counter({
    name: "twingate_ingest_object_version_mismatch_total",
    help: "Objects whose eTag or size differed from their notification's: overwritten before they were read (the notified version is lost unless the bucket is versioned)",
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: "twingate_ingest_retries_total",
    help: "Retries, by what was retried",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });
  readonly writeHeld = new Gauge({
    name: "twingate_ingest_write_held",
    help: "1 while writes are held because OpenSearch cannot take them now (blocked, throttled, down, a permission missing), by cause",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });
  readonly holds = new Counter({
    name: "twingate_ingest_write_holds_total",
    help: "Times writes started being held, by cause",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });
  readonly holdsGivenUp = new Counter({
    name: "twingate_ingest_write_holds_given_up_total",
    help: "Writes given up after the hold limit (their message returned to the queue), by cause",
    labelNames: ["cause"] as const,
    registers: [this.registry],
  });
  readonly inFlightMessages = new Gauge({
    name: "twingate_ingest_in_flight_messages",
    help: "SQS messages being processed",
    registers: [this.registry],
  });
  readonly inFlightObjects = new Gauge({
    name: "twingate_ingest_in_flight_objects",
    help: "Objects being ingested",
    registers: [this.registry],
  });
  readonly inFlightBulk = new Gauge({
    name: "twingate_ingest_in_flight_bulk_requests",
    help: "_bulk requests in flight",
    registers: [this.registry],
  });
  readonly queueLag = new Gauge({
    name: "twingate_ingest_queue_lag_seconds",
    help: "Age of the oldest message in the last receive (now - SentTimestamp)",
    registers: [this.registry],
  });
  readonly newestFileAge: Gauge;
  /**
   * The newest file slot ingested; until one is, the process's start: a worker restarted while Twingate's
   * sync is stopped would otherwise report 0 (fresh) until a file came, and the stopped-sync alert never fire.
   */
  private newestSlotMs: number | undefined;
  private readonly startedMs = Date.now();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "twingate_ingest_" });
    const newest = () => this.newestSlotMs ?? this.startedMs;
    this.newestFileAge = new Gauge({
      name: "twingate_ingest_newest_file_age_seconds",
      help: "Age of the newest Twingate file slot ingested, or time since start before the first (alert when syncing stops)",
      registers: [this.registry],
      // Computed at scrape time so the age keeps growing when no file arrives.
      collect() {
        this.set((Date.now() - newest()) / 1000);
      },
    });
  }

  /** Record that a file for this slot time was ingested. */
  fileIngested(slot: Date | undefined): void {
    if (slot && (this.newestSlotMs === undefined || slot.getTime() > this.newestSlotMs))
      this.newestSlotMs = slot.getTime();
  }
}
