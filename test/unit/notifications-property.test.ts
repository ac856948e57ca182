import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import type { ObjectRef } from "../../src/core/model.ts";
import {
  decodeS3Key,
  encodeS3Key,
  MAX_REASON_CHARS,
  type Notification,
  parseNotification,
} from "../../src/core/notifications/index.ts";

const DIR = fileURLToPath(new URL("../fixtures/notifications/", import.meta.url));
const template = (name: string): unknown => JSON.parse(readFileSync(DIR + name, "utf8"));

/** S3 keys: non-empty, any Unicode (no lone surrogates: S3 keys are UTF-8), with the troublesome ASCII. */
const keyArb = fc
  .oneof(
    fc.string({ unit: "binary", minLength: 1, maxLength: 60 }),
    fc.string({
      unit: fc.constantFrom("+", " ", ":", "%", "/", "2", "0", "B", "a", "é", "😀", "&", "=", "?", "#"),
      minLength: 1,
      maxLength: 30,
    }),
    fc.constantFrom(
      "2025-07-25T18:20:00+00:00.json",
      "twingate/network_access/2025-07-25T18:20:00+00:00.json",
    ),
  )
  .filter((k) => k.length > 0);

/** Encode as S3 does in notifications; AWS leaves "/" alone, others encode it: both must decode. */
const encoders: Record<string, (k: string) => string> = {
  aws: encodeS3Key,
  allEncoded: (k) => encodeURIComponent(k).replace(/%20/g, "+"),
};

function direct(encodedKey: string): string {
  const body = template("s3-direct-put.json") as { Records: { s3: { object: { key: string } } }[] };
  body.Records[0]!.s3.object.key = encodedKey;
  return JSON.stringify(body);
}
function snsWrapped(encodedKey: string): string {
  const env = template("sns-wrapped-put.json") as { Message: string };
  env.Message = direct(encodedKey);
  return JSON.stringify(env);
}
/** EventBridge carries the key verbatim (see src/core/notifications/parse.ts). */
function eventBridge(key: string): string {
  const event = template("eventbridge-prefix-key.json") as { detail: { object: { key: string } } };
  event.detail.object.key = key;
  return JSON.stringify(event);
}

function onlyKey(n: Notification): string {
  assert.equal(n.kind, "objects", JSON.stringify(n));
  const objects = (n as { objects: ObjectRef[] }).objects;
  assert.equal(objects.length, 1);
  return objects[0]!.key;
}

describe("property: keys survive every envelope", () => {
  for (const [name, encode] of Object.entries(encoders)) {
    it(`direct S3 notification (${name} encoding)`, () => {
      fc.assert(fc.property(keyArb, (key) => onlyKey(parseNotification(direct(encode(key)))) === key));
    });
    it(`SNS-wrapped notification (${name} encoding)`, () => {
      fc.assert(fc.property(keyArb, (key) => onlyKey(parseNotification(snsWrapped(encode(key)))) === key));
    });
  }
  it("EventBridge event (verbatim key)", () => {
    fc.assert(fc.property(keyArb, (key) => onlyKey(parseNotification(eventBridge(key))) === key));
  });
  it("decodeS3Key inverts encodeS3Key", () => {
    fc.assert(fc.property(keyArb, (key) => decodeS3Key(encodeS3Key(key)) === key));
  });
});

function assertOutcome(n: Notification): void {
  assert.ok(n.kind === "objects" || n.kind === "test" || n.kind === "invalid");
  if (n.kind === "invalid") {
    assert.ok(n.reason.length > 0 && n.reason.length <= MAX_REASON_CHARS, n.reason);
  }
}

describe("property: any body gives an outcome, never a throw", () => {
  it("random strings", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 400 }), (body) =>
        assertOutcome(parseNotification(body)),
      ),
      { numRuns: 2000 },
    );
  });

  it("random JSON values", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (body) => assertOutcome(parseNotification(body))),
      {
        numRuns: 1000,
      },
    );
  });

  it("fixtures with random values spliced in anywhere", () => {
    const names = [
      "s3-direct-put.json",
      "sns-wrapped-put.json",
      "eventbridge-object-created.json",
      "s3-test-event.json",
      "sns-wrapped-test-event.json",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...names),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.jsonValue({ maxDepth: 2 }),
        (name, path, replacement) => {
          const doc = template(name);
          mutate(doc, path, replacement);
          assertOutcome(parseNotification(JSON.stringify(doc)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("arbitrary keys in the decoded position never throw (malformed encodings become invalid)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 40 }), (raw) => {
        const n = parseNotification(direct(raw));
        assertOutcome(n);
        let decodable = true;
        try {
          decodeS3Key(raw);
        } catch {
          decodable = false;
        }
        assert.equal(n.kind, decodable ? "objects" : "invalid");
      }),
    );
  });
});

/** Follow `path` (indices into the keys of each nested object/array) and replace the value reached. */
function mutate(doc: unknown, path: number[], replacement: unknown): void {
  let node = doc;
  for (const [depth, step] of path.entries()) {
    if (typeof node !== "object" || node === null) return;
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const k = keys[step % keys.length]!;
    const record = node as Record<string, unknown>;
    if (depth === path.length - 1 || typeof record[k] !== "object" || record[k] === null) {
      record[k] = replacement;
      return;
    }
    node = record[k];
  }
}
