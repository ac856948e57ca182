import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import type { BulkTransport } from "../../src/core/sink/bulk-sink.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { QuarantineHit } from "../../src/runtimes/replay/plan.ts";
import { runReplay } from "../../src/runtimes/replay/run.ts";
import { RAW, storedHit } from "../fixtures/replay.ts";

/** Just enough of the client for replay's refresh, search and scroll. */
function clientWith(hits: QuarantineHit[]): Client {
  return {
    transport: {
      request: async (p: { method: string; path: string }) => {
        if (p.path.endsWith("/_search")) return { body: { _scroll_id: "s", hits: { hits } } };
        if (p.path === "/_search/scroll" && p.method === "POST")
          return { body: { _scroll_id: "s", hits: { hits: [] } } };
        return { body: {} };
      },
    },
  } as unknown as Client;
}

/** Replays one stored quarantine hit (prefix "tw") through `transport`. */
function replayOne(hit: QuarantineHit, transport: BulkTransport) {
  return runReplay({
    client: clientWith([hit]),
    indexPrefix: "tw",
    bulk: { maxDocs: 100, maxBytes: 1e6, concurrency: 1 },
    maxRecordBytes: 1024 * 1024,
    filter: {},
    dryRun: false,
    logger: createLogger("silent"),
    transport,
  });
}

