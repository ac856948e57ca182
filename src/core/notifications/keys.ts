/**
 * Object keys in S3 event notifications (delivered directly, or through SNS) are URL-encoded the
 * `application/x-www-form-urlencoded` way: a space arrives as `+`, a literal `+` as `%2B`, and other
 * reserved characters percent-encoded (`:` usually as `%3A`, though a raw `:` must be accepted too).
 * EventBridge events carry the key verbatim and must NOT go through this function (see parse.ts).
 */

/** A key whose percent-encoding is malformed (e.g. `%E0%A4%A`, `%ZZ`, a lone `%`). */
export class S3KeyDecodeError extends Error {
  override name = "S3KeyDecodeError";
  constructor(
    /** The key as it arrived in the notification. */
    readonly raw: string,
    options?: { cause?: unknown },
  ) {
    super(`malformed percent-encoding in object key ${quoteBounded(raw)}`, options);
  }
}

/** Decode a key from an S3 notification: `+` is a space, then percent-decoding as UTF-8. Throws S3KeyDecodeError. */
export function decodeS3Key(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, " "));
  } catch (err) {
    throw new S3KeyDecodeError(raw, { cause: err });
  }
}

/** The inverse, as S3 does it (used by tests and tools that forge notifications). `/` is left as is, like AWS. */
export function encodeS3Key(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/");
}

const MAX_QUOTED = 200;

/** JSON-quoted and cut to a bounded length, for messages that may echo attacker- or bug-sized input. */
export function quoteBounded(s: string, max = MAX_QUOTED): string {
  if (s.length <= max) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, max))}… (${s.length - max} more chars)`;
}
