import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import yargs from "yargs";
import { regionFromQueueUrl } from "../../src/platform/aws/clients.ts";
import { ConfigError, loadConfig, requireSetting, settingOptions } from "../../src/platform/config/index.ts";

const CLI = fileURLToPath(new URL("../../bin/twingate-ingest.js", import.meta.url));

describe("loadConfig", () => {
  it("applies defaults, then environment, then flags", () => {
    assert.equal(loadConfig({}, {}).bulkMaxDocs, 2000);
    assert.equal(loadConfig({}, { BULK_MAX_DOCS: "500" }).bulkMaxDocs, 500);
    assert.equal(loadConfig({ "bulk-max-docs": "7" }, { BULK_MAX_DOCS: "500" }).bulkMaxDocs, 7);
    assert.equal(loadConfig({ bulkMaxDocs: "8" }, {}).bulkMaxDocs, 8);
  });

  it("parses sizes, lists, booleans and path-style defaults", () => {
    const c = loadConfig(
      {},
      {
        BULK_MAX_BYTES: "2mb",
        BUCKET_ALLOWLIST: " a, b ,,",
        OPENSEARCH_URL: "http://h1:9200,https://h2:9200",
        AUTO_SETUP: "yes",
        S3_ENDPOINT: "http://127.0.0.1:4566",
      },
    );
    assert.equal(c.bulkMaxBytes, 2 * 1024 * 1024);
    assert.deepEqual(c.bucketAllowlist, ["a", "b"]);
    assert.deepEqual(c.opensearchUrl, ["http://h1:9200", "https://h2:9200"]);
    assert.equal(c.autoSetup, true);
    assert.equal(c.s3ForcePathStyle, true);
  });

  it("takes the last of a repeated flag, and all of a repeated list flag", () => {
    const c = loadConfig({ "visibility-timeout": ["20", "10"], "bucket-allowlist": ["a", "b"] }, {});
    assert.equal(c.visibilityTimeout, 10);
    assert.deepEqual(c.bucketAllowlist, ["a", "b"]);
  });

  it("names every bad setting, by flag and variable", () => {
    assert.throws(
      () => loadConfig({}, { SQS_WAIT_SECONDS: "30", OPENSEARCH_URL: "ftp://x", KEY_PATTERN: "([" }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.match(err.message, /--sqs-wait-seconds \/ SQS_WAIT_SECONDS/);
        assert.match(err.message, /--opensearch-url \/ OPENSEARCH_URL: .*http/);
        assert.match(err.message, /--key-pattern \/ KEY_PATTERN: must be a valid regular expression/);
        return true;
      },
    );
  });

  it("never repeats a secret's value in an error", () => {
    const canary = "s3cr3t-canary-\u0000-value";
    assert.throws(
      () => loadConfig({}, { OPENSEARCH_PASSWORD: canary, LOG_LEVEL: "loud" }),
      (err: unknown) => !(err as Error).message.includes("s3cr3t-canary"),
    );
  });

  it("boolean flags read like the environment: =yes, =1 and =on are on, bare is on, --no- is off", () => {
    const parse = (args: string[], env: NodeJS.ProcessEnv) =>
      loadConfig(
        yargs(args)
          .options(settingOptions(["autoSetup"]))
          .parseSync(),
        env,
      ).autoSetup;
    for (const a of [
      "--auto-setup",
      "--auto-setup=yes",
      "--auto-setup=1",
      "--auto-setup=on",
      "--auto-setup=TRUE",
    ])
      assert.equal(parse([a], { AUTO_SETUP: "false" }), true, a);
    for (const a of ["--no-auto-setup", "--auto-setup=no", "--auto-setup=0", "--auto-setup=off"])
      assert.equal(parse([a], { AUTO_SETUP: "true" }), false, a);
    assert.equal(parse([], { AUTO_SETUP: "yes" }), true);
    assert.throws(() => parse(["--auto-setup=maybe"], {}), /--auto-setup \/ AUTO_SETUP/);
  });

  it("trims prefixes, patterns and the metrics address (a YAML block scalar's newline)", () => {
    const c = loadConfig(
      {},
      { KEY_PREFIX: "twingate/\n", KEY_PATTERN: " \\.json$ ", METRICS_HOST: "0.0.0.0 " },
    );
    assert.equal(c.keyPrefix, "twingate/");
    assert.equal(c.keyPattern, "\\.json$");
    assert.equal(c.metricsHost, "0.0.0.0");
  });

  it("says which required setting is missing", () => {
    assert.throws(() => requireSetting(loadConfig({}, {}), "queueUrl"), /--queue-url \/ SQS_QUEUE_URL/);
  });
});

describe("the CLI", () => {
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, encoding: "utf8" });

  it("--help lists every command", () => {
    const r = run(["--help"]);
    assert.equal(r.status, 0);
    for (const c of ["worker", "backfill", "setup", "produce", "validate", "replay", "gaps", "doctor"]) {
      assert.match(r.stdout, new RegExp(`twingate-ingest ${c}\\b`));
    }
  });

  it("a bad setting stops start-up with exit 2 and a message naming it", () => {
    const r = run(["worker"], { SQS_QUEUE_URL: "http://127.0.0.1:9/q", BULK_MAX_DOCS: "lots" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--bulk-max-docs \/ BULK_MAX_DOCS/);
  });

  it("a missing required setting is a usage error (exit 2)", () => {
    const r = run(["worker"], { SQS_QUEUE_URL: "" });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /SQS_QUEUE_URL/);
  });

  it("a worker with no region anywhere stops at start-up naming AWS_REGION (not a retry loop)", () => {
    const noRegion = {
      SQS_QUEUE_URL: "http://127.0.0.1:9/000000000000/q",
      AWS_REGION: "",
      AWS_DEFAULT_REGION: "",
      AWS_PROFILE: "",
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SDK_LOAD_CONFIG: "",
    };
    const r = run(["worker"], noRegion);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--aws-region \/ AWS_REGION/);
  });

  it("the region comes from the queue URL when nothing else gives one", () => {
    assert.equal(regionFromQueueUrl("https://sqs.eu-west-1.amazonaws.com/123456789012/q"), "eu-west-1");
    assert.equal(regionFromQueueUrl("https://sqs.us-gov-west-1.amazonaws.com/1/q"), "us-gov-west-1");
    assert.equal(regionFromQueueUrl("https://sqs.cn-north-1.amazonaws.com.cn/1/q"), "cn-north-1");
    assert.equal(regionFromQueueUrl("http://127.0.0.1:4566/000000000000/q"), undefined);
    assert.equal(regionFromQueueUrl("not a url"), undefined);
  });
});
