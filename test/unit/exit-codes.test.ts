/**
 * One exit-code rule for every command (README, "Exit codes"): 0 done, 1 the work found problems, 2 usage or
 * configuration (the message names the setting, no stack trace), 130 interrupted. In-process (`main`), with
 * AWS mocked and OpenSearch played by a small HTTP server, so each command's configuration errors are tried
 * without the stack.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { main } from "../../src/cli/program.ts";

const COMMANDS = [
  "worker",
  "backfill",
  "setup",
  "doctor",
  "produce",
  "validate",
  "replay",
  "gaps",
  "redrive",
];

/** Runs the CLI in this process; its stdout and stderr captured (pino writes to fd 2 directly: not captured). */
async function run(args: string[], env: Record<string, string> = {}) {
  let out = "";
  let err = "";
  const saved = { out: process.stdout.write, err: process.stderr.write, env: { ...process.env } };
  // Teed, not swallowed: the test runner's own reports go to this process's stdout too.
  process.stdout.write = ((c: string | Uint8Array, ...rest: unknown[]) => {
    out += String(c);
    return (saved.out as (...a: unknown[]) => boolean).call(process.stdout, c, ...rest);
  }) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => {
    err += String(c);
    return true;
  }) as typeof process.stderr.write;
  Object.assign(process.env, { LOG_LEVEL: "silent", AWS_REGION: "eu-west-1", ...env });
  try {
    const code = await main(args);
    return { code, out, err };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.env = saved.env;
  }
}

const noStack = (text: string) => assert.doesNotMatch(text, /\n\s+at /, `no stack trace in:\n${text}`);

