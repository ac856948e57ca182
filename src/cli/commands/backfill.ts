import { existsSync } from "node:fs";
import type { S3Client } from "@aws-sdk/client-s3";
import type { CommandModule } from "yargs";
import { buildPipeline, objectSource } from "../../core/ingest/pipeline.ts";
import { createS3Client, createSqsClient, resolveRegion } from "../../platform/aws/clients.ts";
import { loadConfig, settingOptions } from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { createOpenSearchClient } from "../../platform/opensearch/client.ts";
import {
  CheckpointError,
  CheckpointFile,
  type CheckpointState,
  type CheckpointStore,
  checkpointId,
  resolveCheckpointLocation,
} from "../../runtimes/backfill/checkpoint.ts";
import { type EnqueueSummary, runEnqueue } from "../../runtimes/backfill/enqueue.ts";
import { emptyListingStats, listS3 } from "../../runtimes/backfill/listing.ts";
import type { BackfillProgress } from "../../runtimes/backfill/listing-run.ts";
import { createProgress, progressMode } from "../../runtimes/backfill/progress.ts";
import { listPlan, type TimeRange } from "../../runtimes/backfill/range.ts";
import { formatBackfillSummary, formatDryRun, formatEnqueueSummary } from "../../runtimes/backfill/report.ts";
import {
  type BackfillSource,
  type BackfillSummary,
  dryRunBackfill,
  runBackfill,
} from "../../runtimes/backfill/run.ts";
import { S3Checkpoint } from "../../runtimes/backfill/s3-checkpoint.ts";
import { probeBucket, startIndexGuard } from "../../runtimes/worker/startup.ts";
import { UsageError } from "../errors.ts";
import {
  type CommandArgs,
  checkConcurrency,
  enqueueQueueUrl,
  INGEST_SETTINGS,
  type RangeArgs,
  rangeFromArgs,
  rangeSpec,
} from "../options.ts";

const KEYS = ["logLevel", "autoSetup", ...INGEST_SETTINGS, "queueUrl", "checkpoint"] as const;

interface BackfillArgs extends CommandArgs, RangeArgs {
  bucket?: string;
  prefix: string;
  dir?: string;
  "all-keys": boolean;
  concurrency: number;
  enqueue: boolean;
  rate: number;
  restart: boolean;
  "dry-run": boolean;
  json: boolean;
  progress?: boolean;
}

