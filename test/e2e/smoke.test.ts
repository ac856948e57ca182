/**
 * Smoke test of the local stack itself (scripts/stack.sh), the ground the other e2e tests stand on:
 * moto in server mode really sends S3 bucket notifications to SQS (directly and through an SNS topic the
 * queue subscribes to), the keys in them decode back to the object's real name, and OpenSearch indexes and
 * finds a document. Each test uses its own bucket, queues and index.
 *
 * What moto 5.2 sends (captured bodies: test/fixtures/notifications/moto-*.json):
 * - first an `s3:TestEvent` when the notification configuration is put (as AWS does), then the records;
 * - object keys encoded like Python's quote_plus: `:` -> %3A, `+` -> %2B, space -> `+`, and also
 *   `/` -> %2F (AWS leaves `/` as is; decoding handles both);
 * - no `sequencer`, `userIdentity`, `requestParameters` or `responseElements` in a record;
 * - through SNS: a `Type: "Notification"` envelope (not raw delivery) whose `Message` is the same S3 event.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { DeleteTopicCommand } from "@aws-sdk/client-sns";
import {
  DeleteMessageCommand,
  DeleteQueueCommand,
  type Message,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import type { Client } from "@opensearch-project/opensearch";
import { parseNotification } from "../../src/core/notifications/index.ts";
import type { Provisioned } from "../../src/tools/produce/provision.ts";
import {
  type AwsClients,
  awsClients,
  createBucketWithQueueNotification,
  opensearchClient,
  stackAvailable,
  uniqueName,
} from "../helpers/stack.ts";

const SEED_RECORD = {
  event_type: "network_access",
  event: {
    version: 1,
    time: "2025-07-25T18:19:41.236597+00:00",
    status: "closed_connection",
    connection: { client_ip: "1.2.3.4", protocol: "tcp", bytes_received: 338, bytes_transferred: 404 },
    connector: { id: "123456", name: "faithful-pigeon" },
    remote_network: { id: "789012", name: "aws-us-east-1-dev" },
    resource: {
      address: "argocd.eks.twindemo.int",
      applied_rule: "argocd.eks.twindemo.int",
      id: "1234567",
      ip: "10.11.12.13",
      port: 80,
    },
    relays: [{ ip: "1.2.3.4", name: "relaybalancer+https://relays-prm.twingate.com", port: 30501 }],
    device: { id: "1234567" },
    user: { id: "890123", email: "janedoe@twindemo.com" },
    location: { lat: 39.84, lon: -100.04 },
  },
};
const BODY = `${JSON.stringify(SEED_RECORD)}\n`;
const KEY = "2025-07-25T18:20:00+00:00.json";
const NESTED_KEY = "twingate/sync dir/2025-07-25T18:25:00+00:00.json";

/** Our own decoding of S3 notification keys (the project's parser is checked separately below). */
const decodeKey = (raw: string) => decodeURIComponent(raw.replace(/\+/g, " "));

interface S3EventBody {
  Records: { eventName: string; s3: { bucket: { name: string }; object: { key: string; size: number } } }[];
}

/** Receives (and deletes) messages until `count` of them satisfy `want`; bounded by attempts, not time. */
async function receiveUntil(
  clients: AwsClients,
  queueUrl: string,
  count: number,
  want: (m: Message) => boolean,
): Promise<{ wanted: Message[]; others: Message[] }> {
  const wanted: Message[] = [];
  const others: Message[] = [];
  for (let attempt = 0; attempt < 10 && wanted.length < count; attempt++) {
    const res = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
    );
    for (const m of res.Messages ?? []) {
      (want(m) ? wanted : others).push(m);
      await clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    }
  }
  assert.equal(wanted.length, count, `expected ${count} matching messages; also got ${others.length} others`);
  return { wanted, others };
}

const skip = stackAvailable() ? false : "stack endpoints not set (run with `npm test`)";

