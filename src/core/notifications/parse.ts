/**
 * SQS message body -> the S3 objects it announces.
 *
 * Accepted shapes (detected from the body, no configuration needed):
 * - S3 event notification `{"Records":[...]}`: S3 -> SQS directly, or S3 -> SNS -> SQS with raw message
 *   delivery (the two are indistinguishable; reported as source "s3"). Keys are URL-decoded.
 * - SNS `Notification` envelope whose `Message` is an S3 event notification (S3 -> SNS -> SQS). Keys are
 *   URL-decoded.
 * - `s3:TestEvent`, directly or in an SNS envelope: outcome "test" (acknowledge, log).
 * - EventBridge event from `aws.s3` (rule -> SQS target, or rule -> SNS -> SQS in an SNS envelope, where it
 *   is reported as source "eventbridge" too). "Object Created" gives objects, other S3 event
 *   types are skipped. Keys are used verbatim: EventBridge does not URL-encode them (AWS's documented
 *   examples and captured events show raw `:` in keys, where a direct notification has `%3A`), so decoding
 *   would turn the `+` of `2025-07-25T18:20:00+00:00.json` into a space. Fixture: eventbridge-prefix-key.json.
 *
 * Never throws: whatever the body, the result is one of the three outcomes.
 */
import type { z } from "zod";
import type { ObjectRef } from "../model.ts";
import { decodeS3Key, quoteBounded, S3KeyDecodeError } from "./keys.ts";
import {
  type EventBridgeS3Event,
  EventBridgeS3Schema,
  S3EventSchema,
  type S3Record,
  S3TestEventSchema,
  SnsEnvelopeSchema,
} from "./schemas.ts";

export interface SkippedRecord {
  reason: string;
  eventName?: string;
  bucket?: string;
  key?: string;
}

export type Notification =
  | { kind: "objects"; objects: ObjectRef[]; skipped: SkippedRecord[]; source: "s3" | "sns" | "eventbridge" }
  | { kind: "test"; bucket?: string; source: "s3" | "sns" }
  | { kind: "invalid"; reason: string };

/** Upper bound of an "invalid" reason, whatever the size of the body. */
export const MAX_REASON_CHARS = 1000;
const MAX_ISSUES = 3;

/** Parse the `Body` of an SQS ReceiveMessage result (not a Lambda event). */
export function parseNotification(body: string): Notification {
  try {
    return classify(body);
  } catch (err) {
    // Defensive: nothing above is meant to throw, but a pathological body (e.g. nesting deep enough to
    // exhaust the stack) must still end as an outcome the caller can count and leave to the DLQ.
    return invalid(`could not parse message: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function classify(body: string): Notification {
  if (typeof body !== "string") return invalid(`message body is a ${typeof body}, not a string`);
  const text = body.charCodeAt(0) === 0xfeff ? body.slice(1) : body;
  if (text.trim() === "") return invalid("message body is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return invalid(
      `message body is not JSON (${(err as Error).message}); starts with ${quoteBounded(text, 80)}`,
    );
  }
  if (!isObject(value)) return invalid(`message body is JSON (${describe(value)}), not an object`);

  if ("Records" in value) return fromS3Event(value, "s3", "");
  if ("Event" in value) return fromTestEvent(value, "s3", "");
  if ("Type" in value && "TopicArn" in value) return fromSnsEnvelope(value);
  if ("detail-type" in value) return fromEventBridge(value);
  return invalid(
    `not an S3 event notification, SNS envelope or EventBridge event (top-level fields: ${fieldList(value)})`,
  );
}

// ---------------------------------------------------------------------------------------------------------

function fromS3Event(value: unknown, source: "s3" | "sns", where: string): Notification {
  const parsed = S3EventSchema.safeParse(value);
  if (!parsed.success) {
    if (looksLikeLambdaSqsEvent(value)) {
      return invalid(`${where}a Lambda SQS event, not an SQS message body: pass each record's body instead`);
    }
    return invalid(`${where}S3 event notification: ${formatIssues(parsed.error)}`);
  }
  const objects: ObjectRef[] = [];
  const skipped: SkippedRecord[] = [];
  for (const [i, record] of parsed.data.Records.entries()) {
    const eventName = record.eventName;
    const bucket = record.s3.bucket.name;
    const rawKey = record.s3.object.key;
    if (!isObjectCreated(eventName)) {
      skipped.push({ reason: "not an object-created event", eventName, bucket, key: decodeOrRaw(rawKey) });
      continue;
    }
    let key: string;
    try {
      key = decodeS3Key(rawKey);
    } catch (err) {
      if (err instanceof S3KeyDecodeError)
        return invalid(`${where}Records[${i}].s3.object.key: ${err.message}`);
      throw err;
    }
    if (key === "") return invalid(`${where}Records[${i}].s3.object.key: empty after decoding`);
    objects.push(objectRef(bucket, key, s3Metadata(record)));
  }
  return { kind: "objects", objects, skipped, source };
}

function fromTestEvent(value: unknown, source: "s3" | "sns", where: string): Notification {
  const parsed = S3TestEventSchema.safeParse(value);
  if (!parsed.success) return invalid(`${where}not an s3:TestEvent: ${formatIssues(parsed.error)}`);
  const bucket = parsed.data.Bucket;
  return bucket ? { kind: "test", bucket, source } : { kind: "test", source };
}

