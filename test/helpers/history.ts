/**
 * What the history end-to-end tests (backfill, enqueue, gaps) set up alike on the shared stack: Twingate
 * files written by the producer into a bucket under `tg/`, the pipeline writing to an index prefix, a
 * backfill of a bucket through it, and a queue whose notifications are drained as the keys they announce.
 */
import assert from "node:assert/strict";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import { buildPipeline, objectSource, type Pipeline } from "../../src/core/ingest/pipeline.ts";
import { parseNotification } from "../../src/core/notifications/index.ts";
import type { Slot } from "../../src/core/twingate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { listPlan, type TimeRange } from "../../src/runtimes/backfill/range.ts";
import { type BackfillSummary, runBackfill } from "../../src/runtimes/backfill/run.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { type ProduceOptions, type ProduceSummary, produceRange } from "../../src/tools/produce/run.ts";
import { s3Target } from "../../src/tools/produce/targets.ts";

const silent = createLogger("silent");

/** The files' prefix in the bucket. */
export const FILES_PREFIX = "tg/";

/**
 * Producer files for `slots` in `bucket`: by default NDJSON under tg/, 3 records a file of the four
 * streams (3:2:1:1), gzipped, a tenth of the records invalid.
 */
export function produceFiles(
  s3: S3Client,
  bucket: string,
  slots: Slot[],
  opts: {
    seed: number;
    eventsPerFile?: number;
    gzip?: boolean;
    invalid?: number;
    mix?: ProduceOptions["mix"];
    layout?: ProduceOptions["layout"];
    prefix?: string;
  },
): Promise<ProduceSummary> {
  return produceRange(
    buildPools(opts.seed),
    {
      seed: opts.seed,
      mix: opts.mix ?? { network_access: 3, dns_filtering: 2, audit_log: 1, data_loss_prevention: 1 },
      eventsPerFile: opts.eventsPerFile ?? 3,
      layout: opts.layout ?? "ndjson",
      gzip: opts.gzip ?? true,
      prefix: opts.prefix ?? FILES_PREFIX,
      faults: { invalid: opts.invalid ?? 0.1, corrupt: 0, unknownType: 0 },
      oversized: 0,
      oversizedBytes: 1024 * 1024,
      truncatedGzip: 0,
      emptySlotRate: 0,
    },
    s3Target(s3, bucket),
    { fromMs: slots[0]!.startMs, toMs: slots.at(-1)!.endMs, slots },
  );
}

/** The pipeline reading S3 and writing the indices of `indexPrefix` (small bulks, two in flight). */
export function s3Pipeline(os: Client, s3: S3Client, indexPrefix: string): Pipeline {
  return buildPipeline({
    config: {
      indexPrefix,
      bulkMaxDocs: 500,
      bulkMaxBytes: 5 * 1024 * 1024,
      bulkConcurrency: 2,
      maxRecordBytes: 1024 * 1024,
      maxFileBytes: 1024 ** 3,
    },
    opensearch: os,
    source: objectSource("s3", s3),
    logger: silent,
  });
}

/** A backfill (no checkpoint) of the files of `range` under tg/ in `bucket` into `indexPrefix`. */
export function backfillBucket(
  os: Client,
  s3: S3Client,
  bucket: string,
  indexPrefix: string,
  range: TimeRange,
): Promise<BackfillSummary> {
  return runBackfill({
    source: { kind: "s3", s3, bucket },
    plan: listPlan(FILES_PREFIX, range),
    range,
    concurrency: 4,
    ingest: s3Pipeline(os, s3, indexPrefix).ingest,
    logger: silent,
  });
}

export async function createQueue(sqs: SQSClient, name: string): Promise<string> {
  const res = await sqs.send(
    new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: "30" } }),
  );
  return res.QueueUrl!;
}

/** Every message in the queue, received and deleted, as the keys it announces (until it stays empty). */
export async function drainKeys(sqs: SQSClient, queueUrl: string): Promise<string[]> {
  const keys: string[] = [];
  let empty = 0;
  while (empty < 2) {
    const res = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const msgs = res.Messages ?? [];
    if (msgs.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    for (const m of msgs) {
      const n = parseNotification(m.Body!);
      assert.equal(n.kind, "objects", `a notification the worker takes: ${m.Body}`);
      if (n.kind === "objects") for (const o of n.objects) keys.push(o.key);
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: msgs.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return keys;
}
