import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { documentId, parseTwingateKeyTime, toIndexAction } from "../../src/core/documents/index.ts";
import { quarantineRefused } from "../../src/core/documents/quarantine.ts";
import { type ValidationResult, validateRecord } from "../../src/core/events/index.ts";
import { actionsFor } from "../../src/core/ingest/actions.ts";
import { RejectionCap } from "../../src/core/ingest/reject-cap.ts";
import type { IndexAction } from "../../src/core/model.ts";
import { readRecords } from "../../src/core/parse/index.ts";
import { BulkBatch } from "../../src/core/sink/bulk-body.ts";
import {
  type PlanOptions,
  planReplay,
  type QuarantineHit,
  quarantineQuery,
} from "../../src/runtimes/replay/plan.ts";
import { INGESTED, KEY, RAW, RECORD, storedHit } from "../fixtures/replay.ts";

const NOW = "2025-08-01T00:00:00.000Z";

/** A validator that rejects dns_filtering (the double used to put records in quarantine). */
const rejectDns = (value: unknown): ValidationResult => {
  const v = validateRecord(value);
  if (v.ok && v.record.event_type === "dns_filtering") {
    return {
      ok: false,
      reason: "schema_invalid",
      message: "event.domain: refused by the test double",
      path: "event.domain",
      eventType: "dns_filtering",
    };
  }
  return v;
};

const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({
  indexPrefix: "tw",
  maxRecordBytes: 1024 * 1024,
  ingestedAt: NOW,
  ...o,
});

