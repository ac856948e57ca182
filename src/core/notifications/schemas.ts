/**
 * Zod schemas for the messages an SQS queue receives about new objects.
 *
 * Each source has two schemas: the AWS shape, reused from @aws-lambda-powertools/parser and relaxed where
 * real AWS traffic is refused by it as shipped (IPv6 source addresses, timestamps with an offset), and a
 * lenient fallback that needs only what we use (bucket, key, event name), for emulators (moto, minio,
 * LocalStack) whose messages deviate slightly. A message is accepted if either matches; tests check that
 * every AWS-documented fixture passes the AWS shape, so a drift in AWS's format shows up there.
 */
import { JSONStringified } from "@aws-lambda-powertools/parser/helpers";
import {
  S3EventNotificationEventBridgeSchema,
  S3Schema,
  SnsSqsNotificationSchema,
} from "@aws-lambda-powertools/parser/schemas";
import { z } from "zod";

/** Optional metadata: a wrong type is dropped rather than refusing the whole message. */
const optString = z
  .string()
  .optional()
  .catch(undefined)
  .transform((s) => (s === "" ? undefined : s));
const optSize = z.number().int().nonnegative().optional().catch(undefined);

/** IPv4, IPv6, or an AWS service principal such as `s3.amazonaws.com`. */
const SourceIp = z.union([z.ipv4(), z.ipv6(), z.string().regex(/^[a-z0-9.-]+\.amazonaws\.com$/)]);
/** ISO 8601 with `Z` or a numeric offset (`+00:00`). */
const IsoTime = z.iso.datetime({ offset: true });

// ---------------------------------------------------------------------------------------------------------
// S3 event notification (direct to SQS, or SNS with raw message delivery, or inside an SNS envelope)

const PowertoolsS3Record = S3Schema.shape.Records.element;

/** One record of an S3 event notification, as AWS documents it. */
export const AwsS3RecordSchema = PowertoolsS3Record.extend({
  eventTime: IsoTime,
  requestParameters: PowertoolsS3Record.shape.requestParameters.extend({ sourceIPAddress: SourceIp }),
});

/** The fields we use, and nothing else (emulators). */
const LenientS3RecordSchema = z.object({
  eventSource: z.string().optional(),
  eventName: z.string().min(1),
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: optSize,
      eTag: optString,
      versionId: optString,
      sequencer: optString,
    }),
  }),
});

const S3RecordSchema = z.union([AwsS3RecordSchema, LenientS3RecordSchema]);
export type S3Record = z.infer<typeof S3RecordSchema>;

export const S3EventSchema = z.object({ Records: z.array(S3RecordSchema).min(1) });

/**
 * What S3 sends once when a notification configuration is saved, instead of `Records`:
 * `{"Service":"Amazon S3","Event":"s3:TestEvent","Time":...,"Bucket":...,"RequestId":...,"HostId":...}`.
 */
export const S3TestEventSchema = z.object({
  Service: z.string().optional(),
  Event: z.literal("s3:TestEvent"),
  Time: z.string().optional(),
  Bucket: z.string().optional(),
  RequestId: z.string().optional(),
  HostId: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------------------
// SNS envelope (subscription without raw message delivery)

/**
 * The SNS `Notification` envelope as SQS receives it. Powertools' schema, with the fields we do not use
 * relaxed (emulators write other timestamp precisions and certificate URLs); `Message` is parsed as JSON.
 */
export const SnsEnvelopeSchema = SnsSqsNotificationSchema.extend({
  Timestamp: z.string(),
  SigningCertURL: z.string().optional(),
  UnsubscribeURL: z.string().optional(),
  MessageAttributes: z.unknown().optional(),
  Message: JSONStringified(z.unknown()),
});

// ---------------------------------------------------------------------------------------------------------
// EventBridge (rule with an SQS target, S3 bucket with EventBridge notifications on)

const PowertoolsEbDetail = S3EventNotificationEventBridgeSchema.shape.detail;

/** An S3 event through EventBridge, as AWS documents it. */
export const AwsEventBridgeS3Schema = S3EventNotificationEventBridgeSchema.extend({
  time: IsoTime,
  detail: PowertoolsEbDetail.extend({ "source-ip-address": SourceIp.optional() }),
});

const LenientEventBridgeS3Schema = z.object({
  source: z.literal("aws.s3"),
  "detail-type": z.string(),
  detail: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({
      key: z.string().min(1),
      size: optSize,
      etag: optString,
      "version-id": optString,
      sequencer: optString,
    }),
  }),
});

export const EventBridgeS3Schema = z.union([AwsEventBridgeS3Schema, LenientEventBridgeS3Schema]);
export type EventBridgeS3Event = z.infer<typeof EventBridgeS3Schema>;
