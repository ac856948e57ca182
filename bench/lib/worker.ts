/** An SQS worker (the product's SqsWorker + handleMessage) built in-process, optionally on the null sink. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import { objectSource } from "../../src/core/ingest/pipeline.ts";
import type { ObjectRef } from "../../src/core/model.ts";
import type { BulkTransport } from "../../src/core/sink/bulk-sink.ts";
import { TWINGATE_KEY_PATTERN } from "../../src/platform/config/index.ts";
import { SETTINGS } from "../../src/platform/config/settings.ts";
import { createTaskQueue } from "../../src/platform/util/queue.ts";
import { SqsWorker } from "../../src/runtimes/worker/sqs-worker.ts";
import { DEFAULTS, makeIngest, type PipelineSettings, silent } from "./stack.ts";

export function benchWorker(opts: {
  s3: S3Client;
  sqs: SQSClient;
  os: Client;
  queueUrl: string;
  prefix: string;
  settings?: PipelineSettings;
  transport?: BulkTransport;
  onObject?: (ref: ObjectRef, r: IngestResult) => void;
  /** Messages held beyond the object slots (SQS_PREFETCH); the product's default when not given. */
  prefetch?: number;
}): SqsWorker {
  const settings = opts.settings ?? DEFAULTS;
  const ingest = makeIngest({
    os: opts.os,
    source: objectSource("s3", opts.s3),
    prefix: opts.prefix,
    settings,
    ...(opts.transport ? { transport: opts.transport } : {}),
  });
  return new SqsWorker(
    opts.sqs,
    {
      queueUrl: opts.queueUrl,
      waitSeconds: 1,
      maxMessages: 10,
      visibilityTimeout: 120,
      maxInFlightMessages: settings.objectConcurrency + (opts.prefetch ?? SETTINGS.sqsPrefetch.default),
      shutdownTimeoutMs: 5000,
    },
    {
      filter: { bucketAllowlist: [], keyPrefix: "", keyPattern: new RegExp(TWINGATE_KEY_PATTERN) },
      ingest: async (ref, signal) => {
        void signal;
        const r = await ingest(ref);
        opts.onObject?.(ref, r);
        return r;
      },
      objects: createTaskQueue(settings.objectConcurrency),
      logger: silent,
    },
    silent,
  );
}
