/**
 * The doctor's checks: each a small async function over injected clients that returns
 * {name, status, detail, hint?}. They only read: no message is received (a receive would hide it from
 * the worker for the visibility timeout), nothing is written.
 */
import type { Readable } from "node:stream";
import {
  GetBucketNotificationConfigurationCommand,
  type GetBucketNotificationConfigurationCommandOutput,
  GetObjectCommand,
  ListObjectsV2Command,
} from "@aws-sdk/client-s3";
import { ListSubscriptionsByTopicCommand, type Subscription } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { validateRecord } from "../../core/events/index.ts";
import { readRecords } from "../../core/parse/index.ts";
import { parseTwingateKeyTime } from "../../core/twingate.ts";
import { dashboardsRequest } from "../setup/dashboards-import.ts";
import { buildSavedObjects } from "../setup/dashboards-source.ts";
import { checkTemplates } from "../setup/index.ts";
import { worstSkewSeconds } from "./clock.ts";
import { checkDeviations } from "./data-quality.ts";
import { checkOpenSearchPermissions } from "./permissions.ts";
import { isOpenSearchUp, markOpenSearchUp } from "./reached.ts";
import type { Check, DoctorContext } from "./types.ts";

export const DEFAULT_STALE_FILE_SECONDS = 3600;
export const DEFAULT_MAX_SKEW_SECONDS = 60;
/** Pages of ListObjectsV2 (1000 keys each) the file check reads at most. */
const MAX_LIST_PAGES = 20;
/** Records of the newest file validated at most (the rest is not read). */
const MAX_CHECKED_RECORDS = 50_000;

const errName = (err: unknown): string => (err as { name?: string }).name ?? "Error";
const errStatus = (err: unknown): number | undefined =>
  (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ??
  (err as { meta?: { statusCode?: number } }).meta?.statusCode;
function errMessage(err: unknown): string {
  const e = err as { message?: string; code?: string; cause?: unknown };
  const own = e.message || e.code || String(err);
  const cause = e.cause as { code?: string; message?: string } | undefined;
  const extra = cause?.code ?? cause?.message;
  return (extra && !own.includes(extra) ? `${own} (${extra})` : own).slice(0, 500);
}
const isDenied = (err: unknown) =>
  errStatus(err) === 403 || /AccessDenied|Forbidden|AuthorizationError/i.test(errName(err));
const isMissingQueue = (err: unknown) =>
  /QueueDoesNotExist|NonExistentQueue/i.test(errName(err)) ||
  /NonExistentQueue|does not exist/i.test(errMessage(err));

function ago(seconds: number): string {
  const s = Math.round(seconds);
  if (Math.abs(s) < 120) return `${s} s`;
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)} min`;
  if (Math.abs(s) < 172_800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86_400).toFixed(1)} days`;
}

const now = (ctx: DoctorContext) => (ctx.deps.now ?? Date.now)();

// ---- credentials ------------------------------------------------------------------------------

const CREDENTIAL_SOURCES: [RegExp, string][] = [
  [/STS_WEB_ID_TOKEN|ASSUME_ROLE_WEB_ID/, "web identity token (EKS IRSA, or AWS_WEB_IDENTITY_TOKEN_FILE)"],
  [/^CREDENTIALS_ENV_VARS$/, "environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)"],
  [/^CREDENTIALS_HTTP$/, "container credentials endpoint (ECS task role or EKS Pod Identity)"],
  [/^CREDENTIALS_IMDS$/, "EC2 instance metadata (instance profile role)"],
  [/SSO/, "IAM Identity Center (SSO) via the shared config"],
  [/PROCESS/, "credential_process in the shared config"],
  [/PROFILE|STS_ASSUME_ROLE/, "shared config/credentials profile"],
];

export function describeCredentialSource(source: Record<string, unknown> | undefined): string {
  const features = Object.keys(source ?? {}).filter((k) => k.startsWith("CREDENTIALS_"));
  for (const [re, text] of CREDENTIAL_SOURCES) if (features.some((f) => re.test(f))) return text;
  return features.length > 0 ? features.join(", ") : "the SDK's default chain";
}

