/**
 * What several commands take alike: the settings of a command that runs the pipeline, the time range
 * (--from/--to/--since), --concurrency and --rate checks, and the queue URL (with its region). Each
 * command keeps its own help texts; the checks and their messages live here once.
 */
import { resolveRegion } from "../platform/aws/clients.ts";
import {
  AWS_SETTINGS,
  BULK_SETTINGS,
  type Config,
  ConfigError,
  OPENSEARCH_SETTINGS,
  READER_SETTINGS,
  requireSetting,
} from "../platform/config/index.ts";
import { parseRange, type TimeRange } from "../runtimes/backfill/range.ts";
import { UsageError } from "./errors.ts";

/**
 * What every command's argv carries besides its own flags: the settings' flags (any key) and the exit
 * code a handler sets for main.ts to return.
 */
export interface CommandArgs {
  exitCode?: number;
  [k: string]: unknown;
}

/** The settings of a command that reads Twingate files from S3 through the pipeline into OpenSearch. */
export const INGEST_SETTINGS = [
  ...OPENSEARCH_SETTINGS,
  ...AWS_SETTINGS,
  ...BULK_SETTINGS,
  ...READER_SETTINGS,
] as const;

/** --from / --to / --since as given (absent ones left out). */
export interface RangeArgs {
  from?: string | undefined;
  to?: string | undefined;
  since?: string | undefined;
}

/** The range flags that were given, and only those (also a run's identity: backfill's checkpoint id). */
export function rangeSpec(argv: RangeArgs): { from?: string; to?: string; since?: string } {
  return {
    ...(argv.from !== undefined ? { from: argv.from } : {}),
    ...(argv.to !== undefined ? { to: argv.to } : {}),
    ...(argv.since !== undefined ? { since: argv.since } : {}),
  };
}

/** The range the flags name, at `nowMs`; a bad one is a usage error saying why. */
export function rangeFromArgs(argv: RangeArgs, nowMs: number): TimeRange {
  try {
    return parseRange(rangeSpec(argv), nowMs);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --concurrency: objects (or SendMessageBatch calls) in flight. */
export function checkConcurrency(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new UsageError("--concurrency must be an integer from 1 to 256");
  }
}

/** --rate: messages a second at most (0: no limit). */
function checkRate(n: number): void {
  if (!Number.isFinite(n) || n < 0) throw new UsageError("--rate must be a number >= 0");
}

/**
 * The enqueue flags (backfill --enqueue, gaps --repair --enqueue): --rate checked, and with --enqueue the
 * queue URL the messages go to (missing, a usage error); undefined without --enqueue.
 */
export function enqueueQueueUrl(
  argv: { enqueue: boolean; rate: number },
  config: Config,
): string | undefined {
  checkRate(argv.rate);
  if (!argv.enqueue) return undefined;
  try {
    return requireSetting(config, "queueUrl");
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * The queue URL of a command that consumes or moves the queue's messages (worker, redrive), and its
 * region: from the settings, the AWS profile or the URL; set on `config` for the clients to use.
 */
export async function queueWithRegion(config: Config): Promise<string> {
  const queueUrl = requireSetting(config, "queueUrl");
  const region = await resolveRegion(config, queueUrl);
  if (!region)
    throw new ConfigError(
      "Missing setting --aws-region / AWS_REGION: no region in the settings, the AWS profile or the queue URL",
      "awsRegion",
    );
  config.awsRegion = region;
  return queueUrl;
}
