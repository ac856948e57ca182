import type { S3Client } from "@aws-sdk/client-s3";
import type { SNSClient } from "@aws-sdk/client-sns";
import type { SQSClient } from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import type { ClockProbe } from "./clock.ts";

/** pass: fine. warn: works, but look at it. fail: will not work as configured. skip: not checked (said why). */
export type CheckStatus = "pass" | "warn" | "fail" | "skip";

export interface CheckResult {
  name: string;
  status: CheckStatus;
  /** False only for `fail`. */
  ok: boolean;
  detail: string;
  /** What to do about it (for warn and fail). */
  hint?: string;
  /** Machine-readable facts for --json (counts, ages, ARNs). */
  data?: Record<string, unknown>;
}

export interface DoctorOptions {
  queueUrl?: string | undefined;
  bucket?: string | undefined;
  keyPrefix: string;
  keyPattern: string;
  bucketAllowlist: readonly string[];
  indexPrefix: string;
  maxRecordBytes: number;
  maxFileBytes: number;
  dashboardsUrl?: string | undefined;
  dashboardsUsername?: string | undefined;
  dashboardsPassword?: string | undefined;
  /** Newest Twingate file older than this: warn (Twingate writes no file when there are no events). */
  staleFileSeconds?: number;
  /** Clock skew above this: warn. */
  maxSkewSeconds?: number;
}

/** The part of the SDK's credentials the doctor reads (never the secret). */
export interface ResolvedCredentials {
  accessKeyId: string;
  sessionToken?: string;
  expiration?: Date;
  /** Set by the SDK's providers: which one resolved (e.g. CREDENTIALS_ENV_VARS). */
  $source?: Record<string, unknown>;
}

export interface DoctorDeps {
  s3: S3Client;
  sqs: SQSClient;
  sns: SNSClient;
  opensearch: Client;
  /** The SDK's default credential chain (the same one the clients use). */
  credentials: () => Promise<ResolvedCredentials>;
  clock: ClockProbe;
  fetch?: typeof fetch;
  now?: () => number;
}

/** What earlier checks learnt that later ones need. */
export interface DoctorContext {
  opts: DoctorOptions;
  deps: DoctorDeps;
  queueArn?: string;
}

export type Check = (ctx: DoctorContext) => Promise<Omit<CheckResult, "ok">>;
