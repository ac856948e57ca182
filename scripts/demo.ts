/**
 * The demo, end to end on the local stack: setup -> produce (S3 -> notification -> SQS) -> worker ->
 * OpenSearch, then a report per index. Expects the stack's endpoints in the environment
 * (scripts/demo.sh exports them). Options: --minutes N of history (default 30), --rate events/s (5),
 * --keep-running to leave the worker and a live producer running until Ctrl-C.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Client } from "@opensearch-project/opensearch";

const CLI = fileURLToPath(new URL("../bin/twingate-ingest.js", import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1]! : dflt;
};
const minutes = Number(opt("minutes", "30"));
const rate = opt("rate", "5");
const keepRunning = args.includes("--keep-running");
const bucket = "twingate-demo";
const prefix = "twingate";
const env = { ...process.env, BUCKET_ALLOWLIST: bucket, INDEX_PREFIX: prefix };
const metricsPort = process.env["METRICS_PORT"] ?? "9464";

function run(cliArgs: string[], capture = false): Promise<string> {
  const child = spawn(process.execPath, [CLI, ...cliArgs], {
    env,
    stdio: ["ignore", capture ? "pipe" : "inherit", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c;
  });
  return once(child, "exit").then(([code]) => {
    if (code !== 0) throw new Error(`twingate-ingest ${cliArgs[0]} failed (exit ${code})`);
    return out;
  });
}

const step = (s: string) => process.stdout.write(`\n==> ${s}\n`);

step("setup: index templates, aliases and retention in OpenSearch");
await run(["setup", "--log-level", "warn"]);

step(
  `produce: ${minutes} minutes of Twingate files into s3://${bucket} (bucket, queue, DLQ and notification created)`,
);
const summary = JSON.parse(
  await run(
    [
      "produce",
      "--setup",
      "--bucket",
      bucket,
      "--queue",
      bucket,
      "--from",
      `now-${minutes}m`,
      "--to",
      "now",
      "--rate",
      rate,
      "--invalid-rate",
      "0.005",
      "--json",
      "--log-level",
      "warn",
    ],
    true,
  ),
) as {
  files: unknown[];
  valid: number;
  records: number;
  queue_url: string;
  by_event_type: Record<string, number>;
};
process.stdout.write(
  `    ${summary.files.length} files, ${summary.records} records (${summary.valid} valid) -> notifications on ${summary.queue_url}\n`,
);

step(
  `worker: SQS -> S3 -> validate -> OpenSearch _bulk (metrics on http://127.0.0.1:${metricsPort}/metrics)`,
);
const worker = spawn(
  process.execPath,
  [CLI, "worker", "--queue-url", summary.queue_url, "--sqs-wait-seconds", "2", "--metrics-port", metricsPort],
  { env: { ...env, LOG_LEVEL: "info" }, stdio: ["ignore", "inherit", "pipe"] },
);
// One readable line per object from the worker's JSON log; this run's totals from the same lines.
const thisRun = { records: 0, indexed: 0, duplicates: 0, rejected: 0 };
/** A warning's own fields (the field path of a data-quality warning, the key, the reason), not pino's. */
const detail = (l: Record<string, unknown>) =>
  Object.entries(l)
    .filter(([k]) => !["level", "time", "pid", "hostname", "msg"].includes(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ")
    .slice(0, 400);
worker.stderr.on("data", (chunk: Buffer) => {
  for (const line of chunk.toString().split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const l = JSON.parse(line) as Record<string, unknown>;
      if (l["msg"] === "object ingested") {
        for (const k of ["records", "indexed", "duplicates", "rejected"] as const)
          thisRun[k] += Number(l[k] ?? 0);
        process.stdout.write(
          `    ${String(l["key"]).padEnd(34)} records ${String(l["records"]).padStart(5)}  indexed ${String(l["indexed"]).padStart(5)}  quarantined ${l["rejected"]}\n`,
        );
      } else if (Number(l["level"]) >= 40)
        process.stdout.write(`    [${l["level"] === 40 ? "warn" : "error"}] ${l["msg"]}  ${detail(l)}\n`);
    } catch {
      /* not a log line */
    }
  }
});

const sqs = new SQSClient({ endpoint: process.env["SQS_ENDPOINT"] });
const os = new Client({ node: process.env["OPENSEARCH_URL"] });
const deadline = Date.now() + 180_000;
for (;;) {
  const a = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: summary.queue_url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  const left =
    Number(a.Attributes?.ApproximateNumberOfMessages) +
    Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
  if (left === 0) break;
  if (Date.now() > deadline) throw new Error(`the queue still holds ${left} messages after 3 minutes`);
  await new Promise((r) => setTimeout(r, 1000));
}

step("what landed in OpenSearch");
await os.indices.refresh({ index: `${prefix}-*` });
const cat = await os.cat.indices({
  index: `${prefix}-*`,
  format: "json",
  h: "index,docs.count",
  s: "index",
} as never);
const rows = cat.body as unknown as { index: string; "docs.count": string }[];
const byStream = new Map<string, number>();
for (const r of rows) {
  const stream = r.index.slice(prefix.length + 1).replace(/-\d{4}\.(?:\d{2}\.\d{2}|w\d{2}|\d{2})$/, "");
  byStream.set(stream, (byStream.get(stream) ?? 0) + Number(r["docs.count"]));
}
process.stdout.write(
  `    this run: ${thisRun.records} records read, ${thisRun.indexed} indexed, ${thisRun.rejected} quarantined; ${thisRun.duplicates} of the documents were already there (an earlier run, or a retried request)\n`,
);
process.stdout.write(
  `    ${"index".padEnd(22)} ${"this run".padStart(9)} ${"in OpenSearch (every run)".padStart(26)}\n`,
);
for (const [stream, n] of byStream) {
  const produced = summary.by_event_type[stream];
  const mine = produced === undefined ? "-" : String(produced);
  process.stdout.write(`    ${stream.padEnd(22)} ${mine.padStart(9)} ${String(n).padStart(26)}\n`);
}
const url = process.env["OPENSEARCH_URL"];
// Queries that answer after the demo has ended (the worker's /metrics stops with it).
process.stdout.write(`
Query it:
    curl -s '${url}/${prefix}-network_access/_search?q=event.action:denied_access&size=3&pretty'
    curl -s '${url}/${prefix}-quarantine-*/_search?size=3&pretty'      # the records that failed validation
    curl -s '${url}/${prefix}-*/_search?size=0&pretty' -H 'content-type: application/json' \\
      -d '{"aggs":{"indices":{"terms":{"field":"_index"}}}}'       # documents per index
${keepRunning ? `    curl -s 'http://127.0.0.1:${metricsPort}/metrics' | grep twingate_ingest_records_total   # while it runs\n` : ""}`);

if (keepRunning) {
  step("live: a new file every 30 s; Ctrl-C to stop");
  const producer = spawn(
    process.execPath,
    [CLI, "produce", "--bucket", bucket, "--interval", "30s", "--rate", rate, "--log-level", "warn"],
    { env, stdio: "inherit" },
  );
  await new Promise<void>((resolve) => process.once("SIGINT", () => resolve()));
  producer.kill("SIGTERM");
}
worker.kill("SIGTERM");
await once(worker, "exit");
sqs.destroy();
await os.close();
process.stdout.write("\nDone. `bash scripts/stack.sh down` stops OpenSearch and the emulator.\n");
