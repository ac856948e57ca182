import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { ObjectRef } from "../../src/core/model.ts";
import {
  decodeS3Key,
  MAX_REASON_CHARS,
  type Notification,
  parseNotification,
  S3KeyDecodeError,
} from "../../src/core/notifications/index.ts";
import {
  AwsEventBridgeS3Schema,
  AwsS3RecordSchema,
  EventBridgeS3Schema,
  S3EventSchema,
  SnsEnvelopeSchema,
} from "../../src/core/notifications/schemas.ts";

const DIR = fileURLToPath(new URL("../fixtures/notifications/", import.meta.url));
const fixture = (name: string): string => readFileSync(DIR + name, "utf8");

const BUCKET = "acme-twingate-logs";
const TG_KEY = "twingate/network_access/2025-07-25T18:20:00+00:00.json";
const ETAG = "0123456789abcdef0123456789abcdef";

/** The AWS-documented example's defaults used by most fixtures. */
const ref = (key: string, extra: Partial<ObjectRef> = {}): ObjectRef => ({
  bucket: BUCKET,
  key,
  size: 1024,
  etag: ETAG,
  sequencer: "0A1B2C3D4E5F678901",
  ...extra,
});
const objects = (
  source: "s3" | "sns" | "eventbridge",
  refs: ObjectRef[],
  skipped: Extract<Notification, { kind: "objects" }>["skipped"] = [],
): Notification => ({ kind: "objects", objects: refs, skipped, source });

