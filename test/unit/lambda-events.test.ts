import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseNotification } from "../../src/core/notifications/index.ts";
import { deadlineMarginMs, eventBodies } from "../../src/runtimes/lambda.ts";

const fixture = (name: string) =>
  readFileSync(new URL(`../fixtures/notifications/${name}`, import.meta.url), "utf8");

describe("Lambda events", () => {
  it("SQS records go to the batch path", () => {
    assert.deepEqual(eventBodies({ Records: [{ eventSource: "aws:sqs", body: "{}", messageId: "m" }] }), {
      kind: "sqs",
    });
  });

  it("S3, SNS and EventBridge invoking the function directly give the notifications they carry", () => {
    const s3 = JSON.parse(fixture("s3-direct-put.json"));
    const direct = eventBodies(s3);
    assert.ok(direct.kind === "direct" && direct.source === "s3");
    const n = parseNotification(direct.bodies[0]!.body);
    assert.equal(n.kind, "objects");

    const envelope = JSON.parse(fixture("sns-wrapped-put.json"));
    // Lambda's SNS record: the envelope's fields under Sns (SigningCertUrl, not SigningCertURL).
    const sns = eventBodies({
      Records: [{ EventSource: "aws:sns", EventVersion: "1.0", Sns: { ...envelope, SigningCertUrl: "x" } }],
    });
    assert.ok(sns.kind === "direct" && sns.source === "sns");
    assert.equal(sns.bodies[0]!.id, envelope.MessageId);
    assert.equal(parseNotification(sns.bodies[0]!.body).kind, "objects");

    const eb = eventBodies(JSON.parse(fixture("eventbridge-prefix-key.json")));
    assert.ok(eb.kind === "direct" && eb.source === "eventbridge");
    assert.equal(parseNotification(eb.bodies[0]!.body).kind, "objects");
  });

  it("anything else is refused with an error that says what was expected", () => {
    for (const e of [null, [], {}, { Records: [] }, { hello: 1 }, "text"])
      assert.throws(() => eventBodies(e), /expected an SQS, S3, SNS or EventBridge event/, JSON.stringify(e));
    assert.throws(
      () => eventBodies({ Records: [{ eventSource: "aws:sqs" }, { eventSource: "aws:kinesis" }] }),
      /records from "aws:sqs", "aws:kinesis"/,
    );
  });

  it("keeps 5 s before the deadline, or a fifth of the time left when shorter (Lambda's default is 3 s)", () => {
    assert.equal(deadlineMarginMs(300_000), 5_000);
    assert.equal(deadlineMarginMs(25_000), 5_000);
    assert.equal(deadlineMarginMs(3_000), 600);
    assert.equal(deadlineMarginMs(0), 0);
  });
});
