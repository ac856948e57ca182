/**
 * Bounded cost of a hostile file (issue #18, case 5): rejections of one reason beyond the cap are counted into
 * one summary document with a deterministic id; a gzip that inflates far beyond any real file stops early.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { ingestObject } from "../../src/core/ingest/ingest-object.ts";
import { readRecords } from "../../src/core/parse/index.ts";
import { BulkSink } from "../../src/core/sink/bulk-sink.ts";
import { localSource } from "../../src/core/sources/local.ts";
import { createLogger } from "../../src/platform/logger.ts";

interface Seen {
  id: string;
  index: string;
  doc: { quarantine?: { reason: string; raw: string; summary?: Record<string, unknown> } };
}

// One folder for the file: quarantine ids hash its key (the path), so a re-read must use the same one.
const DIR = mkdtempSync(join(tmpdir(), "hostile-"));
after(() => rmSync(DIR, { recursive: true, force: true }));

async function ingest(bytes: Buffer, maxRejectsPerReason?: number) {
  const dir = DIR;
  const path = join(dir, "2025-07-25T18:20:00+00:00.json");
  writeFileSync(path, bytes);
  const seen: Seen[] = [];
  const logger = createLogger("silent");
  const sink = new BulkSink(
    async (body) => {
      const lines = body
        .toString("utf8")
        .split("\n")
        .filter((l) => l.length > 0);
      const items = [];
      for (let i = 0; i < lines.length; i += 2) {
        const meta = JSON.parse(lines[i]!) as { create: { _index: string; _id: string } };
        seen.push({ id: meta.create._id, index: meta.create._index, doc: JSON.parse(lines[i + 1]!) });
        items.push({ create: { status: 201 } });
      }
      return { errors: false, items };
    },
    { maxDocs: 500, maxBytes: 5 * 1024 * 1024, concurrency: 2, quarantine: (a) => a },
    logger,
  );
  try {
    const result = await ingestObject(
      { bucket: "b", key: path },
      {
        source: localSource(),
        sink,
        logger,
        indexPrefix: "hl",
        maxRecordBytes: 1024 * 1024,
        maxFileBytes: 2 * 1024 ** 3,
        maxDecompressionRatio: 100,
        ...(maxRejectsPerReason !== undefined ? { maxRejectsPerReason } : {}),
        now: () => new Date("2025-07-25T18:30:00Z"),
      },
    );
    return { result, seen };
  } finally {
    rmSync(path, { force: true });
  }
}

describe("bounded cost of a hostile file", () => {
  it("300,000 lines `{}` in a tiny gzip: the first 1,000 rejections one document each, the rest one summary", async () => {
    const bytes = gzipSync(Buffer.from("{}\n".repeat(300_000)), { level: 9 });
    assert.ok(bytes.length < 2000, `${bytes.length} bytes of gzip`);
    const { result, seen } = await ingest(bytes);
    assert.equal(result.records, 300_000);
    assert.equal(result.rejected, 300_000, "every record counted as rejected");
    assert.deepEqual(result.summarised, { schema_invalid: 299_000 });
    assert.equal(seen.length, 1001, "1,000 documents and one summary");
    const summary = seen.filter((s) => s.doc.quarantine?.summary);
    assert.equal(summary.length, 1);
    const q = summary[0]!.doc.quarantine!;
    assert.equal(q.raw, "", "not replayable from quarantine: read the file again");
    assert.deepEqual(
      {
        count: q.summary!["count"],
        first: q.summary!["first_ordinal"],
        last: q.summary!["last_ordinal"],
        lastLine: q.summary!["last_line"],
      },
      { count: 299_000, first: 1000, last: 299_999, lastLine: 300_000 },
    );
    assert.equal((q.summary!["last"] as { raw: string }).raw, "{}");
    // Redelivery: the same ids (create + 409 makes no second copy).
    const again = await ingest(bytes);
    assert.deepEqual(again.seen.map((s) => s.id).sort(), seen.map((s) => s.id).sort());
  });

  it("the cap is per reason: a few of each other reason keep their own documents", async () => {
    const lines = ["{}", "[1]", "nope", "{}", "nope", "{}"];
    const { result, seen } = await ingest(Buffer.from(`${lines.join("\n")}\n`), 2);
    // schema_invalid ({}): 3 -> 2 + summary; invalid_json (nope): 2 -> 2; not_an_object ([1] as one record): 1.
    assert.equal(result.rejected, 6);
    assert.equal(seen.length, 6);
    assert.deepEqual(result.summarised, { schema_invalid: 1 });
  });

  it("a gzip inflating more than 100:1 stops with decompression_ratio after 32 MiB, the records before it kept", async () => {
    const valid = '{"a":1}\n';
    const bomb = Buffer.concat([
      gzipSync(valid),
      gzipSync(Buffer.alloc(512 * 1024 * 1024, " "), { level: 9 }),
    ]);
    const items = [];
    for await (const item of readRecords(Readable.from([bomb]), { maxDecompressionRatio: 100 }))
      items.push(item);
    assert.equal(items.length, 2);
    assert.equal(items[0]!.kind, "record");
    const last = items[1]!;
    assert.ok(last.kind === "file_error" && last.reason === "decompression_ratio", JSON.stringify(last));
    // A gzip of real JSON (about 10:1) is read whole.
    const real = gzipSync(
      Buffer.from(Array.from({ length: 80_000 }, (_, k) => `{"k":${k},"t":"${k * 7919}"}`).join("\n")),
    );
    let n = 0;
    for await (const item of readRecords(Readable.from([real]), { maxDecompressionRatio: 100 })) {
      assert.equal(item.kind, "record");
      n++;
    }
    assert.equal(n, 80_000);
  });
});