function fromSnsEnvelope(value: Record<string, unknown>): Notification {
  if (value["Type"] !== "Notification") {
    // e.g. a SubscriptionConfirmation: a cross-account subscription that nobody confirmed.
    return invalid(`SNS ${quoteBounded(String(value["Type"]), 60)} message, not a Notification`);
  }
  const parsed = SnsEnvelopeSchema.safeParse(value);
  if (!parsed.success) return invalid(`SNS envelope: ${formatIssues(parsed.error)}`);
  const message = parsed.data.Message;
  const where = "SNS Message: ";
  if (isObject(message)) {
    if ("Records" in message) return fromS3Event(message, "sns", where);
    if ("Event" in message) return fromTestEvent(message, "sns", where);
    // An EventBridge rule whose target is an SNS topic the queue subscribes to.
    if ("detail-type" in message) return fromEventBridge(message);
  }
  const what = isObject(message) ? `an object with fields ${fieldList(message)}` : describe(message);
  return invalid(
    `SNS Message from ${quoteBounded(parsed.data.TopicArn, 120)} is not an S3 event notification (${what})`,
  );
}

function fromEventBridge(value: Record<string, unknown>): Notification {
  const source = value["source"];
  const detailType = value["detail-type"];
  if (source !== "aws.s3") {
    return invalid(
      `EventBridge event from ${quoteBounded(String(source), 60)} (${quoteBounded(String(detailType), 80)}), not from aws.s3`,
    );
  }
  const parsed = EventBridgeS3Schema.safeParse(value);
  if (!parsed.success) return invalid(`EventBridge S3 event: ${formatIssues(parsed.error)}`);
  const event = parsed.data;
  const bucket = event.detail.bucket.name;
  const key = event.detail.object.key; // verbatim: EventBridge does not URL-encode keys
  if (event["detail-type"] !== "Object Created") {
    return {
      kind: "objects",
      objects: [],
      skipped: [{ reason: "not an Object Created event", eventName: event["detail-type"], bucket, key }],
      source: "eventbridge",
    };
  }
  return {
    kind: "objects",
    objects: [objectRef(bucket, key, ebMetadata(event))],
    skipped: [],
    source: "eventbridge",
  };
}

// ---------------------------------------------------------------------------------------------------------

/** `ObjectCreated:Put` (AWS) or `s3:ObjectCreated:Put` (minio). */
function isObjectCreated(eventName: string): boolean {
  return /^(?:s3:)?ObjectCreated:/.test(eventName);
}

interface Metadata {
  size: number | undefined;
  etag: string | undefined;
  versionId: string | undefined;
  sequencer: string | undefined;
}

function s3Metadata(record: S3Record): Metadata {
  const o = record.s3.object;
  return { size: o.size, etag: o.eTag, versionId: o.versionId, sequencer: o.sequencer };
}

function ebMetadata(event: EventBridgeS3Event): Metadata {
  const o = event.detail.object;
  return { size: o.size, etag: o.etag, versionId: o["version-id"], sequencer: o.sequencer };
}

function objectRef(bucket: string, key: string, m: Metadata): ObjectRef {
  const ref: ObjectRef = { bucket, key };
  if (m.size !== undefined) ref.size = m.size;
  const etag = m.etag?.replace(/^"(.*)"$/, "$1"); // notifications carry it unquoted; some emulators quote it
  if (etag) ref.etag = etag;
  if (m.versionId) ref.versionId = m.versionId;
  if (m.sequencer) ref.sequencer = m.sequencer;
  return ref;
}

function looksLikeLambdaSqsEvent(value: unknown): boolean {
  if (!isObject(value) || !Array.isArray(value["Records"])) return false;
  const first: unknown = value["Records"][0];
  return isObject(first) && first["eventSource"] === "aws:sqs";
}

function decodeOrRaw(raw: string): string {
  try {
    return decodeS3Key(raw);
  } catch {
    return raw;
  }
}

function invalid(reason: string): Notification {
  const r = reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS - 1)}…` : reason;
  return { kind: "invalid", reason: r };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return `a ${typeof v}`;
}

function fieldList(o: Record<string, unknown>): string {
  const keys = Object.keys(o);
  const shown = keys.slice(0, 8).map((k) => quoteBounded(k, 40));
  return keys.length === 0
    ? "none"
    : shown.join(", ") + (keys.length > 8 ? `, … (${keys.length} fields)` : "");
}

type Issue = z.core.$ZodIssue;

/** `Records[1].s3.object.key: Invalid input: expected string, received undefined; ...` (a few issues). */
function formatIssues(error: z.ZodError): string {
  const flat = flattenIssues(error.issues, []);
  const shown = flat
    .slice(0, MAX_ISSUES)
    .map(({ path, message }) => (path ? `${path}: ${message}` : message));
  const more = flat.length > MAX_ISSUES ? `; and ${flat.length - MAX_ISSUES} more` : "";
  return shown.join("; ") + more;
}

/**
 * Union failures are reported through their last branch: the lenient schema, whose complaints name
 * what is missing for us (the AWS-shape branch would list every field an emulator left out).
 */
function flattenIssues(issues: readonly Issue[], prefix: PropertyKey[]): { path: string; message: string }[] {
  const out: { path: string; message: string }[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    const last = issue.code === "invalid_union" ? issue.errors.at(-1) : undefined;
    if (last && last.length > 0) out.push(...flattenIssues(last, path));
    else out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

function formatPath(path: PropertyKey[]): string {
  let s = "";
  for (const p of path) {
    if (typeof p === "number") s += `[${p}]`;
    else s += s === "" ? String(p) : `.${String(p)}`;
  }
  return quoteBoundedPlain(s);
}

function quoteBoundedPlain(s: string): string {
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}
