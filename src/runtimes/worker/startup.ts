import { randomBytes } from "node:crypto";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
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

export interface BucketProbe {
  bucket: string;
  /** The key prefix the process reads under (KEY_PREFIX, --prefix); "" for the whole bucket. */
  prefix: string;
  /** The setting that named the bucket, for the message (BUCKET_ALLOWLIST, --bucket). */
  setting: string;
  /**
   * `read`: a GetObject of a key that does not exist under the prefix (the worker's own permission: S3
   * answers 404 to a role that may also list the bucket, as DEPLOY.md's policy grants, else 403); `list`: a
   * ListObjectsV2 of one key (backfill, gaps).
   */
  how: "read" | "list";
}

/**
 * At start-up, one request to each bucket the process is configured with: a bucket that does not exist or
 * access denied is a ConfigError naming the setting (exit 2: no wait fixes it); credentials AWS refuses are
 * thrown as they are (cli/explain.ts names them); S3 not answering is logged and waited for (each object is
 * retried as usual). A worker without BUCKET_ALLOWLIST learns its buckets from the notifications only: there
 * is nothing to probe then.
 */
export async function probeBucket(s3: S3Client, p: BucketProbe, logger: Logger): Promise<void> {
  const key = `${p.prefix}.twingate-ingest-start-probe-${randomBytes(6).toString("hex")}`;
  const where = `s3://${p.bucket}/${p.prefix}`;
  try {
    const opts = { abortSignal: AbortSignal.timeout(15_000) };
    if (p.how === "list") {
      await s3.send(new ListObjectsV2Command({ Bucket: p.bucket, Prefix: p.prefix, MaxKeys: 1 }), opts);
    } else {
      const res = await s3.send(new GetObjectCommand({ Bucket: p.bucket, Key: key }), opts);
      (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
    }
  } catch (err) {
    const e = err as {
      name?: string;
      Code?: string;
      message?: string;
      $metadata?: { httpStatusCode?: number };
    };
    const status = e.$metadata?.httpStatusCode;
    const code = e.Code ?? e.name ?? "";
    if (p.how === "read" && (code === "NoSuchKey" || (status === 404 && code !== "NoSuchBucket"))) return;
    if (
      /CredentialsProviderError|InvalidClientTokenId|InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken/.test(
        code,
      )
    )
      throw err;
    if (code === "NoSuchBucket") {
      throw new ConfigError(
        `the bucket ${p.bucket} does not exist (${where}): check ${p.setting} (and AWS_REGION)`,
        p.setting,
      );
    }
    if (status === 403 || /AccessDenied|Forbidden/i.test(code)) {
      const needs =
        p.how === "read"
          ? `s3:GetObject on arn:aws:s3:::${p.bucket}/${p.prefix}* and s3:ListBucket on arn:aws:s3:::${p.bucket} (without it S3 answers a deleted file with 403, not 404: docs/DEPLOY.md)`
          : `s3:ListBucket on arn:aws:s3:::${p.bucket}`;
      throw new ConfigError(
        `access denied reading ${where} (${code || `HTTP ${status}`}): the role this runs with needs ${needs}, and kms:Decrypt with SSE-KMS (docs/SECURITY.md); or ${p.setting} names the wrong bucket`,
        p.setting,
      );
    }
    if (status !== undefined && status >= 300 && status < 500 && status !== 408 && status !== 429) {
      throw new ConfigError(
        `S3 refused reading ${where} (${code || "error"}, HTTP ${status}: ${String(e.message ?? "").slice(0, 200)}): check ${p.setting} and AWS_REGION`,
        p.setting,
      );
    }
    logger.warn(
      { err: err instanceof Error ? err.message : String(err), bucket: p.bucket },
      "S3 does not answer yet: the process starts and each file is retried as usual",
    );
  }
}
