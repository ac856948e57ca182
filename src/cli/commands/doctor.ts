import { defaultProvider } from "@aws-sdk/credential-provider-node";
import type { CommandModule } from "yargs";
import { createS3Client, createSnsClient, createSqsClient } from "../../platform/aws/clients.ts";
import {
  AWS_SETTINGS,
  loadConfig,
  OPENSEARCH_SETTINGS,
  READER_SETTINGS,
  type SettingKey,
  settingOptions,
} from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { createOpenSearchClient } from "../../platform/opensearch/client.ts";
import {
  ClockProbe,
  type DoctorDeps,
  type DoctorOptions,
  formatResult,
  formatSummary,
  runDoctor,
} from "../../tools/doctor/index.ts";
import { UsageError } from "../errors.ts";

const KEYS: SettingKey[] = [
  "logLevel",
  "queueUrl",
  "bucketAllowlist",
  "keyPrefix",
  "keyPattern",
  ...OPENSEARCH_SETTINGS,
  ...AWS_SETTINGS,
  ...READER_SETTINGS,
];

export const doctorCommand: CommandModule = {
  command: "doctor",
  describe:
    "Check the deployment end to end (credentials, queue, DLQ, bucket notification, newest file, OpenSearch, templates, permissions, new deviation paths, clock); exit 0 when nothing fails",
  builder: (y) =>
    y
      .options(settingOptions(KEYS))
      .option("bucket", {
        type: "string",
        describe: "Bucket Twingate writes to (default: BUCKET_ALLOWLIST when it names exactly one)",
      })
      .option("dashboards-url", {
        type: "string",
        describe: "OpenSearch Dashboards URL: also check the saved objects are installed",
      })
      .option("max-file-age", {
        type: "number",
        default: 60,
        describe: "Minutes after which the newest Twingate file is reported as stale (a warning)",
      })
      .option("json", { type: "boolean", default: false, describe: "Print the report as JSON" }),
  handler: async (argv) => {
    const config = loadConfig(argv);
    const logger = createLogger(config.logLevel);
    const maxAge = argv["max-file-age"];
    if (typeof maxAge !== "number" || !(maxAge > 0))
      throw new UsageError("--max-file-age must be > 0 minutes");
    let bucket = typeof argv["bucket"] === "string" && argv["bucket"] !== "" ? argv["bucket"] : undefined;
    if (!bucket && config.bucketAllowlist.length === 1) bucket = config.bucketAllowlist[0];
    const dashboardsUrl = typeof argv["dashboards-url"] === "string" ? argv["dashboards-url"] : undefined;

    const clock = new ClockProbe();
    const s3 = createS3Client(config);
    const sqs = createSqsClient(config);
    const sns = createSnsClient(config);
    clock.attach("S3", s3);
    clock.attach("SQS", sqs);
    const opensearch = createOpenSearchClient(config, logger);
    const deps: DoctorDeps = { s3, sqs, sns, opensearch, clock, credentials: defaultProvider() };
    const opts: DoctorOptions = {
      queueUrl: config.queueUrl,
      bucket,
      keyPrefix: config.keyPrefix,
      keyPattern: config.keyPattern,
      bucketAllowlist: config.bucketAllowlist,
      indexPrefix: config.indexPrefix,
      maxRecordBytes: config.maxRecordBytes,
      maxFileBytes: config.maxFileBytes,
      dashboardsUrl,
      dashboardsUsername: config.opensearchUsername,
      dashboardsPassword: config.opensearchPassword,
      staleFileSeconds: maxAge * 60,
    };
    const json = argv["json"] === true;
    try {
      const report = await runDoctor(deps, opts, undefined, (r) => {
        if (!json) process.stdout.write(`${formatResult(r)}\n`);
      });
      process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatSummary(report)}\n`);
      argv["exitCode"] = report.ok ? 0 : 1;
    } finally {
      await opensearch.close();
      for (const c of [s3, sqs, sns]) c.destroy();
      logger.flush();
    }
  },
};
