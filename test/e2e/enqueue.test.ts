/**
 * backfill --enqueue against the real stack: a sparse month of files (in a bucket without notifications)
 * is announced to a queue that two workers consume -> exact counts, no duplicates; an enqueue stopped
 * half way and run again announces every file exactly once (the test reads the queue itself, no worker);
 * one killed half way announces every file at least once and at most its batches in flight twice.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES } from "../../src/core/model.ts";
import type { Slot } from "../../src/core/twingate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { CheckpointState } from "../../src/runtimes/backfill/checkpoint.ts";
import type { EnqueueSummary } from "../../src/runtimes/backfill/enqueue.ts";
import type { ProduceSummary } from "../../src/tools/produce/run.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { createQueue, drainKeys, produceFiles } from "../helpers/history.ts";
import { type CliHandle, countDocs, startCli, startWorker, waitFor } from "../helpers/processes.ts";
import {
  type AwsClients,
  awsClients,
  indexPrefixes,
  opensearchClient,
  stackAvailable,
  uniqueName,
} from "../helpers/stack.ts";

const silent = createLogger("silent");
const DAY = 86_400_000;
const JULY = Date.parse("2025-07-01T00:00:00Z");

/** `perDay` slots a day (spread over the day) for the 31 days of July. */
function sparseMonth(perDay: number): Slot[] {
  const slots: Slot[] = [];
  for (let d = 0; d < 31; d++) {
    for (let i = 0; i < perDay; i++) {
      const t = JULY + d * DAY + i * 3 * 3_600_000;
      slots.push({ startMs: t, endMs: t + 300_000 });
    }
  }
  return slots;
}

function countsOf(keys: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
  return m;
}