export const checkCredentials: Check = async (ctx) => {
  const name = "AWS credentials";
  try {
    const creds = await ctx.deps.credentials();
    const key = creds.accessKeyId;
    const masked = key.length > 8 ? `${key.slice(0, 4)}…${key.slice(-4)}` : "…";
    const source = describeCredentialSource(creds.$source);
    let lifetime = creds.sessionToken ? "temporary" : "long-lived";
    if (creds.expiration) {
      const left = (creds.expiration.getTime() - now(ctx)) / 1000;
      if (left <= 0) {
        return {
          name,
          status: "fail",
          detail: `credentials from ${source} expired ${ago(-left)} ago`,
          hint: "refresh the session (or fix the role the workload runs with)",
        };
      }
      lifetime += `, expire in ${ago(left)}`;
    }
    return {
      name,
      status: "pass",
      detail: `resolved from ${source}: access key ${masked} (${lifetime})`,
      data: { source, accessKeyId: masked },
    };
  } catch (err) {
    return {
      name,
      status: "fail",
      detail: `no credentials resolved: ${errMessage(err)}`,
      hint: "give the workload a role (ECS task role, Lambda execution role, IRSA) or set AWS_PROFILE / AWS_ACCESS_KEY_ID",
    };
  }
};

// ---- queue ------------------------------------------------------------------------------------

interface QueueFacts {
  arn: string;
  attributes: Record<string, string>;
}
const queueFacts = new WeakMap<DoctorContext, QueueFacts>();

export const checkQueue: Check = async (ctx) => {
  const name = "SQS queue";
  const url = ctx.opts.queueUrl;
  if (!url) {
    return {
      name,
      status: "fail",
      detail: "no queue URL configured",
      hint: "set --queue-url / SQS_QUEUE_URL (the terraform module's queue_url output)",
    };
  }
  try {
    const res = await ctx.deps.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
    );
    const a = res.Attributes ?? {};
    const arn = a["QueueArn"] ?? "";
    queueFacts.set(ctx, { arn, attributes: a as Record<string, string> });
    ctx.queueArn = arn;
    const visible = Number(a["ApproximateNumberOfMessages"] ?? 0);
    const inFlight = Number(a["ApproximateNumberOfMessagesNotVisible"] ?? 0);
    const delayed = Number(a["ApproximateNumberOfMessagesDelayed"] ?? 0);
    const visibility = Number(a["VisibilityTimeout"] ?? 0);
    return {
      name,
      status: "pass",
      detail: `${arn}: ${visible} waiting, ${inFlight} in flight, ${delayed} delayed; visibility timeout ${visibility} s`,
      data: { queueArn: arn, visible, inFlight, delayed, visibilityTimeout: visibility },
    };
  } catch (err) {
    if (isMissingQueue(err)) {
      return {
        name,
        status: "fail",
        detail: `queue ${url} does not exist`,
        hint: "check SQS_QUEUE_URL (account and region in the URL), or create it with deploy/terraform",
      };
    }
    if (isDenied(err)) {
      return {
        name,
        status: "fail",
        detail: `access denied reading ${url}: ${errMessage(err)}`,
        hint: "the worker's role needs sqs:GetQueueAttributes, ReceiveMessage, DeleteMessage, ChangeMessageVisibility on the queue",
      };
    }
    return {
      name,
      status: "fail",
      detail: `GetQueueAttributes ${url} failed: ${errName(err)}: ${errMessage(err)}`,
    };
  }
};

// ---- redrive ----------------------------------------------------------------------------------

