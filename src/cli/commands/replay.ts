import type { CommandModule } from "yargs";
import { maxTimeDeviationMs } from "../../core/ingest/pipeline.ts";
import {
  BULK_SETTINGS,
  loadConfig,
  OPENSEARCH_SETTINGS,
  READER_SETTINGS,
  settingOptions,
} from "../../platform/config/index.ts";
import { createLogger } from "../../platform/logger.ts";
import { createOpenSearchClient } from "../../platform/opensearch/client.ts";
import { type ReplaySummary, runReplay } from "../../runtimes/replay/run.ts";
import { startIndexGuard } from "../../runtimes/worker/startup.ts";
import { type CommandArgs, type RangeArgs, rangeFromArgs } from "../options.ts";

const KEYS = ["logLevel", "autoSetup", ...OPENSEARCH_SETTINGS, ...BULK_SETTINGS, ...READER_SETTINGS] as const;

interface ReplayArgs extends CommandArgs, RangeArgs {
  reason?: string[];
  "event-type"?: string[];
  "dry-run": boolean;
  json: boolean;
}

function lines(title: string, c: Record<string, number>): string[] {
  const e = Object.entries(c).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return e.length === 0 ? [] : [`${title}:`, ...e.map(([k, v]) => `  ${k}  ${v}`)];
}

function formatReplay(s: ReplaySummary): string {
  const out = [
    `${s.dryRun ? "replay (dry run)" : "replay"}: ${s.scanned} quarantined document(s) matched`,
    `${s.dryRun ? "would pass" : "passed and moved to their index"}: ${s.passed}${s.alreadyIndexed ? ` (${s.alreadyIndexed} were already indexed)` : ""}`,
    ...lines("  by event type", s.passedByEventType),
    `still failing: ${Object.values(s.stillFailingByReason).reduce((a, b) => a + b, 0)}${s.rewritten ? ` (${s.rewritten} with a new reason or message${s.dryRun ? " to write" : ", rewritten"})` : ""}`,
    ...lines("  by reason", s.stillFailingByReason),
  ];
  if (s.refusedByOpenSearch)
    out.push(`refused by OpenSearch (kept in quarantine, counted above by reason): ${s.refusedByOpenSearch}`);
  const { raw_truncated, file_level, invalid_utf8 } = s.skipped;
  if (raw_truncated || file_level || invalid_utf8) {
    out.push(
      `not replayable: ${raw_truncated} with a cut raw text, ${file_level} file-level errors, ${invalid_utf8} not UTF-8 (backfill those files again)`,
    );
  }
  if (!s.dryRun) out.push(`quarantine documents deleted: ${s.deleted}`);
  out.push(`duration: ${(s.durationMs / 1000).toFixed(1)}s`);
  return `${out.join("\n")}\n`;
}

export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: "replay",
  describe:
    "Re-validate quarantined records with today's schemas: those that pass move to their index, the rest keep their new reason",
  builder: (y) =>
    y
      .options({
        from: { type: "string", describe: "Quarantined at or after (a date, ISO time or now-2h)" },
        to: { type: "string", describe: "Quarantined before (a date-only --to includes that day)" },
        since: { type: "string", describe: "Quarantined in the last duration, e.g. 7d" },
        reason: {
          type: "string",
          array: true,
          describe: "Only these reasons (schema_invalid, unknown_event_type, invalid_json, ...)",
        },
        "event-type": { type: "string", array: true, describe: "Only these event types" },
        "dry-run": { type: "boolean", default: false, describe: "Count what would pass; change nothing" },
        json: { type: "boolean", default: false, describe: "Summary as JSON on stdout" },
      })
      .options(settingOptions(KEYS)) as never,
  handler: async (argv) => {
    const config = loadConfig(argv);
    const range = rangeFromArgs(argv, Date.now());
    const logger = createLogger(config.logLevel);
    const client = createOpenSearchClient(config, logger);
    const controller = new AbortController();
    const onSignal = () => controller.abort(new Error("stopped by a signal"));
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    try {
      const indexGuard = argv["dry-run"] ? undefined : await startIndexGuard(client, config, logger);
      const summary = await runReplay({
        client,
        ...(indexGuard ? { indexGuard } : {}),
        indexPrefix: config.indexPrefix,
        indexPeriod: config.indexPeriod,
        bulk: {
          maxDocs: config.bulkMaxDocs,
          maxBytes: config.bulkMaxBytes,
          concurrency: config.bulkConcurrency,
        },
        maxRecordBytes: config.maxRecordBytes,
        maxTimeDeviationMs: maxTimeDeviationMs(config.maxEventTimeDeviationHours),
        holdLimitMs: config.holdLimit,
        filter: {
          ...range,
          ...(argv.reason ? { reasons: argv.reason.flatMap((r) => r.split(",")) } : {}),
          ...(argv["event-type"] ? { eventTypes: argv["event-type"].flatMap((r) => r.split(",")) } : {}),
        },
        dryRun: argv["dry-run"],
        logger,
        signal: controller.signal,
      });
      process.stdout.write(argv.json ? `${JSON.stringify(summary, null, 2)}\n` : formatReplay(summary));
    } finally {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      await client.close();
      logger.flush();
    }
  },
};
