import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import type { IndexAction } from "../../src/core/model.ts";
import { BulkBatch } from "../../src/core/sink/bulk-body.ts";
import {
  type BulkResponse,
  BulkSink,
  type BulkTransport,
  PermanentBulkError,
} from "../../src/core/sink/bulk-sink.ts";

const logger = pino({ level: "silent" });

function action(i: number, kind: "record" | "quarantine" = "record"): IndexAction {
  return {
    index: "t-network_access-2025.07.25",
    id: `id-${i}`,
    document: {
      n: i,
      event_type: "network_access",
      event: { i },
      ingest: { bucket: "b", key: "k", ordinal: i },
    },
    kind,
    eventType: "network_access",
    ...(kind === "quarantine" ? { reason: "index_rejected" as const } : {}),
  };
}

/** A transport that answers from a script: one function per call, given the parsed actions. */
function scripted(steps: Array<(ids: string[]) => BulkResponse | Error>): {
  transport: BulkTransport;
  calls: string[][];
} {
  const calls: string[][] = [];
  const transport: BulkTransport = async (body) => {
    const lines = body.toString("utf8").trimEnd().split("\n");
    const ids: string[] = [];
    for (let i = 0; i < lines.length; i += 2) ids.push(JSON.parse(lines[i]!).create._id);
    calls.push(ids);
    const step = steps[Math.min(calls.length - 1, steps.length - 1)]!;
    const r = step(ids);
    if (r instanceof Error) throw r;
    return r;
  };
  return { transport, calls };
}
const ok = (ids: string[]): BulkResponse => ({
  errors: false,
  items: ids.map(() => ({ create: { status: 201 } })),
});
const quarantine = (a: IndexAction, message: string): IndexAction => ({
  index: "t-quarantine-2025.07.25",
  id: `q-${a.id}`,
  document: { quarantine: { message } },
  kind: "quarantine",
  reason: "index_rejected",
});
const sinkWith = (transport: BulkTransport) =>
  new BulkSink(
    transport,
    { maxDocs: 3, maxBytes: 1e6, concurrency: 2, backoffBaseMs: 1, backoffCapMs: 5, quarantine },
    logger,
  );

describe("bulk batch memory", () => {
  it("a batch's buffer is reused by a later batch once its request is answered, and the old batch refuses use", async () => {
    const { transport } = scripted([ok]);
    const sink = sinkWith(transport);
    const first = sink.newBatch();
    for (const i of [1, 2, 3]) first.add(action(i));
    const firstMemory = first.body().buffer;
    await sink.write(first);
    assert.throws(() => first.body(), /used after release/);
    const second = sink.newBatch();
    second.add(action(4));
    assert.equal(second.body().buffer, firstMemory, "the answered batch's memory was reused");
    assert.deepEqual(
      JSON.parse(second.body().toString("utf8").split("\n")[0]!),
      { create: { _index: "t-network_access-2025.07.25", _id: "id-4" } },
      "and holds the new batch's bytes",
    );
  });

  it("a failed request keeps its batch (retried from the same bytes), nothing is reused early", async () => {
    const { transport, calls } = scripted([() => new Error("connection reset"), ok]);
    const sink = sinkWith(transport);
    const b = sink.newBatch();
    for (const i of [1, 2]) b.add(action(i));
    const out = await sink.write(b);
    assert.equal(out.created, 2);
    assert.deepEqual(calls, [
      ["id-1", "id-2"],
      ["id-1", "id-2"],
    ]);
  });
});

