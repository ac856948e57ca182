/**
 * Gaps against the real stack: a producer range with slots deleted on purpose reports exactly those slots
 * (runs longest first), and files put in S3 after the backfill are reported as having no documents.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { slotsInRange } from "../../src/core/twingate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { EnqueueSummary } from "../../src/runtimes/backfill/enqueue.ts";
import type { GapsReport } from "../../src/tools/gaps/index.ts";
import type { InProcessRepair } from "../../src/tools/gaps/repair.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { backfillBucket, createQueue, drainKeys, produceFiles } from "../helpers/history.ts";
import { type CliRun, countDocs, startCli } from "../helpers/processes.ts";
import {
  type AwsClients,
  awsClients,
  dropPrefix,
  indexPrefixes,
  opensearchClient,
  stackAvailable,
  uniqueName,
} from "../helpers/stack.ts";

const silent = createLogger("silent");
const FROM = Date.parse("2025-07-25T00:00:00Z");
const TO = Date.parse("2025-07-25T04:00:00Z");
const key = (slot: string) => `tg/${slot}+00:00.json`;

async function gapsCli(args: string[]): Promise<CliRun> {
  return startCli(["gaps", ...args]).done;
}

describe("gaps", { skip: !stackAvailable() && "needs the local stack (npm test)" }, () => {
  let aws: AwsClients;
  let os: Client;
  let bucket: string;
  let prefix: string;
  // Deleted on purpose: the first slot, a run of 4, a run of 2, a single slot and the last slot.
  const deleted = [
    "2025-07-25T00:00:00",
    "2025-07-25T01:00:00",
    "2025-07-25T01:05:00",
    "2025-07-25T01:10:00",
    "2025-07-25T01:15:00",
    "2025-07-25T02:30:00",
    "2025-07-25T02:35:00",
    "2025-07-25T03:00:00",
    "2025-07-25T03:55:00",
  ];
  // Put after the backfill: in S3, not in OpenSearch (one fills a deleted slot, one is a second name for a slot).
  const late = [key("2025-07-25T03:00:00"), "tg/2025-07-25T03:20:00Z.json"];

  before(async () => {
    aws = awsClients();
    os = opensearchClient();
    bucket = uniqueName("e2e-gaps");
    prefix = uniqueName("e2e-gaps");
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await runSetup(os, { indexPrefix: prefix, replicas: 0 }, silent);
    const slots = slotsInRange(FROM, TO);
    const produced = await produceFiles(aws.s3, bucket, slots, {
      seed: 3,
      mix: { network_access: 1, dns_filtering: 1, audit_log: 1, data_loss_prevention: 1 },
      eventsPerFile: 1,
      gzip: false,
      invalid: 0,
    });
    assert.equal(produced.files.length, 48);
    for (const s of deleted) await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key(s) }));
    const done = await backfillBucket(os, aws.s3, bucket, prefix, { fromMs: FROM, toMs: TO });
    assert.equal(done.run.files, 48 - deleted.length);
    await os.indices.refresh({ index: `${prefix}-*` });
    for (const k of late) {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: k,
          Body: '{"event_type":"audit_log","event":{}}\n',
        }),
      );
    }
  });

  after(async () => {
    aws?.destroy();
    if (os && prefix) await dropPrefix(os, prefix);
    await os?.close();
  });

  it("reports exactly the deleted slots, runs longest first, and the files with no documents", async () => {
    const args = [
      ...["--bucket", bucket, "--prefix", "tg/", "--index-prefix", prefix],
      ...["--from", "2025-07-25T00:00:00Z", "--to", "2025-07-25T04:00:00Z"],
    ];
    const r = await gapsCli([...args, "--json"]);
    assert.equal(r.code, 1, `files without documents make the exit code 1\n${r.stderr}`);
    const report = JSON.parse(r.stdout) as GapsReport;
    const stillMissing = deleted.filter((s) => !late.includes(key(s))).map((s) => `${s}+00:00`);
    assert.deepEqual(report.missingSlots, stillMissing);
    assert.equal(report.expectedSlots, 48);
    assert.equal(report.presentSlots, 48 - stillMissing.length);
    assert.deepEqual(
      report.runs.map((x) => [x.start, x.slots]),
      [
        ["2025-07-25T01:00:00+00:00", 4],
        ["2025-07-25T02:30:00+00:00", 2],
        ["2025-07-25T00:00:00+00:00", 1],
        ["2025-07-25T03:55:00+00:00", 1],
      ],
    );
    assert.deepEqual(report.filesWithoutDocuments, late);
    assert.equal(report.files, 48 - deleted.length + late.length);

    const text = await gapsCli(args);
    assert.match(text.stdout, /2025-07-25T01:00:00\+00:00 +2025-07-25T01:20:00\+00:00 +4 +20/);
    assert.match(text.stdout, /no document in OpenSearch \(2\)/);
  });
});

describe("gaps --repair", { skip: !stackAvailable() && "needs the local stack (npm test)" }, () => {
  const newPrefix = indexPrefixes();
  const DAY1 = Date.parse("2025-07-24T00:00:00Z");
  const DAY2 = Date.parse("2025-07-25T00:00:00Z");

  it("after a day of documents is deleted, enqueues exactly that day's files, or ingests them back exactly", async () => {
    const aws = awsClients();
    const os = opensearchClient();
    try {
      const bucket = uniqueName("e2e-repair");
      const prefix = newPrefix("e2e-repair");
      await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      await runSetup(os, { indexPrefix: prefix, replicas: 0 }, silent);
      // One file an hour over two days, a few records each, some invalid (quarantine counts too).
      const slots = [];
      for (let t = DAY1; t < DAY2 + 86_400_000; t += 3_600_000)
        slots.push({ startMs: t, endMs: t + 300_000 });
      const produced = await produceFiles(aws.s3, bucket, slots, { seed: 5 });
      assert.equal(produced.files.length, 48);
      await backfillBucket(os, aws.s3, bucket, prefix, { fromMs: DAY1, toMs: DAY2 + 86_400_000 });
      const patterns = [...EVENT_TYPES, "quarantine"].map((t) => `${prefix}-${t}-*`);
      const before = await Promise.all(patterns.map((p) => countDocs(os, p)));
      assert.equal(
        before.reduce((a, b) => a + b, 0),
        produced.records,
        "every record indexed or quarantined",
      );

      // Delete the second day's documents.
      // (The minimal distribution has no _delete_by_query: search the ids, then a bulk of deletes.)
      const hits = (
        (await os.search({
          index: `${prefix}-*`,
          body: { size: 10_000, _source: false, query: { prefix: { "ingest.key": "tg/2025-07-25" } } },
        } as never)) as { body: { hits: { hits: { _index: string; _id: string }[] } } }
      ).body.hits.hits;
      assert.ok(hits.length > 0);
      await os.bulk({
        refresh: true,
        body: hits.map((h) => ({ delete: { _index: h._index, _id: h._id } })),
      } as never);
      const dayKeys = produced.files
        .map((f) => f.key)
        .filter((k) => k.startsWith("tg/2025-07-25"))
        .sort();
      assert.equal(dayKeys.length, 24);
      const args = [
        "--bucket",
        bucket,
        "--prefix",
        "tg/",
        "--from",
        "2025-07-24",
        "--to",
        "2025-07-25",
        "--index-prefix",
        prefix,
        "--json",
      ];
      const found = await gapsCli(args);
      assert.equal(found.code, 1, found.stderr);
      assert.deepEqual((JSON.parse(found.stdout) as GapsReport).filesWithoutDocuments, dayKeys);

      // --enqueue: exactly those files reach the queue (no worker here: the test reads the queue).
      const queueUrl = await createQueue(aws.sqs, uniqueName("e2e-repair"));
      const enq = await gapsCli([...args, "--repair", "--enqueue", "--queue-url", queueUrl]);
      assert.equal(enq.code, 0, enq.stderr);
      const er = JSON.parse(enq.stdout) as GapsReport & { repair: EnqueueSummary };
      assert.equal(er.repair.run.files, 24);
      assert.deepEqual((await drainKeys(aws.sqs, queueUrl)).sort(), dayKeys);

      // In-process: the day comes back exactly, and a second gaps run reports none.
      const fixed = await gapsCli([...args, "--repair"]);
      assert.equal(fixed.code, 0, fixed.stderr);
      const fr = JSON.parse(fixed.stdout) as GapsReport & { repair: InProcessRepair };
      assert.equal(fr.repair.totals.files, 24);
      assert.equal(fr.repair.failed.length, 0);
      const after = await Promise.all(patterns.map((p) => countDocs(os, p)));
      assert.deepEqual(after, before, "every stream and the quarantine back to their counts");
      const again = await gapsCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual((JSON.parse(again.stdout) as GapsReport).filesWithoutDocuments, []);
    } finally {
      aws.destroy();
      await os.close();
    }
  });
});
