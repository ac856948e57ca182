/**
 * Reliability of the worker against the real stack, under faults: what docs/RELIABILITY.md promises.
 * Every test ends with exact counts: each valid record indexed once, each bad one in quarantine, the
 * queue empty (or the message in the dead-letter queue when that is the intent).
 *
 * Faults come from test/helpers/fault-proxy.ts put in front of OpenSearch or moto (S3, SQS), and from
 * SIGKILL of real worker processes. Worker.test.ts already covers one SIGKILL mid-file, OpenSearch
 * unreachable for 30 s and redelivery to two workers; these build on it.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { describe, it, type TestContext } from "node:test";
import { DeleteObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { encodeS3Key } from "../../src/core/notifications/index.ts";
import { generatedCases, ingestCase, smallCases } from "../fixtures/malformed/corpus.ts";
import { awsErrors, type Fault, partlyFailBulk, startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  countDocs,
  expectedQuarantine,
  type ProduceSummary,
  produce,
  queueDepth,
  startWorker,
  sumCounts,
  type WorkerProcess,
  waitFor,
} from "../helpers/processes.ts";
import { createBucketWithQueueNotification, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { env, aws, os } = useStack();

const FAST = ["--visibility-timeout", "10", "--bulk-max-docs", "300", "--bulk-concurrency", "2"];

async function setupQueue(name: string, maxReceiveCount = 5) {
  const bucket = uniqueName(name);
  const p = await createBucketWithQueueNotification(
    { bucket, queue: bucket, maxReceiveCount },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  return { bucket, queueUrl: p.queueUrl, dlqUrl: p.dlqUrl };
}

async function expectExact(
  t: TestContext,
  prefix: string,
  summaries: ProduceSummary[],
  queueUrl: string,
  workers: WorkerProcess[],
  timeoutMs = 150_000,
) {
  const want = sumCounts(...summaries.map((s) => s.by_event_type));
  const wantQ = summaries.reduce((n, s) => n + expectedQuarantine(s), 0);
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  try {
    await waitFor(
      "every record indexed or quarantined and the queue drained",
      async () => ({ docs: await probeDocs(`${prefix}-*`), q: await queueDepth(aws.sqs, queueUrl) }),
      (s) => s.docs >= total + wantQ && s.q.visible === 0 && s.q.inFlight === 0,
      timeoutMs,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\n${workers.map((w) => notable(w.logs())).join("\n---\n")}`);
  }
  for (const [type, n] of Object.entries(want)) {
    assert.equal(await countDocs(os, `${prefix}-${type}-*`), n, `${type} documents`);
  }
  assert.equal(await countDocs(os, `${prefix}-quarantine-*`), wantQ, "quarantined records");
  assert.equal(await countDocs(os, `${prefix}-*`), total + wantQ, "no other documents");
  t.diagnostic(`exact: ${total} valid indexed once, ${wantQ} quarantined, queue empty`);
}

function notable(logs: string): string {
  return logs
    .split("\n")
    .filter((l) => !l.includes('"level":30') || l.includes("returned"))
    .map((l) => l.slice(0, 400))
    .join("\n")
    .slice(-8_000);
}

/** For polling: a search failing while indices are being created (shards not started yet) is "not yet". */
const probeDocs = (pattern: string) => countDocs(os, pattern).catch(() => -1);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function s3Event(bucket: string, key: string): string {
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodeS3Key(key), size: 1 },
        },
      },
    ],
  });
}