export const checkRedrive: Check = async (ctx) => {
  const name = "Dead-letter queue";
  const facts = queueFacts.get(ctx);
  if (!facts) return { name, status: "skip", detail: "queue not readable (see above)" };
  const raw = facts.attributes["RedrivePolicy"];
  if (!raw) {
    return {
      name,
      status: "fail",
      detail: `${facts.arn} has no redrive policy: a message that always fails is retried forever`,
      hint: "attach a dead-letter queue with maxReceiveCount 5-10 (deploy/terraform does)",
    };
  }
  let policy: { deadLetterTargetArn?: string; maxReceiveCount?: number | string };
  try {
    policy = JSON.parse(raw) as typeof policy;
  } catch {
    return { name, status: "fail", detail: `redrive policy is not JSON: ${raw.slice(0, 200)}` };
  }
  const dlqArn = policy.deadLetterTargetArn ?? "";
  const maxReceive = Number(policy.maxReceiveCount);
  const parts = dlqArn.split(":");
  if (parts.length < 6 || parts[2] !== "sqs") {
    return {
      name,
      status: "fail",
      detail: `redrive target ${JSON.stringify(dlqArn)} is not an SQS queue ARN`,
    };
  }
  const [dlqName, account] = [parts[5]!, parts[4]!];
  let dlqMessages: number;
  let dlqRetention: number;
  let oldest = "";
  let oldestAgeSeconds: number | undefined;
  try {
    const { QueueUrl } = await ctx.deps.sqs.send(
      new GetQueueUrlCommand({ QueueName: dlqName, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
    );
    const res = await ctx.deps.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "MessageRetentionPeriod"],
      }),
    );
    dlqMessages = Number(res.Attributes?.["ApproximateNumberOfMessages"] ?? 0);
    dlqRetention = Number(res.Attributes?.["MessageRetentionPeriod"] ?? 0);
    if (dlqMessages > 0) {
      // The oldest message's age: CloudWatch's ApproximateAgeOfOldestMessage is not an SQS attribute, so a peek
      // (a receive with visibility 0: the messages stay visible; only their receive count moves) of up to 10,
      // by their SentTimestamp (kept from the original send).
      try {
        const peek = await ctx.deps.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            VisibilityTimeout: 0,
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ["SentTimestamp"],
          }),
        );
        const sent = (peek.Messages ?? [])
          .map((m) => Number(m.Attributes?.["SentTimestamp"]))
          .filter((t) => Number.isFinite(t));
        if (sent.length > 0) {
          oldestAgeSeconds = Math.max(0, Math.round((now(ctx) - Math.min(...sent)) / 1000));
          oldest = `, the oldest seen sent ${ago(oldestAgeSeconds)} ago (a peek at ${sent.length})`;
        }
      } catch (err) {
        oldest = ` (oldest age unknown: ReceiveMessage on it refused: ${errName(err)})`;
      }
    }
  } catch (err) {
    if (isMissingQueue(err)) {
      return {
        name,
        status: "fail",
        detail: `the redrive target ${dlqArn} does not exist: failing messages are lost after ${maxReceive} receives`,
        hint: "create the dead-letter queue (deploy/terraform) or fix the queue's RedrivePolicy",
      };
    }
    return {
      name,
      status: "fail",
      detail: `dead-letter queue ${dlqArn}: ${errName(err)}: ${errMessage(err)}`,
    };
  }
  const data = {
    dlqArn,
    maxReceiveCount: maxReceive,
    dlqMessages,
    ...(oldestAgeSeconds !== undefined ? { dlqOldestAgeSeconds: oldestAgeSeconds } : {}),
  };
  const base = `${dlqArn}, maxReceiveCount ${maxReceive}, ${dlqMessages} message(s) in it${oldest}`;
  if (!Number.isInteger(maxReceive) || maxReceive < 3) {
    return {
      name,
      status: "warn",
      detail: `${base}: maxReceiveCount below 3 sends files to the DLQ on a short OpenSearch outage`,
      hint: "use maxReceiveCount 5-10",
      data,
    };
  }
  if (maxReceive > 50) {
    return {
      name,
      status: "warn",
      detail: `${base}: a poison message is retried ${maxReceive} times before it is set aside`,
      hint: "use maxReceiveCount 5-10",
      data,
    };
  }
  const retention = Number(facts.attributes["MessageRetentionPeriod"] ?? 0);
  if (dlqRetention > 0 && retention > 0 && dlqRetention <= retention) {
    return {
      name,
      status: "warn",
      detail: `${base}: its retention (${ago(dlqRetention)}) is not longer than the queue's (${ago(retention)}), so redriven messages can expire at once`,
      hint: "keep dead letters 14 days",
      data,
    };
  }
  if (dlqMessages > 0) {
    return {
      name,
      status: "warn",
      detail: base,
      hint: "look at the dead letters (logs name the reason), fix the cause, then `twingate-ingest redrive` (--dry-run first)",
      data,
    };
  }
  return { name, status: "pass", detail: base, data };
};