export const backfillCommand: CommandModule<object, BackfillArgs> = {
  command: "backfill",
  describe:
    "Ingest files already in a bucket (or a folder) by time range, through the worker's pipeline; resumable",
  builder: (y) =>
    y
      .options({
        bucket: { type: "string", describe: "Bucket to list (ListObjectsV2)", group: "Source:" },
        prefix: { type: "string", default: "", describe: "Key prefix in the bucket", group: "Source:" },
        dir: { type: "string", describe: "Local folder instead of a bucket (gzip or not)", group: "Source:" },
        from: {
          type: "string",
          describe: "Start: a date, ISO time or now-2h (by the files' names)",
          group: "Range:",
        },
        to: {
          type: "string",
          describe: "End (exclusive; a date-only --to includes that day)",
          group: "Range:",
        },
        since: {
          type: "string",
          describe: "Last duration instead of --from/--to, e.g. 7d, 12h",
          group: "Range:",
        },
        "all-keys": {
          type: "boolean",
          default: false,
          describe: "Also read keys that are not Twingate file names",
          group: "Range:",
        },
        concurrency: {
          type: "number",
          default: 4,
          describe: "Objects read in parallel (with --enqueue: SendMessageBatch calls in flight)",
        },
        enqueue: {
          type: "boolean",
          default: false,
          describe:
            "Read nothing here: send one S3 notification per file to the workers' queue (--queue-url), for the fleet to ingest",
          group: "Enqueue:",
        },
        rate: {
          type: "number",
          default: 100,
          describe: "With --enqueue: messages a second at most (0: no limit)",
          group: "Enqueue:",
        },
        restart: { type: "boolean", default: false, describe: "Ignore (and replace) an existing checkpoint" },
        "dry-run": {
          type: "boolean",
          default: false,
          describe: "List what would be read and its size; read nothing",
        },
        json: { type: "boolean", default: false, describe: "Summary as JSON on stdout" },
        progress: {
          type: "boolean",
          describe:
            "Progress on stderr: a bar on a terminal, else a plain line every 10 s (done, rate, ETA); --no-progress: none",
        },
      })
      .options(settingOptions(KEYS)) as never,
  handler: async (argv) => {
    const config = loadConfig(argv);
    if ((argv.bucket === undefined) === (argv.dir === undefined)) {
      throw new UsageError("give exactly one source: --bucket B [--prefix P] or --dir PATH");
    }
    checkConcurrency(argv.concurrency);
    if (argv.dir !== undefined && argv.prefix) throw new UsageError("--prefix applies to --bucket only");
    if (argv.dir !== undefined && !existsSync(argv.dir))
      throw new UsageError(`--dir: no such file or folder: ${argv.dir}`, true);
    if (argv.enqueue && argv.bucket === undefined) {
      throw new UsageError("--enqueue needs --bucket: the workers read the files from S3");
    }
    const queueUrl = enqueueQueueUrl(argv, config);
    const spec = rangeSpec(argv);
    let range = rangeFromArgs(argv, Date.now());
    const logger = createLogger(config.logLevel);
    const sourceLabel = argv.bucket !== undefined ? `s3://${argv.bucket}/${argv.prefix}` : `dir:${argv.dir}`;
    // An enqueue run and a read run of the same range are different runs (and so are two queues).
    const idSource = queueUrl !== undefined ? `enqueue:${sourceLabel}->${queueUrl}` : sourceLabel;
    const id = checkpointId({ source: idSource, ...spec, allKeys: argv["all-keys"] });
    let s3: S3Client | undefined = argv.bucket !== undefined ? createS3Client(config) : undefined;
    let file: CheckpointStore;
    try {
      const where = await resolveCheckpointLocation(config.checkpoint, id);
      if (where.kind === "s3") {
        s3 ??= createS3Client(config);
        file = new S3Checkpoint(s3, where.bucket, where.key);
      } else file = new CheckpointFile(where.path);
    } catch (err) {
      s3?.destroy();
      if (err instanceof CheckpointError) throw new UsageError(err.message);
      throw err;
    }

    let resume: CheckpointState | undefined;
    try {
      if (argv.restart) await file.checkWritable();
      else resume = await file.load();
    } catch (err) {
      s3?.destroy();
      if (err instanceof CheckpointError) throw new UsageError(err.message, true);
      throw err;
    }
    if (resume && resume.id !== id) {
      s3?.destroy();
      throw new UsageError(
        `checkpoint ${file.path} belongs to another backfill (${resume.source}); use another --checkpoint or --restart`,
        true,
      );
    }
    // A resumed run keeps the range it started with (so `--since 7d` resumes the same files).
    if (resume) range = { ...resume.range };
    const plan = listPlan(argv.bucket !== undefined ? argv.prefix : "", range, argv["all-keys"]);

    const source: BackfillSource =
      argv.bucket !== undefined
        ? { kind: "s3", s3: s3!, bucket: argv.bucket }
        : { kind: "dir", dir: argv.dir! };

    if (queueUrl !== undefined && !argv["dry-run"]) {
      await enqueueHandler(argv, {
        config,
        s3: s3!,
        file,
        id,
        sourceLabel,
        range,
        plan,
        queueUrl,
        resume,
        logger,
      });
      return;
    }

    if (argv["dry-run"]) {
      const dry = await dryRunBackfill({ source, plan, range, ...(resume ? { resume } : {}) });
      process.stdout.write(argv.json ? `${JSON.stringify(dry, null, 2)}\n` : formatDryRun(dry));
      s3?.destroy();
      return;
    }

    // the bucket before the templates: a typo in --bucket fails at once, nothing installed or written
    if (s3 && argv.bucket !== undefined) {
      await probeBucket(
        s3,
        { bucket: argv.bucket, prefix: argv.prefix, setting: "--bucket", how: "list" },
        logger,
      );
    }
    const opensearch = createOpenSearchClient(config, logger);
    const indexGuard = await startIndexGuard(opensearch, config, logger);
    const pipeline = buildPipeline({
      config,
      opensearch,
      source: s3 ? objectSource("s3", s3) : objectSource("local"),
      logger,
      indexGuard,
    });
    if (resume) {
      logger.info(
        { checkpoint: file.path, watermark: resume.watermark, doneAhead: resume.done.length },
        "resuming from checkpoint",
      );
    }

    await runCheckpointed(argv, logger, file, {
      run: (signal, onProgress) =>
        runBackfill({
          source,
          plan,
          range,
          concurrency: argv.concurrency,
          ingest: pipeline.ingest,
          logger,
          checkpoint: { file, id, sourceLabel, ...(resume ? { resume } : {}) },
          signal,
          onProgress,
        }),
      close: async () => {
        s3?.destroy();
        await opensearch.close();
      },
      format: formatBackfillSummary,
    });
  },
};

