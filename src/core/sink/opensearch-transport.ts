import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { unzip } from "node:zlib";
import type { Client } from "@opensearch-project/opensearch";
import { DeadlineError, withDeadline } from "../../platform/util/deadline.ts";
import { readBulkResponse } from "./bulk-response.ts";
import type { BulkTransport } from "./bulk-sink.ts";

/** Only what the sink reads from each item: keeps responses small for large batches. */
const FILTER_PATH = "errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by";

/** A bulk answer is ~30 bytes per item; far more than that is not one (and is not held in memory). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A whole-request failure, as the sink reads it (`statusCode`). */
class BulkHttpError extends Error {
  override name = "ResponseError";
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The answer's body sent nothing for this long: the request fails (and the sink retries it). */
export class BulkAnswerStalledError extends Error {
  override name = "BulkAnswerStalledError";
}

/**
 * The real transport: the body (already NDJSON) goes out as-is, no second serialisation, and the answer
 * comes back as bytes (`asStream`) for `readBulkResponse`, instead of the client's own JSON parse.
 * The client's request timeout ends at the answer's head; its body gets the same time between bytes
 * (`answerIdleMs`, by default that timeout), else the request fails instead of waiting forever.
 */
export function openSearchBulkTransport(client: Client, opts: { answerIdleMs?: number } = {}): BulkTransport {
  const timeout = client.transport.requestTimeout;
  const idleMs = opts.answerIdleMs ?? (typeof timeout === "number" && timeout > 0 ? timeout : 60_000);
  return async (body, signal) => {
    signal?.throwIfAborted(); // aborted while the batch waited for a request slot
    const req = client.transport.request(
      { method: "POST", path: "/_bulk", bulkBody: body, querystring: { filter_path: FILTER_PATH } },
      { headers: { "content-type": "application/x-ndjson" }, asStream: true },
    );
    // No return value: abort() returns the request (a thenable), and an EventTarget listener that returns
    // a thenable gets its rejection rethrown as an uncaught exception (which killed the process on Ctrl-C).
    const onAbort = () => {
      req.abort();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await req;
      const raw = await readAll(res.body as Readable, idleMs, signal);
      const bytes = await decoded(raw, res.headers?.["content-encoding"]);
      const status = res.statusCode ?? 0;
      // What the client does itself when it reads the body (which asStream skips): a node answering 502,
      // 503 or 504 is marked dead so that, with several nodes, the retry goes to another.
      const connection = res.meta?.connection;
      if (connection) {
        if (status === 502 || status === 503 || status === 504) client.connectionPool.markDead(connection);
        else client.connectionPool.markAlive(connection);
      }
      if (status < 200 || status >= 300) throw new BulkHttpError(status, httpErrorMessage(status, bytes));
      return readBulkResponse(bytes);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  };
}

const unzipAsync = promisify(unzip);

/** The answer's bytes decompressed, as the client does (gzip or zlib deflate) when it reads the body itself. */
async function decoded(bytes: Buffer, encoding: string | string[] | undefined): Promise<Buffer> {
  const e = String(encoding ?? "").toLowerCase();
  return e.includes("gzip") || e.includes("deflate") ? unzipAsync(bytes) : bytes;
}

/**
 * The answer's body, whole. Each read gets `idleMs` (withDeadline, as the reader's input reads do), so a
 * body that sends nothing fails, and `signal` ends a body already coming (aborting the request no longer
 * reaches it).
 */
async function readAll(stream: Readable, idleMs: number, signal: AbortSignal | undefined): Promise<Buffer> {
  const it = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for (;;) {
      const r = await withDeadline("_bulk answer read", idleMs, signal, () => it.next());
      if (r.done) break;
      n += r.value.length;
      if (n > MAX_RESPONSE_BYTES)
        throw new Error(`_bulk answered more than ${MAX_RESPONSE_BYTES} bytes; not a bulk response`);
      chunks.push(r.value);
    }
  } catch (err) {
    // Destroyed without an error: one given to destroy() reaches the request, and the client prints every
    // request error that comes after a response to stdout.
    stream.destroy();
    if (err instanceof DeadlineError)
      throw new BulkAnswerStalledError(`_bulk's answer sent nothing for ${idleMs} ms: stalled`);
    throw err;
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n);
}

/** `HTTP 429: <type>: <reason>` from an OpenSearch error body, else the start of the body. */
function httpErrorMessage(status: number, bytes: Buffer): string {
  const text = bytes.toString("utf8", 0, Math.min(bytes.length, 4096));
  try {
    const e = (JSON.parse(bytes.toString("utf8")) as { error?: { type?: string; reason?: string } | string })
      .error;
    if (typeof e === "string") return `HTTP ${status}: ${e}`;
    if (e?.type !== undefined) return `HTTP ${status}: ${e.type}: ${e.reason ?? ""}`;
  } catch {
    // not JSON: the text itself
  }
  return `HTTP ${status}: ${text.slice(0, 500)}`;
}