describe("bulk body", () => {
  it("serialises create actions as NDJSON once and counts bytes", () => {
    const b = BulkBatch.of([action(1), action(2)]);
    const lines = b.body().toString("utf8").split("\n");
    assert.equal(lines.length, 5);
    assert.deepEqual(JSON.parse(lines[0]!), {
      create: { _index: "t-network_access-2025.07.25", _id: "id-1" },
    });
    assert.equal(b.bytes, Buffer.byteLength(b.body()));
  });

  it("keeps each action's kind, type and reason, and reads index, id and document back from its bytes", () => {
    const odd: IndexAction = {
      index: "t-quarantine-2025.07.25",
      id: 'q"\u00e9\u2028\ud83d\ude00',
      document: { quarantine: { raw: '\u00e9\ud83d\ude00\n"' } },
      kind: "quarantine",
      eventType: "made_up_type",
      reason: "unknown_event_type",
    };
    const plain = (a: IndexAction) => ({
      index: a.index,
      id: a.id,
      kind: a.kind,
      eventType: a.eventType,
      reason: a.reason,
      document: a.document,
    });
    const inputs = [action(1), odd, action(2, "quarantine"), action(3)];
    const b = BulkBatch.of(inputs);
    assert.equal(b.size, 4);
    for (const [i, a] of inputs.entries()) {
      assert.deepEqual(plain(b.action(i)), plain(a), `action ${i}`);
      assert.equal(b.kindOf(i), a.kind);
      assert.equal(b.eventTypeOf(i), a.eventType);
      assert.equal(b.reasonOf(i), a.reason);
    }
    // Copied into other batches (a retry, a halved batch): the same bytes, the same metadata.
    const again = BulkBatch.of([b.action(3), b.action(1)]);
    assert.deepEqual([plain(again.action(0)), plain(again.action(1))], [plain(inputs[3]!), plain(odd)]);
    const halves = [b.slice(0, 2), b.slice(2, 4)];
    assert.equal(Buffer.concat(halves.map((h) => h.body())).toString(), b.body().toString());
    assert.deepEqual(
      halves.map((h) => h.size),
      [2, 2],
    );
    assert.deepEqual(plain(halves[1]!.action(0)), plain(inputs[2]!));
    assert.throws(() => b.action(4), RangeError);
  });
});

