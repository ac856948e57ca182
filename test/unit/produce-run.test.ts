import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketNotificationConfigurationCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import {
  CreateTopicCommand,
  SetTopicAttributesCommand,
  SNSClient,
  SubscribeCommand,
} from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { EVENT_TYPES, parseSlotKey } from "../../src/core/twingate.ts";
import { buildPlan, ProduceUsageError, parseMix } from "../../src/tools/produce/options.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { provision } from "../../src/tools/produce/provision.ts";
import { type Clock, produceLoop, produceRange, spreadFileFaults } from "../../src/tools/produce/run.ts";
import { dirTarget, s3Target, type Target } from "../../src/tools/produce/targets.ts";
import { DEFAULT_DRIFT_RATE } from "../../src/tools/produce/variety.ts";

const T = Date.parse("2025-07-25T18:20:00Z");
const MIB = 1024 * 1024;

function memoryTarget() {
  const files = new Map<string, { body: Buffer; contentType: string }>();
  const target: Target = {
    location: "memory:",
    async put(key, body, contentType) {
      files.set(key, { body, contentType });
    },
  };
  return { files, target };
}

describe("produce: options", () => {
  it("parses the mix; unnamed types get no share", () => {
    assert.deepEqual(parseMix("audit_log=1, dns_filtering=3"), {
      ...Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])),
      dns_filtering: 3,
      audit_log: 1,
    });
    assert.throws(() => parseMix("flows=3"), /unknown event type "flows"/);
    assert.throws(() => parseMix("audit_log=0"), /at least one positive/);
    assert.throws(() => parseMix("audit_log"), /not <event_type>=<share>/);
    assert.throws(() => parseMix("audit_log=1,audit_log=2"), /twice/);
  });

  it("refuses what cannot be honoured, with a reason", () => {
    const refuse = (args: Parameters<typeof buildPlan>[0], re: RegExp) =>
      assert.throws(
        () => buildPlan(args, T, MIB),
        (e: Error) => e instanceof ProduceUsageError && re.test(e.message),
      );
    refuse({ corruptRate: 0.1, layout: "array" }, /needs --layout ndjson/);
    refuse({ invalidRate: 0.6, unknownTypeRate: 0.6 }, /must not exceed 1/);
    refuse({ invalidRate: 2 }, /between 0 and 1/);
    refuse({ layout: "xml" }, /--layout/);
    refuse({ eventsPerFile: 3, rate: 2 }, /not both/);
    refuse({ from: "2025-07-25", to: "2025-07-24" }, /after --from/);
    refuse({ to: "2025-07-24" }, /needs --from/);
    refuse({ from: "garbage" }, /--from: not a time/);
    refuse({ interval: "30s", from: "now-1h" }, /do not combine/);
    refuse({ interval: "30s", slot: "5m" }, /--slot must equal --interval/);
    refuse({ count: 3 }, /only applies with --interval/);
    refuse({ oversized: -1 }, /whole number/);
    refuse({ from: "2000-01-01", to: "2025-01-01" }, /split it/);
    refuse({ driftRate: 1.5 }, /--drift-rate must be between 0 and 1/);
  });

  it("plans a range, the last complete slots, or a loop", () => {
    const range = buildPlan({ from: "2025-07-25T18:00:00Z", to: "2025-07-25T18:30:00Z", seed: "7" }, T, MIB);
    assert.equal(range.mode, "range");
    if (range.mode === "range") {
      assert.equal(range.slots.length, 6);
      assert.equal(range.options.seed, 7);
      assert.equal(range.options.ratePerSecond, 1);
      assert.equal(range.options.oversizedBytes, MIB);
      assert.equal(range.options.driftRate, DEFAULT_DRIFT_RATE);
    }
    const noDrift = buildPlan({ files: 1, driftRate: 0 }, T, MIB);
    assert.equal(noDrift.options.driftRate, 0);
    const last = buildPlan({ files: 3, eventsPerFile: 10, prefix: "tg", seed: "abc" }, T + 1000, MIB);
    assert.ok(last.mode === "range");
    if (last.mode === "range") {
      assert.deepEqual(
        last.slots.map((s) => s.startMs),
        [T - 900_000, T - 600_000, T - 300_000],
      );
      assert.equal(last.options.prefix, "tg/");
      assert.equal(last.options.seed, "abc");
      assert.equal(last.options.eventsPerFile, 10);
    }
    const loop = buildPlan({ interval: "30s", count: 4 }, T, MIB);
    assert.deepEqual(loop.mode === "loop" && [loop.slotMs, loop.count], [30_000, 4]);
  });

  it("spreads oversized records over readable files and truncates the first files", () => {
    assert.deepEqual(spreadFileFaults(4, { oversized: 5, truncatedGzip: 1 }), [
      { oversized: 0, truncated: true },
      { oversized: 2, truncated: false },
      { oversized: 2, truncated: false },
      { oversized: 1, truncated: false },
    ]);
  });
});

