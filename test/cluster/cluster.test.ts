/**
 * Multi-node faults (issue #29; docs/RELIABILITY.md, "A cluster of several nodes"): a 3-node cluster of
 * scripts/stack.sh (`cluster up`, loopback, one replica per index as setup gives on several data nodes), a
 * worker writing through it, and a node killed, restarted or frozen while it ingests. Each case checks:
 * documents expected = found, distinct ids = documents, nothing quarantined (the producer writes no invalid
 * record, so any quarantine document is one the cluster's trouble caused), nothing in the DLQ.
 *
 * Not part of `npm test` (a few minutes of node restarts on a shared 2-core box): `npm run test:cluster`
 * (scripts/run-tests.mjs --cluster) brings the cluster up first. Cases run one after the other, each leaving
 * every node up for the next.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, type TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { Client } from "@opensearch-project/opensearch";
import {
  countDocs,
  expectedQuarantine,
  type ProduceSummary,
  produce,
  queueDepth,
  runCli,
  startWorker,
  waitFor,
} from "../helpers/processes.ts";
import { awsClients, createBucketWithQueueNotification, stackEnv, uniqueName } from "../helpers/stack.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STACK = fileURLToPath(new URL("../../scripts/stack.sh", import.meta.url));
const N = Number(process.env["STACK_CLUSTER_NODES"] ?? 3);
const BASE = Number(
  process.env["STACK_CLUSTER_PORT"] ?? Number(process.env["STACK_OPENSEARCH_PORT"] ?? 9200) + 20,
);
const URLS = Array.from({ length: N }, (_, i) => `http://127.0.0.1:${BASE + i}`);

const env = stackEnv();
const aws = awsClients(env);
const os = new Client({ nodes: URLS, requestTimeout: 30_000 });
after(async () => {
  aws.destroy();
  await os.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * How long `stack.sh cluster up` may take: it waits up to twice STACK_START_TIMEOUT (120 s by default) for
 * the cluster to form; a loaded 2-core machine needs more (STACK_START_TIMEOUT=300), and the call waits
 * for the script's own limit rather than cutting it short.
 */
const CLUSTER_UP_MS = (Number(process.env["STACK_START_TIMEOUT"] ?? 120) * 2 + 60) * 1000;

function cluster(command: string): string {
  const r = spawnSync("bash", [STACK, "cluster", command], {
    cwd: ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: Math.max(600_000, CLUSTER_UP_MS),
  });
  if (r.status !== 0) throw new Error(`scripts/stack.sh cluster ${command} failed`);
  return r.stdout;
}