describe("BulkSink.write", () => {
  it("counts created and 409 conflicts as indexed", async () => {
    const { transport } = scripted([
      (ids) => ({ errors: true, items: ids.map((_, i) => ({ create: { status: i === 0 ? 409 : 201 } })) }),
    ]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1), action(2), action(3)]));
    assert.equal(o.created, 2);
    assert.equal(o.duplicates, 1);
    assert.deepEqual(o.indexedByType, { network_access: 3 });
  });

  it("takes a counted answer (every item stored) the same way, and refuses one with the wrong count", async () => {
    const counted = (created: number, duplicates: number) => () => ({
      errors: duplicates > 0,
      created,
      duplicates,
    });
    const o = await sinkWith(scripted([counted(1, 2)]).transport).write(
      BulkBatch.of([action(1), action(2), action(3, "quarantine")]),
    );
    assert.deepEqual([o.created, o.duplicates], [1, 2]);
    assert.deepEqual(o.indexedByType, { network_access: 2 });
    assert.deepEqual(o.quarantinedByReason, { index_rejected: 1 });
    await assert.rejects(
      sinkWith(scripted([counted(1, 0)]).transport).write(BulkBatch.of([action(1), action(2)])),
      PermanentBulkError,
    );
  });

  it("retries only the 429/5xx items, with the others not resent", async () => {
    const { transport, calls } = scripted([
      (ids) => ({
        errors: true,
        items: ids.map((_, i) => ({ create: { status: i === 1 ? 429 : i === 2 ? 503 : 201 } })),
      }),
      ok,
    ]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1), action(2), action(3)]));
    assert.deepEqual(calls, [
      ["id-1", "id-2", "id-3"],
      ["id-2", "id-3"],
    ]);
    assert.equal(o.created, 3);
  });

  it("sends mapping errors to quarantine instead of dropping them", async () => {
    const { transport, calls } = scripted([
      (ids) => ({
        errors: true,
        items: ids.map((_, i) =>
          i === 0
            ? {
                create: {
                  status: 400,
                  error: { type: "mapper_parsing_exception", reason: "failed to parse [x]" },
                },
              }
            : { create: { status: 201 } },
        ),
      }),
      ok,
    ]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1), action(2)]));
    assert.deepEqual(calls[1], ["q-id-1"]);
    assert.equal(o.quarantinedOnIndex, 1);
    assert.deepEqual(o.indexedByType, { network_access: 1 });
    assert.deepEqual(o.quarantinedByReason, { index_rejected: 1 });
  });

  it("retries whole-request failures until OpenSearch answers", async () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED"), { name: "ConnectionError" });
    const throttled = Object.assign(new Error("429"), { statusCode: 429 });
    const { transport, calls } = scripted([() => refused, () => refused, () => throttled, ok]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1)]));
    assert.equal(calls.length, 4);
    assert.equal(o.created, 1);
  });

  it("splits a batch OpenSearch finds too large (413)", async () => {
    const tooLarge = Object.assign(new Error("413"), { statusCode: 413 });
    const { transport, calls } = scripted([() => tooLarge, ok, ok]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1), action(2), action(3), action(4)]));
    assert.equal(o.created, 4);
    assert.deepEqual(calls.slice(1), [
      ["id-1", "id-2"],
      ["id-3", "id-4"],
    ]);
  });

  it("a record refused alone with a 413 is the record's fault: quarantined as record_too_large, the rest stored", async () => {
    const tooLarge = Object.assign(new Error("413"), { statusCode: 413 });
    // id-2 is "too large": any request holding it is refused whole, as http.max_content_length does.
    const { transport, calls } = scripted([(ids) => (ids.includes("id-2") ? tooLarge : ok(ids))]);
    const reasons: string[] = [];
    const sink = new BulkSink(
      transport,
      {
        maxDocs: 3,
        maxBytes: 1e6,
        concurrency: 2,
        backoffBaseMs: 1,
        backoffCapMs: 5,
        quarantine: (a, message, reason = "index_rejected") => {
          reasons.push(reason);
          return { ...quarantine(a, message), reason };
        },
      },
      logger,
    );
    const o = await sink.write(BulkBatch.of([action(1), action(2), action(3)]));
    assert.deepEqual(reasons, ["record_too_large"]);
    assert.equal(o.quarantinedOnIndex, 1);
    assert.deepEqual(o.indexedByType, { network_access: 2 });
    assert.deepEqual(o.quarantinedByReason, { record_too_large: 1 });
    assert.deepEqual(
      calls.filter((c) => c.includes("id-2") || c.includes("q-id-2")).map((c) => c.join(",")),
      ["id-1,id-2,id-3", "id-1,id-2", "id-2", "q-id-2"],
      "halved down to itself, refused alone once, its quarantine document written in its place",
    );
  });

  it("a quarantine document refused alone with a 413 fails the object (nowhere safer to put it)", async () => {
    const tooLarge = Object.assign(new Error("413"), { statusCode: 413 });
    await assert.rejects(
      sinkWith(scripted([() => tooLarge]).transport).write(BulkBatch.of([action(1, "quarantine")])),
      PermanentBulkError,
    );
  });

  it("the 413 halving is logged once per object, naming BULK_MAX_BYTES", async () => {
    const tooLarge = Object.assign(new Error("413"), { statusCode: 413 });
    const lines: string[] = [];
    const log = pino({ level: "warn" }, { write: (l: string) => void lines.push(l) });
    const { transport } = scripted([(ids) => (ids.length > 1 ? tooLarge : ok(ids))]);
    const sink = new BulkSink(
      transport,
      { maxDocs: 4, maxBytes: 1e6, concurrency: 2, backoffBaseMs: 1, backoffCapMs: 5, quarantine },
      log,
    );
    const w = sink.open();
    for (let i = 1; i <= 12; i++) await w.add(action(i));
    const o = await w.finish();
    assert.equal(o.created, 12);
    const halving = lines.filter((l) => l.includes("HTTP 413"));
    assert.equal(halving.length, 1, lines.join(""));
    assert.match(halving[0]!, /BULK_MAX_BYTES \(now 1000000\)/);
    lines.length = 0;
    const w2 = sink.open();
    for (let i = 13; i <= 16; i++) await w2.add(action(i));
    await w2.finish();
    assert.equal(lines.filter((l) => l.includes("HTTP 413")).length, 1, "and once again for the next object");
  });

  it("fails permanently when the quarantine index itself refuses a document", async () => {
    const { transport } = scripted([
      (ids) => ({
        errors: true,
        items: ids.map(() => ({ create: { status: 400, error: { type: "mapper_parsing_exception" } } })),
      }),
    ]);
    await assert.rejects(
      sinkWith(transport).write(BulkBatch.of([action(1, "quarantine")])),
      PermanentBulkError,
    );
  });

  it("fails at once on a redirect or an answer that is not a bulk answer (they would only repeat)", async () => {
    const { NotABulkResponseError } = await import("../../src/core/sink/bulk-response.ts");
    for (const err of [
      Object.assign(new Error("moved"), { statusCode: 302 }),
      new NotABulkResponseError("_bulk answered something that is not a bulk response"),
    ]) {
      const { transport, calls } = scripted([() => err]);
      await assert.rejects(sinkWith(transport).write(BulkBatch.of([action(1)])), PermanentBulkError);
      assert.equal(calls.length, 1, err.message);
    }
  });

  it("holds items the cluster cannot take now (a write block, a missing permission): retried, never quarantined", async () => {
    const block = {
      status: 403,
      error: {
        type: "cluster_block_exception",
        reason: "index [t-network_access-2025.07.25] blocked by: [FORBIDDEN/8/index write (api)];",
      },
    };
    const denied = {
      status: 403,
      error: {
        type: "security_exception",
        reason: "no permissions for [indices:data/write/bulk[s]] and User [name=u]",
      },
    };
    const { transport, calls } = scripted([
      (ids) => ({ errors: true, items: ids.map(() => ({ create: block })) }),
      (ids) => ({ errors: true, items: ids.map(() => ({ create: denied })) }),
      (ids) => ({
        errors: true,
        items: ids.map(() => ({ create: { status: 404, error: { type: "whatever" } } })),
      }),
      ok,
    ]);
    const sink = sinkWith(transport);
    const o = await sink.write(BulkBatch.of([action(1), action(2)]));
    assert.equal(calls.length, 4);
    assert.deepEqual(calls[3], ["id-1", "id-2"]);
    assert.equal(o.quarantinedOnIndex, 0);
    assert.deepEqual(o.indexedByType, { network_access: 2 });
    assert.equal(sink.holds.reason, undefined, "no longer held once written");
  });

  it("holds a whole request refused by a block or the security plugin (403/401) until it clears", async () => {
    const readOnly = Object.assign(
      new Error("HTTP 403: cluster_block_exception: blocked by: [FORBIDDEN/6/cluster read-only (api)];"),
      { statusCode: 403 },
    );
    const unauthorised = Object.assign(new Error("HTTP 401: Unauthorized"), { statusCode: 401 });
    const { transport, calls } = scripted([() => readOnly, () => unauthorised, ok]);
    const o = await sinkWith(transport).write(BulkBatch.of([action(1)]));
    assert.equal(calls.length, 3);
    assert.equal(o.created, 1);
  });

  it("gives a hold up past the hold limit (HoldLimitError), so the message goes back to the queue", async () => {
    const { WriteHolds, HoldLimitError } = await import("../../src/core/sink/holds.ts");
    const readOnly = Object.assign(new Error("HTTP 403: cluster_block_exception: blocked by: [x]"), {
      statusCode: 403,
    });
    const { transport } = scripted([() => readOnly]);
    const sink = new BulkSink(
      transport,
      {
        maxDocs: 10,
        maxBytes: 1 << 20,
        concurrency: 2,
        backoffBaseMs: 1,
        backoffCapMs: 2,
        quarantine,
        holds: new WriteHolds(logger, undefined, 20),
      },
      logger,
    );
    await assert.rejects(sink.write(BulkBatch.of([action(1)])), HoldLimitError);
    assert.equal(sink.holds.reason, undefined);
  });

  it("refuses to pair results when the item count does not match", async () => {
    const { transport } = scripted([() => ({ errors: false, items: [{ create: { status: 201 } }] })]);
    await assert.rejects(sinkWith(transport).write(BulkBatch.of([action(1), action(2)])), PermanentBulkError);
  });

  it("stops retrying when the caller aborts", async () => {
    const refused = new Error("ECONNREFUSED");
    const { transport } = scripted([() => refused]);
    const ac = new AbortController();
    const p = sinkWith(transport).write(BulkBatch.of([action(1)]), ac.signal);
    setTimeout(() => ac.abort(new Error("stop")), 20);
    await assert.rejects(p, /stop/);
  });
});

