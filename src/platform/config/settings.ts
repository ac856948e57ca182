/**
 * Every setting the tool knows, in one table: its environment variable, its command-line flag
 * (derived from the key), its zod schema and default, and whether its value is secret.
 * The README's configuration table, the CLI options and docker-compose.yml are checked against it.
 */
import { z } from "zod";
import { TWINGATE_KEY_PATTERN } from "../../core/twingate.ts";

const bool = z.union([
  z.boolean(),
  z
    .string()
    .trim()
    .toLowerCase()
    .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"]))
    .transform((v) => ["true", "1", "yes", "on"].includes(v)),
]);
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(",")).map((s) => s.trim()).filter((s) => s.length > 0));
const url = z.url({ protocol: /^https?$/, error: "must be an http(s) URL" });
// Surrounding whitespace (a trailing newline from a YAML block scalar, a space in an .env file) is not
// part of a prefix, a pattern or an address: trimmed, as lists, URLs and numbers are.
const regex = z
  .string()
  .trim()
  .refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { error: "must be a valid regular expression" },
  );
/** Sizes as bytes or with a unit: 512, 64k, 5mb, 1MiB, 2g. */
export function parseSize(input: string | number): number {
  if (typeof input === "number") return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(input);
  if (!m) return Number.NaN;
  const power = { "": 0, k: 1, m: 2, g: 3, t: 4 }[m[2]!.toLowerCase() as "" | "k" | "m" | "g" | "t"];
  return Math.round(Number(m[1]) * 1024 ** power);
}
const size = (min: number, max: number) =>
  z
    .union([z.number(), z.string()])
    .transform(parseSize)
    .pipe(z.number({ error: "must be a size like 5mb or 1048576" }).int().min(min).max(max));

/** Durations as milliseconds or with a unit: 90000, 90s, 30m, 6h, 1d. */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") return input;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(input);
  if (!m) return Number.NaN;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (m[2] ?? "ms").toLowerCase() as "ms" | "s" | "m" | "h" | "d"
  ];
  return Math.round(Number(m[1]) * unit);
}
const duration = (min: number, max: number) =>
  z
    .union([z.number(), z.string()])
    .transform(parseDuration)
    .pipe(z.number({ error: "must be a duration like 6h, 30m or 90000 (ms)" }).int().min(min).max(max));

export interface SettingDef {
  env: string;
  describe: string;
  schema: z.ZodType;
  default?: unknown;
  secret?: boolean;
  boolean?: boolean;
  /** Comma-separated list; a repeated flag adds to it (others: the last one wins). */
  list?: boolean;
}