/** Expected outcome of every fixture (moto-*.json captured by the e2e helper are checked separately). */
const EXPECTED: Record<string, Notification | RegExp> = {
  "s3-direct-put.json": objects("s3", [
    ref(TG_KEY, {
      size: 48213,
      etag: "5f363e0e58a95f06cbe9bbc662c5dfb6",
      versionId: "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
      sequencer: "0066A297A3D1AB8C1F",
    }),
  ]),
  "s3-direct-multi.json": objects("s3", [
    ref(TG_KEY, { size: 48213, sequencer: "0066A297A3D1AB8C1F" }),
    ref("twingate/dns_filtering/2025-07-25T18:20:00+00:00.json", {
      size: 9120,
      sequencer: "0066A297A3D1AB8C20",
    }),
    ref("twingate/audit_log/2025-07-25T18:25:00+00:00.json.gz", {
      size: 733,
      etag: "1c5b4a2f7e0d9c8b7a6f5e4d3c2b1a09",
      sequencer: "0066A298CF00112233",
    }),
  ]),
  "s3-put-special-keys.json": objects("s3", [
    ref("reports/my report (2025).json"),
    ref("reports/a+b+c.json"),
    // a raw "+" in a direct notification is an encoded space, even next to raw colons
    ref("logs/2025-07-25T18:20:00 00:00.json"),
    ref("logs/2025-07-25T18:20:00+00:00.json"),
    ref("café/日本語 📄.json"),
    ref("deep/path/encoded/slash/100% done.json"),
  ]),
  "s3-multipart-complete.json": objects("s3", [
    ref(TG_KEY, {
      size: 73400320,
      etag: "d41d8cd98f00b204e9800998ecf8427e-14",
      sequencer: "0066A29A0B1C2D3E4F",
    }),
  ]),
  "s3-copy.json": objects("s3", [
    ref("replayed/2025-07-25T18:20:00+00:00.json", {
      size: 48213,
      etag: "5f363e0e58a95f06cbe9bbc662c5dfb6",
      sequencer: "0066A2A1000AAA0001",
    }),
  ]),
  "s3-post.json": objects("s3", [
    ref("uploads/2025-07-25T18:20:00Z.json", { size: 2048, sequencer: "0066A2A1000BBB0002" }),
  ]),
  "s3-test-event.json": { kind: "test", bucket: BUCKET, source: "s3" },
  "s3-object-removed.json": objects(
    "s3",
    [],
    [
      {
        reason: "not an object-created event",
        eventName: "ObjectRemoved:Delete",
        bucket: BUCKET,
        key: TG_KEY,
      },
      {
        reason: "not an object-created event",
        eventName: "ObjectRemoved:DeleteMarkerCreated",
        bucket: BUCKET,
        key: "old file.json",
      },
    ],
  ),
  "s3-object-restore.json": objects(
    "s3",
    [],
    [
      {
        reason: "not an object-created event",
        eventName: "ObjectRestore:Completed",
        bucket: BUCKET,
        key: "archive/2024-01-01T00:00:00+00:00.json",
      },
    ],
  ),
  "s3-mixed-created-removed.json": objects(
    "s3",
    [ref("twingate/audit_log/2025-07-25T18:20:00+00:00.json", { size: 512 })],
    [
      {
        reason: "not an object-created event",
        eventName: "ObjectRemoved:Delete",
        bucket: BUCKET,
        key: "tmp/scratch 1.json",
      },
    ],
  ),
  "s3-ipv6-source.json": objects("s3", [ref(TG_KEY)]),
  "s3-eventtime-offset.json": objects("s3", [ref(TG_KEY)]),
  "s3-service-principal-source.json": objects("s3", [ref(TG_KEY)]),
  "minio-put.json": objects("s3", [
    {
      bucket: BUCKET,
      key: "twingate/2025-07-25T18:20:00+00:00.json",
      size: 48213,
      etag: "5f363e0e58a95f06cbe9bbc662c5dfb6",
      sequencer: "17E5B0B3A2D4E5F6",
    },
  ]),
  "sns-wrapped-put.json": objects("sns", [ref(TG_KEY, { size: 48213, sequencer: "0066A297A3D1AB8C1F" })]),
  "sns-raw-put.json": objects("s3", [ref(TG_KEY, { size: 48213, sequencer: "0066A297A3D1AB8C1F" })]),
  "sns-wrapped-test-event.json": { kind: "test", bucket: BUCKET, source: "sns" },
  // An EventBridge rule targeting an SNS topic: the key stays verbatim, as EventBridge writes it
  "sns-wrapped-eventbridge.json": objects("eventbridge", [
    {
      bucket: BUCKET,
      key: TG_KEY,
      size: 48213,
      etag: "5f363e0e58a95f06cbe9bbc662c5dfb6-3",
      sequencer: "0066A297A3D1AB8C1F",
    },
  ]),
  "eventbridge-object-created.json": objects("eventbridge", [
    {
      bucket: BUCKET,
      key: "example-key",
      size: 5,
      etag: "b1946ac92492d2347c6235b4d2611184",
      versionId: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
      sequencer: "617f08299329d189",
    },
  ]),
  // EventBridge keys are verbatim: the "+" of the offset stays a "+"
  "eventbridge-prefix-key.json": objects("eventbridge", [
    {
      bucket: BUCKET,
      key: TG_KEY,
      size: 48213,
      etag: "5f363e0e58a95f06cbe9bbc662c5dfb6-3",
      sequencer: "0066A297A3D1AB8C1F",
    },
  ]),
  "eventbridge-space-key.json": objects("eventbridge", [
    {
      bucket: BUCKET,
      key: "exports/July report 100%.json",
      size: 5,
      etag: "b1946ac92492d2347c6235b4d2611184",
      sequencer: "617f08299329d189",
    },
  ]),
  "eventbridge-ipv6-offset.json": objects("eventbridge", [
    {
      bucket: BUCKET,
      key: "twingate/2025-07-25T18:20:00+00:00.json",
      size: 5,
      etag: "b1946ac92492d2347c6235b4d2611184",
      versionId: "IYV3p45BT0ac8hjHg1houSdS1a.Mro8e",
      sequencer: "617f08299329d189",
    },
  ]),
  "eventbridge-object-deleted.json": objects(
    "eventbridge",
    [],
    [
      {
        reason: "not an Object Created event",
        eventName: "Object Deleted",
        bucket: BUCKET,
        key: "twingate/old.json",
      },
    ],
  ),
  "eventbridge-foreign-source.json": /^EventBridge event from "aws\.ec2" .*not from aws\.s3$/,
  "garbage.txt": /^message body is not JSON/,
  "json-array.json": /^message body is JSON \(an array of 3\), not an object$/,
  "empty.txt": /^message body is empty$/,
  "foreign-cloudwatch-alarm.json":
    /^not an S3 event notification, SNS envelope or EventBridge event .*"AlarmName"/,
  "sns-non-s3-message.json": /^SNS Message from ".*ops-alarms" is not an S3 event notification .*"AlarmName"/,
  "sns-text-message.json": /^SNS envelope: Message: Invalid JSON/,
  "sns-subscription-confirmation.json": /^SNS "SubscriptionConfirmation" message, not a Notification$/,
  "s3-malformed-key.json":
    /^Records\[0\]\.s3\.object\.key: malformed percent-encoding .*"twingate\/bad%E0%A4%A\.json"/,
  "s3-empty-records.json": /^S3 event notification: Records: Too small/,
  "s3-missing-key.json": /^S3 event notification: Records\[0\]\.s3\.object\.key: Invalid input/,
  "lambda-sqs-event.json": /^a Lambda SQS event, not an SQS message body/,
};

