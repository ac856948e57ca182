import type { S3Client } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import type { Config } from "../../platform/config/index.ts";
import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { quarantineRefused } from "../documents/quarantine.ts";
import type { ObjectRef } from "../model.ts";
import { BulkSink } from "../sink/bulk-sink.ts";
import { WriteHolds } from "../sink/holds.ts";
import type { IndexGuard } from "../sink/index-guard.ts";
import { openSearchBulkTransport } from "../sink/opensearch-transport.ts";
import { localSource } from "../sources/local.ts";
import { s3Source } from "../sources/s3.ts";
import type { ObjectSource } from "../sources/types.ts";
import { type IngestDeps, type IngestResult, ingestObject } from "./ingest-object.ts";

type PipelineSettings = Pick<
  Config,
  "indexPrefix" | "bulkMaxDocs" | "bulkMaxBytes" | "bulkConcurrency" | "maxRecordBytes" | "maxFileBytes"
> &
  Partial<
    Pick<
      Config,
      | "indexPeriod"
      | "maxDecompressionRatio"
      | "maxRejectsPerReason"
      | "maxEventTimeDeviationHours"
      | "holdLimit"
    >
  >;

export interface Pipeline {
  sink: BulkSink;
  deps: IngestDeps;
  ingest: (ref: ObjectRef, signal?: AbortSignal) => Promise<IngestResult>;
}

/**
 * The pipeline the runtimes use (worker, Lambda, backfill), wired from settings: ingestObject into the
 * OpenSearch BulkSink. validate runs the same ingestObject into a CountingSink; replay takes quarantine
 * hits as its source, reads each through the reader's record rules (readRecordText) and the record stage
 * (placeRecord), and writes through a BulkSink writer.
 */
export function buildPipeline(opts: {
  config: PipelineSettings;
  opensearch: Client;
  source: ObjectSource;
  logger: Logger;
  metrics?: Metrics;
  /** Asked before the first write to each index (no index born without the templates); every command passes one. */
  indexGuard?: IndexGuard;
}): Pipeline {
  const { config, logger, metrics } = opts;
  const sink = new BulkSink(
    openSearchBulkTransport(opts.opensearch),
    {
      maxDocs: config.bulkMaxDocs,
      maxBytes: config.bulkMaxBytes,
      concurrency: config.bulkConcurrency,
      quarantine: (action, message, reason) =>
        quarantineRefused(action, message, config.indexPrefix, config.indexPeriod, reason),
      holds: new WriteHolds(logger, metrics, config.holdLimit),
      ...(opts.indexGuard ? { indexGuard: opts.indexGuard } : {}),
    },
    logger,
    metrics,
  );
  const deps: IngestDeps = {
    source: opts.source,
    sink,
    logger,
    ...(metrics ? { metrics } : {}),
    indexPrefix: config.indexPrefix,
    ...(config.indexPeriod ? { indexPeriod: config.indexPeriod } : {}),
    maxRecordBytes: config.maxRecordBytes,
    maxFileBytes: config.maxFileBytes,
    ...(config.maxDecompressionRatio !== undefined
      ? { maxDecompressionRatio: config.maxDecompressionRatio }
      : {}),
    ...(config.maxRejectsPerReason !== undefined ? { maxRejectsPerReason: config.maxRejectsPerReason } : {}),
    ...(config.maxEventTimeDeviationHours !== undefined
      ? { maxTimeDeviationMs: maxTimeDeviationMs(config.maxEventTimeDeviationHours) }
      : {}),
  };
  return { sink, deps, ingest: (ref, signal) => ingestObject(ref, deps, signal) };
}

/** Bounded placement's limit in milliseconds, from MAX_EVENT_TIME_DEVIATION_HOURS (ingestion and replay alike). */
export function maxTimeDeviationMs(hours: number): number {
  return hours * 3_600_000;
}

export function objectSource(kind: "s3", s3: S3Client): ObjectSource;
export function objectSource(kind: "local"): ObjectSource;
export function objectSource(kind: "s3" | "local", s3?: S3Client): ObjectSource {
  return kind === "s3" ? s3Source(s3!) : localSource();
}
