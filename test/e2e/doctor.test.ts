/**
 * `doctor` against the local stack (moto S3/SQS/SNS + OpenSearch; skipped without the endpoints):
 * a healthy deployment passes, and each thing that usually goes wrong is reported as a failure of the
 * right check. Every case uses its own bucket, queues and index prefix.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  CreateBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { Client } from "@opensearch-project/opensearch";
import { createS3Client, createSnsClient, createSqsClient } from "../../src/platform/aws/clients.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createOpenSearchClient } from "../../src/platform/opensearch/client.ts";
import {
  type CheckResult,
  ClockProbe,
  checkDeviations,
  checkOpenSearch,
  type DoctorDeps,
  type DoctorOptions,
  type DoctorReport,
  runDoctor,
} from "../../src/tools/doctor/index.ts";
import { runSetup } from "../../src/tools/setup/index.ts";
import { dropPrefix, uniqueName } from "../helpers/stack.ts";

const ENV_OK = ["OPENSEARCH_URL", "S3_ENDPOINT", "SQS_ENDPOINT", "SNS_ENDPOINT"].every((k) => process.env[k]);
const run = `${process.pid}-${Date.now().toString(36)}`;
const silent = createLogger("silent");
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SAMPLE = readFileSync(new URL("../fixtures/files/2025-07-25T18:20:00+00:00.json", import.meta.url));

/** A Twingate-style key for the 5-minute slot `minutesAgo` back. */
function slotKey(minutesAgo: number, prefix = ""): string {
  const t = Math.floor((Date.now() - minutesAgo * 60_000) / 300_000) * 300_000;
  return `${prefix}${new Date(t).toISOString().slice(0, 19)}+00:00.json`;
}

