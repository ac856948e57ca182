/**
 * Blocked is not broken (docs/RELIABILITY.md, "Write failures"): against the real OpenSearch, a write block
 * on the day's indices and a read-only cluster are waited out. Nothing good is quarantined, the message is
 * neither deleted nor dead-lettered while blocked, /readyz says why, and once the block is lifted every
 * record is indexed exactly once by the same worker process.
 *
 * The read-only test sets a cluster-wide setting on the shared cluster: it is reset in `finally` and in an
 * `after` hook, and kept short.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, describe, it, type TestContext } from "node:test";
import {
  countDocs,
  expectedQuarantine,
  type ProduceSummary,
  produce,
  queueDepth,
  startWorker,
  type WorkerProcess,
  waitFor,
} from "../helpers/processes.ts";
import {
  awsClients,
  createBucketWithQueueNotification,
  dropPrefix,
  indexPrefixes,
  opensearchClient,
  stackEnv,
  uniqueName,
} from "../helpers/stack.ts";

const env = stackEnv();
const aws = awsClients(env);
const os = opensearchClient(env);

/**
 * Lifts the read-only block (the test sets it transient). Only the block's own key in the request: OpenSearch
 * refuses, while read-only, any settings update that is not just the clearing of a block.
 */
async function clearReadOnly(): Promise<void> {
  await os.cluster.putSettings({ body: { transient: { "cluster.blocks.read_only": null } } });
}
after(async () => {
  await clearReadOnly().catch(() => undefined);
  aws.destroy();
  await os.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const DAY = "2025.07.25";
const TYPES = ["network_access", "dns_filtering", "audit_log", "data_loss_prevention"];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function readyz(port: number): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: res.status, body: await res.text() };
}

function notable(logs: string): string {
  return logs
    .split("\n")
    .filter((l) => !l.includes('"level":30') || /returned|ingested|resuming|started/.test(l))
    .map((l) => l.slice(0, 400))
    .join("\n")
    .slice(-8_000);
}