// ---- bucket notification ----------------------------------------------------------------------

/** A key Twingate would write under the configured prefix, to test notification filters against. */
const sampleKey = (prefix: string) => `${prefix}2025-07-25T18:20:00+00:00.json`;

type FilterRules = { Name?: string | undefined; Value?: string | undefined }[] | undefined;

function filterAdmits(rules: FilterRules, key: string): boolean {
  for (const r of rules ?? []) {
    const kind = (r.Name ?? "").toLowerCase();
    const v = r.Value ?? "";
    if (kind === "prefix" && !key.startsWith(v)) return false;
    if (kind === "suffix" && !key.endsWith(v)) return false;
  }
  return true;
}

const coversPut = (events: readonly string[] | undefined) =>
  (events ?? []).some((e) => e === "s3:ObjectCreated:*" || e === "s3:ObjectCreated:Put");

export const checkNotification: Check = async (ctx) => {
  const name = "Bucket notification";
  const bucket = ctx.opts.bucket;
  if (!bucket) {
    return {
      name,
      status: "warn",
      detail: "not checked: no bucket given",
      hint: "pass --bucket (or set BUCKET_ALLOWLIST to the one bucket)",
    };
  }
  const allow = ctx.opts.bucketAllowlist;
  if (allow.length > 0 && !allow.includes(bucket)) {
    return {
      name,
      status: "fail",
      detail: `bucket ${bucket} is not in BUCKET_ALLOWLIST (${allow.join(", ")}): the worker would not fetch its objects`,
      hint: "add it to BUCKET_ALLOWLIST",
    };
  }
  const queueArn = ctx.queueArn;
  if (!queueArn) return { name, status: "skip", detail: "queue not readable (see above)" };
  let conf: GetBucketNotificationConfigurationCommandOutput;
  try {
    conf = await ctx.deps.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: bucket }));
  } catch (err) {
    if (errName(err) === "NoSuchBucket" || errStatus(err) === 404) {
      return { name, status: "fail", detail: `bucket ${bucket} does not exist`, hint: "check --bucket" };
    }
    if (isDenied(err)) {
      return {
        name,
        status: "fail",
        detail: `access denied reading the notification configuration of ${bucket}`,
        hint: "run the doctor with a role that has s3:GetBucketNotification (the worker itself does not need it)",
      };
    }
    return {
      name,
      status: "fail",
      detail: `GetBucketNotificationConfiguration ${bucket}: ${errMessage(err)}`,
    };
  }
  const key = sampleKey(ctx.opts.keyPrefix);
  const policy = queueFacts.get(ctx)?.attributes["Policy"];
  const policyNote = (sourceArn: string) =>
    !policy
      ? { ok: false, text: "the queue has no access policy, so S3/SNS cannot deliver to it" }
      : policy.includes(sourceArn) || policy.includes(bucket)
        ? { ok: true, text: "" }
        : { ok: false, text: `the queue policy does not mention ${sourceArn}` };

  const direct = (conf.QueueConfigurations ?? []).filter((q) => q.QueueArn === queueArn);
  for (const q of direct) {
    if (!coversPut(q.Events) || !filterAdmits(q.Filter?.Key?.FilterRules, key)) continue;
    const p = policyNote(`arn:aws:s3:::${bucket}`);
    if (!p.ok) {
      return {
        name,
        status: policy ? "warn" : "fail",
        detail: `s3://${bucket} notifies ${queueArn} directly, but ${p.text}`,
        hint: "allow sqs:SendMessage to the s3.amazonaws.com principal with aws:SourceArn = the bucket (deploy/terraform does)",
      };
    }
    return {
      name,
      status: "pass",
      detail: `s3://${bucket} sends ${q.Events?.join(", ")} for ${JSON.stringify(key)} to ${queueArn}`,
      data: { via: "sqs", events: q.Events },
    };
  }
  if (direct.length > 0) {
    const why = direct
      .map((q) =>
        !coversPut(q.Events)
          ? `events ${q.Events?.join(", ")} do not include s3:ObjectCreated:Put`
          : `its filter (${(q.Filter?.Key?.FilterRules ?? []).map((r) => `${r.Name}=${r.Value}`).join(", ")}) excludes ${JSON.stringify(key)}`,
      )
      .join("; ");
    return {
      name,
      status: "fail",
      detail: `s3://${bucket} notifies the queue but ${why}`,
      hint: "send s3:ObjectCreated:* with at most prefix = KEY_PREFIX and suffix .json",
    };
  }

  for (const t of conf.TopicConfigurations ?? []) {
    if (!t.TopicArn || !coversPut(t.Events) || !filterAdmits(t.Filter?.Key?.FilterRules, key)) continue;
    let subs: Subscription[] = [];
    try {
      let next: string | undefined;
      do {
        const res = await ctx.deps.sns.send(
          new ListSubscriptionsByTopicCommand({ TopicArn: t.TopicArn, ...(next ? { NextToken: next } : {}) }),
        );
        subs = subs.concat(res.Subscriptions ?? []);
        next = res.NextToken;
      } while (next);
    } catch (err) {
      return {
        name,
        status: "fail",
        detail: `s3://${bucket} notifies SNS topic ${t.TopicArn}, whose subscriptions cannot be read: ${errName(err)}: ${errMessage(err)}`,
        hint: "run the doctor with sns:ListSubscriptionsByTopic, or check the subscription in the console",
      };
    }
    if (subs.some((s) => s.Protocol === "sqs" && s.Endpoint === queueArn)) {
      const p = policyNote(t.TopicArn);
      return {
        name,
        status: p.ok ? "pass" : policy ? "warn" : "fail",
        detail: `s3://${bucket} → SNS ${t.TopicArn} → ${queueArn}${p.ok ? "" : `, but ${p.text}`}`,
        ...(p.ok
          ? {}
          : { hint: "allow sqs:SendMessage to sns.amazonaws.com with aws:SourceArn = the topic" }),
        data: { via: "sns", topicArn: t.TopicArn },
      };
    }
  }

  if (conf.EventBridgeConfiguration) {
    return {
      name,
      status: "pass",
      detail: `s3://${bucket} sends its events to EventBridge; a rule must route "Object Created" to ${queueArn} (rules are not checked)`,
      data: { via: "eventbridge" },
    };
  }
  const elsewhere = [
    ...(conf.QueueConfigurations ?? []).map((q) => q.QueueArn),
    ...(conf.TopicConfigurations ?? []).map((t) => t.TopicArn),
    ...(conf.LambdaFunctionConfigurations ?? []).map((l) => l.LambdaFunctionArn),
  ].filter((x): x is string => Boolean(x));
  return {
    name,
    status: "fail",
    detail:
      elsewhere.length > 0
        ? `s3://${bucket} notifies ${elsewhere.join(", ")}, not ${queueArn}`
        : `s3://${bucket} has no event notification: new Twingate files will never reach the queue`,
    hint: "configure s3:ObjectCreated:* to the queue (deploy/terraform, or `produce --setup` on a lab stack)",
  };
};