describe("planReplay", () => {
  it("a record that passes today goes to its normal index and id, with its origin", () => {
    const hit = storedHit(RAW, "schema_invalid", "event.domain: refused by the test double", "event.domain");
    const d = planReplay(hit, opts());
    assert.equal(d.kind, "pass");
    if (d.kind !== "pass") return;
    assert.equal(d.action.index, "tw-dns_filtering-2025.07.25");
    assert.equal(d.action.id, documentId(RECORD));
    assert.deepEqual((d.action.document as { ingest: unknown }).ingest, {
      bucket: "b",
      key: KEY,
      ordinal: 3,
      line: 4,
      ingested_at: NOW,
      lag_ms: Date.parse(NOW) - Date.parse((RECORD as { event: { time: string } }).event.time),
    });
  });

  it("a record OpenSearch refused (index_rejected) keeps its document's id, its other keys and its deviations when replayed", () => {
    // As the sink quarantines it: the record as received, and the id its document had.
    const record = JSON.parse(
      readFileSync(new URL("../fixtures/files/network_access.json", import.meta.url), "utf8"),
    ) as { event: { resource: { ip: string } }; tenant?: string };
    record.event.resource.ip = ""; // normalised to null in the document
    record.tenant = "acme";
    const v = validateRecord(record);
    assert.ok(v.ok);
    const original = toIndexAction(
      v.record,
      { bucket: "b", key: KEY, ordinal: 3, line: 4 },
      { indexPrefix: "tw", ingestedAt: INGESTED },
    );
    // As the sink has it: the action read back from its batch's bytes (BulkSink quarantines that one).
    const batch = new BulkBatch(1 << 16);
    batch.add(original);
    const q = quarantineRefused(batch.action(0), "mapper_parsing_exception: failed to parse", "tw");
    assert.equal((q.document["quarantine"] as { record_id?: string }).record_id, original.id);
    const d = planReplay(hitOf(q), opts());
    assert.equal(d.kind, "pass");
    if (d.kind !== "pass") return;
    assert.equal(d.action.id, original.id, "the id a re-read of the file gives: no second copy");
    assert.equal(documentId(JSON.parse((q.document["quarantine"] as { raw: string }).raw)), original.id);
    const twingate = (d.action.document as { twingate: Record<string, unknown> }).twingate;
    assert.deepEqual(twingate["envelope"], { tenant: "acme" });
    assert.deepEqual(twingate["flat"], { tenant: "acme" });
    // The document a re-read gives, deviations included (the empty IP listed, not lost with the refusal).
    const ingest = (a: { document: Record<string, unknown> }) =>
      a.document["ingest"] as Record<string, unknown>;
    assert.deepEqual(ingest(d.action)["deviations"], ingest(original)["deviations"]);
    assert.ok((ingest(original)["deviations"] as string[]).length > 0);
    const { ingest: _a, ...replayed } = d.action.document;
    const { ingest: _b, ...first } = original.document;
    assert.deepEqual(replayed, first);
  });

  it("still failing for the same reason and message: unchanged, same place", () => {
    const hit = storedHit(RAW, "schema_invalid", "event.domain: refused by the test double", "event.domain");
    const d = planReplay(hit, opts({ validate: rejectDns }));
    assert.equal(d.kind, "fail");
    if (d.kind !== "fail") return;
    assert.equal(d.unchanged, true);
    assert.equal(d.action.index, hit._index);
    assert.equal(d.action.id, hit._id);
  });

  it("still failing with a new message: rewritten in place (same index, id keeps the reason)", () => {
    const hit = storedHit(RAW, "schema_invalid", "an older message", "event.domain");
    const d = planReplay(hit, opts({ validate: rejectDns }));
    assert.equal(d.kind, "fail");
    if (d.kind !== "fail") return;
    assert.equal(d.unchanged, false);
    assert.equal(d.action.index, hit._index);
    assert.equal(d.action.id, hit._id);
    assert.equal(
      (d.action.document as { quarantine: { message: string } }).quarantine.message,
      "event.domain: refused by the test double",
    );
    assert.equal((d.action.document as { "@timestamp": string })["@timestamp"], INGESTED);
  });

  it("a new reason gives a new id (as ingestion would) in the same daily index", () => {
    const bad = JSON.stringify({
      event_type: "dns_filtering",
      event: { ...RECORD.event, time: "yesterday" },
    });
    const hit = storedHit(bad, "invalid_json", "not JSON: old parser");
    const d = planReplay(hit, opts());
    assert.equal(d.kind, "fail");
    if (d.kind !== "fail") return;
    assert.equal(d.reason, "schema_invalid");
    assert.equal(d.action.index, hit._index);
    assert.notEqual(d.action.id, hit._id);
  });

  it("a record the old rules quarantined and the data-quality policy places: its stream's index, the id a re-read gives, its deviations", () => {
    // as the vendor's Network Events Schema page writes it: stream `network`, a port as text, a +0000 time
    const raw =
      '{"event_type":"network","event":{"version":"1.0","time":"2025-07-25T18:19:41+0000","status":"closed_connection",' +
      '"connection":{"client_ip":"1.2.3.4"},"resource":{"address":"a.int","ip":"intranet.local","port":"80"}}}';
    const hit = storedHit(
      raw,
      "schema_invalid",
      "event.resource.port: must be a number",
      "event.resource.port",
    );
    const d = planReplay(hit, opts());
    assert.equal(d.kind, "pass");
    if (d.kind !== "pass") return;
    assert.equal(d.action.id, documentId(JSON.parse(raw)), "the id a re-read of the file gives");
    assert.match(d.action.index, /^tw-network_access-/);
    const doc = JSON.parse(d.action.json!.join("")) as {
      ingest: { deviations: string[] };
      set_aside: unknown;
    };
    assert.deepEqual(doc.ingest.deviations.sort(), [
      "event.resource.ip:set_aside",
      "event.resource.port:coerced",
      "event.time:coerced",
      "event.version:coerced",
      "event_type:aliased",
      "no_principal", // the page's example names no user
    ]);
    assert.deepEqual(doc.set_aside, { "event.resource.ip": "intranet.local" });
  });

  it("text that is still not JSON stays invalid_json", () => {
    const hit = storedHit('{"event_type": "dns_filtering", ', "invalid_json", "x");
    const d = planReplay(hit, opts());
    assert.equal(d.kind, "fail");
    if (d.kind === "fail") assert.equal(d.reason, "invalid_json");
  });

  it("applies today's record size limit", () => {
    const hit = storedHit(RAW, "schema_invalid", "x");
    const d = planReplay(hit, opts({ maxRecordBytes: 10 }));
    assert.equal(d.kind, "fail");
    if (d.kind === "fail") assert.equal(d.reason, "record_too_large");
  });

  it("skips cut raw texts and file-level errors", () => {
    const cut = storedHit(RAW, "schema_invalid", "x");
    cut._source.quarantine!.raw_truncated = true;
    assert.deepEqual(planReplay(cut, opts()), { kind: "skip", why: "raw_truncated" });
    const file = storedHit("", "invalid_json", "x");
    assert.deepEqual(planReplay(file, opts()), { kind: "skip", why: "file_level" });
  });
});

