/**
 * A record the cluster refuses for its size is that record's fault (docs/RELIABILITY.md, "Write failures"):
 * against a real node started with a small `http.max_content_length` (64kb; scripts/stack.sh
 * STACK_OPENSEARCH_HTTP_MAX_CONTENT_LENGTH), a file whose one record is larger than that gets the record
 * quarantined as `record_too_large` with a preview of its text, every other record indexed, the message
 * deleted and nothing in the DLQ; the halving of the larger batches on 413 is logged once for the object,
 * naming BULK_MAX_BYTES. Before this, the 413 on the one-document batch failed the object on every receive
 * and the message reached the DLQ with the records after it unindexed.
 *
 * The node runs on STACK_SMALL_BODY_OPENSEARCH_PORT (default: STACK_OPENSEARCH_PORT + 30), is started here
 * when not running and stopped after.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { Client } from "@opensearch-project/opensearch";
import { countDocs, queueDepth, startWorker, waitFor } from "../helpers/processes.ts";
import { awsClients, createBucketWithQueueNotification, stackEnv, uniqueName } from "../helpers/stack.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const STACK = fileURLToPath(new URL("../../scripts/stack.sh", import.meta.url));
const PORT =
  process.env["STACK_SMALL_BODY_OPENSEARCH_PORT"] ??
  String(Number(process.env["STACK_OPENSEARCH_PORT"] ?? 9200) + 30);
const URL_ = `http://127.0.0.1:${PORT}`;

function stack(command: string): void {
  const r = spawnSync("bash", [STACK, command, ...(command === "down" ? ["opensearch"] : [])], {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
    env: {
      ...process.env,
      STACK_OPENSEARCH_PORT: PORT,
      STACK_OPENSEARCH_HEAP: "256m",
      STACK_OPENSEARCH_HTTP_MAX_CONTENT_LENGTH: "64kb",
    },
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`scripts/stack.sh ${command} on port ${PORT} failed (see above)`);
}

const env = stackEnv();
const aws = awsClients(env);
const os = new Client({ node: URL_, requestTimeout: 30_000 });

before(async () => {
  stack("up");
  const s = await os.nodes.info({ metric: "settings" } as never);
  const nodes = Object.values(
    (s.body as { nodes: Record<string, { settings: { http?: { max_content_length?: string } } }> }).nodes,
  );
  assert.equal(
    nodes[0]?.settings.http?.max_content_length,
    "64kb",
    `the node on ${URL_} has http.max_content_length 64kb`,
  );
});
after(async () => {
  aws.destroy();
  await os.close();
  stack("down");
});

const FIXTURE = JSON.parse(
  readFileSync(
    fileURLToPath(new URL("../fixtures/files/2025-07-25T18:20:00+00:00.json", import.meta.url)),
    "utf8",
  ).split("\n")[0]!,
) as { event: { time: string } & Record<string, unknown> };

/** 300 distinct records (their times differ), the 150th carrying an unmapped field of 100 KB. */
function fileText(): string {
  const lines: string[] = [];
  for (let i = 0; i < 300; i++) {
    const event: Record<string, unknown> = {
      ...FIXTURE.event,
      time: `2025-07-25T18:19:41.${String(i).padStart(6, "0")}+00:00`,
    };
    if (i === 150) event["note"] = "x".repeat(100_000);
    lines.push(JSON.stringify({ ...FIXTURE, event }));
  }
  return `${lines.join("\n")}\n`;
}

describe("a record larger than the cluster's http.max_content_length", { timeout: 300_000 }, () => {
  it("is quarantined as record_too_large with a preview, the rest of its file indexed, the message deleted", async (t) => {
    const bucket = uniqueName("tg-too-large");
    const { queueUrl, dlqUrl } = await createBucketWithQueueNotification(
      { bucket, queue: bucket, maxReceiveCount: 2 },
      { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
    );
    const prefix = uniqueName("toolarge");
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: { OPENSEARCH_URL: URL_ },
      args: ["--auto-setup", "--index-period", "day", "--visibility-timeout", "10"],
    });
    try {
      await waitFor(
        "worker started",
        async () => worker.logs(),
        (l) => l.includes('"msg":"worker started"'),
        60_000,
      );
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: "tg/2025-07-25T18:20:00+00:00.json", Body: fileText() }),
      );
      await waitFor(
        "the file's 300 records stored and the queue drained",
        async () => ({ docs: await countDocs(os, `${prefix}-*`), q: await queueDepth(aws.sqs, queueUrl) }),
        (x) => x.docs >= 300 && x.q.visible === 0 && x.q.inFlight === 0,
        120_000,
      );
      assert.equal(await countDocs(os, `${prefix}-network_access-*`), 299, "every other record indexed");
      const q = await os.search({ index: `${prefix}-quarantine-*`, body: { query: { match_all: {} } } });
      const hits = (q.body as { hits: { hits: { _source: { quarantine: Record<string, unknown> } }[] } }).hits
        .hits;
      assert.equal(hits.length, 1, "one quarantine document");
      const qd = hits[0]!._source.quarantine;
      assert.equal(qd["reason"], "record_too_large");
      assert.match(String(qd["message"]), /http\.max_content_length \(HTTP 413\)/);
      assert.equal(qd["raw_truncated"], true, "the raw text is a preview");
      assert.match(String(qd["raw"]), /^\{"event_type":"network_access"/);
      assert.ok(String(qd["raw"]).length <= 16 * 1024);
      assert.equal((await queueDepth(aws.sqs, dlqUrl!)).visible, 0, "nothing in the DLQ");
      const logs = worker.logs();
      const halving = logs.split("\n").filter((l) => l.includes("as too large (HTTP 413"));
      assert.equal(halving.length, 1, "the halving logged once for the object");
      assert.match(halving[0]!, /BULK_MAX_BYTES/);
      assert.doesNotMatch(logs, /PermanentBulkError|object failed/);
      t.diagnostic(`299 indexed, 1 record_too_large; ${halving.length} halving warning`);
    } finally {
      await worker.stop();
      await os.indices.delete({ index: `${prefix}-*` }).catch(() => undefined);
      await os.indices.deleteIndexTemplate({ name: `${prefix}*` }).catch(() => undefined);
      await os.cluster.deleteComponentTemplate({ name: `${prefix}*` }).catch(() => undefined);
    }
  });
});
