import { setTimeout as sleep } from "node:timers/promises";
import type { Argv, CommandModule } from "yargs";
import { createS3Client, createSnsClient, createSqsClient } from "../../platform/aws/clients.ts";
import { AWS_SETTINGS, loadConfig, settingOptions } from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { LAYOUTS } from "../../tools/produce/encode.ts";
import {
  buildPlan,
  DEFAULT_MIX_TEXT,
  type ProduceArgs,
  ProduceUsageError,
} from "../../tools/produce/options.ts";
import { buildPools } from "../../tools/produce/pools.ts";
import { type Provisioned, provision } from "../../tools/produce/provision.ts";
import { type Clock, type ProduceSummary, produceLoop, produceRange } from "../../tools/produce/run.ts";
import { dirTarget, s3Target, type Target } from "../../tools/produce/targets.ts";
import { UsageError } from "../errors.ts";

const KEYS = ["logLevel", "maxRecordBytes", ...AWS_SETTINGS] as const;

const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) => sleep(ms, undefined, signal ? { signal } : {}),
};

function builder(y: Argv) {
  return y
    .options({
      bucket: { type: "string", describe: "Write to this S3 bucket", group: "Target:" },
      dir: { type: "string", describe: "Write to this local folder instead of S3", group: "Target:" },
      prefix: { type: "string", describe: 'Key prefix ("/" appended when missing)', group: "Target:" },
      from: {
        type: "string",
        describe:
          "Start of a historical range (ISO time, YYYY-MM-DD, or now-30m); slots overlapping [from, to)",
        group: "Time:",
      },
      to: { type: "string", describe: "End of the range (exclusive) [default: now]", group: "Time:" },
      files: {
        type: "number",
        describe: "Without --from/--to/--interval: this many complete slots ending now [default: 1]",
        group: "Time:",
      },
      interval: {
        type: "string",
        describe:
          "Keep writing one file per slot as time passes, slot width = interval (5m as Twingate; 30s demos)",
        group: "Time:",
      },
      count: { type: "number", describe: "With --interval: stop after this many slots", group: "Time:" },
      slot: { type: "string", describe: "Slot width of a range [default: 5m]", group: "Time:" },
      seed: {
        type: "string",
        describe: "PRNG seed: the same seed gives the same bytes [default: 42]",
        group: "Data:",
      },
      "events-per-file": { type: "number", describe: "Exactly this many records per file", group: "Data:" },
      "drift-rate": {
        type: "number",
        describe:
          "Share of records with a field no schema declares (e.g. connection.tunnel_path, a file on DLP events), so schema drift shows [default: 0.002]",
        group: "Data:",
      },
      rate: {
        type: "number",
        describe: "Events per second (per slot: rate x seconds, +-20%) [default: 1]",
        group: "Data:",
      },
      mix: {
        type: "string",
        describe: `Shares per event type [default: ${DEFAULT_MIX_TEXT}]`,
        group: "Data:",
      },
      layout: { type: "string", choices: LAYOUTS, describe: "File layout [default: ndjson]", group: "Data:" },
      gzip: { type: "boolean", describe: "Gzip files (keys end in .json.gz)", group: "Data:" },
      "invalid-rate": { type: "number", describe: "Share of records failing their schema", group: "Faults:" },
      "corrupt-rate": {
        type: "number",
        describe: "Share of records that are broken JSON (ndjson only)",
        group: "Faults:",
      },
      "unknown-type-rate": {
        type: "number",
        describe: "Share of records with an unknown event_type",
        group: "Faults:",
      },
      "truncated-gzip": {
        type: "number",
        describe: "This many files (the first) are gzip cut short",
        group: "Faults:",
      },
      oversized: {
        type: "number",
        describe: "This many records larger than --max-record-bytes, one per file in turn",
        group: "Faults:",
      },
      "empty-slot-rate": {
        type: "number",
        describe: "Share of slots with no events (no file)",
        group: "Faults:",
      },
      setup: {
        type: "boolean",
        describe: "First create the bucket, queue + dead-letter queue and the bucket notification",
        group: "Setup:",
      },
      via: {
        type: "string",
        choices: ["s3", "sns"],
        describe: "Notification path [default: s3]",
        group: "Setup:",
      },
      queue: {
        type: "string",
        describe: "Queue name for --setup [default: <bucket>-events]",
        group: "Setup:",
      },
      topic: {
        type: "string",
        describe: "Topic name with --via sns [default: the queue's name]",
        group: "Setup:",
      },
      json: { type: "boolean", describe: "Print a JSON summary on stdout", group: "Output:" },
    })
    .options(settingOptions(KEYS))
    .example(
      "$0 produce --dir ./out --from 2025-07-25 --to 2025-07-26 --gzip",
      "one day of files in a folder",
    )
    .example(
      "$0 produce --setup --bucket twingate-demo --queue twingate-demo --from now-30m --rate 5 --json",
      "local stack: bucket, queue, notification, then 30 minutes of files",
    )
    .example("$0 produce --bucket twingate-demo --interval 30s", "keep writing, one file every 30 s");
}

