/**
 * Hostile input and operations against the real stack (issue #18): what a hostile or unlucky production
 * does to one worker, and what must stay true: every good record indexed once, nothing good in quarantine
 * or the DLQ, the worker never restarted. docs/RELIABILITY.md ("Hostile input and operations") lists each
 * case with its test.
 */
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { request } from "node:http";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { startFaultProxy } from "../helpers/fault-proxy.ts";
import {
  countDocs,
  expectedQuarantine,
  type ProduceSummary,
  produce,
  queueDepth,
  runCli,
  startCli,
  startWorker,
  sumCounts,
  type WorkerProcess,
  waitFor,
} from "../helpers/processes.ts";
import { createBucketWithQueueNotification, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { env, aws, os } = useStack();

async function setupQueue(name: string, maxReceiveCount = 5) {
  const bucket = uniqueName(name);
  const p = await createBucketWithQueueNotification(
    { bucket, queue: bucket, maxReceiveCount },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  return { bucket, queueUrl: p.queueUrl, dlqUrl: p.dlqUrl };
}

/** Worker log lines worth seeing when a test fails. */
function notable(w: WorkerProcess): string {
  return w
    .logs()
    .split("\n")
    .filter((l) => !l.includes('"level":30') || l.includes("object ingested"))
    .map((l) => l.slice(0, 600))
    .join("\n")
    .slice(-15_000);
}

/** Each produced valid record once in its type's index, the faulty ones in quarantine, nothing else. */
async function expectExact(prefix: string, summaries: ProduceSummary[], extraQuarantine = 0) {
  const want = sumCounts(...summaries.map((s) => s.by_event_type));
  const wantQ = summaries.reduce((n, s) => n + expectedQuarantine(s), 0) + extraQuarantine;
  const total = Object.values(want).reduce((a, b) => a + b, 0);
  await waitFor(
    "every record indexed or quarantined",
    () => countDocs(os, `${prefix}-*`),
    (n) => n >= total + wantQ,
    120_000,
  );
  for (const [type, n] of Object.entries(want)) {
    assert.equal(await countDocs(os, `${prefix}-${type}-*`), n, `${type} documents`);
  }
  assert.equal(await countDocs(os, `${prefix}-quarantine-*`), wantQ, "quarantined records");
  assert.equal(await countDocs(os, `${prefix}-*`), total + wantQ, "no other documents");
}

const FIXTURE = JSON.parse(
  readFileSync(new URL("../fixtures/files/network_access.json", import.meta.url), "utf8"),
) as { event: { time: string; connection: { client_ip: string } } };

/** A valid network_access record, distinct per (file, k), at `time` (ISO). */
function validRecord(file: number, k: number, time: string): Record<string, unknown> {
  const r = structuredClone(FIXTURE);
  r.event.time = time;
  r.event.connection.client_ip = `10.${file}.${k >> 8}.${k & 255}`;
  return r;
}

/** `n` valid records of one 5-minute slot, one a second from its start, as NDJSON lines. */
function validLines(file: number, slot: string, n: number): string[] {
  const t0 = Date.parse(slot);
  return Array.from({ length: n }, (_, k) =>
    JSON.stringify(validRecord(file, k, new Date(t0 - 300_000 + k * 1000).toISOString())),
  );
}

/** The k-th 5-minute slot from `from` (ISO). */
function slotTime(from: string, k: number): string {
  return new Date(Date.parse(from) + k * 300_000).toISOString();
}

/** The Twingate key of the k-th 5-minute slot from `from` (ISO). */
function slotKey(from: string, k: number): string {
  return `${slotTime(from, k).slice(0, 19)}+00:00.json`;
}

async function queueDrained(queueUrl: string, dlqUrl: string) {
  const q = await queueDepth(aws.sqs, queueUrl);
  assert.deepEqual(q, { visible: 0, inFlight: 0 }, "queue drained");
  const d = await queueDepth(aws.sqs, dlqUrl);
  assert.equal(d.visible + d.inFlight, 0, "nothing in the DLQ");
}

function count(text: string, re: RegExp): number {
  return text.match(new RegExp(re.source, "g"))?.length ?? 0;
}

/** GET a path of the worker's metrics server; the client gives up after `timeoutMs` (rejects). */
function httpGet(port: number, path: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, timeout: timeoutMs }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`no answer from ${path} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end();
  });
}

describe("hostile input and operations", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();

  it("case 6: messages that are not notifications are hidden until their next receive, never deleted; real files among them flow", async () => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("tg-garbage", 2);
    const prefix = newPrefix("h6");
    const garbage = 200;
    for (let i = 0; i < garbage; i += 10) {
      await aws.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, k) => ({
            Id: String(k),
            MessageBody: k % 2 === 0 ? `not json ${i + k}` : JSON.stringify({ hello: i + k }),
          })),
        }),
      );
    }
    const first = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T10:00:00Z",
      "--to",
      "2025-07-25T10:15:00Z",
      "--rate",
      "0.1",
    ]);
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args: ["--visibility-timeout", "10", "--sqs-max-messages", "10"],
    });
    const notNotification = /message is not an S3 notification/;
    try {
      await expectExact(prefix, [first]);
      await waitFor(
        "every garbage message received once",
        async () => count(worker.logs(), notNotification),
        (n) => n >= garbage,
        120_000,
      );
      // Longer than the visibility timeout: garbage left at that timeout would be received again now.
      const second = await produce([
        "--bucket",
        bucket,
        "--from",
        "2025-07-25T11:00:00Z",
        "--to",
        "2025-07-25T11:10:00Z",
        "--rate",
        "0.1",
        "--seed",
        "5",
      ]);
      await new Promise((r) => setTimeout(r, 13_000));
      await expectExact(prefix, [first, second]);
      assert.equal(count(worker.logs(), notNotification), garbage, "each garbage message received once");
      const q = await queueDepth(aws.sqs, queueUrl);
      assert.deepEqual(q, { visible: 0, inFlight: garbage }, "garbage hidden, not deleted");
      const dlq = await queueDepth(aws.sqs, dlqUrl);
      assert.equal(dlq.visible + dlq.inFlight, 0, "nothing in the DLQ yet");
      assert.match(worker.logs(), /"hiddenForSeconds":4\d{4}/);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0, "the worker was never restarted and exits 0");
    }
  });

  it("case 3: records whose times are far from their file's are indexed in the file's period, the deviation listed: one file touches a handful of indices", async () => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("tg-spread");
    const prefix = newPrefix("h3");
    const slot = "2025-07-25T09:05:00Z";
    const near = validLines(30, slot, 100);
    // 300 records, each on another month, from 1971 to 2220: before, one index per month and stream.
    const far = Array.from({ length: 300 }, (_, k) =>
      JSON.stringify(
        validRecord(
          31,
          k,
          new Date(Date.UTC(1971 + Math.floor((k * 10) / 12), (k * 10) % 12, 3)).toISOString(),
        ),
      ),
    );
    const lines = near.flatMap((l, k) => [l, ...far.slice(k * 3, k * 3 + 3)]);
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    try {
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: slotKey(slot, 0), Body: `${lines.join("\n")}\n` }),
      );
      await waitFor(
        "every record indexed",
        () => countDocs(os, `${prefix}-*`),
        (n) => n >= 400,
        120_000,
      );
      await waitFor(
        "queue drained",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.visible + q.inFlight === 0,
      );
      assert.equal(await countDocs(os, `${prefix}-network_access-*`), 400, "every record indexed once");
      assert.equal(await countDocs(os, `${prefix}-quarantine-*`), 0, "nothing in quarantine");
      const indices = (
        (await os.cat.indices({ index: `${prefix}-*`, format: "json" } as never)).body as { index: string }[]
      ).map((i) => i.index);
      assert.ok(indices.length <= 3, `one file, a handful of indices: ${indices.join(", ")}`);
      assert.equal(
        await countDocs(os, `${prefix}-*`, {
          term: { "ingest.deviations": "event_time_far_from_file_time" },
        }),
        300,
        "the far records carry the deviation",
      );
      // @timestamp stays the event's own time.
      assert.equal(await countDocs(os, `${prefix}-*`, { range: { "@timestamp": { lt: "2000-01-01" } } }), 35);
      await queueDrained(queueUrl, dlqUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0, "the worker was never restarted and exits 0");
    }
  });

  it("case 4: a bad first line (or any line) costs that line, whatever it is; pretty-printed and array files still read", async () => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("tg-badline");
    const prefix = newPrefix("h4");
    const deep = 100_000;
    // What comes first, and how many quarantine documents it must cost (one per bad line).
    const firsts: [string, number][] = [
      ['["x"]', 1],
      ["42", 1],
      ["]", 1],
      ["\u0000".repeat(64), 1],
      [
        '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body>{"error": "bad gateway"}</body></html>',
        3,
      ],
      ["[".repeat(deep), 1],
      [`${"[".repeat(deep)}${"]".repeat(deep)}`, 1],
      ['{"event_type":"network_access","event":{"version":1,"time":', 1],
      ["[{", 1],
    ];
    const perFile = 100;
    let valid = 0;
    let bad = 0;
    const from = "2025-07-25T06:00:00Z";
    const files: [string, string][] = firsts.map(([first, cost], f) => {
      valid += perFile;
      bad += cost;
      return [slotKey(from, f), `${first}\n${validLines(f, slotTime(from, f), perFile).join("\n")}\n`];
    });
    // A bad line in the middle, too.
    const mid = validLines(20, slotTime(from, 20), perFile);
    mid.splice(50, 0, "<p>oops</p>");
    files.push([slotKey(from, 20), `${mid.join("\n")}\n`]);
    valid += perFile;
    bad += 1;
    // A pretty-printed file and a pretty array: every record, nothing in quarantine.
    const parsed = (f: number) =>
      validLines(f, slotTime(from, f), perFile).map((l) => JSON.parse(l) as unknown);
    files.push([
      slotKey(from, 21),
      parsed(21)
        .map((r) => JSON.stringify(r, null, 2))
        .join("\n"),
    ]);
    files.push([slotKey(from, 22), JSON.stringify(parsed(22), null, 2)]);
    valid += 2 * perFile;
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    try {
      for (const [key, body] of files) {
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      }
      await waitFor(
        "every record indexed or quarantined",
        () => countDocs(os, `${prefix}-*`),
        (n) => n >= valid + bad,
        120_000,
      );
      await waitFor(
        "queue drained",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.visible + q.inFlight === 0,
      );
      assert.equal(
        await countDocs(os, `${prefix}-network_access-*`),
        valid,
        "every good record indexed once",
      );
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`),
        bad,
        "one quarantine document per bad line",
      );
      const q = await os.search({ index: `${prefix}-quarantine-*`, body: { size: 100 } } as never);
      const raws = (
        q.body as { hits: { hits: { _source: { quarantine: { raw: string } } }[] } }
      ).hits.hits.map((h) => h._source.quarantine.raw);
      assert.ok(
        raws.every((r) => !r.includes('"client_ip"')),
        "no good record in quarantine",
      );
      assert.ok(raws.includes("<p>oops</p>") && raws.includes("42") && raws.includes("[{"), "raw texts kept");
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`, { term: { "quarantine.reason": "syntax_error" } }),
        0,
        "no file-level syntax error",
      );
      await queueDrained(queueUrl, dlqUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0, "the worker was never restarted and exits 0");
    }
  });

  it("case 5: a hostile file costs bounded documents and work: rejections over the cap in one summary, a decompression bomb stopped early", async () => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("tg-amplify");
    const prefix = newPrefix("h5");
    const from = "2025-07-25T08:00:00Z";
    // 300,000 lines `{}` in about 1 KB of gzip; a 1 GiB-of-whitespace gzip bomb after 5 valid records; a normal file.
    const flood = gzipSync(Buffer.from("{}\n".repeat(300_000)), { level: 9 });
    const bombValid = validLines(1, slotTime(from, 1), 5);
    const bomb = Buffer.concat([
      gzipSync(`${bombValid.join("\n")}\n`),
      ...Array.from({ length: 16 }, () => gzipSync(Buffer.alloc(64 * 1024 * 1024, " "), { level: 9 })),
    ]);
    const normal = validLines(2, slotTime(from, 2), 200);
    const files: [string, Buffer][] = [
      [`${slotKey(from, 0)}.gz`, flood],
      [`${slotKey(from, 1)}.gz`, bomb],
      [slotKey(from, 2), Buffer.from(`${normal.join("\n")}\n`)],
    ];
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    const valid = bombValid.length + normal.length;
    // The flood: 1,000 documents and one summary (MAX_REJECTS_PER_REASON); the bomb: one file-level document.
    const quarantined = 1000 + 1 + 1;
    try {
      for (const [key, body] of files) {
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      }
      await waitFor(
        "every record indexed or quarantined, the queue drained",
        async () => ({ docs: await countDocs(os, `${prefix}-*`), q: await queueDepth(aws.sqs, queueUrl) }),
        (x) => x.docs >= valid + quarantined && x.q.visible + x.q.inFlight === 0,
        120_000,
      );
      assert.equal(
        await countDocs(os, `${prefix}-network_access-*`),
        valid,
        "every good record indexed once",
      );
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`),
        quarantined,
        "bounded quarantine documents",
      );
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`, { range: { "quarantine.summary.count": { gte: 1 } } }),
        1,
        "one summary document",
      );
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`, {
          term: { "quarantine.reason": "decompression_ratio" },
        }),
        1,
        "the bomb reported as a file-level reason",
      );
      const logs = worker.logs();
      assert.match(logs, /"summarised":\{"schema_invalid":299000\}/);
      await queueDrained(queueUrl, dlqUrl);
      // Redelivery of the flood's notification: deterministic ids, no second copy of anything.
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: files[0]![0], Body: flood }));
      await waitFor(
        "the flood read again",
        async () => count(worker.logs(), /"summarised":\{"schema_invalid":299000\}/),
        (n) => n >= 2,
        60_000,
      );
      await waitFor(
        "queue drained",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.visible + q.inFlight === 0,
      );
      assert.equal(await countDocs(os, `${prefix}-*`), valid + quarantined, "no second copy");
      await queueDrained(queueUrl, dlqUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0, "the worker was never restarted and exits 0");
    }
  });

  it("case 8: redrive returns dead letters to the queue (dry run first, body and attributes kept), doctor shows the DLQ's depth and oldest age", async () => {
    const { bucket, queueUrl, dlqUrl } = await setupQueue("tg-redrive", 2);
    const prefix = newPrefix("h8");
    const s = await produce([
      "--bucket",
      bucket,
      "--from",
      "2025-07-25T15:00:00Z",
      "--to",
      "2025-07-25T15:15:00Z",
      "--rate",
      "0.1",
    ]);
    // Parked as SQS parks a message whose worker crashed maxReceiveCount times: received, never deleted.
    // (The bucket's s3:TestEvent goes with them.)
    const moved = await waitFor(
      "every notification moved to the DLQ",
      async () => {
        await aws.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
        );
        return { dlq: await queueDepth(aws.sqs, dlqUrl), q: await queueDepth(aws.sqs, queueUrl) };
      },
      (d) => d.dlq.visible >= s.files.length && d.q.visible + d.q.inFlight === 0,
      60_000,
      200,
    );
    // And one sent there directly with a message attribute (a redelivery of the first file: a duplicate).
    const body = JSON.stringify({
      Records: [
        {
          eventVersion: "2.1",
          eventSource: "aws:s3",
          awsRegion: env.region,
          eventTime: new Date().toISOString(),
          eventName: "ObjectCreated:Put",
          s3: { s3SchemaVersion: "1.0", bucket: { name: bucket }, object: { key: s.files[0]!.key, size: 1 } },
        },
      ],
    });
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: dlqUrl,
        MessageBody: body,
        MessageAttributes: { origin: { DataType: "String", StringValue: "hostile-test" } },
      }),
    );
    const parked = moved.dlq.visible + 1;
    const cliEnv = { SQS_QUEUE_URL: queueUrl };
    // doctor: the DLQ's depth and its oldest message's age.
    const doc = await startCli(["doctor", "--json", "--index-prefix", prefix], cliEnv).done;
    const checks = (JSON.parse(doc.stdout) as { checks: { data?: Record<string, unknown> }[] }).checks;
    const dlqCheck = checks.find((c) => c.data?.["dlqMessages"] !== undefined);
    assert.equal(dlqCheck?.data?.["dlqMessages"], parked, doc.stdout);
    assert.equal(typeof dlqCheck?.data?.["dlqOldestAgeSeconds"], "number", doc.stdout);
    // Dry run: counts, moves nothing.
    const dry = JSON.parse(await runCli(["redrive", "--dry-run", "--json"], cliEnv)) as Record<
      string,
      unknown
    >;
    assert.equal(dry["dlqDepth"], parked);
    assert.equal(dry["moved"], parked, "would move them all");
    assert.equal((await queueDepth(aws.sqs, dlqUrl)).visible, parked, "the dry run moved nothing");
    assert.deepEqual(await queueDepth(aws.sqs, queueUrl), { visible: 0, inFlight: 0 });
    // Redrive.
    const out = JSON.parse(await runCli(["redrive", "--json"], cliEnv)) as Record<string, unknown>;
    assert.equal(out["moved"], parked);
    assert.equal(out["failed"], 0);
    assert.deepEqual(await queueDepth(aws.sqs, dlqUrl), { visible: 0, inFlight: 0 }, "the DLQ is empty");
    const peek = await aws.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
        MessageAttributeNames: ["All"],
      }),
    );
    const tagged = (peek.Messages ?? []).filter(
      (m) => m.MessageAttributes?.["origin"]?.StringValue === "hostile-test",
    );
    if ((peek.Messages ?? []).length >= parked) assert.equal(tagged.length, 1, "message attributes kept");
    if (tagged.length > 0) assert.equal(tagged[0]!.Body, body, "body kept");
    // The worker indexes them all, once.
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    try {
      await expectExact(prefix, [s]);
      await waitFor(
        "queue drained",
        () => queueDepth(aws.sqs, queueUrl),
        (q) => q.visible + q.inFlight === 0,
      );
      await queueDrained(queueUrl, dlqUrl);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0, "the worker was never restarted and exits 0");
    }
  });

  it("case 7: /readyz answers 503 within a few seconds when OpenSearch accepts connections but never answers", async () => {
    const { bucket, queueUrl } = await setupQueue("tg-readyz");
    const prefix = newPrefix("h7");
    const proxy = await startFaultProxy(env.opensearchUrl);
    let hang = false;
    proxy.fault = (req) => (hang && req.url.startsWith("/_cluster/health") ? { kind: "hang" } : undefined);
    const port = randomInt(20_000, 60_000);
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      // OPENSEARCH_TIMEOUT_MS far above any probe's patience: /readyz must not inherit it.
      env: { OPENSEARCH_URL: proxy.url, OPENSEARCH_TIMEOUT_MS: "60000" },
      args: ["--metrics-port", String(port)],
    });
    try {
      const ok = await waitFor(
        "/readyz up",
        () => httpGet(port, "/readyz", 10_000),
        (r) => r.status === 200,
        60_000,
      );
      assert.match(ok.body, /opensearch: ok/);
      hang = true;
      // A probe with a 10 s timeout (Kubernetes allows 1-10 s) gets an answer: 503, naming the check.
      const bad = await httpGet(port, "/readyz", 10_000);
      assert.equal(bad.status, 503);
      assert.match(bad.body, /opensearch: FAIL .*no answer within/);
      assert.match(bad.body, /sqs: ok/);
      hang = false;
      const s = await produce([
        "--bucket",
        bucket,
        "--from",
        "2025-07-25T12:00:00Z",
        "--to",
        "2025-07-25T12:10:00Z",
        "--rate",
        "0.1",
      ]);
      await expectExact(prefix, [s]);
      assert.equal((await httpGet(port, "/readyz", 10_000)).status, 200);
    } catch (err) {
      throw new Error(`${(err as Error).message}\nworker logs:\n${notable(worker)}`);
    } finally {
      assert.equal(await worker.stop(), 0);
      await proxy.close();
    }
  });
});