describe("BulkSink: replay's index and delete actions (one writer)", () => {
  /** Answers per operation, from the body's own lines: `answer(op, id)` gives the item's status (and error). */
  function byOp(
    answer: (op: string, id: string, call: number) => { status: number; error?: { type: string } },
  ) {
    const calls: string[][] = [];
    const transport: BulkTransport = async (body) => {
      const lines = body.toString("utf8").trimEnd().split("\n");
      const seen: string[] = [];
      const items: Record<string, { status: number; error?: { type: string } }>[] = [];
      for (let i = 0; i < lines.length; i++) {
        const [op, target] = Object.entries(JSON.parse(lines[i]!) as Record<string, { _id: string }>)[0]!;
        if (op !== "delete") i++; // its document line
        seen.push(`${op}:${target._id}`);
        items.push({ [op]: answer(op, target._id, calls.length) });
      }
      calls.push(seen);
      return { errors: items.some((it) => Object.values(it)[0]!.status >= 300), items };
    };
    return { transport, calls };
  }
  const del = (i: number) => ({
    op: "delete" as const,
    index: "t-quarantine-2025.07.25",
    id: `q-${i}`,
    kind: "quarantine" as const,
  });
  const put = (i: number) => ({ ...action(i, "quarantine"), op: "index" as const });

  it("serialises index and delete actions (a delete has no document line) and reads them back", () => {
    const b = BulkBatch.of([action(1), put(2), del(3)]);
    const lines = b.body().toString("utf8").trimEnd().split("\n");
    assert.equal(lines.length, 5);
    assert.deepEqual(JSON.parse(lines[2]!), {
      index: { _index: "t-network_access-2025.07.25", _id: "id-2" },
    });
    assert.deepEqual(JSON.parse(lines[4]!), { delete: { _index: "t-quarantine-2025.07.25", _id: "q-3" } });
    assert.deepEqual([b.opOf(0), b.opOf(1), b.opOf(2)], ["create", "index", "delete"]);
    assert.deepEqual([b.kindOf(0), b.kindOf(1), b.kindOf(2)], ["record", "quarantine", "quarantine"]);
    // copied into a retry batch (and halved) with their operation
    const again = BulkBatch.of([b.action(2), b.action(1)]);
    assert.deepEqual([again.opOf(0), again.opOf(1)], ["delete", "index"]);
    assert.equal(again.action(0).id, "q-3");
    assert.equal(again.body().toString("utf8"), `${lines[4]}\n${lines[2]}\n${lines[3]}\n`);
    assert.deepEqual(b.slice(1, 3).body(), Buffer.from(`${lines[2]}\n${lines[3]}\n${lines[4]}\n`));
  });

  it("counts creates, 409s, replaced and deleted apart, in a counted answer and in a parsed one", async () => {
    const counted: BulkTransport = async () => ({ errors: true, created: 3, duplicates: 1 });
    const o = await sinkWith(counted).write(BulkBatch.of([action(1), action(2), put(3), del(4)]));
    assert.deepEqual(
      [o.created, o.duplicates, o.replaced, o.deleted],
      [1, 1, 1, 1],
      "a 409 is only ever a create's",
    );
    assert.deepEqual(o.indexedByType, { network_access: 2 });
    assert.deepEqual(o.quarantinedByReason, { index_rejected: 1 });
    const { transport } = byOp((op, id) =>
      op === "delete" ? { status: id === "q-4" ? 404 : 200 } : { status: op === "index" ? 200 : 201 },
    );
    const p = await sinkWith(transport).write(BulkBatch.of([action(1), put(2), del(3), del(4)]));
    assert.deepEqual(
      [p.created, p.duplicates, p.replaced, p.deleted],
      [1, 0, 1, 2],
      "a 404 delete: gone, as asked",
    );
  });

  it("holds a delete or a replace the cluster cannot take now (a write block), retried with its operation, never dropped", async () => {
    const blocked = { status: 403, error: { type: "cluster_block_exception" } };
    const { transport, calls } = byOp((op, _id, call) =>
      call < 2 && op !== "create" ? blocked : { status: op === "create" ? 201 : 200 },
    );
    const o = await sinkWith(transport).write(BulkBatch.of([action(1), put(2), del(3)]));
    assert.deepEqual(calls, [
      ["create:id-1", "index:id-2", "delete:q-3"],
      ["index:id-2", "delete:q-3"],
      ["index:id-2", "delete:q-3"],
    ]);
    assert.deepEqual([o.created, o.replaced, o.deleted, o.quarantinedOnIndex], [1, 1, 1, 0]);
  });

  it("a delete refused for what it is (not the cluster's state) fails loudly: nothing to quarantine", async () => {
    const { transport } = byOp((op) =>
      op === "delete" ? { status: 400, error: { type: "illegal_argument_exception" } } : { status: 201 },
    );
    await assert.rejects(sinkWith(transport).write(BulkBatch.of([action(1), del(2)])), /refused to delete/);
  });

  it("a record refused is quarantined as the quarantine callback says: `index` replaces one of the same id", async () => {
    const { transport, calls } = byOp((op, id) =>
      op === "create" && id === "id-1"
        ? { status: 400, error: { type: "mapper_parsing_exception" } }
        : { status: 200 },
    );
    const sink = new BulkSink(
      transport,
      {
        maxDocs: 3,
        maxBytes: 1e6,
        concurrency: 1,
        backoffBaseMs: 1,
        backoffCapMs: 5,
        quarantine: (a, m) => ({ ...quarantine(a, m), op: "index" }),
      },
      logger,
    );
    const o = await sink.write(BulkBatch.of([action(1)]));
    assert.deepEqual(calls, [["create:id-1"], ["index:q-id-1"]]);
    assert.deepEqual([o.created, o.duplicates, o.replaced, o.quarantinedOnIndex], [0, 0, 1, 1]);
  });
});