describe("reliability under faults", { timeout: 900_000 }, () => {
  const newPrefix = indexPrefixes();
  it("SIGKILL at random points, 11 kills with two workers on the queue, then a clean worker: exact counts", async (t) => {
    // Every receive counts towards maxReceiveCount, also those of a worker killed before it finished: with
    // this many kills the default 5 can send files to the DLQ (poison-message protection, by design). 50 is
    // the Terraform module's maximum.
    const { bucket, queueUrl, dlqUrl } = await setupQueue("rel-kill", 50);
    const prefix = newPrefix("rk");
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T10:00:00Z",
      "--to",
      "2025-07-25T11:00:00Z",
      "--events-per-file",
      "3000",
      "--invalid-rate",
      "0.02",
      "--corrupt-rate",
      "0.01",
      "--gzip",
    ]);
    // Two workers on the queue at all times: each round starts a fresh one and, once it is up, kills the
    // older one at a random point (receiving, fetching, mid-bulk, between ack and next receive). One object
    // at a time and 12 files, so that the work spans several rounds: with 4 files and the default
    // concurrency, a quick machine indexed everything between two kills.
    const args = [...FAST, "--object-concurrency", "1"];
    const live: WorkerProcess[] = [startWorker({ queueUrl, indexPrefix: prefix, args })];
    const progress: number[] = [];
    for (let round = 0; round < 10; round++) {
      const fresh = startWorker({ queueUrl, indexPrefix: prefix, args });
      live.push(fresh);
      await waitFor(
        "a worker started",
        async () => fresh.logs(),
        (l) => /worker started/.test(l),
        60_000,
        50,
      );
      await sleep(randomInt(100, 1500));
      await live.shift()!.kill();
      progress.push(await probeDocs(`${prefix}-*`));
    }
    await live.shift()!.kill();
    t.diagnostic(`documents after each kill: ${progress.join(", ")}`);
    assert.ok(
      progress.some((n) => n > 0 && n < s.records),
      "kills landed mid-ingestion",
    );
    const last = startWorker({ queueUrl, indexPrefix: prefix, args: FAST });
    // Up before it can be stopped cleanly (a SIGTERM during start-up ends it by the signal).
    await waitFor(
      "the last worker started",
      async () => last.logs(),
      (l) => /worker started/.test(l),
      60_000,
      50,
    );
    try {
      await expectExact(t, prefix, [s], queueUrl, [last]);
      assert.deepEqual(
        await queueDepth(aws.sqs, dlqUrl),
        { visible: 0, inFlight: 0 },
        "nothing dead-lettered",
      );
    } finally {
      assert.equal(await last.stop(), 0);
    }
  });

  it("OpenSearch faults: 429s, partly failed bulks, resets, lost answers, latency, slow bodies, a restart window", async (t) => {
    const { bucket, queueUrl } = await setupQueue("rel-os");
    const prefix = newPrefix("ro");
    const proxy = await startFaultProxy(env.opensearchUrl);
    let down = false;
    const kinds: (() => Fault | undefined)[] = [
      () => awsErrors.os429(),
      () => ({ kind: "rewrite", fn: partlyFailBulk(0.3) }),
      () => ({ kind: "reset" }),
      () => ({ kind: "lostResponse" }),
      () => ({ kind: "delay", ms: 800 }),
      () => ({ kind: "slow", chunkBytes: 64, everyMs: 20 }),
      () => ({ kind: "status", status: 503, body: "{}", headers: { "content-type": "application/json" } }),
    ];
    // Every other bulk request of the first 20 is faulted, the kinds in turn (each one at least once in
    // every run; bounded, as the sink's backoff grows with each failure of a batch).
    let bulks = 0;
    let turn = 0;
    proxy.fault = (req) => {
      if (down) return { kind: "reset" };
      if (!req.url.startsWith("/_bulk") || ++bulks > 20 || bulks % 2 === 0) return undefined;
      return kinds[turn++ % kinds.length]!();
    };
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T11:00:00Z",
      "--to",
      "2025-07-25T11:20:00Z",
      "--events-per-file",
      "800",
      "--invalid-rate",
      "0.05",
    ]);
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args: FAST,
      env: { OPENSEARCH_URL: proxy.url, OPENSEARCH_TIMEOUT_MS: "5000" },
    });
    let exitCode: number | null = null;
    try {
      // "Killed and restarted": every connection reset for 3 s mid-ingestion.
      await waitFor(
        "some documents",
        () => probeDocs(`${prefix}-*`),
        (n) => n > 0,
        60_000,
        200,
      );
      down = true;
      await sleep(3000);
      down = false;
      await expectExact(t, prefix, [s], queueUrl, [worker]);
    } finally {
      // Stop first, assert after: a failed expectation above must not be masked by the exit code.
      exitCode = await worker.stop();
      await proxy.close();
    }
    assert.equal(exitCode, 0, `worker exit code; its notable logs:\n${notable(worker.logs())}`);
    t.diagnostic(`injected: ${JSON.stringify(proxy.injected)}`);
    for (const k of ["status", "rewrite", "reset", "lostResponse", "delay", "slow"]) {
      assert.ok((proxy.injected[k] ?? 0) > 0, `fault ${k} was injected`);
    }
    assert.match(
      worker.logs(),
      /"duplicates":[1-9]/,
      "lost answers and partial failures were retried as 409s",
    );
  });

  it("S3 and SQS faults: 500/503/throttling, resets, GetObject bodies cut mid-way, a deleted object", async (t) => {
    const { bucket, queueUrl } = await setupQueue("rel-aws");
    const prefix = newPrefix("ra");
    const s3p = await startFaultProxy(env.s3Endpoint);
    const sqsp = await startFaultProxy(env.sqsEndpoint);
    let gets = 0;
    s3p.fault = (req) => {
      if (req.action !== "s3:GetObject") return undefined;
      // The first two bodies are cut for sure (one closed, one reset), then faults at random.
      if (++gets <= 2) return { kind: "cut", afterBytes: randomInt(1, 20_000), reset: gets === 2 };
      // The SDK retries errors and resets within one GetObject; a cut body fails the object, whose message
      // comes back after the worker's backoff (5 s, 10 s, ...): cuts are kept rarer to bound the run.
      const r = Math.random();
      if (r < 0.15) return awsErrors.s3(503);
      if (r < 0.25) return awsErrors.s3(500);
      if (r < 0.35) return { kind: "reset" };
      if (r < 0.45) return { kind: "cut", afterBytes: randomInt(1, 40_000), reset: Math.random() < 0.5 };
      if (r < 0.55) return { kind: "slow", chunkBytes: 16 * 1024, everyMs: 5 };
      return undefined;
    };
    let deletes = 0;
    let receives = 0;
    sqsp.fault = (req) => {
      if (!req.action.startsWith("sqs:")) return undefined;
      // The first delete is applied but its answer lost: the retry must not disturb anything.
      if (req.action === "sqs:DeleteMessage" && ++deletes === 1) return { kind: "lostResponse" };
      // The first two receives are throttled and fail with a 500, for sure (a run makes few SQS calls, and
      // the random faults below left a run without any now and then); then faults at random.
      if (req.action === "sqs:ReceiveMessage" && ++receives <= 2)
        return receives === 1 ? awsErrors.sqsThrottled() : awsErrors.sqs500();
      const r = Math.random();
      if (r < 0.07) return awsErrors.sqsThrottled();
      if (r < 0.14) return awsErrors.sqs500();
      if (r < 0.18) return { kind: "reset" };
      if (r < 0.25 && req.action !== "sqs:ReceiveMessage") return { kind: "lostResponse" };
      return undefined;
    };
    const plain = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T12:00:00Z",
      "--to",
      "2025-07-25T12:15:00Z",
      "--events-per-file",
      "400",
      "--invalid-rate",
      "0.05",
    ]);
    const gz = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T13:00:00Z",
      "--to",
      "2025-07-25T13:15:00Z",
      "--events-per-file",
      "400",
      "--gzip",
      "--seed",
      "3",
    ]);
    // A notification for an object deleted since: acknowledged, nothing indexed, said in the log.
    const gone = "2025-07-25T14:00:00+00:00.json";
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: gone, Body: "{}\n" }));
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: gone }));
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args: FAST,
      env: { S3_ENDPOINT: s3p.url, SQS_ENDPOINT: sqsp.url, BUCKET_ALLOWLIST: bucket },
    });
    try {
      await expectExact(t, prefix, [plain, gz], queueUrl, [worker], 200_000);
    } finally {
      assert.equal(await worker.stop(), 0);
      await s3p.close();
      await sqsp.close();
    }
    t.diagnostic(
      `S3 injected: ${JSON.stringify(s3p.injected)}; SQS injected: ${JSON.stringify(sqsp.injected)}`,
    );
    assert.ok((s3p.injected["cut"] ?? 0) > 0, "some GetObject bodies were cut");
    assert.ok((sqsp.injected["status"] ?? 0) > 0, "SQS errors were injected");
    assert.ok((sqsp.injected["lostResponse"] ?? 0) > 0, "a DeleteMessage answer was lost");
    assert.match(worker.logs(), /object no longer exists/);
    assert.doesNotMatch(
      worker.logs(),
      /truncated_gzip|"fileError"/,
      "a cut body is retried, never a file error",
    );
  });

  it("visibility timeout shorter than the processing time: heartbeats keep the one copy, no duplicates", async (t) => {
    const { bucket, queueUrl } = await setupQueue("rel-vis");
    const prefix = newPrefix("rv");
    const proxy = await startFaultProxy(env.opensearchUrl);
    proxy.fault = (req) => (req.url.startsWith("/_bulk") ? { kind: "delay", ms: 800 } : undefined);
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T15:00:00Z",
      "--to",
      "2025-07-25T15:05:00Z",
      "--events-per-file",
      "5000",
    ]);
    const args = ["--visibility-timeout", "10", "--bulk-max-docs", "300", "--bulk-concurrency", "1"];
    const e = { OPENSEARCH_URL: proxy.url };
    const a = startWorker({ queueUrl, indexPrefix: prefix, args, env: e });
    const b = startWorker({ queueUrl, indexPrefix: prefix, args, env: e });
    const started = Date.now();
    try {
      await expectExact(t, prefix, [s], queueUrl, [a, b]);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await proxy.close();
    }
    const took = (Date.now() - started) / 1000;
    t.diagnostic(`one file took ${took.toFixed(1)} s with a 10 s visibility timeout`);
    const ingested = (a.logs() + b.logs()).split("\n").filter((l) => l.includes('"msg":"object ingested"'));
    assert.equal(ingested.length, 1, "the file was processed once, by one worker");
    assert.match(ingested[0]!, /"duplicates":0/, "no document was sent twice");
    const ms = (JSON.parse(ingested[0]!) as { durationMs: number }).durationMs;
    assert.ok(ms > 10_000, `the file took ${ms} ms to ingest, longer than the 10 s visibility timeout`);
    const bulks = proxy.requests.filter((r) => r.url.startsWith("/_bulk")).length;
    assert.equal(bulks, Math.ceil(s.records / 300), "one bulk request per batch: no second copy in parallel");
  });

  it("SQS answers that never come (a heartbeat, a delete, a receive) do not wedge the worker, nor its SIGTERM", async (t) => {
    const { bucket, queueUrl } = await setupQueue("rel-hang");
    const prefix = newPrefix("rh");
    const sqsp = await startFaultProxy(env.sqsEndpoint);
    const osp = await startFaultProxy(env.opensearchUrl);
    // Slow bulks: each file takes several heartbeats (every 3.3 s with the smallest visibility timeout, 10 s).
    osp.fault = (req) => (req.url.startsWith("/_bulk") ? { kind: "delay", ms: 500 } : undefined);
    const isHeartbeat = (body: Buffer) => /"VisibilityTimeout":10\b/.test(body.toString("utf8"));
    let phase: "running" | "stopping" = "running";
    const hung: string[] = [];
    let receives = 0;
    sqsp.fault = (req) => {
      const a = req.action;
      // Phase 1: one of each call never answered. The heartbeat and the receive reach SQS, the delete does not.
      if (a === "sqs:ReceiveMessage" && ++receives === 2 && !hung.includes(a)) {
        hung.push(a);
        return { kind: "hang", forward: true };
      }
      if (a === "sqs:ChangeMessageVisibility" && isHeartbeat(req.body)) {
        if (!hung.includes("heartbeat") || phase === "stopping") {
          hung.push("heartbeat");
          return { kind: "hang", forward: true };
        }
      }
      if (a === "sqs:DeleteMessage" && !hung.includes(a)) {
        hung.push(a);
        return { kind: "hang" };
      }
      return undefined;
    };
    const produceSlot = (hour: string, seed: string) =>
      produce([
        "--bucket",
        bucket,
        "--from",
        `2025-07-26T${hour}:00:00Z`,
        "--to",
        `2025-07-26T${hour}:05:00Z`,
        "--events-per-file",
        "6000",
        "--seed",
        seed,
      ]);
    const args = ["--visibility-timeout", "10", "--bulk-max-docs", "300", "--bulk-concurrency", "1"];
    const first = await produceSlot("10", "21");
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args,
      env: { SQS_ENDPOINT: sqsp.url, OPENSEARCH_URL: osp.url },
    });
    let exitCode: number | null = null;
    let second: ProduceSummary | undefined;
    try {
      await expectExact(t, prefix, [first], queueUrl, [worker], 120_000);
      assert.deepEqual(
        [...hung].sort(),
        ["heartbeat", "sqs:DeleteMessage", "sqs:ReceiveMessage"],
        "one heartbeat, one delete and one receive were left unanswered",
      );
      // Phase 2: SIGTERM while a heartbeat waits for an answer that never comes.
      phase = "stopping";
      const before = hung.length;
      second = await produceSlot("11", "22");
      await waitFor(
        "a heartbeat left hanging",
        async () => hung.length,
        (n) => n > before,
        60_000,
        100,
      );
      const t0 = Date.now();
      let timer: NodeJS.Timeout | undefined;
      exitCode = await Promise.race([
        worker.stop(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no exit within 90 s of SIGTERM:\n${notable(worker.logs())}`)),
            90_000,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      t.diagnostic(`exited ${((Date.now() - t0) / 1000).toFixed(1)} s after SIGTERM`);
    } finally {
      await worker.kill();
      await sqsp.close();
      await osp.close();
    }
    assert.equal(exitCode, 0, `worker exit code; its notable logs:\n${notable(worker.logs())}`);
    // A clean worker finishes what the stopped one released: still exact.
    const clean = startWorker({ queueUrl, indexPrefix: prefix, args: FAST });
    try {
      await expectExact(t, prefix, [first, second!], queueUrl, [worker, clean], 120_000);
    } finally {
      await clean.stop();
    }
  });

  it("three workers on one queue, one SIGKILLed mid-way: exact counts", async (t) => {
    const { bucket, queueUrl } = await setupQueue("rel-three");
    const prefix = newPrefix("r3");
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T16:00:00Z",
      "--to",
      "2025-07-25T16:30:00Z",
      "--events-per-file",
      "1000",
      "--unknown-type-rate",
      "0.02",
    ]);
    const ws = [0, 1, 2].map(() => startWorker({ queueUrl, indexPrefix: prefix, args: FAST }));
    try {
      await waitFor(
        "some documents",
        () => probeDocs(`${prefix}-*`),
        (n) => n > 1000,
        60_000,
        200,
      );
      await ws[1]!.kill();
      await expectExact(t, prefix, [s], queueUrl, ws);
    } finally {
      await Promise.all(ws.map((w) => w.stop()));
    }
  });

  it("bad notifications and the malformed corpus on the real queue: the worker keeps running and says why; filtered ones deleted unfetched, garbage to the DLQ", async (t) => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("rel-notif", 2);
    const foreign = await setupQueue("rel-foreign");
    const prefix = newPrefix("rn");
    const s3p = await startFaultProxy(env.s3Endpoint);
    await aws.s3.send(
      new PutObjectCommand({ Bucket: foreign.bucket, Key: "2025-07-25T17:00:00+00:00.json", Body: "{}\n" }),
    );
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: "notes/readme.txt", Body: "hello" }));
    const invalid = [
      "this is not json {",
      JSON.stringify({ hello: "world", Records: "nope" }),
      JSON.stringify([1, 2, 3]),
      `{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"${"x".repeat(200_000)}"}}}]}`,
    ];
    for (const body of invalid)
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const filtered = [
      s3Event(foreign.bucket, "2025-07-25T17:00:00+00:00.json"),
      s3Event(bucket, "notes/readme.txt"),
    ];
    for (const body of filtered)
      await aws.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T17:00:00Z",
      "--to",
      "2025-07-25T17:10:00Z",
    ]);
    // The malformed corpus (test/fixtures/malformed), big cases scaled down to keep CI short: the counts
    // each file must give come from the same pipeline run in-process (test/unit/corpus.test.ts checks them).
    const corpus = [...smallCases(), ...generatedCases({ big: true, scale: 0.2 })];
    // Ids are content hashes: the same record in two files is one document (quarantine ids include the key).
    const recordIds = new Set<string>();
    let quarantined = 0;
    const fileErrors: string[] = [];
    for (const [i, c] of corpus.entries()) {
      const { result, seen } = await ingestCase(c);
      for (const d of seen) {
        if (d.kind === "record") recordIds.add(d.id);
        else quarantined++;
      }
      if (result.fileError) fileErrors.push(result.fileError.reason);
      const key = `corpus/2025-07-25T18:${String(i).padStart(2, "0")}:00+00:00.json${c.gzip ? ".gz" : ""}`;
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: c.bytes }));
    }
    const corpusDocs = recordIds.size + quarantined;
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      // Index templates installed, so OpenSearch's mappings do not depend on which file came first.
      // Invalid messages hidden for the visibility timeout only (the default is 12 h: issue #18, case 6 in
      // hostile.test.ts), so that they reach the DLQ within this test.
      args: [
        "--visibility-timeout",
        "10",
        "--max-file-bytes",
        "64mb",
        "--auto-setup",
        "--invalid-message-visibility",
        "0",
      ],
      env: { S3_ENDPOINT: s3p.url, BUCKET_ALLOWLIST: bucket },
    });
    try {
      const want = s.records + corpusDocs;
      await waitFor(
        "every produced and corpus record indexed or quarantined, the queue drained",
        async () => ({ docs: await probeDocs(`${prefix}-*`), q: await queueDepth(aws.sqs, queueUrl) }),
        (x) => x.docs >= want && x.q.visible + x.q.inFlight === 0,
        120_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${notable(worker.logs())}`);
      });
      assert.equal(await countDocs(os, `${prefix}-*`), want, "exactly one document per record");
      t.diagnostic(
        `corpus: ${corpus.length} files -> ${corpusDocs} documents; file errors ${fileErrors.join(", ")}`,
      );
      const dlq = await waitFor(
        "invalid messages moved to the DLQ",
        () => queueDepth(aws.sqs, dlqUrl),
        (q) => q.visible >= invalid.length,
        60_000,
      );
      assert.equal(dlq.visible, invalid.length, "exactly the invalid messages are dead letters");
      assert.equal(worker.child.exitCode, null, "the worker is still running");
    } finally {
      assert.equal(await worker.stop(), 0);
      await s3p.close();
    }
    const logs = worker.logs();
    assert.equal(
      (logs.match(/not an S3 notification; leaving it for redrive/g) ?? []).length,
      invalid.length * 2,
      "each invalid message was received twice (maxReceiveCount 2) and said why",
    );
    assert.match(logs, /is not in the bucket allowlist/);
    for (const reason of new Set(fileErrors)) {
      assert.match(logs, new RegExp(`"reason":"${reason}".*file-level error`), `the log says ${reason}`);
    }
    assert.doesNotMatch(logs, /object failed; message will be retried/, "no corpus file failed its message");
    assert.match(logs, /does not match the key pattern/);
    const gets = s3p.requests.filter((r) => r.action === "s3:GetObject");
    assert.ok(gets.length >= s.files.length);
    assert.deepEqual(
      [...new Set(gets.map((r) => r.bucket))],
      [bucket],
      "GetObject only on the allowlisted bucket",
    );
    assert.ok(!gets.some((r) => r.url.includes("readme")), "the filtered key was not fetched");
    t.diagnostic(
      `${invalid.length} invalid -> DLQ, ${filtered.length} filtered -> deleted, ${s.records} records exact`,
    );
  });
});