describe("produce: runs", () => {
  it("writes a range to a folder; the summary adds up and names every file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "produce-"));
    try {
      const plan = buildPlan(
        {
          from: "2025-07-25T18:00:00Z",
          to: "2025-07-25T19:00:00Z",
          eventsPerFile: 50,
          prefix: "logs",
          gzip: true,
          invalidRate: 0.1,
          corruptRate: 0.05,
          unknownTypeRate: 0.05,
          oversized: 3,
          truncatedGzip: 2,
          emptySlotRate: 0.3,
          driftRate: 0.05,
        },
        T,
        4096,
      );
      assert.ok(plan.mode === "range");
      if (plan.mode !== "range") return;
      const summary = await produceRange(buildPools(42), plan.options, dirTarget(dir), plan);
      const written = (await readdir(join(dir, "logs"))).sort();
      assert.deepEqual(written, summary.files.map((f) => f.key.slice("logs/".length)).sort());
      assert.equal(summary.files.length + summary.skipped_slots.length, 12);
      assert.ok(summary.skipped_slots.length > 0, "some slots are empty at rate 0.3 with seed 42");
      for (const f of summary.files) {
        assert.equal((await readFile(join(dir, f.key))).length, f.bytes);
        assert.ok(parseSlotKey(f.key));
      }
      const readable = summary.files.filter((f) => !f.faults.truncated_gzip);
      const sum = (fn: (f: (typeof summary.files)[number]) => number) =>
        readable.reduce((s, f) => s + fn(f), 0);
      assert.equal(
        summary.records,
        sum((f) => f.records),
      );
      assert.equal(
        summary.valid,
        sum((f) => f.valid),
      );
      assert.equal(
        Object.values(summary.by_event_type).reduce((a, b) => a + b, 0),
        summary.valid,
      );
      assert.equal(
        Object.values(summary.invalid_by_event_type).reduce((a, b) => a + b, 0),
        summary.faults.invalid,
      );
      const f = summary.faults;
      assert.equal(summary.records, summary.valid + f.invalid + f.corrupt + f.unknown_type + f.oversized);
      assert.equal(f.oversized, 3);
      assert.equal(f.truncated_gzip_files, 2);
      assert.equal(f.truncated_gzip_records, 100);
      assert.ok(summary.files[0]!.faults.truncated_gzip && summary.files[1]!.faults.truncated_gzip);
      // Drift fields, by path: the files' counts add up to the summary's, and each is in the file's text.
      const drift = Object.values(summary.drift).reduce((a, b) => a + b, 0);
      assert.equal(
        drift,
        sum((x) => Object.values(x.drift).reduce((a, b) => a + b, 0)),
      );
      assert.ok(drift > 0 && drift < summary.valid * 0.15, `drift: ${drift}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("writes the same bytes on a second run with the same seed", async () => {
    const run = async () => {
      const { files, target } = memoryTarget();
      const plan = buildPlan({ from: "2025-07-25", to: "2025-07-25T00:20", gzip: true, rate: 0.2 }, T, MIB);
      if (plan.mode !== "range") throw new Error("range expected");
      await produceRange(buildPools(plan.options.seed), plan.options, target, plan);
      return files;
    };
    const [a, b] = [await run(), await run()];
    assert.deepEqual([...a.keys()], [...b.keys()]);
    for (const [k, v] of a) assert.ok(v.body.equals(b.get(k)!.body), k);
  });

  it("keeps writing one file per slot as time passes, then stops", async () => {
    let now = T + 45_000; // 18:20:45, slots of 30 s
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => now,
      async sleep(ms) {
        sleeps.push(ms);
        now += ms;
      },
    };
    const { files, target } = memoryTarget();
    const plan = buildPlan({ interval: "30s", count: 3, rate: 1, oversized: 5 }, now, 4096);
    if (plan.mode !== "loop") throw new Error("loop expected");
    const summary = await produceLoop(
      buildPools(1),
      plan.options,
      target,
      { slotMs: 30_000, count: 3, lagMs: 500 },
      clock,
    );
    assert.deepEqual(
      [...files.keys()],
      ["2025-07-25T18:20:00+00:00.json", "2025-07-25T18:20:30+00:00.json", "2025-07-25T18:21:00+00:00.json"],
    );
    assert.deepEqual(sleeps, [15_500, 30_000]);
    assert.equal(summary.faults.oversized, 3, "one oversized record per file while some remain");
    for (const f of summary.files) assert.equal(files.get(f.key)!.contentType, "application/json");
  });

  it("stops on abort and returns what was written", async () => {
    const stop = new AbortController();
    let now = T + 1000;
    const clock: Clock = {
      now: () => now,
      async sleep(ms, signal) {
        now += ms;
        stop.abort();
        signal?.throwIfAborted();
      },
    };
    const { files, target } = memoryTarget();
    const plan = buildPlan({ interval: "5m", eventsPerFile: 5 }, now, MIB);
    if (plan.mode !== "loop") throw new Error("loop expected");
    const summary = await produceLoop(buildPools(1), plan.options, target, { slotMs: 300_000 }, clock, {
      signal: stop.signal,
    });
    assert.equal(files.size, 1);
    assert.equal(summary.records, 5);
  });

  it("puts objects in S3 with their content type", async () => {
    const s3 = mockClient(S3Client);
    s3.on(PutObjectCommand).resolves({});
    const plan = buildPlan({ files: 2, eventsPerFile: 4, gzip: true }, T, MIB);
    if (plan.mode !== "range") throw new Error("range expected");
    const summary = await produceRange(buildPools(3), plan.options, s3Target(new S3Client({}), "b"), plan);
    const calls = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
    assert.deepEqual(
      calls.map((i) => [i.Bucket, i.Key, i.ContentType]),
      summary.files.map((f) => ["b", f.key, "application/gzip"]),
    );
    assert.equal(summary.target, "s3://b/");
    s3.restore();
  });

  it("refuses keys that would escape the folder", async () => {
    await assert.rejects(
      dirTarget(tmpdir()).put("../x.json", Buffer.from("{}"), "application/json"),
      /escapes/,
    );
  });
});

describe("produce: provisioning (mocked AWS)", () => {
  function mocks() {
    const s3 = mockClient(S3Client);
    const sqs = mockClient(SQSClient);
    const sns = mockClient(SNSClient);
    s3.on(HeadBucketCommand).rejects(
      Object.assign(new Error("nf"), { name: "NotFound", $metadata: { httpStatusCode: 404 } }),
    );
    s3.on(CreateBucketCommand).resolves({});
    s3.on(PutBucketNotificationConfigurationCommand).resolves({});
    sqs.on(CreateQueueCommand).callsFake((i) => ({ QueueUrl: `http://q/${i.QueueName}` }));
    sqs.on(GetQueueAttributesCommand).callsFake((i) => ({
      Attributes: { QueueArn: `arn:aws:sqs:us-east-1:123:${String(i.QueueUrl).split("/").pop()}` },
    }));
    sqs.on(SetQueueAttributesCommand).resolves({});
    sns.on(CreateTopicCommand).resolves({ TopicArn: "arn:aws:sns:us-east-1:123:t" });
    sns.on(SetTopicAttributesCommand).resolves({});
    sns.on(SubscribeCommand).resolves({ SubscriptionArn: "arn:sub" });
    return {
      s3,
      sqs,
      sns,
      restore: () => {
        for (const m of [s3, sqs, sns]) m.restore();
      },
    };
  }
  const clients = () => ({
    s3: new S3Client({ region: "us-east-1" }),
    sqs: new SQSClient({ region: "us-east-1" }),
    sns: new SNSClient({ region: "us-east-1" }),
  });

  it("direct: bucket, queue with DLQ redrive, policy for the bucket, ObjectCreated to the queue", async () => {
    const m = mocks();
    try {
      const out = await provision(clients(), { bucket: "bk", queue: "qq", via: "s3", prefix: "logs/" });
      assert.deepEqual(out, {
        bucket: "bk",
        queueUrl: "http://q/qq",
        queueArn: "arn:aws:sqs:us-east-1:123:qq",
        dlqUrl: "http://q/qq-dlq",
        dlqArn: "arn:aws:sqs:us-east-1:123:qq-dlq",
      });
      assert.equal(m.s3.commandCalls(CreateBucketCommand).length, 1);
      const attrs = m.sqs.commandCalls(SetQueueAttributesCommand).map((c) => c.args[0].input);
      const main = attrs.find((a) => a.QueueUrl === "http://q/qq")!.Attributes!;
      assert.deepEqual(JSON.parse(main["RedrivePolicy"]!), {
        deadLetterTargetArn: "arn:aws:sqs:us-east-1:123:qq-dlq",
        maxReceiveCount: 5,
      });
      const policy = JSON.parse(main["Policy"]!);
      assert.equal(policy.Statement[0].Principal.Service, "s3.amazonaws.com");
      assert.equal(policy.Statement[0].Condition.ArnLike["aws:SourceArn"], "arn:aws:s3:::bk");
      const notif = m.s3.commandCalls(PutBucketNotificationConfigurationCommand)[0]!.args[0].input;
      assert.deepEqual(notif.NotificationConfiguration?.QueueConfigurations?.[0], {
        Id: "twingate-sync-to-sqs",
        QueueArn: "arn:aws:sqs:us-east-1:123:qq",
        Events: ["s3:ObjectCreated:*"],
        Filter: { Key: { FilterRules: [{ Name: "prefix", Value: "logs/" }] } },
      });
      assert.equal(m.sns.calls().length, 0);
    } finally {
      m.restore();
    }
  });

  it("via SNS: topic with a policy for the bucket, the queue subscribed, ObjectCreated to the topic", async () => {
    const m = mocks();
    m.s3.on(HeadBucketCommand).resolves({});
    try {
      const out = await provision(clients(), { bucket: "bk", queue: "qq", via: "sns" });
      assert.equal(out.topicArn, "arn:aws:sns:us-east-1:123:t");
      assert.equal(m.s3.commandCalls(CreateBucketCommand).length, 0, "an existing bucket is kept");
      assert.deepEqual(m.sns.commandCalls(SubscribeCommand)[0]!.args[0].input, {
        TopicArn: "arn:aws:sns:us-east-1:123:t",
        Protocol: "sqs",
        Endpoint: "arn:aws:sqs:us-east-1:123:qq",
      });
      const main = m.sqs
        .commandCalls(SetQueueAttributesCommand)
        .map((c) => c.args[0].input)
        .find((a) => a.QueueUrl === "http://q/qq")!.Attributes!;
      assert.equal(JSON.parse(main["Policy"]!).Statement[0].Principal.Service, "sns.amazonaws.com");
      const notif = m.s3.commandCalls(PutBucketNotificationConfigurationCommand)[0]!.args[0].input;
      assert.equal(notif.NotificationConfiguration?.TopicConfigurations?.[0]?.TopicArn, out.topicArn);
      assert.equal(notif.NotificationConfiguration?.QueueConfigurations, undefined);
    } finally {
      m.restore();
    }
  });
});
