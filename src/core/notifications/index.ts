/** SQS message bodies -> S3 object references, and the filter deciding which of them to fetch. */
export { type FilterResult, filterObject, type ObjectFilter, objectFilterFromConfig } from "./filter.ts";
export { decodeS3Key, encodeS3Key, S3KeyDecodeError } from "./keys.ts";
export { MAX_REASON_CHARS, type Notification, parseNotification, type SkippedRecord } from "./parse.ts";