/** What ingestion of KEY does with `line` read as its 4th record (ordinal 3, line 4, as storedHit has it). */
async function ingestionOf(line: string, o: { maxRecordBytes: number; maxTimeDeviationMs?: number }) {
  const actions = await actionsOfFile(`${RAW}\n${RAW}\n${RAW}\n${line}\n`, KEY, validateRecord, o);
  assert.equal(actions.length, 4);
  return actions[3]!;
}

/** A quarantine action as the search for it returns it. */
function hitOf(a: IndexAction): QuarantineHit {
  return { _index: a.index, _id: a.id, _source: a.document as QuarantineHit["_source"] };
}

/** Every action ingestion of `text` under `key` gives (the worker's record stage, not capped). */
async function actionsOfFile(
  text: string | Buffer,
  key: string,
  validate: typeof validateRecord,
  o: { maxRecordBytes: number; maxTimeDeviationMs?: number | undefined },
) {
  const toAction = actionsFor(
    { bucket: "b", key },
    {
      docOpts: {
        indexPrefix: "tw",
        ingestedAt: NOW,
        maxTimeDeviationMs: o.maxTimeDeviationMs,
        fileTimeMs: parseTwingateKeyTime(key)?.getTime(),
      },
      validate,
      cap: new RejectionCap(),
    },
  );
  const actions = [];
  for await (const item of readRecords(Readable.from([Buffer.from(text)]), {
    maxRecordBytes: o.maxRecordBytes,
  }))
    actions.push(toAction(item)!);
  return actions;
}

describe("planReplay reads a record as ingestion of its file does", () => {
  const far = JSON.stringify({ ...RECORD, event: { ...RECORD.event, time: "2031-01-01T00:00:00Z" } });
  const cases: { name: string; line: string; maxRecordBytes?: number; maxTimeDeviationMs?: number }[] = [
    { name: "a time far from the file's: bounded placement", line: far, maxTimeDeviationMs: 48 * 3_600_000 },
    { name: "a time far from the file's, no bound", line: far },
    { name: "odd keys set aside", line: JSON.stringify({ ...RECORD, "": 1, "a..b": { ".c": 2 } }) },
    {
      name: "nested deeper than the reader allows",
      line: `{"event_type":"dns_filtering","event":${"[".repeat(1001)}${"]".repeat(1001)}}`,
    },
    {
      name: "over the record size limit",
      line: JSON.stringify({ ...RECORD, pad: "x".repeat(300) }),
      maxRecordBytes: 300,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const maxRecordBytes = c.maxRecordBytes ?? 1024 * 1024;
      const ingested = await ingestionOf(c.line, {
        maxRecordBytes,
        maxTimeDeviationMs: c.maxTimeDeviationMs,
      });
      const d = planReplay(
        storedHit(c.line, "schema_invalid", "refused by an older rule"),
        opts({ maxRecordBytes, maxTimeDeviationMs: c.maxTimeDeviationMs }),
      );
      if (ingested.kind === "record") {
        assert.equal(d.kind, "pass");
        if (d.kind !== "pass") return;
        assert.equal(d.action.index, ingested.index);
        assert.equal(d.action.id, ingested.id, "the id a re-read of the file gives: no second copy");
        assert.deepEqual(JSON.parse(d.action.json!.join("")), JSON.parse(ingested.json!.join("")));
      } else {
        assert.equal(d.kind, "fail");
        if (d.kind !== "fail") return;
        const q = (a: typeof ingested) => a.document["quarantine"] as { reason: string; message: string };
        assert.equal(q(d.action).reason, q(ingested).reason);
        assert.equal(q(d.action).message, q(ingested).message);
      }
    });
  }
});

