import type { CommandModule } from "yargs";
import { parseTwingateKeyTime } from "../../core/documents/index.ts";
import { buildPipeline, objectSource } from "../../core/ingest/pipeline.ts";
import { createS3Client, createSqsClient, resolveRegion } from "../../platform/aws/clients.ts";
import { loadConfig, settingOptions } from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { createOpenSearchClient } from "../../platform/opensearch/client.ts";
import { type EnqueueSummary, fixedObjects, runEnqueue } from "../../runtimes/backfill/enqueue.ts";
import { emptyListingStats, type ListedObject, listS3 } from "../../runtimes/backfill/listing.ts";
import { listPlan } from "../../runtimes/backfill/range.ts";
import { startIndexGuard } from "../../runtimes/worker/startup.ts";
import { buildReport, formatReport, keysWithoutDocuments } from "../../tools/gaps/index.ts";
import { type InProcessRepair, repairInProcess } from "../../tools/gaps/repair.ts";
import { UsageError } from "../errors.ts";
import {
  type CommandArgs,
  checkConcurrency,
  enqueueQueueUrl,
  INGEST_SETTINGS,
  type RangeArgs,
  rangeFromArgs,
} from "../options.ts";

const KEYS = ["logLevel", "autoSetup", ...INGEST_SETTINGS, "queueUrl"] as const;

interface GapsArgs extends CommandArgs, RangeArgs {
  bucket: string;
  prefix: string;
  opensearch: boolean;
  json: boolean;
  limit: number;
  repair: boolean;
  enqueue: boolean;
  rate: number;
  concurrency: number;
}