function printHuman(summary: ProduceSummary, provisioned: Provisioned | undefined): void {
  const f = summary.faults;
  const lines = [
    `wrote ${summary.files.length} file(s), ${summary.records} record(s) (${summary.valid} valid) to ${summary.target}`,
    `  by type: ${Object.entries(summary.by_event_type)
      .map(([t, n]) => `${t}=${n}`)
      .join(" ")}`,
    `  faults: invalid=${f.invalid} corrupt=${f.corrupt} unknown_type=${f.unknown_type} oversized=${f.oversized}` +
      ` truncated_gzip_files=${f.truncated_gzip_files} (records inside: ${f.truncated_gzip_records})`,
  ];
  const drift = Object.entries(summary.drift);
  if (drift.length > 0)
    lines.push(`  fields no schema declares (drift): ${drift.map(([p, n]) => `${p}=${n}`).join(" ")}`);
  if (summary.skipped_slots.length > 0) lines.push(`  slots without a file: ${summary.skipped_slots.length}`);
  if (provisioned) {
    lines.push(`queue URL (SQS_QUEUE_URL for the worker): ${provisioned.queueUrl}`);
    lines.push(`dead-letter queue: ${provisioned.dlqUrl}`);
    if (provisioned.topicArn) lines.push(`topic: ${provisioned.topicArn}`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

export const produceCommand: CommandModule = {
  command: "produce",
  describe: "Play Twingate's side of Sync to S3: write seeded, realistic event files (with faults on demand)",
  builder,
  handler: async (argv) => {
    const config = loadConfig(argv);
    const logger = createLogger(config.logLevel);
    const a = argv as Record<string, unknown>;
    const bucket = a["bucket"] as string | undefined;
    const dir = a["dir"] as string | undefined;
    if ((bucket === undefined) === (dir === undefined))
      throw new UsageError("give exactly one of --bucket or --dir");
    if (a["setup"] && !bucket) throw new UsageError("--setup needs --bucket");

    let plan: ReturnType<typeof buildPlan>;
    try {
      plan = buildPlan(a as ProduceArgs, Date.now(), config.maxRecordBytes);
    } catch (err) {
      if (err instanceof ProduceUsageError) throw new UsageError(err.message);
      throw err;
    }

    let provisioned: Provisioned | undefined;
    let target: Target;
    if (bucket) {
      const s3 = createS3Client(config);
      if (a["setup"]) {
        const via = (a["via"] as "s3" | "sns" | undefined) ?? "s3";
        provisioned = await provision(
          { s3, sqs: createSqsClient(config), ...(via === "sns" ? { sns: createSnsClient(config) } : {}) },
          {
            bucket,
            queue: (a["queue"] as string | undefined) ?? `${bucket}-events`,
            via,
            ...(a["topic"] ? { topic: a["topic"] as string } : {}),
            ...(plan.options.prefix ? { prefix: plan.options.prefix } : {}),
          },
        );
        logger.info({ ...provisioned }, "bucket, queues and notification ready");
      }
      target = s3Target(s3, bucket);
    } else {
      target = dirTarget(dir!);
    }

    const pools = buildPools(plan.options.seed);
    const onFile = (r: { key: string; records: number; bytes: number }) =>
      logger.info({ key: r.key, records: r.records, bytes: r.bytes }, "file written");

    let summary: ProduceSummary;
    if (plan.mode === "range") {
      summary = await produceRange(
        pools,
        plan.options,
        target,
        { fromMs: plan.fromMs, toMs: plan.toMs, slots: plan.slots },
        { onFile },
      );
    } else {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once("SIGINT", onSignal);
      process.once("SIGTERM", onSignal);
      try {
        logger.info(
          { slotMs: plan.slotMs, target: target.location },
          "writing one file per slot until stopped",
        );
        summary = await produceLoop(
          pools,
          plan.options,
          target,
          { slotMs: plan.slotMs, ...(plan.count !== undefined ? { count: plan.count } : {}) },
          realClock,
          { signal: stop.signal, onFile },
        );
      } finally {
        process.off("SIGINT", onSignal);
        process.off("SIGTERM", onSignal);
      }
    }

    if (bucket) summary.bucket = bucket;
    if (provisioned) {
      summary.queue_url = provisioned.queueUrl;
      summary.queue_arn = provisioned.queueArn;
      summary.dlq_url = provisioned.dlqUrl;
      if (provisioned.topicArn) summary.topic_arn = provisioned.topicArn;
    }
    if (a["json"]) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    else printHuman(summary, provisioned);
    logger.flush();
  },
};