describe("replay of a file whose key is not named like Twingate's", () => {
  const key = "exports/tenant-a/batch-0001.json";
  const far = { ...RECORD, event: { ...RECORD.event, time: "2031-01-01T00:00:00Z" } };
  // Its first record is valid, its second is 5 years away (the file's time is the first record's).
  const file = `${RAW}\n${JSON.stringify(far)}\n`;
  const o = { maxRecordBytes: 1024 * 1024, maxTimeDeviationMs: 48 * 3_600_000 };
  /** The old rules: they refused the far record (so it went to quarantine). */
  const rejectFar = (value: unknown): ValidationResult => {
    const v = validateRecord(value);
    if (v.ok && String(v.record.event.time).startsWith("2031"))
      return {
        ok: false,
        reason: "schema_invalid",
        message: "refused by an older rule",
        eventType: "dns_filtering",
      };
    return v;
  };

  it("a record the old rules quarantined lands where a re-read of its file places it (the file time travels)", async () => {
    const [, quarantined] = await actionsOfFile(file, key, rejectFar, o);
    assert.equal(quarantined!.kind, "quarantine");
    const ingest = quarantined!.document["ingest"] as { file_time?: string };
    assert.equal(ingest.file_time, "2025-07-25T18:21:41.236Z", "the first valid record's time, kept");
    const d = planReplay(hitOf(quarantined!), opts({ maxTimeDeviationMs: o.maxTimeDeviationMs }));
    const [, reread] = await actionsOfFile(file, key, validateRecord, o);
    assert.equal(d.kind, "pass");
    if (d.kind !== "pass") return;
    assert.equal(reread!.index, "tw-dns_filtering-2025.07.25", "placed by the file's time");
    assert.equal(d.action.index, reread!.index);
    assert.equal(d.action.id, reread!.id);
    assert.deepEqual(JSON.parse(d.action.json!.join("")), JSON.parse(reread!.json!.join("")));
  });

  it("a far record OpenSearch refused keeps its file's time too (replayed where a re-read puts it)", async () => {
    const [, first] = await actionsOfFile(file, key, validateRecord, o);
    assert.equal(first!.index, "tw-dns_filtering-2025.07.25", "placed by the file's time");
    const batch = new BulkBatch(1 << 16);
    batch.add(first!);
    const q = quarantineRefused(batch.action(0), "mapper_parsing_exception: failed to parse", "tw");
    assert.equal((q.document["ingest"] as { file_time?: string }).file_time, "2025-07-25T18:21:41.236Z");
    const d = planReplay(hitOf(q), opts({ maxTimeDeviationMs: o.maxTimeDeviationMs }));
    assert.equal(d.kind, "pass");
    if (d.kind !== "pass") return;
    assert.equal(d.action.index, first!.index);
    assert.equal(d.action.id, first!.id);
  });

  it("a Twingate file's quarantine documents do not carry the time its key already says", async () => {
    const twingate = await actionsOfFile(file, KEY, rejectFar, o);
    assert.equal((twingate[1]!.document["ingest"] as { file_time?: string }).file_time, undefined);
  });

  it("a record that was not UTF-8 is not replayed from its stored text (U+FFFD is not the file's bytes)", async () => {
    const bytes = Buffer.concat([
      Buffer.from(`${RAW}\n`),
      Buffer.from(RAW.replace("example", "ex\u0000ample")),
      Buffer.from("\n"),
    ]);
    bytes[bytes.indexOf(0, RAW.length + 1)] = 0xff; // one byte that is not UTF-8 inside a string
    const [, q] = await actionsOfFile(bytes, KEY, validateRecord, { maxRecordBytes: 1024 * 1024 });
    assert.equal(q!.reason, "invalid_utf8");
    assert.deepEqual(planReplay(hitOf(q!), opts()), { kind: "skip", why: "invalid_utf8" });
  });
});

describe("quarantineQuery", () => {
  it("filters by ingestion time and reasons", () => {
    assert.deepEqual(quarantineQuery({}), { match_all: {} });
    assert.deepEqual(
      quarantineQuery({
        fromMs: Date.parse(INGESTED),
        reasons: ["schema_invalid"],
        eventTypes: ["audit_log"],
      }),
      {
        bool: {
          filter: [
            { range: { "@timestamp": { gte: INGESTED } } },
            { terms: { "quarantine.reason": ["schema_invalid"] } },
            { terms: { event_type: ["audit_log"] } },
          ],
        },
      },
    );
  });
});
