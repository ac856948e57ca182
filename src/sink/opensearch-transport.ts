import type { Client } from "@opensearch-project/opensearch";
import type { BulkResponse, BulkTransport } from "./bulk-sink.ts";

/** Only what the sink reads from each item: keeps responses small for large batches. */
const FILTER_PATH = "errors,items.*.status,items.*.error.type,items.*.error.reason,items.*.error.caused_by";

/** The real transport: the body (already NDJSON) goes out as-is, no second serialisation. */
export function openSearchBulkTransport(client: Client): BulkTransport {
  return async (body, signal) => {
    const req = client.transport.request(
      { method: "POST", path: "/_bulk", bulkBody: body, querystring: { filter_path: FILTER_PATH } },
      { headers: { "content-type": "application/x-ndjson" } },
    );
    // No return value: abort() returns the request (a thenable), and an EventTarget listener that returns
    // a thenable gets its rejection rethrown as an uncaught exception (which killed the process on Ctrl-C).
    const onAbort = () => {
      req.abort();
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await req;
      const b = res.body as Partial<BulkResponse>;
      return { errors: Boolean(b.errors), items: b.items ?? [] };
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  };
}
