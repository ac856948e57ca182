/**
 * For end-to-end tests against the local stack (scripts/stack.sh: OpenSearch + moto S3/SQS/SNS).
 * `npm test` brings the stack up and exports its endpoints; tests share it, so each test isolates itself
 * by name (uniqueName) rather than by server.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { after } from "node:test";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { Client } from "@opensearch-project/opensearch";
import { type Provisioned, provision } from "../../src/tools/produce/provision.ts";

export interface StackEnv {
  opensearchUrl: string;
  s3Endpoint: string;
  sqsEndpoint: string;
  snsEndpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export const STACK_ENV_NAMES = [
  "OPENSEARCH_URL",
  "S3_ENDPOINT",
  "SQS_ENDPOINT",
  "SNS_ENDPOINT",
  "AWS_REGION",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
] as const;

/** True when every endpoint variable is set (use it to skip e2e suites run outside `npm test`). */
export function stackAvailable(env: NodeJS.ProcessEnv = process.env): boolean {
  return STACK_ENV_NAMES.every((name) => Boolean(env[name]));
}

/** The stack's endpoints from the environment; throws with a how-to when any is missing. */
export function stackEnv(env: NodeJS.ProcessEnv = process.env): StackEnv {
  const missing = STACK_ENV_NAMES.filter((name) => !env[name]);
  if (missing.length > 0) {
    throw new Error(
      `end-to-end tests need the local stack's endpoints; missing ${missing.join(", ")}. ` +
        `Run them with \`npm test\` (starts the stack), or \`npm run stack up\` then ` +
        `\`eval "$(npm run -s stack env)"\`.`,
    );
  }
  return {
    opensearchUrl: env["OPENSEARCH_URL"]!,
    s3Endpoint: env["S3_ENDPOINT"]!,
    sqsEndpoint: env["SQS_ENDPOINT"]!,
    snsEndpoint: env["SNS_ENDPOINT"]!,
    region: env["AWS_REGION"]!,
    accessKeyId: env["AWS_ACCESS_KEY_ID"]!,
    secretAccessKey: env["AWS_SECRET_ACCESS_KEY"]!,
  };
}

export interface AwsClients {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  /** destroy() all three (close their sockets so the test process can exit). */
  destroy(): void;
}

/** S3 (path style), SQS and SNS clients for the emulator, with its test credentials. */
export function awsClients(env: StackEnv = stackEnv()): AwsClients {
  const common = {
    region: env.region,
    credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey },
  };
  const s3 = new S3Client({ ...common, endpoint: env.s3Endpoint, forcePathStyle: true });
  const sqs = new SQSClient({ ...common, endpoint: env.sqsEndpoint });
  const sns = new SNSClient({ ...common, endpoint: env.snsEndpoint });
  return {
    s3,
    sqs,
    sns,
    destroy() {
      s3.destroy();
      sqs.destroy();
      sns.destroy();
    },
  };
}

/** An OpenSearch client for the stack's node (no auth: the stack runs without the security plugin). */
export function opensearchClient(env: StackEnv = stackEnv()): Client {
  return new Client({ node: env.opensearchUrl, requestTimeout: 30_000 });
}

/**
 * A name unique to this call, valid as an S3 bucket, SQS queue, SNS topic and OpenSearch index name:
 * lower case, digits and dashes, at most 63 characters.
 */
export function uniqueName(prefix: string): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
  const suffix = `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`;
  const name = `${clean || "t"}-${suffix}`;
  madeNames().add(name);
  return name;
}

/**
 * Every name uniqueName made in this process: scripts/e2e-leak-check.mjs (loaded into each end-to-end file's
 * process by the test runner) fails the file when the OpenSearch node still holds an index, alias or
 * template under one of them once its tests are done.
 */
const E2E_NAMES = Symbol.for("twingate-ingest.e2e.names");
function madeNames(): Set<string> {
  const g = globalThis as { [E2E_NAMES]?: Set<string> };
  g[E2E_NAMES] ??= new Set<string>();
  return g[E2E_NAMES];
}

export interface BucketWithQueueOptions {
  bucket: string;
  queue: string;
  /** S3 -> SNS topic -> SQS instead of S3 -> SQS. */
  viaSns?: boolean;
  /** Only keys under this prefix notify. */
  prefix?: string;
  /** Receives before a message moves to the dead-letter queue (default 5). */
  maxReceiveCount?: number;
}

/**
 * Creates the bucket, the queue with its dead-letter queue (redrive policy), the queue policy and the bucket's
 * s3:ObjectCreated:* notification, straight to the queue or through an SNS topic the queue subscribes to.
 * The same code as `produce --setup` (src/tools/produce/provision.ts).
 */
export async function createBucketWithQueueNotification(
  opts: BucketWithQueueOptions,
  clients?: Pick<AwsClients, "s3" | "sqs" | "sns">,
): Promise<Provisioned> {
  const own = clients ? undefined : awsClients();
  try {
    return await provision(clients ?? own!, {
      bucket: opts.bucket,
      queue: opts.queue,
      via: opts.viaSns ? "sns" : "s3",
      ...(opts.prefix !== undefined ? { prefix: opts.prefix } : {}),
      ...(opts.maxReceiveCount !== undefined ? { maxReceiveCount: opts.maxReceiveCount } : {}),
    });
  } finally {
    own?.destroy();
  }
}

/**
 * Deletes what a test wrote under an index prefix: its indices, index templates and component templates.
 * Tests that leave them behind fill a long-lived local cluster up to its shard limit (1,000 by default).
 */
export async function dropPrefix(os: Client, prefix: string): Promise<void> {
  await os.indices.delete({ index: `${prefix}-*`, expand_wildcards: "all" }).catch(() => undefined);
  await os.indices.deleteIndexTemplate({ name: `${prefix}*` }).catch(() => undefined);
  await os.cluster.deleteComponentTemplate({ name: `${prefix}*` }).catch(() => undefined);
}

/**
 * For a describe block: makes unique index prefixes (as uniqueName) whose indices and templates are dropped
 * after its tests. Call it in the block's body, where `after` hooks register.
 */
export function indexPrefixes(): (name: string) => string {
  const made: string[] = [];
  after(async () => {
    if (made.length === 0 || !stackAvailable()) return;
    const os = opensearchClient();
    try {
      for (const p of made) await dropPrefix(os, p);
    } finally {
      await os.close();
    }
  });
  return (name) => {
    const p = uniqueName(name);
    made.push(p);
    return p;
  };
}

/**
 * For an end-to-end file, at its top level: the stack's endpoints and an AWS and an OpenSearch client for
 * it, closed after the file's tests (so its process can exit).
 */
export function useStack(): { env: StackEnv; aws: AwsClients; os: Client } {
  const env = stackEnv();
  const aws = awsClients(env);
  const os = opensearchClient(env);
  after(async () => {
    aws.destroy();
    await os.close();
  });
  return { env, aws, os };
}

/** A TCP port free on 127.0.0.1 now (for a worker's /readyz). */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}