/** node index -> pid of the running nodes (`cluster pids`: `node-<i> <port> <pid>`). */
function pids(): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of cluster("pids").split("\n")) {
    const m = /^node-(\d+) \d+ (\d+)$/.exec(line.trim());
    if (m?.[2]) out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** Every node in and the cluster green (the replicas of our indices assigned again). */
async function waitGreen(): Promise<void> {
  await waitFor(
    "the cluster green with every node",
    async () => {
      const h = await os.cluster.health({ wait_for_nodes: String(N), timeout: "5s" } as never);
      return (h.body as { status: string; number_of_nodes: number }).status;
    },
    (s) => s === "green",
    Math.max(300_000, CLUSTER_UP_MS),
    2_000,
  );
}

/** The node holding most primaries of the prefix's indices (the one whose death promotes replicas). */
async function primaryHolder(prefix: string): Promise<number> {
  const res = await os.cat.shards({ index: `${prefix}-*`, format: "json", h: "index,prirep,node" } as never);
  const byNode = new Map<string, number>();
  for (const s of res.body as { prirep: string; node: string | null }[])
    if (s.prirep === "p" && s.node) byNode.set(s.node, (byNode.get(s.node) ?? 0) + 1);
  const [name] = [...byNode.entries()].sort((a, b) => b[1] - a[1])[0] ?? ["node-0"];
  return Number(/node-(\d+)/.exec(name)?.[1] ?? 0);
}

let lastProbeError = "";
/**
 * Documents under the prefix for polling: a count without a refresh (the indices refresh every 5 s; a
 * refresh of every shard takes long on a loaded box while a node is away), -1 ("not yet") while shards move.
 */
async function probeDocs(prefix: string): Promise<number> {
  try {
    const res = await os.count({
      index: `${prefix}-*`,
      allow_no_indices: true,
      ignore_unavailable: true,
    } as never);
    return (res.body as { count: number }).count;
  } catch (err) {
    lastProbeError = String(err).slice(0, 300);
    return -1;
  }
}

/** The ids of every document under the prefix (scrolled), to count distinct ones. */
async function allIds(prefix: string): Promise<string[]> {
  const ids: string[] = [];
  let res = await os.search({
    index: `${prefix}-*`,
    scroll: "1m",
    size: 5000,
    body: { _source: false, query: { match_all: {} } },
  } as never);
  for (;;) {
    const body = res.body as { _scroll_id: string; hits: { hits: { _id: string }[] } };
    if (body.hits.hits.length === 0) break;
    for (const h of body.hits.hits) ids.push(h._id);
    res = await os.scroll({ scroll_id: body._scroll_id, scroll: "1m" } as never);
  }
  return ids;
}

async function setup(name: string) {
  const bucket = uniqueName(`tg-${name}`);
  const { queueUrl, dlqUrl } = await createBucketWithQueueNotification(
    { bucket, queue: bucket, maxReceiveCount: 5 },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  return { bucket, queueUrl, dlqUrl: dlqUrl!, prefix: uniqueName(name) };
}

async function produceFiles(bucket: string, hours = "2025-07-25T11:00:00Z"): Promise<ProduceSummary> {
  return produce([
    "--bucket",
    bucket,
    "--from",
    "2025-07-25T10:00:00Z",
    "--to",
    hours,
    "--events-per-file",
    "1500",
    "--gzip",
  ]);
}

const WORKER_ARGS = [
  "--auto-setup",
  "--visibility-timeout",
  "10",
  "--bulk-max-docs",
  "300",
  "--object-concurrency",
  "2",
];

function notable(logs: string): string {
  return logs
    .split("\n")
    .filter((l) => !l.includes('"level":30') || /resuming|returned/.test(l))
    .map((l) => l.slice(0, 300))
    .join("\n")
    .slice(-6_000);
}

/** Expected = found, distinct ids = documents, nothing quarantined, the queue and the DLQ empty. */
async function expectExact(
  t: TestContext,
  what: string,
  c: { prefix: string; queueUrl?: string; dlqUrl?: string },
  s: ProduceSummary,
  logs: () => string,
) {
  const want = s.valid + expectedQuarantine(s);
  try {
    await waitFor(
      "every record indexed and the queue drained",
      async () => ({
        docs: await probeDocs(c.prefix),
        q: c.queueUrl ? await queueDepth(aws.sqs, c.queueUrl) : { visible: 0, inFlight: 0 },
      }),
      (x) => x.docs >= want && x.q.visible === 0 && x.q.inFlight === 0,
      900_000,
      2_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${notable(logs())}`);
  }
  for (const [type, n] of Object.entries(s.by_event_type))
    assert.equal(await countDocs(os, `${c.prefix}-${type}-*`), n, `${type}: documents expected = found`);
  const ids = await allIds(c.prefix);
  assert.equal(ids.length, want, "documents");
  assert.equal(new Set(ids).size, ids.length, "distinct ids = documents");
  assert.equal(await countDocs(os, `${c.prefix}-quarantine-*`), 0, "nothing quarantined");
  if (c.dlqUrl) assert.equal((await queueDepth(aws.sqs, c.dlqUrl)).visible, 0, "nothing in the DLQ");
  const held = (logs().match(/OpenSearch cannot take writes now \(([a-z_]+)/g) ?? []).map(
    (m) => m.split("(")[1],
  );
  t.diagnostic(
    `${what}: ${want} expected = found = distinct ids; quarantine 0; DLQ 0; holds: ${[...new Set(held)].join(", ") || "none"}`,
  );
}

/** Resolves once the prefix has at least `n` documents. */
async function until(prefix: string, n: number): Promise<void> {
  try {
    await waitFor(
      `${n} documents`,
      () => probeDocs(prefix),
      (d) => d >= n,
      600_000,
      250,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last probe error: ${lastProbeError}`);
  }
}

describe(`a cluster of ${N} nodes`, { timeout: 3_600_000, concurrency: 1 }, () => {
  it("kill -9 of the node holding the primaries mid-ingest (the worker given every node's URL moves on)", async (t) => {
    await waitGreen();
    const c = await setup("cl-kill");
    const s = await produceFiles(c.bucket);
    const w = startWorker({
      queueUrl: c.queueUrl,
      indexPrefix: c.prefix,
      env: { OPENSEARCH_URL: URLS.join(",") },
      args: WORKER_ARGS,
    });
    try {
      await until(c.prefix, Math.round(s.valid * 0.25));
      const victim = await primaryHolder(c.prefix);
      process.kill(pids().get(victim)!, "SIGKILL");
      t.diagnostic(
        `killed node-${victim} (the primaries' holder) at ${await probeDocs(c.prefix)} of ${s.valid}`,
      );
      await expectExact(t, "kill -9 primaries' node", c, s, w.logs);
    } finally {
      await w.stop();
      cluster("up");
    }
  });

  it("the worker given one node's URL when that node dies: it holds (no sniffing) until the node is back", async (t) => {
    await waitGreen();
    const c = await setup("cl-one");
    const s = await produceFiles(c.bucket);
    const only = N - 1;
    const w = startWorker({
      queueUrl: c.queueUrl,
      indexPrefix: c.prefix,
      env: { OPENSEARCH_URL: URLS[only]! },
      args: WORKER_ARGS,
    });
    try {
      await until(c.prefix, Math.round(s.valid * 0.25));
      process.kill(pids().get(only)!, "SIGKILL");
      await sleep(20_000);
      const during = await probeDocs(c.prefix);
      assert.match(w.logs(), /OpenSearch cannot take writes now \(unreachable/, "held: unreachable");
      assert.equal((await queueDepth(aws.sqs, c.dlqUrl)).visible, 0, "nothing dead-lettered while held");
      t.diagnostic(`node-${only} killed; held at ${during} of ${s.valid} for 20 s; restarting it`);
      cluster("up");
      await expectExact(t, "one URL, its node killed and restarted", c, s, w.logs);
    } finally {
      await w.stop();
      cluster("up");
    }
  });

  it("a node frozen (SIGSTOP) for a minute mid-ingest", async (t) => {
    await waitGreen();
    const c = await setup("cl-stop");
    const s = await produceFiles(c.bucket);
    const w = startWorker({
      queueUrl: c.queueUrl,
      indexPrefix: c.prefix,
      env: { OPENSEARCH_URL: URLS.join(","), OPENSEARCH_TIMEOUT_MS: "15000" },
      args: WORKER_ARGS,
    });
    let frozen: number | undefined;
    try {
      await until(c.prefix, Math.round(s.valid * 0.25));
      const victim = await primaryHolder(c.prefix);
      frozen = pids().get(victim)!;
      process.kill(frozen, "SIGSTOP");
      t.diagnostic(`froze node-${victim} at ${await probeDocs(c.prefix)} of ${s.valid}`);
      await sleep(60_000);
      process.kill(frozen, "SIGCONT");
      frozen = undefined;
      await expectExact(t, "a node frozen for 60 s", c, s, w.logs);
    } finally {
      if (frozen !== undefined) process.kill(frozen, "SIGCONT");
      await w.stop();
      cluster("up");
    }
  });

  it("a rolling restart of every node during a backfill", async (t) => {
    await waitGreen();
    // a bucket without notifications: backfill lists it
    const c = { bucket: uniqueName("tg-cl-roll"), prefix: uniqueName("cl-roll") };
    await aws.s3.send(new CreateBucketCommand({ Bucket: c.bucket }));
    const s = await produceFiles(c.bucket, "2025-07-25T14:00:00Z");
    let backfillDone = false;
    const run = runCli(
      [
        "backfill",
        "--bucket",
        c.bucket,
        "--from",
        "2025-07-25T10:00:00Z",
        "--to",
        "2025-07-25T14:00:00Z",
        "--index-prefix",
        c.prefix,
        "--auto-setup",
        "--bulk-max-docs",
        "100",
        "--bulk-concurrency",
        "1",
        "--concurrency",
        "1",
        "--json",
      ],
      {
        OPENSEARCH_URL: URLS.join(","),
        LOG_LEVEL: "warn",
        // not the working directory's default checkpoint file
        BACKFILL_CHECKPOINT: join(mkdtempSync(join(tmpdir(), "tg-cl-")), "checkpoint.json"),
      },
    ).finally(() => {
      backfillDone = true;
    });
    await until(c.prefix, Math.round(s.valid * 0.02));
    for (let i = 0; i < N && !backfillDone; i++) {
      const pid = pids().get(i)!;
      process.kill(pid, "SIGTERM"); // a graceful stop, as a rolling restart does
      await waitFor(
        "node stopped",
        async () => pids().has(i),
        (alive) => !alive,
        120_000,
        500,
      );
      cluster("up");
      t.diagnostic(`restarted node-${i} at ${await probeDocs(c.prefix)} of ${s.valid}`);
      await waitGreen();
    }
    const out = await run;
    const summary = JSON.parse(out) as { failed?: unknown[] };
    assert.deepEqual(summary.failed ?? [], [], "no file failed");
    await expectExact(t, "rolling restart during a backfill", c, s, () => out);
  });
});