/**
 * A checkpointed run (read here or enqueue) with its progress display and signal handling, then its
 * summary on stdout and the exit code: 1 when stopped, something failed or records were rejected, 130 when
 * interrupted.
 */
async function runCheckpointed<S extends BackfillSummary | EnqueueSummary>(
  argv: BackfillArgs,
  logger: ReturnType<typeof createLogger>,
  file: CheckpointStore,
  r: {
    run: (signal: AbortSignal, onProgress: (p: BackfillProgress) => void) => Promise<S>;
    /** Releases the run's clients, whatever its end. */
    close: () => void | Promise<void>;
    format: (s: S) => string;
  },
): Promise<void> {
  const controller = new AbortController();
  const display = createProgress({ mode: progressMode(argv.progress, Boolean(process.stderr.isTTY)) });
  const onSignal = signalHandler(controller);
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let summary: S;
  try {
    summary = await r.run(controller.signal, (p) => display.update(p));
  } catch (err) {
    if (err instanceof CheckpointError) throw new UsageError(err.message, true);
    throw err;
  } finally {
    display.stop();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await r.close();
  }
  process.stdout.write(
    argv.json ? `${JSON.stringify({ ...summary, checkpoint: file.path }, null, 2)}\n` : r.format(summary),
  );
  // The exit-code rule (README): records rejected are problems found, as `validate` says them.
  const rejected = "rejected" in summary.total ? summary.total.rejected : 0;
  if (summary.stopReason !== undefined || summary.failed.length > 0) argv.exitCode = 1;
  else if (summary.interrupted) argv.exitCode = 130;
  else if (rejected > 0) argv.exitCode = 1;
  logger.flush();
}

/** First SIGINT/SIGTERM: finish what is in flight and save the checkpoint; a second one exits at once. */
function signalHandler(controller: AbortController): (sig: NodeJS.Signals) => void {
  let signals = 0;
  return (sig) => {
    signals++;
    if (signals > 1) {
      process.stderr.write("\nsecond signal: exiting now (the last saved checkpoint stands)\n");
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: finishing work in flight, saving the checkpoint...\n`);
    controller.abort(new Error(`stopped by ${sig}`));
  };
}

/** `backfill --enqueue`: list the range, send a notification per file to the queue, checkpointed. */
async function enqueueHandler(
  argv: BackfillArgs,
  ctx: {
    config: ReturnType<typeof loadConfig>;
    s3: S3Client;
    file: CheckpointStore;
    id: string;
    sourceLabel: string;
    range: TimeRange;
    plan: ReturnType<typeof listPlan>;
    queueUrl: string;
    resume: CheckpointState | undefined;
    logger: ReturnType<typeof createLogger>;
  },
): Promise<void> {
  const { config, s3, file, logger, plan } = ctx;
  const bucket = argv.bucket!;
  const sqs = createSqsClient(config);
  const region = await resolveRegion(config, ctx.queueUrl);
  if (ctx.resume) {
    logger.info(
      { checkpoint: file.path, watermark: ctx.resume.watermark, sent: ctx.resume.totals.files },
      "resuming the enqueue from its checkpoint",
    );
  }
  await runCheckpointed(argv, logger, file, {
    run: (signal, onProgress) =>
      runEnqueue({
        sqs,
        queueUrl: ctx.queueUrl,
        bucket,
        objects: (stats, resumeAfter, signal) =>
          listS3(s3, bucket, plan, stats, { ...(resumeAfter !== undefined ? { resumeAfter } : {}), signal }),
        stats: emptyListingStats(),
        rate: argv.rate,
        concurrency: argv.concurrency,
        region,
        logger,
        checkpoint: {
          file,
          id: ctx.id,
          sourceLabel: ctx.sourceLabel,
          range: { ...ctx.range },
          allKeys: argv["all-keys"],
          ...(ctx.resume ? { resume: ctx.resume } : {}),
        },
        signal,
        onProgress,
      }),
    close: () => {
      s3.destroy();
      sqs.destroy();
    },
    format: formatEnqueueSummary,
  });
}
