import type { BulkItemResult } from "./write-failure.ts";

/**
 * A `_bulk` answer as the sink reads it: per-item results in request order or, when every item was stored
 * (created, or already there: a 409 on `create`), just how many of each.
 */
export type BulkResponse =
  | { errors: boolean; items: Array<Record<string, BulkItemResult>> }
  | { errors: boolean; created: number; duplicates: number };

const OK_HEAD = Buffer.from('{"errors":false,"items":[');
const ERR_HEAD = Buffer.from('{"errors":true,"items":[');
const OK_TAIL = Buffer.from("]}");
const STATUS_KEY = Buffer.from('"status"');
const CAUSED_BY = Buffer.from('"caused_by"');

/** An answer that is not a `_bulk` answer at all (HTML from a proxy, an empty body): not worth retrying. */
export class NotABulkResponseError extends Error {
  override name = "NotABulkResponseError";
}

/**
 * Reads a `_bulk` answer (with the sink's filter_path: `errors` and each item's status and error).
 *
 * When every item was stored the answer is counted in its bytes instead of parsed: the usual
 * `{"errors":false,"items":[{"create":{"status":201}},…]}`, and a redelivery's or a backfill's, where the
 * items are 409s (`{"create":{"status":409,"error":{…}}}`). Parsing them made 2,000 small objects per
 * request (with a reason string each for 409s) that lived as long as the request and were promoted to V8's
 * old generation. Each item has one `"status":` key, counted where a key starts (after `{` or `,`: a quote
 * inside a string is escaped, so it cannot start one there); every one must be 2xx or 409. An answer with a
 * `caused_by` (an error object nested in an error, which could hold keys of its own) and anything else (a
 * 429, a mapping error, another layout) is parsed whole.
 */
export function readBulkResponse(bytes: Buffer): BulkResponse {
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1]!)) end--;
  const head = startsWith(bytes, OK_HEAD) ? OK_HEAD : startsWith(bytes, ERR_HEAD) ? ERR_HEAD : undefined;
  if (
    head !== undefined &&
    bytes.subarray(end - OK_TAIL.length, end).equals(OK_TAIL) &&
    (head === OK_HEAD || bytes.indexOf(CAUSED_BY) === -1)
  ) {
    const counted = countStatuses(bytes, head.length, end - OK_TAIL.length);
    if (counted !== undefined && (head === ERR_HEAD) === counted.duplicates > 0)
      return { errors: head === ERR_HEAD, ...counted };
  }
  let b: { errors?: unknown; items?: unknown } | null;
  try {
    b = JSON.parse(bytes.toString("utf8")) as typeof b;
  } catch {
    b = null;
  }
  if (b === null || typeof b !== "object" || !Array.isArray(b.items))
    throw new NotABulkResponseError(
      `_bulk answered something that is not a bulk response: ${JSON.stringify(bytes.toString("utf8", 0, 200))}`,
    );
  return { errors: Boolean(b.errors), items: b.items as Array<Record<string, BulkItemResult>> };
}

function startsWith(bytes: Buffer, prefix: Buffer): boolean {
  return bytes.subarray(0, prefix.length).equals(prefix);
}

/**
 * The `"status":` values in bytes [from, to) counted as created (2xx) and duplicates (409), if every one is
 * either; undefined otherwise. One pass over the bytes, looking back from each colon (Buffer#indexOf costs
 * more per call than the scan itself here).
 */
function countStatuses(
  bytes: Buffer,
  from: number,
  to: number,
): { created: number; duplicates: number } | undefined {
  let created = 0;
  let duplicates = 0;
  const k = STATUS_KEY.length;
  for (let i = from + k; i < to; i++) {
    if (bytes[i] !== 0x3a /* : */) continue;
    let key = true;
    for (let j = 0; j < k; j++) {
      if (bytes[i - k + j] !== STATUS_KEY[j]) {
        key = false;
        break;
      }
    }
    if (!key) continue;
    const before = bytes[i - k - 1];
    if (before !== 0x7b /* { */ && before !== 0x2c /* , */) return undefined;
    const a = bytes[i + 1];
    if (!isDigit(a) || !isDigit(bytes[i + 2]) || !isDigit(bytes[i + 3]) || isDigit(bytes[i + 4]))
      return undefined;
    if (a === 0x32 /* 2xx */) created++;
    else if (a === 0x34 && bytes[i + 2] === 0x30 && bytes[i + 3] === 0x39 /* 409 */) duplicates++;
    else return undefined;
  }
  return created + duplicates > 0 || from === to ? { created, duplicates } : undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}