describe("ingestObject and the sink's batch memory", () => {
  it("every batch it takes goes back to the sink: written, or discarded when the object ends or fails", async () => {
    const { ingestObject } = await import("../../src/core/ingest/ingest-object.ts");
    const { localSource } = await import("../../src/core/sources/local.ts");
    const { join } = await import("node:path");
    const file = join(import.meta.dirname, "..", "fixtures", "files", "seed.ndjson");
    const taken = new Set<BulkBatch>();
    const { transport } = scripted([ok]);
    class CountingSink extends BulkSink {
      override newBatch(): BulkBatch {
        const b = super.newBatch();
        taken.add(b);
        return b;
      }
      override discard(batch: BulkBatch): void {
        taken.delete(batch);
        super.discard(batch);
      }
      override async write(batch: BulkBatch, signal?: AbortSignal) {
        taken.delete(batch);
        return super.write(batch, signal);
      }
    }
    const sink = new CountingSink(
      transport,
      { maxDocs: 2, maxBytes: 1e6, concurrency: 2, quarantine },
      logger,
    );
    const deps = {
      source: localSource(),
      sink,
      logger,
      indexPrefix: "t",
      maxRecordBytes: 1e6,
      maxFileBytes: 1e9,
    };
    const r = await ingestObject({ bucket: "", key: file }, deps);
    assert.ok(r.indexed > 2, `${r.indexed} indexed, over several batches`);
    assert.equal(taken.size, 0, "no batch left behind");
    const failing = new CountingSink(
      async () => {
        throw Object.assign(new Error("mapping"), { statusCode: 400 });
      },
      { maxDocs: 2, maxBytes: 1e6, concurrency: 2, quarantine },
      logger,
    );
    await assert.rejects(ingestObject({ bucket: "", key: file }, { ...deps, sink: failing }));
    assert.equal(taken.size, 0, "none left behind when the object fails either");
  });
});