describe("backfill --enqueue", {
  skip: !stackAvailable() && "needs the local stack (npm test)",
  timeout: 300_000,
}, () => {
  const newPrefix = indexPrefixes();
  let aws: AwsClients;
  let os: Client;
  let bucket: string;
  let produced: ProduceSummary;
  let keys: string[];

  before(async () => {
    aws = awsClients();
    os = opensearchClient();
    bucket = uniqueName("e2e-enqueue");
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    produced = await produceFiles(aws.s3, bucket, sparseMonth(2), { seed: 11 });
    // Outside the range: the last slot of June and the first of August.
    await produceFiles(aws.s3, bucket, [{ startMs: JULY - 300_000, endMs: JULY }], { seed: 12 });
    await produceFiles(aws.s3, bucket, [{ startMs: JULY + 31 * DAY, endMs: JULY + 31 * DAY + 300_000 }], {
      seed: 13,
    });
    keys = produced.files.map((f) => f.key).sort();
    assert.equal(keys.length, 62);
  });

  after(async () => {
    aws?.destroy();
    await os?.close();
  });

  const enqueueArgs = (queueUrl: string, extra: string[] = []) => [
    "backfill",
    "--enqueue",
    "--json",
    "--bucket",
    bucket,
    "--prefix",
    "tg/",
    "--from",
    "2025-07-01",
    "--to",
    "2025-07-31",
    "--queue-url",
    queueUrl,
    ...extra,
  ];

  it("a month announced to a queue two workers consume: exact counts, no duplicates", async () => {
    const queueUrl = await createQueue(aws.sqs, uniqueName("e2e-enq-fleet"));
    const prefix = newPrefix("e2e-enq");
    await runSetup(os, { indexPrefix: prefix, replicas: 0 }, silent);
    const workers = [0, 1].map(() =>
      startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } }),
    );
    try {
      const run = await startCli(enqueueArgs(queueUrl, ["--rate", "0"])).done;
      assert.equal(run.code, 0, run.stderr);
      const s = JSON.parse(run.stdout) as EnqueueSummary & { checkpoint: string };
      assert.equal(s.run.files, keys.length);
      assert.equal(s.listing.outOfRange, 2);
      assert.equal(s.failed.length, 0);

      const valid = produced.valid;
      const invalid = produced.faults["invalid"] ?? 0;
      await waitFor(
        "every record indexed or quarantined",
        () => countDocs(os, `${prefix}-*`),
        (n) => n >= valid + invalid,
        180_000,
      );
      for (const t of EVENT_TYPES) {
        assert.equal(await countDocs(os, `${prefix}-${t}-*`), produced.by_event_type[t], `${t} documents`);
      }
      assert.equal(await countDocs(os, `${prefix}-quarantine-*`), invalid, "quarantine documents");
      assert.equal(await countDocs(os, `${prefix}-*`), valid + invalid, "no duplicates, nothing else");
      // The workers' default INDEX_PERIOD: one index per stream for the month (and one for its quarantine).
      const names = (
        (await os.cat.indices({ index: `${prefix}-*`, format: "json", h: "index" } as never))
          .body as unknown as { index: string }[]
      )
        .map((r) => r.index)
        .sort();
      assert.deepEqual(names, [...EVENT_TYPES, "quarantine"].map((t) => `${prefix}-${t}-2025.07`).sort());
    } finally {
      for (const w of workers) await w.stop();
    }
  });

  it("stopped half way and run again: every file exactly once in the queue's traffic", async () => {
    const queueUrl = await createQueue(aws.sqs, uniqueName("e2e-enq-stop"));
    const checkpoint = `s3://${bucket}/state/`;
    const first: CliHandle = startCli(
      enqueueArgs(queueUrl, ["--rate", "20", "--concurrency", "1", "--checkpoint", checkpoint]),
    );
    // Progress, not time: wait until the checkpoint (an S3 object) records 40 files sent.
    let cpKey: string | undefined;
    await waitFor(
      "the checkpoint to record 20 files",
      async () => {
        if (first.exited()) throw new Error(`enqueue exited early: ${(await first.done).stderr}`);
        const l = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "state/" }));
        cpKey = l.Contents?.[0]?.Key;
        if (!cpKey) return 0;
        const o = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: cpKey }));
        return (JSON.parse(await o.Body!.transformToString()) as CheckpointState).totals.files;
      },
      (n) => n >= 20,
      60_000,
      50,
    );
    first.kill("SIGTERM");
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.stderr);
    const s1 = JSON.parse(r1.stdout) as EnqueueSummary;
    assert.ok(s1.interrupted);
    assert.ok(s1.run.files < keys.length, "stopped before the end");

    const r2 = await startCli(enqueueArgs(queueUrl, ["--rate", "0", "--checkpoint", checkpoint])).done;
    assert.equal(r2.code, 0, r2.stderr);
    const s2 = JSON.parse(r2.stdout) as EnqueueSummary;
    assert.ok(s2.resumed);
    assert.equal(s1.run.files + s2.run.files, keys.length);
    assert.equal(s2.total.files, keys.length);

    const seen = await drainKeys(aws.sqs, queueUrl);
    assert.deepEqual([...seen].sort(), keys, "every file exactly once");
  });

  it("killed half way and run again: every file at least once, at most a batch in flight twice", async () => {
    const queueUrl = await createQueue(aws.sqs, uniqueName("e2e-enq-kill"));
    const checkpoint = join(tmpdir(), `${uniqueName("enq-cp")}.json`);
    const first = startCli(
      enqueueArgs(queueUrl, ["--rate", "20", "--concurrency", "1", "--checkpoint", checkpoint]),
    );
    await waitFor(
      "the checkpoint to record 20 files",
      async () => {
        if (first.exited()) throw new Error(`enqueue exited early: ${(await first.done).stderr}`);
        const text = await readFile(checkpoint, "utf8").catch(() => "");
        return text ? (JSON.parse(text) as CheckpointState).totals.files : 0;
      },
      (n) => n >= 20,
      60_000,
      50,
    );
    first.kill("SIGKILL");
    await first.done;

    const r2 = await startCli(enqueueArgs(queueUrl, ["--rate", "0", "--checkpoint", checkpoint])).done;
    assert.equal(r2.code, 0, r2.stderr);
    const seen = countsOf(await drainKeys(aws.sqs, queueUrl));
    assert.deepEqual([...seen.keys()].sort(), keys, "every file, nothing else");
    const twice = [...seen.values()].filter((n) => n > 1);
    assert.ok(
      twice.every((n) => n === 2),
      "none more than twice",
    );
    assert.ok(twice.length <= 10, `at most one batch (concurrency 1) sent again: ${twice.length}`);
  });
});