describe("local stack smoke test", { skip }, () => {
  let clients: AwsClients;
  let opensearch: Client;
  const cleanups: (() => Promise<unknown>)[] = [];

  before(() => {
    clients = awsClients();
    opensearch = opensearchClient();
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await opensearch.close();
    clients.destroy();
  });

  function forget(bucket: string, p: Provisioned, keys: string[]): void {
    cleanups.push(async () => {
      for (const key of keys) await clients.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      await clients.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: p.queueUrl }));
      await clients.sqs.send(new DeleteQueueCommand({ QueueUrl: p.dlqUrl }));
      if (p.topicArn) await clients.sns.send(new DeleteTopicCommand({ TopicArn: p.topicArn }));
    });
  }

  async function putBoth(bucket: string): Promise<void> {
    for (const key of [KEY, NESTED_KEY]) {
      await clients.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: BODY, ContentType: "application/json" }),
      );
    }
  }

  /** The assertions shared by both paths, on the S3 event inside the message. */
  async function checkS3Events(bucket: string, events: S3EventBody[]): Promise<void> {
    const records = events.flatMap((e) => e.Records);
    assert.equal(records.length, 2);
    const byRaw = new Map(records.map((r) => [r.s3.object.key, r]));
    // moto's encoding, as recorded in the header comment
    assert.ok(byRaw.has("2025-07-25T18%3A20%3A00%2B00%3A00.json"), [...byRaw.keys()].join(", "));
    assert.ok(
      byRaw.has("twingate%2Fsync+dir%2F2025-07-25T18%3A25%3A00%2B00%3A00.json"),
      [...byRaw.keys()].join(),
    );
    for (const r of records) {
      assert.match(r.eventName, /^ObjectCreated:/);
      assert.equal(r.s3.bucket.name, bucket);
      assert.equal(r.s3.object.size, Buffer.byteLength(BODY));
    }
    assert.deepEqual(records.map((r) => decodeKey(r.s3.object.key)).sort(), [KEY, NESTED_KEY].sort());

    // the object is fetched under its real (decoded) name
    for (const r of records) {
      const got = await clients.s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: decodeKey(r.s3.object.key) }),
      );
      assert.equal(await got.Body!.transformToString(), BODY);
    }
  }

  test("S3 -> SQS: bucket notifications arrive, keys decode to the real object names", async () => {
    const bucket = uniqueName("smoke-direct");
    const p = await createBucketWithQueueNotification({ bucket, queue: uniqueName("smoke-direct") }, clients);
    forget(bucket, p, [KEY, NESTED_KEY]);
    assert.match(p.queueUrl, /^http:\/\/(127\.0\.0\.1|localhost)/);
    await putBoth(bucket);

    const { wanted, others } = await receiveUntil(clients, p.queueUrl, 2, (m) =>
      m.Body!.includes('"Records"'),
    );
    // the s3:TestEvent sent when the configuration was put
    assert.ok(others.some((m) => JSON.parse(m.Body!).Event === "s3:TestEvent"));
    await checkS3Events(
      bucket,
      wanted.map((m) => JSON.parse(m.Body!) as S3EventBody),
    );

    // and the project's notification parser reads moto's bodies the same way
    const refs = wanted.flatMap((m) => {
      const n = parseNotification(m.Body!);
      assert.equal(n.kind, "objects", JSON.stringify(n));
      return n.kind === "objects" ? n.objects : [];
    });
    assert.deepEqual(
      refs.map((r) => `${r.bucket}/${r.key}`).sort(),
      [`${bucket}/${KEY}`, `${bucket}/${NESTED_KEY}`].sort(),
    );
  });

  test("S3 -> SNS -> SQS: the queue's subscription delivers the notification in an SNS envelope", async () => {
    const bucket = uniqueName("smoke-sns");
    const p = await createBucketWithQueueNotification(
      { bucket, queue: uniqueName("smoke-sns"), viaSns: true },
      clients,
    );
    forget(bucket, p, [KEY, NESTED_KEY]);
    assert.ok(p.topicArn, "a topic was created");
    await putBoth(bucket);

    const { wanted, others } = await receiveUntil(clients, p.queueUrl, 2, (m) =>
      (JSON.parse(m.Body!).Message as string).includes('"Records"'),
    );
    const envelopes = [...wanted, ...others].map((m) => JSON.parse(m.Body!));
    for (const e of envelopes) {
      assert.equal(e.Type, "Notification");
      assert.equal(e.TopicArn, p.topicArn);
      assert.equal(typeof e.Message, "string");
    }
    assert.ok(envelopes.some((e) => JSON.parse(e.Message).Event === "s3:TestEvent"));
    await checkS3Events(
      bucket,
      wanted.map((m) => JSON.parse(JSON.parse(m.Body!).Message) as S3EventBody),
    );

    const refs = wanted.flatMap((m) => {
      const n = parseNotification(m.Body!);
      assert.equal(n.kind, "objects", JSON.stringify(n));
      return n.kind === "objects" ? n.objects : [];
    });
    assert.deepEqual(refs.map((r) => r.key).sort(), [KEY, NESTED_KEY].sort());
  });

  test("OpenSearch indexes a record and finds it", async () => {
    const index = uniqueName("smoke");
    cleanups.push(() => opensearch.indices.delete({ index }));
    const health = await opensearch.cluster.health({});
    assert.ok(["green", "yellow"].includes(health.body.status), health.body.status);

    const created = await opensearch.index({ index, id: "seed-1", body: SEED_RECORD, refresh: true });
    assert.equal(created.body.result, "created");
    const found = await opensearch.search({
      index,
      body: { query: { term: { "event.user.email.keyword": "janedoe@twindemo.com" } } },
    });
    const hits = found.body.hits.hits;
    assert.equal(hits.length, 1);
    assert.equal(hits[0]!._id, "seed-1");
    assert.deepEqual(hits[0]!._source, SEED_RECORD);
  });
});
