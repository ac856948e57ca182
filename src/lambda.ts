import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { createS3Client } from "./aws/clients.ts";
import { type Config, loadConfig } from "./config/index.ts";
import { buildPipeline, objectSource } from "./ingest/pipeline.ts";
import { createLogger, type Logger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import { objectFilterFromConfig } from "./notifications/index.ts";
import { createOpenSearchClient } from "./opensearch/client.ts";
import { createTaskQueue } from "./util/queue.ts";
import { errText, handleMessage, type MessageDeps } from "./worker/handle-message.ts";

/**
 * The worker's pipeline as a Lambda handler for an SQS event source (enable ReportBatchItemFailures).
 * Each message succeeds only when all its objects are ingested; the others are returned in
 * `batchItemFailures` so SQS redelivers just those (and redrives invalid ones to the DLQ).
 */
interface Runtime {
  config: Config;
  logger: Logger;
  deps: MessageDeps;
}
let runtime: Runtime | undefined;

/** Built once per container from the environment (the same settings as the worker). */
export function buildRuntime(env: NodeJS.ProcessEnv = process.env): Runtime {
  const config = loadConfig({}, env);
  const logger = createLogger(config.logLevel, 1);
  const metrics = new Metrics();
  const opensearch = createOpenSearchClient(config, logger);
  const pipeline = buildPipeline({
    config,
    opensearch,
    source: objectSource("s3", createS3Client(config)),
    logger,
    metrics,
  });
  return {
    config,
    logger,
    deps: {
      filter: objectFilterFromConfig(config),
      ingest: pipeline.ingest,
      objects: createTaskQueue(config.objectConcurrency),
      logger,
      metrics,
    },
  };
}

/** Margin kept before the Lambda deadline to report unfinished messages as failures. */
const DEADLINE_MARGIN_MS = 5_000;

export async function processSqsEvent(
  event: SQSEvent,
  rt: Runtime,
  remainingMs?: number,
): Promise<SQSBatchResponse> {
  const abort = new AbortController();
  const timer =
    remainingMs !== undefined
      ? setTimeout(
          () => abort.abort(new Error("Lambda deadline")),
          Math.max(0, remainingMs - DEADLINE_MARGIN_MS),
        )
      : undefined;
  try {
    const outcomes = await Promise.all(
      event.Records.map(async (record) => {
        try {
          const d = await handleMessage(record.body, record.messageId, rt.deps, abort.signal);
          return { id: record.messageId, ok: d.action === "delete" };
        } catch (err) {
          rt.logger.error({ messageId: record.messageId, err: errText(err) }, "message failed");
          return { id: record.messageId, ok: false };
        }
      }),
    );
    return { batchItemFailures: outcomes.filter((o) => !o.ok).map((o) => ({ itemIdentifier: o.id })) };
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  runtime ??= buildRuntime();
  return processSqsEvent(event, runtime, context?.getRemainingTimeInMillis());
};