/** OpenSearch refusing the credentials, as a wrong password gets. */
let unauthorised: Server;
let url401 = "";
before(async () => {
  unauthorised = createServer((_req, res) => {
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: "Unauthorized" }));
  });
  await new Promise<void>((r) => unauthorised.listen(0, "127.0.0.1", r));
  url401 = `http://127.0.0.1:${(unauthorised.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => unauthorised.close(() => r())));

const sqs = mockClient(SQSClient);
const s3 = mockClient(S3Client);
afterEach(() => {
  sqs.reset();
  s3.reset();
});
const queueUrl = "https://sqs.eu-west-1.amazonaws.com/123456789012/tg-typo";
const missingQueue = () =>
  Object.assign(new Error("The specified queue does not exist."), {
    name: "QueueDoesNotExist",
    $metadata: { httpStatusCode: 400 },
  });

/** An AWS SDK error as the clients throw them: its code as name, the HTTP status in $metadata. */
const awsError = (name: string, status: number) =>
  Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status } });

describe("exit codes", () => {
  it("every command's --help ends with the rule", async () => {
    for (const c of COMMANDS) {
      const r = await run([c, "--help"]);
      assert.equal(r.code, 0, c);
      assert.match(
        r.out.replace(/\s+/g, " "),
        /Exit codes: 0 done.*; 1 .*; 2 usage or configuration error.*; 130 /,
        c,
      );
    }
  });

  it("usage errors are 2 for every command", async () => {
    for (const c of COMMANDS) {
      const r = await run([c, "--bogus"]);
      assert.equal(r.code, 2, `${c}: ${r.err}`);
      assert.match(
        r.err,
        /Unknown argument: bogus|Not enough non-option arguments|Missing required argument/,
      );
    }
  });

  it("worker: a queue that does not exist is exit 2 naming SQS_QUEUE_URL, at once", async () => {
    sqs.on(GetQueueAttributesCommand).rejects(missingQueue());
    const r = await run([
      "worker",
      "--queue-url",
      queueUrl,
      "--metrics-port",
      "0",
      "--opensearch-url",
      url401,
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /SQS_QUEUE_URL/);
    noStack(r.err);
  });

  it("worker: access denied on the queue is exit 2", async () => {
    sqs.on(GetQueueAttributesCommand).rejects(
      Object.assign(new Error("not authorized to perform: sqs:getqueueattributes"), {
        name: "AccessDenied",
        $metadata: { httpStatusCode: 403 },
      }),
    );
    const r = await run([
      "worker",
      "--queue-url",
      queueUrl,
      "--metrics-port",
      "0",
      "--opensearch-url",
      url401,
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /access denied/);
    noStack(r.err);
  });

  it("worker: wrong OpenSearch credentials are exit 2 naming OPENSEARCH_USERNAME / OPENSEARCH_PASSWORD", async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: "arn" } });
    const r = await run([
      "worker",
      "--queue-url",
      queueUrl,
      "--metrics-port",
      "0",
      "--opensearch-url",
      url401,
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /OPENSEARCH_USERNAME \/ OPENSEARCH_PASSWORD/);
    noStack(r.err);
  });

  it("worker: a BUCKET_ALLOWLIST bucket that does not exist, or access denied on it, is exit 2 naming BUCKET_ALLOWLIST, at once", async () => {
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: { QueueArn: "arn" } });
    const worker = ["worker", "--queue-url", queueUrl, "--metrics-port", "0", "--opensearch-url", url401];
    s3.on(GetObjectCommand).rejects(awsError("NoSuchBucket", 404));
    let r = await run(worker, { BUCKET_ALLOWLIST: "tg-typo", KEY_PREFIX: "twingate/" });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /the bucket tg-typo does not exist .*check BUCKET_ALLOWLIST/);
    noStack(r.err);
    // the probe is a read of a key that does not exist, under KEY_PREFIX
    const probe = s3.commandCalls(GetObjectCommand)[0]!.args[0].input;
    assert.equal(probe.Bucket, "tg-typo");
    assert.match(probe.Key ?? "", /^twingate\//);

    s3.reset();
    s3.on(GetObjectCommand).rejects(awsError("AccessDenied", 403));
    r = await run(worker, { BUCKET_ALLOWLIST: "tg-ok,tg-denied" });
    assert.equal(r.code, 2, r.err);
    assert.match(
      r.err,
      /access denied reading s3:\/\/tg-ok\/ .*s3:GetObject.*s3:ListBucket.*BUCKET_ALLOWLIST/,
    );
    noStack(r.err);

    // a bucket that exists (the key does not: 404 NoSuchKey) passes: the next check (OpenSearch) speaks
    s3.reset();
    s3.on(GetObjectCommand).rejects(awsError("NoSuchKey", 404));
    r = await run(worker, { BUCKET_ALLOWLIST: "tg-ok" });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /OPENSEARCH_USERNAME/);
    // S3 not answering is waited for, not a configuration error
    s3.reset();
    s3.on(GetObjectCommand).rejects(awsError("InternalError", 500));
    r = await run(worker, { BUCKET_ALLOWLIST: "tg-ok" });
    assert.match(r.err, /OPENSEARCH_USERNAME/);
  });

  it("backfill: a --bucket that does not exist is exit 2 naming --bucket, before OpenSearch is touched", async () => {
    s3.on(ListObjectsV2Command).rejects(awsError("NoSuchBucket", 404));
    const r = await run([
      "backfill",
      "--bucket",
      "tg-typo",
      "--from",
      "2025-07-01",
      "--to",
      "2025-07-02",
      "--opensearch-url",
      url401,
      "--checkpoint",
      "/tmp/x-never-bucket.json",
    ]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /the bucket tg-typo does not exist .*check --bucket/);
    noStack(r.err);
  });

  it("setup, replay: wrong credentials are exit 2 without a stack trace", async () => {
    for (const args of [["setup"], ["replay"]]) {
      const r = await run([...args, "--opensearch-url", url401]);
      assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
      assert.match(r.err, /HTTP 401.*OPENSEARCH_USERNAME/);
      noStack(r.err);
    }
  });

  it("setup: OpenSearch not answering is exit 1 naming OPENSEARCH_URL, without a stack trace", async () => {
    const r = await run([
      "setup",
      "--opensearch-url",
      "http://127.0.0.1:1",
      "--opensearch-timeout-ms",
      "2000",
    ]);
    assert.equal(r.code, 1, r.err);
    assert.match(r.err, /does not answer.*OPENSEARCH_URL/);
    noStack(r.err);
  });

  it("backfill: a folder that does not exist is exit 2 (as validate), naming it", async () => {
    for (const args of [
      [
        "backfill",
        "--dir",
        "/no/such/folder",
        "--opensearch-url",
        url401,
        "--checkpoint",
        "/tmp/x-never.json",
      ],
      ["validate", "/no/such/folder"],
    ]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
      assert.match(r.err, /\/no\/such\/folder/);
      noStack(r.err);
    }
  });

  it("gaps, backfill: access denied on the bucket is exit 2", async () => {
    s3.on(ListObjectsV2Command).rejects(
      Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }),
    );
    for (const args of [
      ["gaps", "--bucket", "b", "--from", "2025-07-01", "--to", "2025-07-02"],
      ["backfill", "--bucket", "b", "--from", "2025-07-01", "--to", "2025-07-02", "--dry-run"],
    ]) {
      const r = await run([...args, "--opensearch-url", url401]);
      assert.equal(r.code, 2, `${args[0]}: ${r.err}`);
      assert.match(r.err, /access denied/);
      noStack(r.err);
    }
  });

  it("redrive: a queue that does not exist is exit 2 naming SQS_QUEUE_URL", async () => {
    sqs.onAnyCommand().rejects(missingQueue());
    const r = await run(["redrive", "--queue-url", queueUrl]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /SQS_QUEUE_URL/);
    noStack(r.err);
  });
});
