import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import { classifyRequestError } from "../../core/sink/write-failure.ts";
import { type Config, ConfigError } from "../../platform/config/index.ts";
import type { Logger } from "../../platform/logger.ts";
import { TemplateGuard, TemplatesMissingError } from "../../tools/setup/guard.ts";

/**
 * The index guard of a process that writes documents (worker, backfill, `gaps --repair`, replay), checked
 * once at start-up: templates current, or installed now (AUTO_SETUP), else a configuration error naming
 * `setup` (exit 2). What no wait can fix on OpenSearch's side (credentials, TLS) is thrown as it is, for the
 * CLI to explain (cli/explain.ts); a cluster that does not answer yet is waited for: the guard checks again
 * before the first write, holding it (and /readyz says so) until the cluster answers.
 */
export async function startIndexGuard(
  client: Client,
  config: Pick<Config, "indexPrefix" | "autoSetup"> & Partial<Pick<Config, "indexPeriod">>,
  logger: Logger,
): Promise<TemplateGuard> {
  const guard = new TemplateGuard(
    client,
    { indexPrefix: config.indexPrefix, indexPeriod: config.indexPeriod, autoSetup: config.autoSetup },
    logger,
  );
  try {
    await guard.check();
  } catch (err) {
    if (err instanceof TemplatesMissingError) throw new ConfigError(err.message, "AUTO_SETUP");
    const v = classifyRequestError(err);
    const waitable =
      v.kind === "hold" &&
      ["unreachable", "timeout", "server_error", "throttled", "cluster_block"].includes(v.cause);
    if (!waitable || isTlsError(v.message)) throw err;
    logger.warn(
      { err: v.message, cause: v.kind === "hold" ? v.cause : undefined },
      "OpenSearch does not answer yet: the index templates are checked before the first write, which waits until it answers (/readyz reports it)",
    );
  }
  return guard;
}

/** A TLS failure: no wait fixes it (OPENSEARCH_CA_FILE, or a host name the certificate does not name). */
export function isTlsError(message: string): boolean {
  return /certificate|self[- ]signed|CERT_|altnames|SSL|TLS|wrong version number/i.test(message);
}

/**
 * At start-up, one read of the queue: a queue that does not exist, access denied or credentials AWS refuses
 * are thrown (no wait fixes them: the CLI explains them and exits 2, so an orchestrator shows a crash loop
 * naming SQS_QUEUE_URL instead of a worker that looks healthy forever); SQS not answering is waited for (the
 * receive loop retries; /readyz reports it).
 */
export async function probeQueue(sqs: SQSClient, queueUrl: string, logger: Logger): Promise<void> {
  try {
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }), {
      abortSignal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    const name = (err as { name?: string }).name ?? "";
    const permanent =
      (status !== undefined && status >= 400 && status < 500 && status !== 429) ||
      /QueueDoesNotExist|NonExistentQueue|AccessDenied|CredentialsProviderError|InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|ExpiredToken/.test(
        name,
      );
    if (permanent) throw err;
    logger.warn(
      { err: err instanceof Error ? err.message : String(err), queueUrl },
      "SQS does not answer yet: the worker starts and keeps trying (/readyz reports it)",
    );
  }
}