describe("runReplay", () => {
  it("a record that passes validation but OpenSearch refuses stays in quarantine as index_rejected, counted as refused", async () => {
    const ops: { op: string; index: string; id: string }[] = [];
    // OpenSearch refuses the record in its normal index (a mapping conflict); everything else is accepted.
    const transport: BulkTransport = async (body) => {
      const lines = body.toString("utf8").trimEnd().split("\n");
      const items: Record<string, { status: number; error?: { type: string; reason: string } }>[] = [];
      for (let i = 0; i < lines.length; i++) {
        const meta = JSON.parse(lines[i]!) as Record<string, { _index: string; _id: string }>;
        const [op, target] = Object.entries(meta)[0]!;
        ops.push({ op, index: target._index, id: target._id });
        if (op !== "delete") i++; // its document line
        const refused = op === "create" && target._index.startsWith("tw-dns_filtering-");
        items.push({
          [op]: refused
            ? { status: 400, error: { type: "mapper_parsing_exception", reason: "failed to parse" } }
            : { status: op === "create" ? 201 : 200 },
        });
      }
      return { errors: items.some((it) => Object.values(it)[0]!.status >= 300), items };
    };
    const hit = storedHit(RAW, "schema_invalid", "event.domain: refused then");
    const summary = await replayOne(hit, transport);
    assert.equal(summary.scanned, 1);
    assert.equal(summary.passed, 0, "not counted as passed");
    assert.equal(summary.refusedByOpenSearch, 1);
    assert.deepEqual(summary.stillFailingByReason, { index_rejected: 1 });
    const written = ops.filter((o) => o.op === "index" && o.index.startsWith("tw-quarantine-"));
    assert.equal(written.length, 1, "the record was written back to quarantine as index_rejected");
    const deleted = ops.filter((o) => o.op === "delete");
    // The old schema_invalid document goes (replaced by the index_rejected one), never the new one.
    assert.deepEqual(deleted, [{ op: "delete", index: hit._index, id: hit._id }]);
    assert.notEqual(written[0]!.id, hit._id);
  });

  it("retries a request OpenSearch timed out (408), as the bulk sink does, instead of giving up", async () => {
    const deletes: string[] = [];
    let timedOut = 0;
    const transport: BulkTransport = async (body) => {
      const lines = body.toString("utf8").trimEnd().split("\n");
      if (lines.some((l) => l.startsWith('{"delete"')) && timedOut++ === 0)
        throw Object.assign(new Error("HTTP 408: request timed out"), { statusCode: 408 });
      const items: Record<string, { status: number }>[] = [];
      for (let i = 0; i < lines.length; i++) {
        const meta = JSON.parse(lines[i]!) as Record<string, { _index: string; _id: string }>;
        const [op, target] = Object.entries(meta)[0]!;
        if (op === "delete") deletes.push(target._id);
        else i++; // its document line
        items.push({ [op]: { status: op === "create" ? 201 : 200 } });
      }
      return { errors: false, items };
    };
    const hit = storedHit(RAW, "schema_invalid", "event.domain: refused then");
    const summary = await replayOne(hit, transport);
    assert.equal(timedOut, 2, "the delete was sent again after the 408");
    assert.equal(summary.passed, 1);
    assert.deepEqual(deletes, [hit._id], "the replayed record's quarantine document is deleted once");
  });

  it("a record refused again (an index_rejected document replayed while the mapping still refuses it) is refused, not already indexed", async () => {
    // A cluster with state: `create` of an id there is a 409, `index` replaces, `delete` of none is a 404.
    const store = new Map<string, string>();
    const ops: string[] = [];
    const transport: BulkTransport = async (body) => {
      const lines = body.toString("utf8").trimEnd().split("\n");
      const items: Record<string, { status: number; error?: { type: string; reason: string } }>[] = [];
      for (let i = 0; i < lines.length; i++) {
        const [op, t] = Object.entries(
          JSON.parse(lines[i]!) as Record<string, { _index: string; _id: string }>,
        )[0]!;
        const key = `${t._index}/${t._id}`;
        const doc = op === "delete" ? "" : lines[++i]!;
        ops.push(`${op} ${t._index.split("-")[1]}`);
        let status: number;
        if (op === "create" && t._index.startsWith("tw-dns_filtering-")) {
          items.push({
            create: { status: 400, error: { type: "mapper_parsing_exception", reason: "conflict" } },
          });
          continue;
        }
        if (op === "delete") status = store.delete(key) ? 200 : 404;
        else if (op === "create" && store.has(key)) status = 409;
        else {
          status = store.has(key) ? 200 : 201;
          store.set(key, doc);
        }
        items.push({ [op]: { status } });
      }
      return { errors: items.some((it) => Object.values(it)[0]!.status >= 300), items };
    };
    const first = storedHit(RAW, "schema_invalid", "event.domain: refused then");
    store.set(`${first._index}/${first._id}`, JSON.stringify(first._source));
    const once = await replayOne(first, transport);
    assert.deepEqual([once.passed, once.refusedByOpenSearch, once.alreadyIndexed], [0, 1, 0]);
    assert.equal(store.size, 1, "the schema_invalid document replaced by its index_rejected one");
    const [key, doc] = [...store.entries()][0]!;
    const rejected: QuarantineHit = {
      _index: key.split("/")[0]!,
      _id: key.split("/")[1]!,
      _source: JSON.parse(doc) as QuarantineHit["_source"],
    };
    assert.equal(rejected._source.quarantine?.reason, "index_rejected");
    ops.length = 0;
    const again = await replayOne(rejected, transport);
    assert.equal(again.refusedByOpenSearch, 1);
    assert.equal(again.alreadyIndexed, 0, "its quarantine document being there is no record already indexed");
    assert.equal(again.passed, 0);
    assert.deepEqual(again.stillFailingByReason, { index_rejected: 1 });
    assert.equal(again.deleted, 0, "the document it read is the one that stays");
    assert.deepEqual(ops, ["create dns_filtering", "index quarantine"], "replaced in place, nothing deleted");
    assert.equal(store.size, 1);
  });

  it("a record refused alone for its size (413) stays in quarantine as record_too_large, counted under that reason", async () => {
    const written: { op: string; index: string; reason?: string }[] = [];
    const transport: BulkTransport = async (body) => {
      const lines = body.toString("utf8").trimEnd().split("\n");
      const items: Record<string, { status: number }>[] = [];
      for (let i = 0; i < lines.length; i++) {
        const [op, t] = Object.entries(JSON.parse(lines[i]!) as Record<string, { _index: string }>)[0]!;
        if (op === "create" && t._index.startsWith("tw-dns_filtering-"))
          throw Object.assign(new Error("HTTP 413: request entity too large"), { statusCode: 413 });
        const doc =
          op === "delete" ? undefined : (JSON.parse(lines[++i]!) as { quarantine?: { reason?: string } });
        written.push({
          op,
          index: t._index,
          ...(doc?.quarantine?.reason ? { reason: doc.quarantine.reason } : {}),
        });
        items.push({ [op]: { status: 200 } });
      }
      return { errors: false, items };
    };
    const hit = storedHit(RAW, "schema_invalid", "event.domain: refused then");
    const summary = await replayOne(hit, transport);
    assert.equal(summary.refusedByOpenSearch, 1);
    assert.deepEqual(summary.stillFailingByReason, { record_too_large: 1 });
    assert.equal(summary.alreadyIndexed, 0);
    assert.deepEqual(
      written.map((w) => `${w.op} ${w.reason ?? ""}`.trim()),
      ["index record_too_large", "delete"],
      "its quarantine document replaced by a record_too_large one, then the old one deleted",
    );
  });
});
