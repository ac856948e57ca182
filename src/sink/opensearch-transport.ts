import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { unzip } from "node:zlib";
import type { Client } from "@opensearch-project/opensearch";
import { readBulkResponse } from "./bulk-response.ts";
import type { BulkTransport } from "./bulk-sink.ts";

/** Only what the sink reads from each item: keeps responses small for large batches. */
const FILTER_PATH = "errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by";

/** A bulk answer is ~30 bytes per item; far more than that is not one (and is not held in memory). */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/** A whole-request failure, as the sink reads it (`statusCode`). */
export class BulkHttpError extends Error {
  override name = "ResponseError";
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The real transport: the body (already NDJSON) goes out as-is, no second serialisation, and the answer
 * comes back as bytes (`asStream`) for `readBulkResponse`, instead of the client's own JSON parse.
 */
export function openSearchBulkTransport(client: Client): BulkTransport {
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
      const bytes = await decoded(await readAll(res.body as Readable), res.headers?.["content-encoding"]);
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

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of stream) {
    n += (chunk as Buffer).length;
    if (n > MAX_RESPONSE_BYTES) {
      stream.destroy();
      throw new Error(`_bulk answered more than ${MAX_RESPONSE_BYTES} bytes; not a bulk response`);
    }
    chunks.push(chunk as Buffer);
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
