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