/** Fixtures in AWS's documented shapes: they must pass the AWS-shape schema, not only the lenient fallback. */
const AWS_SHAPED_S3 = [
  "s3-direct-put.json",
  "s3-direct-multi.json",
  "s3-put-special-keys.json",
  "s3-multipart-complete.json",
  "s3-copy.json",
  "s3-post.json",
  "s3-object-removed.json",
  "s3-object-restore.json",
  "s3-mixed-created-removed.json",
  "s3-ipv6-source.json",
  "s3-eventtime-offset.json",
  "s3-service-principal-source.json",
  "sns-raw-put.json",
];
const AWS_SHAPED_EVENTBRIDGE = [
  "eventbridge-object-created.json",
  "eventbridge-prefix-key.json",
  "eventbridge-space-key.json",
  "eventbridge-ipv6-offset.json",
  "eventbridge-object-deleted.json",
];

const files = readdirSync(DIR).sort();

describe("parseNotification: fixtures", () => {
  it("has an expectation for every fixture (except captured moto-*.json)", () => {
    const missing = files.filter((f) => !f.startsWith("moto-") && !(f in EXPECTED));
    assert.deepEqual(missing, []);
    const absent = Object.keys(EXPECTED).filter((f) => !files.includes(f));
    assert.deepEqual(absent, []);
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(name, () => {
      const got = parseNotification(fixture(name));
      if (expected instanceof RegExp) {
        assert.equal(got.kind, "invalid", JSON.stringify(got));
        assert.match((got as { reason: string }).reason, expected);
      } else {
        assert.deepEqual(got, expected);
      }
    });
  }

  for (const name of files.filter((f) => f.startsWith("moto-"))) {
    it(`${name} (captured from moto) is understood`, () => {
      const got = parseNotification(fixture(name));
      assert.notEqual(got.kind, "invalid", JSON.stringify(got));
      if (got.kind === "objects") {
        for (const o of got.objects) {
          assert.ok(o.bucket.length > 0 && o.key.length > 0, JSON.stringify(o));
          assert.doesNotMatch(o.key, /%[0-9A-F]{2}/i, "key left URL-encoded");
        }
      }
    });
  }
});

describe("schemas", () => {
  it("AWS-shaped S3 fixtures pass the AWS-shape record schema (relaxed Powertools)", () => {
    for (const name of AWS_SHAPED_S3) {
      const body = JSON.parse(fixture(name)) as { Records: unknown[] };
      for (const [i, record] of body.Records.entries()) {
        const r = AwsS3RecordSchema.safeParse(record);
        assert.ok(r.success, `${name} Records[${i}]: ${r.error?.message}`);
      }
    }
  });

  it("the SNS-wrapped S3 event passes the AWS-shape record schema too", () => {
    const env = SnsEnvelopeSchema.parse(JSON.parse(fixture("sns-wrapped-put.json")));
    const event = env.Message as { Records: unknown[] };
    assert.ok(AwsS3RecordSchema.safeParse(event.Records[0]).success);
  });

  it("AWS-shaped EventBridge fixtures pass the AWS-shape schema", () => {
    for (const name of AWS_SHAPED_EVENTBRIDGE) {
      const r = AwsEventBridgeS3Schema.safeParse(JSON.parse(fixture(name)));
      assert.ok(r.success, `${name}: ${r.error?.message}`);
    }
  });

  it("minio's record fails the AWS shape and is accepted by the lenient fallback", () => {
    const body = JSON.parse(fixture("minio-put.json")) as { Records: unknown[] };
    assert.equal(AwsS3RecordSchema.safeParse(body.Records[0]).success, false);
    assert.ok(S3EventSchema.safeParse(body).success);
  });

  it("an EventBridge event with a wrong-typed size keeps the object and drops the size", () => {
    const event = JSON.parse(fixture("eventbridge-object-created.json")) as {
      detail: { object: { size: unknown } };
    };
    event.detail.object.size = "5";
    assert.ok(EventBridgeS3Schema.safeParse(event).success);
    const got = parseNotification(JSON.stringify(event));
    assert.equal(got.kind, "objects");
    assert.equal((got as { objects: ObjectRef[] }).objects[0]?.size, undefined);
  });
});

describe("parseNotification: edge cases", () => {
  it("a quoted eTag (some emulators) comes out unquoted", () => {
    const body = JSON.parse(fixture("s3-direct-put.json")) as {
      Records: { s3: { object: { eTag: string } } }[];
    };
    body.Records[0]!.s3.object.eTag = '"5f363e0e58a95f06cbe9bbc662c5dfb6"';
    const got = parseNotification(JSON.stringify(body));
    assert.equal((got as { objects: ObjectRef[] }).objects[0]?.etag, "5f363e0e58a95f06cbe9bbc662c5dfb6");
  });

  it("a malformed key in one record makes the whole message invalid (left to the DLQ, not half-done)", () => {
    const body = JSON.parse(fixture("s3-direct-multi.json")) as {
      Records: { s3: { object: { key: string } } }[];
    };
    body.Records[2]!.s3.object.key = "twingate/%ZZ.json";
    const got = parseNotification(JSON.stringify(body));
    assert.equal(got.kind, "invalid");
    assert.match((got as { reason: string }).reason, /^Records\[2\]\.s3\.object\.key: malformed/);
  });

  it("a malformed key in a skipped record does not invalidate the message", () => {
    const body = JSON.parse(fixture("s3-mixed-created-removed.json")) as {
      Records: { s3: { object: { key: string } } }[];
    };
    body.Records[1]!.s3.object.key = "tmp/%E0%A4%A";
    const got = parseNotification(JSON.stringify(body));
    assert.equal(got.kind, "objects");
    assert.equal((got as { skipped: { key?: string }[] }).skipped[0]?.key, "tmp/%E0%A4%A");
  });

  it("an SNS-wrapped malformed key names where it was found", () => {
    const direct = JSON.parse(fixture("s3-malformed-key.json")) as unknown;
    const env = JSON.parse(fixture("sns-wrapped-put.json")) as { Message: string };
    env.Message = JSON.stringify(direct);
    const got = parseNotification(JSON.stringify(env));
    assert.equal(got.kind, "invalid");
    assert.match(
      (got as { reason: string }).reason,
      /^SNS Message: Records\[0\]\.s3\.object\.key: malformed/,
    );
  });

  it("an SNS envelope missing its required fields is invalid", () => {
    const env = JSON.parse(fixture("sns-wrapped-put.json")) as Record<string, unknown>;
    delete env["MessageId"];
    const got = parseNotification(JSON.stringify(env));
    assert.equal(got.kind, "invalid");
    assert.match((got as { reason: string }).reason, /^SNS envelope: MessageId:/);
  });

  it("tolerates a byte-order mark and surrounding whitespace", () => {
    const got = parseNotification(`\uFEFF  ${fixture("s3-test-event.json")}\n\n`);
    assert.deepEqual(got, { kind: "test", bucket: BUCKET, source: "s3" });
  });

  it("a test event without Bucket still is a test outcome", () => {
    assert.deepEqual(parseNotification('{"Event":"s3:TestEvent"}'), { kind: "test", source: "s3" });
  });

  it("JSON scalars and null are invalid", () => {
    for (const body of ["null", "42", '"Records"', "true"]) {
      assert.equal(parseNotification(body).kind, "invalid", body);
    }
  });

  it("bounds the reason for enormous bodies", () => {
    const huge = `{"${"k".repeat(5_000_000)}": 1, "x": [`;
    const got = parseNotification(huge);
    assert.equal(got.kind, "invalid");
    assert.ok((got as { reason: string }).reason.length <= MAX_REASON_CHARS);
    const manyFields = JSON.stringify(
      Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`f${"x".repeat(500)}${i}`, i])),
    );
    const got2 = parseNotification(manyFields);
    assert.ok((got2 as { reason: string }).reason.length <= MAX_REASON_CHARS);
    const longKey = JSON.parse(fixture("s3-malformed-key.json")) as {
      Records: { s3: { object: { key: string } } }[];
    };
    longKey.Records[0]!.s3.object.key = `${"a".repeat(1_000_000)}%ZZ`;
    const got3 = parseNotification(JSON.stringify(longKey));
    assert.equal(got3.kind, "invalid");
    assert.ok((got3 as { reason: string }).reason.length <= MAX_REASON_CHARS);
  });

  it("survives deeply nested JSON", () => {
    const deep = `{"Records":${"[".repeat(200_000)}${"]".repeat(200_000)}}`;
    assert.equal(parseNotification(deep).kind, "invalid");
    const deepObj = `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`;
    assert.equal(parseNotification(deepObj).kind, "invalid");
  });

  it("many records: returns all of them in order", () => {
    const one = JSON.parse(fixture("s3-direct-put.json")) as {
      Records: { s3: { object: { key: string } } }[];
    };
    const records = Array.from({ length: 100 }, (_, i) => {
      const r = structuredClone(one.Records[0]!);
      r.s3.object.key = `twingate/${i}+%2B.json`;
      return r;
    });
    const got = parseNotification(JSON.stringify({ Records: records }));
    assert.equal(got.kind, "objects");
    assert.deepEqual(
      (got as { objects: ObjectRef[] }).objects.map((o) => o.key),
      records.map((_, i) => `twingate/${i} +.json`),
    );
  });
});

describe("decodeS3Key", () => {
  it("decodes the S3 way", () => {
    assert.equal(decodeS3Key("2025-07-25T18%3A20%3A00%2B00%3A00.json"), "2025-07-25T18:20:00+00:00.json");
    assert.equal(decodeS3Key("2025-07-25T18:20:00%2B00:00.json"), "2025-07-25T18:20:00+00:00.json");
    assert.equal(decodeS3Key("red+flower.jpg"), "red flower.jpg");
    assert.equal(decodeS3Key("a%2Bb"), "a+b");
    assert.equal(decodeS3Key("a%20b"), "a b");
    assert.equal(decodeS3Key("d%C3%A9j%C3%A0/vu"), "déjà/vu");
    assert.equal(decodeS3Key("plain/key.json"), "plain/key.json");
  });

  it("throws S3KeyDecodeError with the raw key on malformed encoding", () => {
    for (const raw of ["%", "a%2", "%ZZ", "%E0%A4%A", "%C3", "%ED%A0%80"]) {
      assert.throws(
        () => decodeS3Key(raw),
        (err: unknown) => err instanceof S3KeyDecodeError && err.raw === raw && err.cause instanceof URIError,
        raw,
      );
    }
  });
});
