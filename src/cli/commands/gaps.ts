import type { CommandModule } from "yargs";
import { createS3Client } from "../../aws/clients.ts";
import { emptyListingStats, listS3 } from "../../backfill/listing.ts";
import { listPlan, parseRange } from "../../backfill/range.ts";
import { AWS_SETTINGS, loadConfig, OPENSEARCH_SETTINGS, settingOptions } from "../../config/index.ts";
import { parseTwingateKeyTime } from "../../documents/index.ts";
import { buildReport, formatReport, keysWithoutDocuments } from "../../gaps/index.ts";
import { createLogger } from "../../logger.ts";
import { createOpenSearchClient } from "../../opensearch/client.ts";
import { UsageError } from "../errors.ts";

const KEYS = ["logLevel", ...OPENSEARCH_SETTINGS, ...AWS_SETTINGS] as const;

interface GapsArgs {
  bucket: string;
  prefix: string;
  from?: string;
  to?: string;
  since?: string;
  opensearch: boolean;
  json: boolean;
  limit: number;
  exitCode?: number;
  [k: string]: unknown;
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
      })
      .options(settingOptions(KEYS)) as never,
  handler: async (argv) => {
    const config = loadConfig(argv);
    if (argv.from === undefined && argv.since === undefined) {
      throw new UsageError("give a range: --from [--to] or --since");
    }
    const now = Date.now();
    let range: { fromMs?: number; toMs?: number };
    try {
      range = parseRange(
        {
          ...(argv.from !== undefined ? { from: argv.from } : {}),
          ...(argv.to !== undefined ? { to: argv.to } : {}),
          ...(argv.since !== undefined ? { since: argv.since } : {}),
        },
        now,
      );
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const fromMs = range.fromMs!;
    // Slots that have not ended yet cannot be judged: stop at the last complete one.
    const toMs = Math.min(range.toMs ?? now, now);
    if (toMs <= fromMs) throw new UsageError("the range has no complete slot yet");
    const logger = createLogger(config.logLevel);
    const s3 = createS3Client(config);
    const stats = emptyListingStats();
    const files: { key: string; timeMs: number }[] = [];
    try {
      for await (const o of listS3(s3, argv.bucket, listPlan(argv.prefix, { fromMs, toMs }), stats)) {
        files.push({ key: o.key, timeMs: parseTwingateKeyTime(o.key)!.getTime() });
      }
    } finally {
      s3.destroy();
    }
    let without: string[] | undefined;
    if (argv.opensearch) {
      const client = createOpenSearchClient(config, logger);
      try {
        without = await keysWithoutDocuments(client, {
          indexPrefix: config.indexPrefix,
          bucket: argv.bucket,
          keys: files.map((f) => f.key),
        });
      } finally {
        await client.close();
      }
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
      argv.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, argv.limit),
    );
    // Missing slots are often quiet periods; files never ingested are a problem to act on.
    if (without && without.length > 0) argv.exitCode = 1;
    logger.flush();
  },
};