async function expectExact(
  t: TestContext,
  prefix: string,
  s: ProduceSummary,
  queueUrl: string,
  w: WorkerProcess,
) {
  const wantQ = expectedQuarantine(s);
  try {
    await waitFor(
      "every record indexed once and the queue drained",
      async () => ({ docs: await countDocs(os, `${prefix}-*`), q: await queueDepth(aws.sqs, queueUrl) }),
      (x) => x.docs >= s.valid + wantQ && x.q.visible === 0 && x.q.inFlight === 0,
      40_000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${notable(w.logs())}`);
  }
  for (const [type, n] of Object.entries(s.by_event_type))
    assert.equal(await countDocs(os, `${prefix}-${type}-*`), n, `${type} documents`);
  assert.equal(await countDocs(os, `${prefix}-quarantine-*`), wantQ, "only the invalid records quarantined");
  assert.equal(await countDocs(os, `${prefix}-*`), s.valid + wantQ, "no other documents");
  t.diagnostic(`exact: ${s.valid} indexed once, ${wantQ} quarantined`);
}

/**
 * A bucket notifying a fresh queue (maxReceiveCount 2: the old path reached the DLQ quickly) and a worker on
 * it writing daily indices, with its /readyz on a free port; resolves once the worker has started.
 */
async function startHeldWorker(newPrefix: (name: string) => string, name: string) {
  const bucket = uniqueName(`tg-${name}`);
  const { queueUrl, dlqUrl } = await createBucketWithQueueNotification(
    { bucket, queue: bucket, maxReceiveCount: 2 },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  const prefix = newPrefix(name);
  const port = await freePort();
  const args = [
    "--visibility-timeout",
    "10",
    "--auto-setup",
    "--index-period",
    "day",
    "--metrics-port",
    String(port),
  ];
  const worker = startWorker({ queueUrl, indexPrefix: prefix, args });
  await waitFor(
    "worker started",
    async () => worker.logs(),
    (l) => l.includes('"msg":"worker started"'),
    30_000,
  );
  return { bucket, queueUrl, dlqUrl: dlqUrl!, prefix, port, worker };
}

describe("writes held while OpenSearch cannot take them", { timeout: 180_000 }, () => {
  const newPrefix = indexPrefixes();

  it("index.blocks.write on the day's indices: held (message kept, nothing quarantined), then indexed once", async (t) => {
    const { bucket, queueUrl, dlqUrl, prefix, port, worker } = await startHeldWorker(newPrefix, "hold-idx");
    try {
      // The day's indices, created from the templates, blocked for writes (as ISM's read_only step does).
      for (const name of [...TYPES, "quarantine"])
        await os.indices.create({
          index: `${prefix}-${name}-${DAY}`,
          body: { settings: { "index.blocks.write": true } },
        });
      const s = await produce([
        "--bucket",
        bucket,
        "--from",
        "2025-07-25T12:00:00Z",
        "--to",
        "2025-07-25T12:04:00Z",
        "--events-per-file",
        "400",
        "--invalid-rate",
        "0.02",
      ]);
      assert.equal(s.files.length, 1);
      await waitFor(
        "the hold reported",
        async () => worker.logs(),
        (l) => /cannot take writes now \(index_block/.test(l),
        30_000,
      );
      const r = await readyz(port);
      assert.equal(r.status, 503, r.body);
      assert.match(r.body, /writes: FAIL writes held .*index_block/);
      // Longer than the visibility timeout: the heartbeat keeps the message, it is neither deleted nor redriven.
      await sleep(12_000);
      assert.deepEqual(
        await queueDepth(aws.sqs, queueUrl),
        { visible: 0, inFlight: 1 },
        "message held in flight",
      );
      assert.equal(await countDocs(os, `${prefix}-quarantine-*`), 0, "nothing quarantined while blocked");
      await os.indices.putSettings({ index: `${prefix}-*`, body: { "index.blocks.write": null } });
      await expectExact(t, prefix, s, queueUrl, worker);
      assert.equal((await queueDepth(aws.sqs, dlqUrl!)).visible, 0, "nothing in the DLQ");
      assert.equal((await readyz(port)).status, 200);
      assert.equal(worker.child.exitCode, null, "the worker was never restarted");
      assert.match(worker.logs(), /takes writes again; resuming/);
      assert.doesNotMatch(worker.logs(), /document refused; quarantined/);
    } finally {
      await os.indices
        .putSettings({ index: `${prefix}-*`, body: { "index.blocks.write": null } })
        .catch(() => undefined);
      assert.equal(await worker.stop(), 0);
      await dropPrefix(os, prefix);
    }
  });

  it("cluster.blocks.read_only longer than the old path to the DLQ: never dead-lettered, ingested once cleared", async (t) => {
    const { bucket, queueUrl, dlqUrl, prefix, port, worker } = await startHeldWorker(newPrefix, "hold-ro");
    try {
      // The file goes to S3 before the block (the producer writes nothing to OpenSearch; S3 is moto).
      const s = await produce([
        "--bucket",
        bucket,
        "--from",
        "2025-07-25T13:00:00Z",
        "--to",
        "2025-07-25T13:04:00Z",
        "--events-per-file",
        "300",
        "--invalid-rate",
        "0.02",
      ]);
      await os.cluster.putSettings({ body: { transient: { "cluster.blocks.read_only": true } } });
      try {
        await waitFor(
          "the hold reported",
          async () => worker.logs(),
          (l) => /cannot take writes now \(cluster_block/.test(l),
          20_000,
        );
        const r = await readyz(port);
        assert.equal(r.status, 503, r.body);
        assert.match(r.body, /cluster_block/);
        // Before this change a whole-request 403 was final: with maxReceiveCount 2 the file reached the DLQ
        // in ~15 s (5 s, then 10 s of backoff). Held for 25 s, three visibility timeouts:
        await sleep(25_000);
        assert.deepEqual(await queueDepth(aws.sqs, queueUrl), { visible: 0, inFlight: 1 }, "message held");
        assert.equal((await queueDepth(aws.sqs, dlqUrl!)).visible, 0, "nothing in the DLQ");
      } finally {
        await clearReadOnly();
      }
      await expectExact(t, prefix, s, queueUrl, worker);
      assert.equal((await queueDepth(aws.sqs, dlqUrl!)).visible, 0, "nothing in the DLQ");
      assert.equal(worker.child.exitCode, null, "the worker was never restarted");
      assert.match(worker.logs(), /takes writes again; resuming/);
    } finally {
      await clearReadOnly().catch(() => undefined);
      assert.equal(await worker.stop(), 0);
      await dropPrefix(os, prefix);
    }
  });
});
