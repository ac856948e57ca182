/**
 * Runs the real CLI as child processes for end-to-end tests: the producer (to a bucket, with its
 * JSON summary) and workers (which the tests stop with SIGTERM or kill with SIGKILL).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { after } from "node:test";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";

export const CLI = fileURLToPath(new URL("../../bin/twingate-ingest.js", import.meta.url));

/**
 * Every CLI process a test started and that is still running. A test that fails before it stops its
 * workers would leave them running, and a test file whose children still run never exits: the whole
 * test run then hung instead of failing. They are killed when the file's tests are done.
 */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill("SIGKILL");
});

function track<C extends ChildProcess>(child: C): C {
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

export interface ProduceSummary {
  files: { key: string; records: number; valid: number; by_event_type: Record<string, number> }[];
  records: number;
  valid: number;
  by_event_type: Record<string, number>;
  faults: Record<string, number>;
  queue_url?: string;
  dlq_url?: string;
  topic_arn?: string;
}

export interface CliRun {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface CliHandle {
  done: Promise<CliRun>;
  kill: (signal: NodeJS.Signals) => void;
  exited: () => boolean;
}

/** Starts the CLI with stdout and stderr captured (LOG_LEVEL warn unless the env says otherwise). */
export function startCli(args: string[], env: NodeJS.ProcessEnv = {}): CliHandle {
  const child = track(
    spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    }),
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => {
    stdout += c;
  });
  child.stderr.on("data", (c: Buffer) => {
    stderr += c;
  });
  const exit = once(child, "exit") as Promise<[number | null, string | null]>;
  return {
    done: exit.then(([code, signal]) => ({ code, signal, stdout, stderr })),
    kill: (signal) => child.kill(signal),
    exited: () => child.exitCode !== null || child.signalCode !== null,
  };
}

/** Runs the CLI to completion; resolves with stdout, rejects with stderr on a non-zero exit. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const r = await startCli(args, env).done;
  if (r.code !== 0)
    throw new Error(`twingate-ingest ${args.join(" ")} exited ${r.code}:\n${r.stderr.slice(-4000)}`);
  return r.stdout;
}

export async function produce(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ProduceSummary> {
  return JSON.parse(await runCli(["produce", "--json", ...args], env)) as ProduceSummary;
}

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything it logged (JSON lines on stderr). */
  logs: () => string;
  /** SIGTERM and wait; resolves with the exit code. */
  stop: () => Promise<number | null>;
  kill: () => Promise<void>;
}

export function startWorker(opts: {
  queueUrl: string;
  indexPrefix: string;
  env?: NodeJS.ProcessEnv;
  args?: string[];
}): WorkerProcess {
  const child = track(
    spawn(
      process.execPath,
      [
        CLI,
        "worker",
        "--queue-url",
        opts.queueUrl,
        "--index-prefix",
        opts.indexPrefix,
        "--sqs-wait-seconds",
        "1",
        "--metrics-port",
        "0",
        // Short, so a receive whose answer was lost on the way (moto, like SQS, may hide a message
        // from a response that never arrived) comes back within the tests' patience.
        ...(opts.args?.includes("--visibility-timeout") ? [] : ["--visibility-timeout", "20"]),
        ...(opts.args ?? []),
      ],
      { env: { ...process.env, LOG_LEVEL: "info", ...opts.env }, stdio: ["ignore", "ignore", "pipe"] },
    ),
  );
  let logs = "";
  child.stderr!.on("data", (c: Buffer) => {
    logs += c;
    if (logs.length > 4_000_000) logs = logs.slice(-2_000_000);
  });
  const exited = once(child, "exit") as Promise<[number | null, string | null]>;
  return {
    child,
    logs: () => logs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const [code] = await exited;
      return code;
    },
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Documents in indices matching the pattern, after a refresh (0 when none exist yet). */
export async function countDocs(
  os: Client,
  pattern: string,
  query?: Record<string, unknown>,
): Promise<number> {
  await os.indices.refresh({ index: pattern, allow_no_indices: true, ignore_unavailable: true } as never);
  const res = await os.count({
    index: pattern,
    allow_no_indices: true,
    ignore_unavailable: true,
    ...(query ? { body: { query } } : {}),
  } as never);
  return (res.body as { count: number }).count;
}

export async function queueDepth(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ visible: number; inFlight: number }> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(res.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(res.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Polls until the condition holds or the deadline passes (then throws with the last state). */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
  timeoutMs = 120_000,
  everyMs = 500,
): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < until) {
    // A probe may fail for a moment (a count while OpenSearch is still creating an index): asked again.
    try {
      last = await probe();
      lastError = undefined;
      if (done(last)) return last;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  const why = lastError === undefined ? `last: ${JSON.stringify(last)}` : `last error: ${String(lastError)}`;
  throw new Error(`timed out waiting for ${what}; ${why}`);
}

/** Sum of a producer summary's faults that end as one quarantine document each. */
export function expectedQuarantine(s: ProduceSummary): number {
  const f = s.faults;
  return (f["invalid"] ?? 0) + (f["corrupt"] ?? 0) + (f["unknown_type"] ?? 0) + (f["oversized"] ?? 0);
}

export function sumCounts(...maps: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of maps) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}
