import type { BulkItemResult } from "./bulk-body.ts";

/**
 * A `_bulk` answer as the sink reads it: per-item results in request order or, when OpenSearch says
 * no item failed, just how many items it answered (all created).
 */
export type BulkResponse =
  | { errors: boolean; items: Array<Record<string, BulkItemResult>> }
  | { errors: false; created: number };

const OK_HEAD = Buffer.from('{"errors":false,"items":[');
const OK_TAIL = Buffer.from("]}");
const STATUS_KEY = Buffer.from('"status"');

/**
 * Reads a `_bulk` answer (with the sink's filter_path: `errors` and each item's status and error).
 *
 * With no failure OpenSearch answers `{"errors":false,"items":[{"create":{"status":201}},…]}`: the items
 * are counted in the bytes instead of parsed. Parsing them made 2,000 small objects per request that
 * outlived a young-generation collection often enough to be half of what the worker promoted to V8's old
 * generation. `errors: false` means every item succeeded (any failure, a 409 included, sets it); the
 * count is the `"status":` fields, each checked to be 2xx. Anything else (a failure, another layout)
 * is parsed whole.
 */
export function readBulkResponse(bytes: Buffer): BulkResponse {
  let end = bytes.length;
  while (end > 0 && isSpace(bytes[end - 1]!)) end--;
  if (
    bytes.subarray(0, OK_HEAD.length).equals(OK_HEAD) &&
    bytes.subarray(end - OK_TAIL.length, end).equals(OK_TAIL)
  ) {
    const created = countCreated(bytes, OK_HEAD.length, end - OK_TAIL.length);
    if (created !== undefined) return { errors: false, created };
  }
  const b = JSON.parse(bytes.toString("utf8")) as { errors?: unknown; items?: unknown };
  if (b === null || typeof b !== "object" || (b.items !== undefined && !Array.isArray(b.items)))
    throw new Error(
      `_bulk answered something that is not a bulk response: ${bytes.toString("utf8", 0, 200)}`,
    );
  return { errors: Boolean(b.errors), items: (b.items ?? []) as Array<Record<string, BulkItemResult>> };
}

/**
 * The `"status":` fields in bytes [from, to), if every one is 2xx; undefined otherwise. One pass over the
 * bytes, looking back from each colon (Buffer#indexOf costs more per call than the scan itself here).
 */
function countCreated(bytes: Buffer, from: number, to: number): number | undefined {
  let n = 0;
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
    if (bytes[i + 1] !== 0x32 /* 2 */ || !isDigit(bytes[i + 2]) || !isDigit(bytes[i + 3])) return undefined;
    n++;
  }
  return n > 0 || from === to ? n : undefined;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function isDigit(c: number | undefined): boolean {
  return c !== undefined && c >= 0x30 && c <= 0x39;
}

/** The HTTP status of a whole-request failure, from our transport's error or the client's (`meta`). */
export function httpStatusOf(err: unknown): number | undefined {
  const e = err as { statusCode?: number; meta?: { statusCode?: number } } | null | undefined;
  return e?.statusCode ?? e?.meta?.statusCode;
}
