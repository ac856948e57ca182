import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import type { CommandModule } from "yargs";
import { buildPipeline, objectSource } from "../../core/ingest/pipeline.ts";
import { objectFilterFromConfig } from "../../core/notifications/index.ts";
import { createS3Client, createSqsClient } from "../../platform/aws/clients.ts";
import { loadConfig, settingOptions } from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { Metrics } from "../../platform/metrics.ts";
import { createOpenSearchClient } from "../../platform/opensearch/client.ts";
import { createTaskQueue } from "../../platform/util/queue.ts";
import { READY_CHECK_TIMEOUT_MS, startHttpServer } from "../../runtimes/worker/http.ts";
import { SqsWorker } from "../../runtimes/worker/sqs-worker.ts";
import { probeBucket, probeQueue, startIndexGuard } from "../../runtimes/worker/startup.ts";
import { INGEST_SETTINGS, queueWithRegion } from "../options.ts";

const KEYS = [
  "logLevel",
  "queueUrl",
  "sqsWaitSeconds",
  "sqsMaxMessages",
  "visibilityTimeout",
  "invalidMessageVisibility",
  "bucketAllowlist",
  "keyPrefix",
  "keyPattern",
  "objectConcurrency",
  "metricsPort",
  "metricsHost",
  "shutdownTimeoutMs",
  "autoSetup",
  ...INGEST_SETTINGS,
] as const;

export const workerCommand: CommandModule = {
  command: "worker",
  describe: "Consume S3 notifications from SQS and index every record into OpenSearch (runs until stopped)",
  builder: (y) => y.options(settingOptions(KEYS)),
  handler: async (argv) => {
    const config = loadConfig(argv);
    const queueUrl = await queueWithRegion(config);
    const logger = createLogger(config.logLevel);
    // Signals are handled from the start: a SIGTERM during start-up (template check, port bind)
    // still ends with a clean exit 0, and the worker then never starts receiving.
    let worker: SqsWorker | undefined;
    let stopRequested = false;
    let signals = 0;
    const onSignal = (sig: NodeJS.Signals) => {
      signals++;
      if (signals > 1) {
        logger.warn({ signal: sig }, "second signal: exiting now");
        worker?.abortNow();
        process.exit(130);
      }
      logger.info({ signal: sig }, "signal received; shutting down");
      stopRequested = true;
      void worker?.stop();
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
    const metrics = new Metrics({ defaultMetrics: true });
    const opensearch = createOpenSearchClient(config, logger);
    const sqs = createSqsClient(config);
    const s3 = createS3Client(config);
    if (config.bucketAllowlist.length === 0) {
      logger.warn(
        "BUCKET_ALLOWLIST is empty: objects from any bucket named in a notification will be fetched (and no bucket is checked at start-up)",
      );
    }
    // What no wait can fix fails the start (exit 2, the setting named: cli/explain.ts); what waiting fixes
    // (OpenSearch, SQS or S3 not answering yet) is logged and waited for, /readyz saying so. The buckets
    // checked are BUCKET_ALLOWLIST's: without it the worker learns them from the notifications only.
    await probeQueue(sqs, queueUrl, logger);
    for (const bucket of config.bucketAllowlist) {
      await probeBucket(
        s3,
        { bucket, prefix: config.keyPrefix, setting: "BUCKET_ALLOWLIST", how: "read" },
        logger,
      );
    }
    const indexGuard = await startIndexGuard(opensearch, config, logger);

    const pipeline = buildPipeline({
      config,
      opensearch,
      source: objectSource("s3", s3),
      logger,
      metrics,
      indexGuard,
    });
    worker = new SqsWorker(
      sqs,
      {
        queueUrl,
        waitSeconds: config.sqsWaitSeconds,
        maxMessages: config.sqsMaxMessages,
        visibilityTimeout: config.visibilityTimeout,
        invalidVisibilityTimeout: config.invalidMessageVisibility,
        maxInFlightMessages: config.objectConcurrency + config.sqsPrefetch,
        shutdownTimeoutMs: config.shutdownTimeoutMs,
      },
      {
        filter: objectFilterFromConfig(config),
        ingest: pipeline.ingest,
        objects: createTaskQueue(config.objectConcurrency),
        logger,
        metrics,
      },
      logger,
      metrics,
    );
    const server =
      config.metricsPort > 0
        ? await startHttpServer({
            host: config.metricsHost,
            port: config.metricsPort,
            metrics,
            logger,
            health: {
              live: () =>
                Date.now() - worker.lastLoopAt < (config.sqsWaitSeconds + 60) * 1000 ||
                worker.inFlightCount > 0,
              ready: {
                // Their own short timeouts (not OPENSEARCH_TIMEOUT_MS, meant for bulk requests); the server
                // also gives up on a check after READY_CHECK_TIMEOUT_MS whatever the client does.
                opensearch: async () => {
                  await opensearch.cluster.health(
                    { timeout: "2s" },
                    { requestTimeout: READY_CHECK_TIMEOUT_MS, maxRetries: 0 },
                  );
                  return undefined;
                },
                // 503 with the reason while writes are held (a block, a permission missing...).
                writes: async () => pipeline.sink.holds.reason,
                // 503 while the last check found the templates missing and not installable (names `setup`).
                templates: async () => indexGuard.problem,
                sqs: async (abortSignal) => {
                  await sqs.send(
                    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
                    { abortSignal },
                  );
                  return undefined;
                },
              },
            },
          })
        : undefined;

    if (!stopRequested) {
      logger.info(
        { queueUrl, objectConcurrency: config.objectConcurrency, bulkConcurrency: config.bulkConcurrency },
        "worker started",
      );
      await worker.start();
    }
    await worker.stop();
    server?.close();
    sqs.destroy();
    s3.destroy();
    await opensearch.close();
    logger.info("worker stopped");
    logger.flush();
  },
};