describe("BulkSink with an index guard", () => {
  it("writes nothing to an index the guard has not let through; templates missing: held (named in /readyz), then written", async () => {
    const { TemplatesMissingError } = await import("../../src/core/sink/index-guard.ts");
    const { transport, calls } = scripted([ok]);
    const asked: string[] = [];
    let refusals = 2;
    const allowed = new Set<string>();
    const sink = new BulkSink(
      transport,
      {
        maxDocs: 3,
        maxBytes: 1e6,
        concurrency: 2,
        backoffBaseMs: 1,
        backoffCapMs: 5,
        quarantine,
        indexGuard: {
          ready: (index) => allowed.has(index),
          ensure: async (index) => {
            asked.push(index);
            if (refusals-- > 0) {
              assert.equal(calls.length, 0, "no write before the guard lets the index through");
              throw new TemplatesMissingError("templates missing: run `twingate-ingest setup`");
            }
            allowed.add(index);
          },
        },
      },
      logger,
    );
    const reasons: (string | undefined)[] = [];
    const timer = setInterval(() => reasons.push(sink.holds.reason), 1);
    const w = sink.open();
    for (let i = 0; i < 5; i++) await w.add(action(i));
    const o = await w.finish();
    clearInterval(timer);
    assert.equal(o.created, 5);
    assert.deepEqual(asked, Array(3).fill("t-network_access-2025.07.25"), "one index, asked until it passes");
    assert.ok(
      reasons.some((r) => r !== undefined && /templates: .*twingate-ingest setup/.test(r)),
      `readyz reason: ${reasons.filter(Boolean)[0]}`,
    );
    assert.equal(sink.holds.reason, undefined);
  });

  it("a guard's request wrong as a whole fails the object instead of waiting", async () => {
    const { transport, calls } = scripted([ok]);
    const sink = new BulkSink(
      transport,
      {
        maxDocs: 3,
        maxBytes: 1e6,
        concurrency: 2,
        quarantine,
        indexGuard: {
          ready: () => false,
          ensure: async () => {
            throw Object.assign(new Error("HTTP 400: bad"), { statusCode: 400 });
          },
        },
      },
      logger,
    );
    const w = sink.open();
    await assert.rejects(async () => w.add(action(1)), PermanentBulkError);
    assert.equal(calls.length, 0);
  });
});