export const gapsCommand: CommandModule<object, GapsArgs> = {
  command: "gaps",
  describe:
    "List the 5-minute slots without a file in a time range, and the files OpenSearch holds no document for",
  builder: (y) =>
    y
      .options({
        bucket: { type: "string", demandOption: true, describe: "Bucket Twingate syncs to" },
        prefix: { type: "string", default: "", describe: "Key prefix in the bucket" },
        from: { type: "string", describe: "Start: a date, ISO time or now-2h" },
        to: {
          type: "string",
          describe: "End (exclusive; a date-only --to includes that day) [default: now]",
        },
        since: { type: "string", describe: "Last duration instead of --from/--to, e.g. 7d" },
        opensearch: {
          type: "boolean",
          default: true,
          describe: "Compare with OpenSearch (--no-opensearch: slots only)",
        },
        limit: { type: "number", default: 50, describe: "Rows per table in the text output (0: all)" },
        json: { type: "boolean", default: false, describe: "The report as JSON on stdout" },
        repair: {
          type: "boolean",
          default: false,
          describe: "Ingest the files without documents (here, or with --enqueue through the workers' queue)",
          group: "Repair:",
        },
        enqueue: {
          type: "boolean",
          default: false,
          describe: "With --repair: send one S3 notification per file to --queue-url instead of reading here",
          group: "Repair:",
        },
        rate: {
          type: "number",
          default: 100,
          describe: "With --repair --enqueue: messages a second at most (0: no limit)",
          group: "Repair:",
        },
        concurrency: {
          type: "number",
          default: 4,
          describe: "With --repair: objects read at once (--enqueue: batches in flight)",
          group: "Repair:",
        },
      })
      .options(settingOptions(KEYS)) as never,
  handler: async (argv) => {
    const config = loadConfig(argv);
    if (argv.from === undefined && argv.since === undefined) {
      throw new UsageError("give a range: --from [--to] or --since");
    }
    if (argv.enqueue && !argv.repair) throw new UsageError("--enqueue goes with --repair");
    if (argv.repair && !argv.opensearch) {
      throw new UsageError("--repair needs OpenSearch: it repairs the files that have no document there");
    }
    checkConcurrency(argv.concurrency);
    const queueUrl = enqueueQueueUrl(argv, config);
    const now = Date.now();
    const range = rangeFromArgs(argv, now);
    const fromMs = range.fromMs!;
    // Slots that have not ended yet cannot be judged: stop at the last complete one.
    const toMs = Math.min(range.toMs ?? now, now);
    if (toMs <= fromMs) throw new UsageError("the range has no complete slot yet");
    const logger = createLogger(config.logLevel);
    const s3 = createS3Client(config);
    const stats = emptyListingStats();
    const files: { key: string; timeMs: number }[] = [];
    const listed = new Map<string, ListedObject>();
    let without: string[] | undefined;
    let repair: InProcessRepair | EnqueueSummary | undefined;
    try {
      for await (const o of listS3(s3, argv.bucket, listPlan(argv.prefix, { fromMs, toMs }), stats)) {
        files.push({ key: o.key, timeMs: parseTwingateKeyTime(o.key)!.getTime() });
        if (argv.repair) listed.set(o.key, o);
      }
      if (argv.opensearch) {
        const client = createOpenSearchClient(config, logger);
        try {
          without = await keysWithoutDocuments(client, {
            indexPrefix: config.indexPrefix,
            bucket: argv.bucket,
            keys: files.map((f) => f.key),
          });
          if (argv.repair && without.length > 0) {
            const objects = without.map((k) => listed.get(k)!);
            if (queueUrl !== undefined) {
              const sqs = createSqsClient(config);
              try {
                repair = await runEnqueue({
                  sqs,
                  queueUrl,
                  bucket: argv.bucket,
                  objects: fixedObjects(objects),
                  stats: emptyListingStats(),
                  rate: argv.rate,
                  concurrency: argv.concurrency,
                  region: await resolveRegion(config, queueUrl),
                  logger,
                });
              } finally {
                sqs.destroy();
              }
            } else {
              const indexGuard = await startIndexGuard(client, config, logger);
              const pipeline = buildPipeline({
                config,
                opensearch: client,
                source: objectSource("s3", s3),
                logger,
                indexGuard,
              });
              repair = await repairInProcess({
                bucket: argv.bucket,
                objects,
                concurrency: argv.concurrency,
                ingest: pipeline.ingest,
                logger,
              });
            }
          }
        } finally {
          await client.close();
        }
      }
    } finally {
      s3.destroy();
    }
    const report = buildReport({
      bucket: argv.bucket,
      prefix: argv.prefix,
      fromMs,
      toMs,
      files,
      otherKeys: stats.skippedName,
      ...(without ? { filesWithoutDocuments: without } : {}),
    });
    process.stdout.write(
      argv.json
        ? `${JSON.stringify(repair ? { ...report, repair } : report, null, 2)}\n`
        : formatReport(report, argv.limit) + (repair ? formatRepair(repair) : ""),
    );
    // Missing slots are often quiet periods; files never ingested are a problem to act on (a repair that
    // took every one of them has acted).
    if (without && without.length > 0) {
      const repaired =
        repair !== undefined && repair.failed.length === 0 && !("stopReason" in repair && repair.stopReason);
      if (!repaired) argv.exitCode = 1;
    }
    logger.flush();
  },
};

function formatRepair(r: InProcessRepair | EnqueueSummary): string {
  const lines = [""];
  if (r.mode === "in-process") {
    const t = r.totals;
    lines.push(
      `Repaired in-process: ${t.files} file(s) read${t.notFound ? `, ${t.notFound} gone` : ""}; ${t.records} record(s), ${t.indexed} indexed (${t.duplicates} already there), ${t.rejected} quarantined`,
    );
  } else {
    lines.push(
      `Repair enqueued: ${r.run.files} message(s) sent to ${r.queueUrl}${r.stopReason ? ` (STOPPED: ${r.stopReason})` : ""}; the workers ingest them`,
    );
  }
  for (const f of r.failed.slice(0, 50)) lines.push(`  FAILED ${f.key}: ${f.error}`);
  return `${lines.join("\n")}\n`;
}