describe("doctor against the local stack", { skip: ENV_OK ? false : "stack endpoints not set" }, () => {
  let s3: S3Client;
  let sqs: SQSClient;
  let sns: SNSClient;
  let opensearch: Client;
  const config = loadConfig({});
  const templated = uniqueName("e2e-doctor");

  before(async () => {
    s3 = createS3Client(config);
    sqs = createSqsClient(config);
    sns = createSnsClient(config);
    opensearch = createOpenSearchClient(config);
    await runSetup(opensearch, { indexPrefix: templated }, silent);
  });
  after(async () => {
    await dropPrefix(opensearch, templated);
    await opensearch.close();
    for (const c of [s3, sqs, sns]) c.destroy();
  });

  async function queue(name: string): Promise<{ url: string; arn: string }> {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
    return { url: QueueUrl!, arn: a.Attributes!["QueueArn"]! };
  }

  /** Bucket + queue (+ DLQ and redrive unless told not to) + notification, as a deployment has them. */
  async function deployment(
    tag: string,
    o: {
      redrive?: boolean;
      notify?: "queue" | "other" | "sns" | "none";
      files?: Record<string, string | Buffer>;
    } = {},
  ) {
    const bucket = `e2e-doctor-${tag}-${run}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const q = await queue(`e2e-doctor-${tag}-${run}`);
    const attrs: Record<string, string> = {
      Policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { Service: "s3.amazonaws.com" },
            Action: "sqs:SendMessage",
            Resource: q.arn,
            Condition: { ArnLike: { "aws:SourceArn": `arn:aws:s3:::${bucket}` } },
          },
        ],
      }),
    };
    if (o.redrive !== false) {
      const dlq = await queue(`e2e-doctor-${tag}-${run}-dlq`);
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: dlq.url,
          Attributes: { MessageRetentionPeriod: String(14 * 86_400) },
        }),
      );
      attrs["RedrivePolicy"] = JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 });
    }
    await sqs.send(new SetQueueAttributesCommand({ QueueUrl: q.url, Attributes: attrs }));
    const notify = o.notify ?? "queue";
    if (notify === "queue" || notify === "other") {
      const target = notify === "queue" ? q.arn : (await queue(`e2e-doctor-${tag}-${run}-other`)).arn;
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: {
            QueueConfigurations: [{ QueueArn: target, Events: ["s3:ObjectCreated:*"] }],
          },
        }),
      );
    } else if (notify === "sns") {
      const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `e2e-doctor-${tag}-${run}` }));
      await sns.send(new SubscribeCommand({ TopicArn, Protocol: "sqs", Endpoint: q.arn }));
      await sqs.send(
        new SetQueueAttributesCommand({
          QueueUrl: q.url,
          Attributes: {
            Policy: JSON.stringify({
              Statement: [{ Condition: { ArnEquals: { "aws:SourceArn": TopicArn } } }],
            }),
          },
        }),
      );
      await s3.send(
        new PutBucketNotificationConfigurationCommand({
          Bucket: bucket,
          NotificationConfiguration: { TopicConfigurations: [{ TopicArn, Events: ["s3:ObjectCreated:*"] }] },
        }),
      );
    }
    const files = o.files ?? { [slotKey(3)]: SAMPLE };
    for (const [Key, Body] of Object.entries(files))
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
    return { bucket, queueUrl: q.url, queueArn: q.arn };
  }

  function options(
    d: { bucket: string; queueUrl: string },
    over: Partial<DoctorOptions> = {},
  ): DoctorOptions {
    return {
      queueUrl: d.queueUrl,
      bucket: d.bucket,
      keyPrefix: "",
      keyPattern: config.keyPattern,
      bucketAllowlist: [],
      indexPrefix: templated,
      maxRecordBytes: config.maxRecordBytes,
      maxFileBytes: config.maxFileBytes,
      ...over,
    };
  }

  function deps(over: Partial<DoctorDeps> = {}): DoctorDeps {
    const clock = new ClockProbe();
    clock.attach("S3", s3);
    clock.attach("SQS", sqs);
    return { s3, sqs, sns, opensearch, clock, credentials: defaultProvider(), ...over };
  }

  const get = (r: DoctorReport, name: string): CheckResult => {
    const c = r.checks.find((x) => x.name === name);
    assert.ok(c, `no check named ${name}`);
    return c;
  };

  test("a healthy deployment passes every check", async () => {
    const d = await deployment("ok");
    const r = await runDoctor(deps(), options(d));
    const failures = r.checks.filter((c) => c.status === "fail");
    assert.deepEqual(failures, []);
    assert.equal(r.ok, true);
    assert.equal(get(r, "AWS credentials").status, "pass");
    assert.match(get(r, "AWS credentials").detail, /environment variables/);
    assert.equal(get(r, "SQS queue").status, "pass");
    assert.equal(get(r, "Dead-letter queue").status, "pass");
    assert.equal(get(r, "Bucket notification").status, "pass");
    const file = get(r, "Newest Twingate file");
    assert.equal(file.status, "pass");
    assert.equal(file.data?.["valid"], 4);
    assert.equal(file.data?.["invalid"], 0);
    assert.notEqual(get(r, "OpenSearch").status, "fail");
    assert.equal(get(r, "Index templates").status, "pass");
    assert.equal(get(r, "Dashboards").status, "skip");
    assert.equal(get(r, "Clock").status, "pass");
  });

  test("the newest of several files is the one read, under the key prefix", async () => {
    const older = slotKey(60, "tg/");
    const newer = slotKey(10, "tg/");
    const d = await deployment("newest", {
      files: {
        [older]: "not json at all",
        [newer]: SAMPLE,
        "tg/readme.txt": "x",
        [slotKey(5)]: "outside prefix",
      },
    });
    const r = await runDoctor(deps(), options(d, { keyPrefix: "tg/" }));
    const file = get(r, "Newest Twingate file");
    assert.equal(file.status, "pass", file.detail);
    assert.equal(file.data?.["key"], newer);
    assert.equal(file.data?.["listed"], 2);
  });

  test("missing queue", async () => {
    const d = await deployment("noqueue");
    const r = await runDoctor(deps(), options(d, { queueUrl: `${d.queueUrl}-missing` }));
    assert.equal(r.ok, false);
    assert.equal(get(r, "SQS queue").status, "fail");
    assert.match(get(r, "SQS queue").detail, /does not exist/);
    assert.equal(get(r, "Dead-letter queue").status, "skip");
  });

  test("queue without a redrive policy", async () => {
    const d = await deployment("noredrive", { redrive: false });
    const r = await runDoctor(deps(), options(d));
    assert.equal(r.ok, false);
    const c = get(r, "Dead-letter queue");
    assert.equal(c.status, "fail");
    assert.match(c.detail, /no redrive policy/);
    assert.equal(get(r, "SQS queue").status, "pass");
  });

  test("bucket without a notification", async () => {
    const d = await deployment("nonotify", { notify: "none" });
    const r = await runDoctor(deps(), options(d));
    const c = get(r, "Bucket notification");
    assert.equal(c.status, "fail");
    assert.match(c.detail, /no event notification/);
    assert.equal(r.ok, false);
  });

  test("notification to another queue", async () => {
    const d = await deployment("otherq", { notify: "other" });
    const r = await runDoctor(deps(), options(d));
    const c = get(r, "Bucket notification");
    assert.equal(c.status, "fail");
    assert.match(c.detail, /-otherq-.*-other, not arn:/);
  });

  test("notification through an SNS topic the queue subscribes to", async () => {
    const d = await deployment("sns", { notify: "sns" });
    const r = await runDoctor(deps(), options(d));
    const c = get(r, "Bucket notification");
    assert.equal(c.status, "pass", c.detail);
    assert.equal(c.data?.["via"], "sns");
  });

  test("bucket not in the allowlist", async () => {
    const d = await deployment("allow");
    const r = await runDoctor(deps(), options(d, { bucketAllowlist: ["some-other-bucket"] }));
    assert.equal(get(r, "Bucket notification").status, "fail");
    assert.match(get(r, "Bucket notification").detail, /BUCKET_ALLOWLIST/);
  });

  test("bucket with no Twingate files", async () => {
    const d = await deployment("nofiles", { files: { "notes/readme.txt": "hello" } });
    const r = await runDoctor(deps(), options(d));
    const c = get(r, "Newest Twingate file");
    assert.equal(c.status, "fail");
    assert.match(c.detail, /1 object\(s\).*none named like Twingate's files/);
  });

  test("an invalid newest file", async () => {
    const bad =
      '{"event_type":"network_access","event":{"version":1}}\n{"event_type":"network_access","event":{}}\n';
    const d = await deployment("invalid", { files: { [slotKey(3)]: bad } });
    const r = await runDoctor(deps(), options(d));
    const c = get(r, "Newest Twingate file");
    assert.equal(c.status, "fail");
    assert.equal(c.data?.["invalid"], 2);
    assert.match(c.detail, /first problem: record/);
  });

  test("an unreadable newest file", async () => {
    const d = await deployment("garbage", { files: { [slotKey(3)]: "{{{ this is not JSON" } });
    const r = await runDoctor(deps(), options(d));
    assert.equal(get(r, "Newest Twingate file").status, "fail");
  });

  test("OpenSearch unreachable (wrong port): templates are not checked", async () => {
    const d = await deployment("noos");
    const unreachable = createOpenSearchClient({ ...config, opensearchUrl: ["http://127.0.0.1:9"] });
    try {
      const r = await runDoctor(deps({ opensearch: unreachable }), options(d));
      const c = get(r, "OpenSearch");
      assert.equal(c.status, "fail");
      assert.match(c.detail, /not reachable/);
      assert.match(c.hint ?? "", /OPENSEARCH_URL/);
      assert.equal(get(r, "Index templates").status, "skip");
      assert.equal(r.ok, false);
    } finally {
      await unreachable.close();
    }
  });

  test("templates missing for the index prefix", async () => {
    const d = await deployment("notemplates");
    const r = await runDoctor(deps(), options(d, { indexPrefix: `e2e-doctor-none-${run}` }));
    const c = get(r, "Index templates");
    assert.equal(c.status, "fail");
    assert.match(c.hint ?? "", /setup/);
  });

  test("the CLI prints PASS/FAIL lines, --json, and exits 0 only when nothing fails", async () => {
    const d = await deployment("cli");
    const cli = (args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "doctor", ...args], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, INDEX_PREFIX: templated, SQS_QUEUE_URL: d.queueUrl, LOG_LEVEL: "silent" },
      });
    const good = cli(["--bucket", d.bucket]);
    assert.equal(good.status, 0, good.stdout + good.stderr);
    assert.match(good.stdout, /^PASS {2}SQS queue: /m);
    assert.match(good.stdout, /^OK: /m);

    const bad = cli(["--bucket", d.bucket, "--json", "--index-prefix", `e2e-doctor-none-${run}`]);
    assert.equal(bad.status, 1, bad.stderr);
    const report = JSON.parse(bad.stdout) as DoctorReport;
    assert.equal(report.ok, false);
    assert.deepEqual(
      report.checks.filter((c) => c.status === "fail").map((c) => c.name),
      ["Index templates"],
    );
  });

  test("deviation paths in the stream indices: a path first indexed in the last 24 h is a warning naming it", async () => {
    const index = `${templated}-network_access-2025-07`;
    const hourAgo = new Date(Date.now() - 3600_000).toISOString();
    const monthAgo = new Date(Date.now() - 30 * 24 * 3600_000).toISOString();
    const doc = (paths: string[], at: string) => ({
      "@timestamp": "2025-07-25T18:19:41Z",
      event_type: "network_access",
      ingest: { deviation_paths: paths, ingested_at: at },
    });
    try {
      const bulkBody = [
        doc(["event.resource.port"], monthAgo),
        doc(["event.resource.port"], hourAgo),
        doc(["event.connection.client_ip", "event.resource.port"], hourAgo),
      ].flatMap((d) => [{ index: { _index: index } }, d]);
      const res = await opensearch.transport.request({
        method: "POST",
        path: "/_bulk",
        querystring: { refresh: "true" },
        bulkBody,
      });
      assert.equal((res.body as { errors: boolean }).errors, false);
      const ctx = { deps: deps(), opts: options({ bucket: "unused", queueUrl: "unused" }) };
      await checkOpenSearch(ctx);
      const r = await checkDeviations(ctx);
      assert.equal(r.status, "warn", r.detail);
      assert.match(r.detail, /in the last 24 h: event\.connection\.client_ip \(1\); 2 path\(s\) in all/);
      assert.deepEqual(r.data?.["fresh"], ["event.connection.client_ip"]);
    } finally {
      await opensearch.transport.request({ method: "DELETE", path: `/${index}` }, { ignore: [404] });
    }
  });
});