// ---- newest Twingate file ---------------------------------------------------------------------

interface Candidate {
  key: string;
  time: number;
}

async function newestTwingateKey(
  ctx: DoctorContext,
  bucket: string,
): Promise<{ newest?: Candidate; seen: number; matched: number; truncated: boolean }> {
  const re = new RegExp(ctx.opts.keyPattern);
  const prefix = ctx.opts.keyPrefix;
  let seen = 0;
  let matched = 0;
  let newest: Candidate | undefined;
  let truncated = false;
  const scan = async (startAfter?: string) => {
    let token: string | undefined;
    let pages = 0;
    do {
      const res = await ctx.deps.s3.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          ...(prefix ? { Prefix: prefix } : {}),
          ...(startAfter ? { StartAfter: startAfter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      for (const o of res.Contents ?? []) {
        if (!o.Key) continue;
        seen++;
        if (!re.test(o.Key)) continue;
        matched++;
        const time = parseTwingateKeyTime(o.Key)?.getTime() ?? o.LastModified?.getTime() ?? 0;
        if (!newest || time > newest.time) newest = { key: o.Key, time };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
      if (++pages >= MAX_LIST_PAGES && token) {
        truncated = true;
        break;
      }
    } while (token);
  };
  // Twingate's names sort by time: start two days back first, and list everything only if that finds nothing.
  const since = new Date(now(ctx) - 2 * 86_400_000).toISOString().slice(0, 10);
  await scan(`${prefix}${since}`);
  if (!newest) {
    seen = 0;
    matched = 0;
    truncated = false;
    await scan();
  }
  return { ...(newest ? { newest } : {}), seen, matched, truncated };
}

export const checkNewestFile: Check = async (ctx) => {
  const name = "Newest Twingate file";
  const bucket = ctx.opts.bucket;
  if (!bucket) return { name, status: "warn", detail: "not checked: no bucket given", hint: "pass --bucket" };
  const where = `s3://${bucket}/${ctx.opts.keyPrefix}`;
  let found: Awaited<ReturnType<typeof newestTwingateKey>>;
  try {
    found = await newestTwingateKey(ctx, bucket);
  } catch (err) {
    return {
      name,
      status: "fail",
      detail: `cannot list ${where}: ${errName(err)}: ${errMessage(err)}`,
      ...(isDenied(err)
        ? { hint: "the worker's role needs s3:ListBucket on the bucket (for backfill)" }
        : {}),
    };
  }
  if (!found.newest) {
    return {
      name,
      status: "fail",
      detail:
        found.seen > 0
          ? `${found.seen} object(s) under ${where}${found.truncated ? " (listing cut short)" : ""}, none named like Twingate's files`
          : `no objects under ${where}`,
      hint:
        found.seen > 0
          ? "check KEY_PREFIX and KEY_PATTERN"
          : "check the sync in Twingate's Admin Console (Settings → Reports): files arrive within 10 minutes, and only when there are events",
    };
  }
  const { key, time } = found.newest;
  const age = (now(ctx) - time) / 1000;
  let body: Readable;
  try {
    const res = await ctx.deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    body = res.Body as Readable;
  } catch (err) {
    return {
      name,
      status: "fail",
      detail: `cannot read s3://${bucket}/${key}: ${errName(err)}: ${errMessage(err)}`,
      ...(isDenied(err)
        ? {
            hint: "the worker's role needs s3:GetObject on the bucket, and kms:Decrypt on its key for SSE-KMS",
          }
        : {}),
    };
  }
  let records = 0;
  let valid = 0;
  let invalid = 0;
  let firstProblem: string | undefined;
  let fileError: string | undefined;
  let cut = false;
  const byType: Record<string, number> = {};
  try {
    for await (const item of readRecords(body, {
      maxRecordBytes: ctx.opts.maxRecordBytes,
      maxFileBytes: ctx.opts.maxFileBytes,
    })) {
      if (item.kind === "file_error") {
        fileError = `${item.reason}: ${item.message}`;
        break;
      }
      records++;
      if (item.kind === "rejected") {
        invalid++;
        firstProblem ??= `record ${item.rejection.ordinal}: ${item.rejection.message}`;
      } else {
        const v = validateRecord(item.value);
        if (v.ok) {
          valid++;
          byType[v.record.event_type] = (byType[v.record.event_type] ?? 0) + 1;
        } else {
          invalid++;
          firstProblem ??= `record ${item.ordinal}: ${v.message}`;
        }
      }
      if (records >= MAX_CHECKED_RECORDS) {
        cut = true;
        break;
      }
    }
  } catch (err) {
    return { name, status: "fail", detail: `reading s3://${bucket}/${key} failed: ${errMessage(err)}` };
  }
  const types = Object.entries(byType)
    .map(([t, n]) => `${t} ${n}`)
    .join(", ");
  const detail = `s3://${bucket}/${key} (${ago(age)} old): ${records}${cut ? "+" : ""} record(s), ${valid} valid${types ? ` (${types})` : ""}, ${invalid} invalid`;
  const data = { key, ageSeconds: Math.round(age), records, valid, invalid, byType, listed: found.matched };
  if (fileError) {
    return {
      name,
      status: "fail",
      detail: `${detail}; the file is unreadable: ${fileError}`,
      hint: "the worker quarantines such a file; check it is a Twingate file and not truncated",
      data,
    };
  }
  if (invalid > 0) {
    return {
      name,
      status: valid === 0 ? "fail" : "warn",
      detail: `${detail}; first problem: ${firstProblem}`,
      hint: "invalid records go to the quarantine index; if Twingate changed its format, update the schemas",
      data,
    };
  }
  const stale = ctx.opts.staleFileSeconds ?? DEFAULT_STALE_FILE_SECONDS;
  if (age > stale) {
    return {
      name,
      status: "warn",
      detail,
      hint: "no new file for a while: Twingate writes nothing when there are no events, else check the sync status in the Admin Console",
      data,
    };
  }
  if (records === 0) return { name, status: "warn", detail: `${detail}; the file is empty`, data };
  return { name, status: "pass", detail, data };
};

// ---- OpenSearch -------------------------------------------------------------------------------

export const checkOpenSearch: Check = async (ctx) => {
  const name = "OpenSearch";
  const client = ctx.deps.opensearch;
  try {
    const info = await client.transport.request({ method: "GET", path: "/" });
    ctx.deps.clock.record("OpenSearch", info.headers?.["date"]);
    const health = await client.transport.request({ method: "GET", path: "/_cluster/health" });
    const v = (info.body as { version?: { number?: string; distribution?: string } }).version;
    const h = health.body as { status?: string; number_of_data_nodes?: number; cluster_name?: string };
    markOpenSearchUp(ctx);
    const detail = `${v?.distribution ?? "opensearch"} ${v?.number ?? "?"}, cluster ${h.cluster_name ?? "?"} ${h.status ?? "?"} with ${h.number_of_data_nodes ?? "?"} data node(s)`;
    const data = { version: v?.number, status: h.status, dataNodes: h.number_of_data_nodes };
    if (h.status === "red") {
      return {
        name,
        status: "fail",
        detail,
        hint: "some primary shards are unassigned: see _cluster/allocation/explain",
        data,
      };
    }
    if (h.status === "yellow") {
      return {
        name,
        status: "warn",
        detail,
        hint: "replicas are unassigned: add a node or lower replicas",
        data,
      };
    }
    return { name, status: "pass", detail, data };
  } catch (err) {
    const status = errStatus(err);
    const msg = errMessage(err);
    let hint = "check OPENSEARCH_URL and that the network (security groups, VPC endpoint) lets the worker in";
    if (status === 401) hint = "check OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD";
    else if (status === 403)
      hint =
        "the user or role lacks permissions: map the worker's role to a role with cluster and index write access";
    else if (/certificate|self[- ]signed|CERT|TLS|SSL/i.test(msg))
      hint = "give OPENSEARCH_CA_FILE the CA that signed the node's certificate";
    return {
      name,
      status: "fail",
      detail: `not reachable: ${status ? `HTTP ${status}: ` : ""}${errName(err)}: ${msg}`,
      hint,
    };
  }
};

export const checkTemplatesInstalled: Check = async (ctx) => {
  const name = "Index templates";
  if (!isOpenSearchUp(ctx)) return { name, status: "skip", detail: "OpenSearch not reachable (see above)" };
  const prefix = ctx.opts.indexPrefix;
  try {
    const { missing, outdated, newer } = await checkTemplates(ctx.deps.opensearch, prefix);
    if (missing.length > 0) {
      return {
        name,
        status: "fail",
        detail: `${missing.length} missing for prefix ${JSON.stringify(prefix)}: ${missing.slice(0, 3).join(", ")}${missing.length > 3 ? ", ..." : ""}`,
        hint: "run `twingate-ingest setup` (or start the worker with AUTO_SETUP=true)",
        data: { missing, outdated },
      };
    }
    if (outdated.length > 0) {
      return {
        name,
        status: "warn",
        detail: `installed, but older than this version: ${outdated.join(", ")}`,
        hint: "run `twingate-ingest setup` to update them (new indices pick them up)",
        data: { missing, outdated },
      };
    }
    if (newer.length > 0) {
      return {
        name,
        status: "warn",
        detail: `installed by a newer version of twingate-ingest: ${newer.join(", ")}`,
        hint: "this version writes with them and never overwrites them; upgrade it (docs/DEPLOY.md, Upgrading)",
        data: { missing, outdated, newer },
      };
    }
    return { name, status: "pass", detail: `all installed and current for prefix ${JSON.stringify(prefix)}` };
  } catch (err) {
    return { name, status: "fail", detail: `cannot read templates: ${errName(err)}: ${errMessage(err)}` };
  }
};

// ---- dashboards -------------------------------------------------------------------------------

export const checkDashboards: Check = async (ctx) => {
  const name = "Dashboards";
  const base = ctx.opts.dashboardsUrl;
  if (!base) return { name, status: "skip", detail: "not checked (no --dashboards-url)" };
  let request: ReturnType<typeof dashboardsRequest>;
  try {
    request = dashboardsRequest(base, "api/saved_objects/_find", {
      username: ctx.opts.dashboardsUsername,
      password: ctx.opts.dashboardsPassword,
    });
  } catch (err) {
    return { name, status: "fail", detail: errMessage(err) };
  }
  const { url, headers } = request;
  url.searchParams.append("type", "dashboard");
  url.searchParams.append("type", "index-pattern");
  url.searchParams.set("per_page", "10000");
  url.searchParams.set("fields", "title");
  const expected = buildSavedObjects(ctx.opts.indexPrefix).filter(
    (o) => o.type === "dashboard" || o.type === "index-pattern",
  );
  try {
    const res = await (ctx.deps.fetch ?? fetch)(url, { headers, signal: AbortSignal.timeout(30_000) });
    ctx.deps.clock.record("Dashboards", res.headers.get("date"));
    const text = await res.text();
    if (!res.ok) {
      return {
        name,
        status: "fail",
        detail: `${url.origin}: HTTP ${res.status}: ${text.slice(0, 200)}`,
        ...(res.status === 401 || res.status === 403
          ? { hint: "check the credentials (--dashboards-username / --dashboards-password)" }
          : {}),
      };
    }
    const body = JSON.parse(text) as { saved_objects?: { type: string; id: string }[] };
    const present = new Set((body.saved_objects ?? []).map((o) => `${o.type}/${o.id}`));
    const missing = expected.filter((o) => !present.has(`${o.type}/${o.id}`)).map((o) => `${o.type}/${o.id}`);
    const dashboards = expected.filter((o) => o.type === "dashboard").length;
    if (missing.length > 0) {
      return {
        name,
        status: "fail",
        detail: `${missing.length} of ${expected.length} saved objects missing in ${url.origin}: ${missing.slice(0, 5).join(", ")}${missing.length > 5 ? ", ..." : ""}`,
        hint: "run `twingate-ingest setup --dashboards-url ...`",
        data: { missing },
      };
    }
    return {
      name,
      status: "pass",
      detail: `${dashboards} dashboard(s) and ${expected.length - dashboards} index pattern(s) installed in ${url.origin}`,
    };
  } catch (err) {
    return { name, status: "fail", detail: `${url.origin} not reachable: ${errMessage(err)}` };
  }
};

// ---- clock ------------------------------------------------------------------------------------

export const checkClock: Check = async (ctx) => {
  const name = "Clock";
  const samples = ctx.deps.clock.samples;
  const worst = worstSkewSeconds(samples);
  if (!worst) return { name, status: "skip", detail: "no response carried a Date header to compare with" };
  const max = ctx.opts.maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  const sources = [...new Set(samples.map((s) => s.source))].join(", ");
  const skew = Math.round(worst.skew);
  const data = { skewSeconds: skew, against: worst.source };
  if (Math.abs(worst.skew) > max) {
    return {
      name,
      status: "warn",
      detail: `local clock is ${Math.abs(skew)} s ${skew > 0 ? "ahead of" : "behind"} ${worst.source}`,
      hint: "enable NTP (chrony / systemd-timesyncd): AWS refuses signatures more than 5 minutes off, and ages and lag are computed locally",
      data,
    };
  }
  return { name, status: "pass", detail: `within ${Math.abs(skew)} s of ${sources}`, data };
};

/** Every check, in the order they run and print. */
export const ALL_CHECKS: Check[] = [
  checkCredentials,
  checkQueue,
  checkRedrive,
  checkNotification,
  checkNewestFile,
  checkOpenSearch,
  checkTemplatesInstalled,
  checkOpenSearchPermissions,
  checkDeviations,
  checkDashboards,
  checkClock,
];
