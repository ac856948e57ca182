import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Config } from "../config/index.ts";

/**
 * AWS clients from the settings. Credentials always come from the SDK's default chain
 * (environment, profile, web identity / IRSA, ECS and instance roles); only region and
 * endpoint overrides (for emulators) are ours.
 */
type AwsSettings = Pick<
  Config,
  "awsRegion" | "s3Endpoint" | "sqsEndpoint" | "snsEndpoint" | "s3ForcePathStyle"
>;

const common = (config: AwsSettings) => ({
  ...(config.awsRegion ? { region: config.awsRegion } : {}),
  // The SDK retries throttling and 5xx with its own backoff; we add a few attempts for long-running workers.
  maxAttempts: 5,
});

export function createS3Client(config: AwsSettings): S3Client {
  return new S3Client({
    ...common(config),
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
    forcePathStyle: config.s3ForcePathStyle ?? false,
    // A bucket in another region than the worker's answers 301/400 with its region: the SDK retries there
    // (and caches the bucket's region) instead of failing every GetObject of that bucket.
    followRegionRedirects: true,
  });
}

export function createSqsClient(config: AwsSettings): SQSClient {
  return new SQSClient({
    ...common(config),
    ...(config.sqsEndpoint ? { endpoint: config.sqsEndpoint } : {}),
  });
}

export function createSnsClient(config: AwsSettings): SNSClient {
  return new SNSClient({
    ...common(config),
    ...(config.snsEndpoint ? { endpoint: config.snsEndpoint } : {}),
  });
}

/** The region in an SQS queue URL (`https://sqs.<region>.amazonaws.com/<account>/<name>`), if it names one. */
export function regionFromQueueUrl(queueUrl: string): string | undefined {
  try {
    const m = /^sqs[.-]([a-z]{2}(?:-[a-z]+)+-\d)\.amazonaws\.com(?:\.cn)?$/.exec(new URL(queueUrl).hostname);
    return m?.[1];
  } catch {
    return undefined;
  }
}

/**
 * The region the AWS clients will use: the setting, else the SDK's own chain (AWS_DEFAULT_REGION, the
 * profile), else the queue URL's. Undefined when none has one: the caller fails naming AWS_REGION, rather
 * than every call failing later with the SDK's "Region is missing".
 */
export async function resolveRegion(config: AwsSettings, queueUrl?: string): Promise<string | undefined> {
  if (config.awsRegion) return config.awsRegion;
  try {
    const region = await new SQSClient({}).config.region();
    if (region) return region;
  } catch {
    // none in the SDK's chain
  }
  return queueUrl ? regionFromQueueUrl(queueUrl) : undefined;
}