export const SETTINGS = {
  logLevel: {
    env: "LOG_LEVEL",
    describe: "Log level (pino)",
    schema: z.enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"]),
    default: "info",
  },
  indexPrefix: {
    env: "INDEX_PREFIX",
    describe: "Prefix of every index and template name",
    schema: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,100}$/, "lower-case letters, digits, - and _"),
    default: "twingate",
  },
  indexPeriod: {
    env: "INDEX_PERIOD",
    describe:
      "Time period of each index, by the event's time: day, week (ISO) or month (docs/MAPPINGS.md: shards per year)",
    schema: z.enum(["day", "week", "month"]),
    default: "month",
  },
  opensearchUrl: {
    env: "OPENSEARCH_URL",
    describe: "OpenSearch node URL(s), comma separated",
    schema: list.pipe(z.array(url).min(1, "at least one URL")),
    default: "http://127.0.0.1:9200",
    list: true,
  },
  opensearchUsername: { env: "OPENSEARCH_USERNAME", describe: "Basic auth user", schema: z.string().min(1) },
  opensearchPassword: {
    env: "OPENSEARCH_PASSWORD",
    describe: "Basic auth password",
    schema: z.string().min(1),
    secret: true,
  },
  opensearchCaFile: {
    env: "OPENSEARCH_CA_FILE",
    describe: "PEM file of the CA that signed OpenSearch's certificate",
    schema: z.string().min(1),
  },
  opensearchTlsInsecure: {
    env: "OPENSEARCH_TLS_INSECURE",
    describe: "Disable TLS verification (logged loudly; for labs only)",
    schema: bool,
    default: false,
    boolean: true,
  },
  opensearchAwsSigv4: {
    env: "OPENSEARCH_AWS_SIGV4",
    describe: "Sign requests with AWS SigV4: none, es (managed domains) or aoss (serverless)",
    schema: z.enum(["none", "es", "aoss"]),
    default: "none",
  },
  opensearchTimeoutMs: {
    env: "OPENSEARCH_TIMEOUT_MS",
    describe: "Timeout of one OpenSearch request (to its answer's head, then between bytes of its body)",
    schema: int(1000, 600_000),
    default: 60_000,
  },
  awsRegion: {
    env: "AWS_REGION",
    describe: "AWS region (else the SDK's chain: profile, IMDS)",
    schema: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, "an AWS region like us-east-1"),
  },
  s3Endpoint: { env: "S3_ENDPOINT", describe: "S3 endpoint override (emulators)", schema: url },
  sqsEndpoint: { env: "SQS_ENDPOINT", describe: "SQS endpoint override (emulators)", schema: url },
  snsEndpoint: { env: "SNS_ENDPOINT", describe: "SNS endpoint override (emulators)", schema: url },
  s3ForcePathStyle: {
    env: "S3_FORCE_PATH_STYLE",
    describe: "Path-style S3 URLs (default: on when S3_ENDPOINT is set)",
    schema: bool,
    boolean: true,
  },
  queueUrl: {
    env: "SQS_QUEUE_URL",
    describe: "URL of the queue that receives the bucket's notifications",
    schema: url,
  },
  sqsWaitSeconds: { env: "SQS_WAIT_SECONDS", describe: "Long-poll wait", schema: int(0, 20), default: 20 },
  sqsMaxMessages: {
    env: "SQS_MAX_MESSAGES",
    describe: "Messages per receive",
    schema: int(1, 10),
    default: 10,
  },
  sqsPrefetch: {
    env: "SQS_PREFETCH",
    describe:
      "Messages held beyond OBJECT_CONCURRENCY, waiting for an object slot (their visibility kept on the heartbeat)",
    // Received before a slot frees, so no object slot waits on a ReceiveMessage (or a DeleteMessage) round
    // trip; the latency-bound benchmark (docs/BENCHMARKS.md) picked the default. A held message costs its
    // body and a heartbeat timer; objects in flight stay bounded by OBJECT_CONCURRENCY.
    schema: int(0, 100),
    default: 10,
  },
  visibilityTimeout: {
    env: "SQS_VISIBILITY_TIMEOUT",
    describe: "Seconds a received message stays hidden; extended on a heartbeat while work goes on",
    schema: int(10, 43_200),
    default: 120,
  },
  invalidMessageVisibility: {
    env: "INVALID_MESSAGE_VISIBILITY",
    describe:
      "Seconds a message that is not an S3 notification stays hidden after each receive (never deleted: it reaches the DLQ after maxReceiveCount receives)",
    // SQS's maximum (12 h): garbage then takes one receive slot per 12 h instead of one every
    // visibility timeout, and real notifications behind it are not kept waiting.
    schema: int(0, 43_200),
    default: 43_200,
  },
  bucketAllowlist: {
    env: "BUCKET_ALLOWLIST",
    describe: "Buckets the worker may fetch from, comma separated (empty: any, with a warning)",
    schema: list,
    default: "",
    list: true,
  },
  keyPrefix: {
    env: "KEY_PREFIX",
    describe: "Only keys under this prefix",
    schema: z.string().trim(),
    default: "",
  },
  keyPattern: {
    env: "KEY_PATTERN",
    describe: "Only keys matching this regular expression (default: Twingate file names)",
    schema: regex,
    default: TWINGATE_KEY_PATTERN,
  },
  objectConcurrency: {
    env: "OBJECT_CONCURRENCY",
    describe: "Objects processed at once",
    schema: int(1, 256),
    // 4: Twingate's files are small and S3/SQS answer in tens of ms, so a worker waits on the network more
    // than it computes; in the latency-bound benchmark (docs/BENCHMARKS.md) the worker gains up to 4
    // (over 2: 1.3x at 50 ms, 1.6x at 0 ms) and little or nothing reliable beyond. Not more: each object parsing at once adds
    // a batch and garbage the heap grows for (ten 100 MB files peaked ~290 MB at 4, ~180 MB at 2).
    default: 4,
  },
  bulkConcurrency: {
    env: "BULK_CONCURRENCY",
    describe: "Bulk requests in flight at once (whole process)",
    schema: int(1, 64),
    default: 4,
  },
  bulkMaxDocs: {
    env: "BULK_MAX_DOCS",
    describe: "Documents per bulk request",
    schema: int(1, 100_000),
    default: 2000,
  },
  bulkMaxBytes: {
    env: "BULK_MAX_BYTES",
    describe: "Bytes per bulk request (e.g. 5mb)",
    schema: size(1024, 100 * 1024 ** 2),
    default: "5mb",
  },
  holdLimit: {
    env: "HOLD_LIMIT",
    describe:
      "How long a write may be held while OpenSearch cannot take writes (blocked, down, a permission missing) before it is given up and its message returned to the queue (e.g. 6h)",
    schema: duration(1000, 7 * 86_400_000),
    // 6 h: outlasts an operator's block or an overnight outage, and stays under SQS's 12-hour visibility
    // ceiling per receive (see src/core/sink/holds.ts).
    default: "6h",
  },
  maxRecordBytes: {
    env: "MAX_RECORD_BYTES",
    describe: "Largest single record accepted (e.g. 1mb)",
    schema: size(1024, 512 * 1024 ** 2),
    default: "1mb",
  },
  maxFileBytes: {
    env: "MAX_FILE_BYTES",
    describe:
      "Largest decompressed file accepted (e.g. 2gb); beyond it the rest of the file is a file_too_large",
    schema: size(1024, 2 ** 50),
    // Twingate writes one file per 5 minutes: 2 GiB is ~3.8 million records of ~560 bytes, ~12,700 events a
    // second for 5 minutes, several times a large tenant's peak; reading that much costs ~30 s of CPU, so a
    // hostile file costs at most that per delivery (README, "Limits").
    default: "2gb",
  },
  maxDecompressionRatio: {
    env: "MAX_DECOMPRESSION_RATIO",
    describe:
      "Largest gzip expansion accepted (decompressed / compressed bytes, checked past 32 MiB decompressed); beyond it the file is a decompression_ratio error",
    // Twingate's JSON compresses ~10-20:1; decompression bombs are 1,000:1 and more.
    schema: int(2, 1_000_000),
    default: 100,
  },
  maxEventTimeDeviationHours: {
    env: "MAX_EVENT_TIME_DEVIATION_HOURS",
    describe:
      "Hours a record's event time may be from its file's time (its key's slot) before it is indexed in the file's period, the deviation listed on it",
    // Twingate delivers within minutes (up to 10 late); 48 h leaves room for a delayed export and clock skew,
    // and one file then touches at most its period and those within two days of it, per stream.
    schema: int(1, 24 * 3650),
    default: 48,
  },
  maxRejectsPerReason: {
    env: "MAX_REJECTS_PER_REASON",
    describe:
      "Quarantine documents per rejection reason and file; the rejections beyond are counted into one summary document",
    schema: int(1, 10_000_000),
    default: 1000,
  },
  metricsPort: {
    env: "METRICS_PORT",
    describe: "Port of /metrics, /healthz, /readyz (0: off)",
    schema: int(0, 65_535),
    default: 9464,
  },
  metricsHost: {
    env: "METRICS_HOST",
    describe: "Address the metrics server binds",
    schema: z.string().trim().min(1),
    default: "127.0.0.1",
  },
  shutdownTimeoutMs: {
    env: "SHUTDOWN_TIMEOUT_MS",
    describe: "How long a stopping worker finishes in-flight work before releasing it",
    schema: int(0, 3_600_000),
    default: 30_000,
  },
  checkpoint: {
    env: "BACKFILL_CHECKPOINT",
    describe:
      "Where backfill keeps its progress: a file, a folder, or s3://bucket/key (s3://bucket/prefix/ for a name per run) (default: a file per run in the current folder)",
    schema: z.string().trim().min(1),
  },
  autoSetup: {
    env: "AUTO_SETUP",
    describe:
      "Install or update the index templates (and retention policy) when missing or outdated, at start-up and before a write creates an index; false: refuse to write (hold) until `setup` has run",
    schema: bool,
    default: true,
    boolean: true,
  },
} satisfies Record<string, SettingDef>;

export type SettingKey = keyof typeof SETTINGS;
type Out<K extends SettingKey> = (typeof SETTINGS)[K]["schema"] extends z.ZodType<infer O> ? O : never;
type HasDefault<K extends SettingKey> = (typeof SETTINGS)[K] extends { default: unknown } ? K : never;

export type Config = { [K in SettingKey as HasDefault<K>]: Out<K> } & {
  [K in Exclude<SettingKey, HasDefault<SettingKey>>]?: Out<K>;
};

/** camelCase key -> --kebab-case flag */
export function flagName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
