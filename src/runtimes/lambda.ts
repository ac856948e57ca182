import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { buildPipeline, objectSource } from "../core/ingest/pipeline.ts";
import { objectFilterFromConfig } from "../core/notifications/index.ts";
import { createS3Client } from "../platform/aws/clients.ts";
import { type Config, loadConfig } from "../platform/config/index.ts";
import { createLogger, type Logger } from "../platform/logger.ts";
import { Metrics } from "../platform/metrics.ts";
import { createOpenSearchClient } from "../platform/opensearch/client.ts";
import { createTaskQueue } from "../platform/util/queue.ts";
import { TemplateGuard } from "../tools/setup/guard.ts";
import { errText, handleMessage, type MessageDeps } from "./worker/handle-message.ts";

/**
 * The worker's pipeline as a Lambda handler.
 * - SQS event source (the recommended wiring; enable ReportBatchItemFailures): each message succeeds only
 *   when all its objects are ingested; the others are returned in `batchItemFailures` so SQS redelivers
 *   just those (and redrives invalid ones to the DLQ).
 * - Invoked directly by S3, by an SNS subscription or by an EventBridge rule (asynchronous invocations):
 *   the same handling of the notification, and the handler throws unless every object was ingested, so
 *   Lambda retries the event and then hands it to the function's on-failure destination or DLQ instead of
 *   counting it as done.
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
    // Checked before the first write to each index of the container (a cold start's first write included).
    indexGuard: new TemplateGuard(
      opensearch,
      { indexPrefix: config.indexPrefix, indexPeriod: config.indexPeriod, autoSetup: config.autoSetup },
      logger,
    ),
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

/**
 * Time kept before the Lambda deadline to report unfinished messages: 5 s, or a fifth of the time left
 * when that is shorter (Lambda's default timeout is 3 s: a fixed 5 s would leave no time at all).
 */
export function deadlineMarginMs(remainingMs: number): number {
  return Math.min(5_000, Math.floor(remainingMs / 5));
}

/** Notification bodies handled at once, as the worker handles messages, each with its outcome: finished (delete) or not. */
async function handleBodies(
  bodies: { id: string; body: string }[],
  rt: Runtime,
  remainingMs: number | undefined,
): Promise<{ id: string; ok: boolean }[]> {
  const abort = new AbortController();
  let pending = bodies.length;
  const timer =
    remainingMs !== undefined
      ? setTimeout(() => {
          rt.logger.warn(
            { unfinished: pending, remainingMs, marginMs: deadlineMarginMs(remainingMs) },
            "Lambda deadline near: stopping; unfinished notifications are reported as failed (raise the function's timeout if this repeats)",
          );
          abort.abort(new Error("Lambda deadline"));
        }, remainingMs - deadlineMarginMs(remainingMs))
      : undefined;
  try {
    return await Promise.all(
      bodies.map(async ({ id, body }) => {
        try {
          const d = await handleMessage(body, id, rt.deps, abort.signal);
          if (d.action === "retry")
            rt.logger.warn({ messageId: id, err: errText(d.error) }, "notification not finished");
          return { id, ok: d.action === "delete" };
        } catch (err) {
          rt.logger.error({ messageId: id, err: errText(err) }, "message failed");
          return { id, ok: false };
        } finally {
          pending--;
        }
      }),
    );
  } finally {
    if (timer) clearTimeout(timer);
  }
}

export async function processSqsEvent(
  event: SQSEvent,
  rt: Runtime,
  remainingMs?: number,
): Promise<SQSBatchResponse> {
  const bodies = event.Records.map((r) => ({ id: r.messageId, body: r.body }));
  const outcomes = await handleBodies(bodies, rt, remainingMs);
  return { batchItemFailures: outcomes.filter((o) => !o.ok).map((o) => ({ itemIdentifier: o.id })) };
}

/** Thrown for a direct invocation whose notifications did not all finish: Lambda retries the event. */
export class UnfinishedEventError extends Error {
  override name = "UnfinishedEventError";
}

/** What the handler was invoked with: SQS messages, or notifications delivered without a queue. */
export function eventBodies(
  event: unknown,
): { kind: "sqs" } | { kind: "direct"; source: string; bodies: { id: string; body: string }[] } {
  const e = event as Record<string, unknown> | null;
  if (e !== null && typeof e === "object" && !Array.isArray(e)) {
    const records = e["Records"];
    if (Array.isArray(records) && records.length > 0) {
      const sources = new Set(
        records.map((r: Record<string, unknown> | null) => r?.["eventSource"] ?? r?.["EventSource"]),
      );
      const source = sources.size === 1 ? [...sources][0] : undefined;
      if (source === "aws:sqs") return { kind: "sqs" };
      // S3 -> Lambda: the event is an S3 notification itself.
      if (source === "aws:s3")
        return { kind: "direct", source: "s3", bodies: [{ id: "s3-event", body: JSON.stringify(e) }] };
      // SNS -> Lambda: each record's Message is what an SQS subscription with raw delivery would carry.
      if (source === "aws:sns") {
        const bodies = records.map((r: { Sns?: { MessageId?: string; Message?: unknown } }, i) => ({
          id: r.Sns?.MessageId ?? `sns-${i}`,
          body: typeof r.Sns?.Message === "string" ? r.Sns.Message : "",
        }));
        return { kind: "direct", source: "sns", bodies };
      }
      throw new TypeError(
        `Lambda event with records from ${[...sources].map((x) => JSON.stringify(x ?? null)).join(", ")}: expected aws:sqs, aws:s3 or aws:sns`,
      );
    }
    // EventBridge rule -> Lambda: the event itself.
    if ("detail-type" in e)
      return {
        kind: "direct",
        source: "eventbridge",
        bodies: [{ id: String(e["id"] ?? "eventbridge-event"), body: JSON.stringify(e) }],
      };
  }
  throw new TypeError(
    "not an event this handler takes: expected an SQS, S3, SNS or EventBridge event (see README, Lambda)",
  );
}

/** Any event the handler takes (see `eventBodies`); throws UnfinishedEventError as described above. */
export async function processEvent(
  event: unknown,
  rt: Runtime,
  remainingMs?: number,
): Promise<SQSBatchResponse | { notifications: number }> {
  const what = eventBodies(event);
  if (what.kind === "sqs") return processSqsEvent(event as SQSEvent, rt, remainingMs);
  const outcomes = await handleBodies(what.bodies, rt, remainingMs);
  const failed = outcomes.filter((o) => !o.ok);
  if (failed.length > 0) {
    throw new UnfinishedEventError(
      `${failed.length} of ${outcomes.length} ${what.source} notifications not finished (${failed.map((f) => f.id).join(", ")}); Lambda will retry the event`,
    );
  }
  return { notifications: outcomes.length };
}

export const handler = async (
  event: unknown,
  context?: Context,
): Promise<SQSBatchResponse | { notifications: number }> => {
  runtime ??= buildRuntime();
  return processEvent(event, runtime, context?.getRemainingTimeInMillis());
};
