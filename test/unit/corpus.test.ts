/**
 * The malformed-input corpus (test/fixtures/malformed) through the real pipeline function, ingestObject,
 * with a bulk transport that accepts every document: no crash, no hang, bounded memory, every record
 * ends as a document or in quarantine, and the file-level error says what was wrong.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { IngestResult } from "../../src/core/ingest/ingest-object.ts";
import { generatedCases, ingestCase, type MalformedCase, smallCases } from "../fixtures/malformed/corpus.ts";

function check(c: MalformedCase, result: IngestResult, seen: { kind: string; reason?: string }[]) {
  const docs = seen.filter((s) => s.kind === "record").length;
  const q = seen.filter((s) => s.kind === "quarantine").length;
  assert.equal(result.indexed, docs, "indexed = record documents written");
  assert.equal(result.rejected, q, "rejected = quarantine documents written");
  assert.equal(
    result.fileError?.reason,
    c.expect.fileError,
    `file error of ${c.name}: ${result.fileError?.message}`,
  );
  if (c.expect.fileError)
    assert.ok(result.fileError!.message.length > 0, "the file error says what was wrong");
  if (c.expect.indexed !== undefined) assert.equal(docs, c.expect.indexed, `indexed records of ${c.name}`);
  if (c.expect.rejected !== undefined) {
    assert.equal(q - (c.expect.fileError ? 1 : 0), c.expect.rejected, `rejected records of ${c.name}`);
  }
  for (const r of c.expect.reasons ?? [])
    assert.ok(
      seen.some((s) => s.reason === r),
      `a ${r} rejection`,
    );
  // Every record read is accounted for: a document or a quarantine entry (file errors add one).
  assert.equal(
    docs + q,
    result.records + (result.fileError ? 1 : 0),
    "each record ends as exactly one document",
  );
  assert.equal(({} as Record<string, unknown>)["polluted"], undefined, "no prototype pollution");
}

describe("malformed corpus through ingestObject", () => {
  for (const c of smallCases()) {
    it(`${c.name}: ${JSON.stringify(c.expect)}`, async () => {
      const { result, seen } = await ingestCase(c);
      check(c, result, seen);
    });
  }

  for (const c of generatedCases({ big: true })) {
    // the timeout guards a hang only (no wall-clock bound: a loaded machine stretches any); the cost bounds
    // are the counts `check` holds and the memory below
    it(`${c.name} (generated): ${JSON.stringify(c.expect)}`, { timeout: 300_000 }, async () => {
      const rss0 = process.memoryUsage().rss;
      const { result, seen } = await ingestCase(c);
      const grew = (process.memoryUsage().rss - rss0) / 1024 ** 2;
      check(c, result, seen);
      assert.ok(grew < 400, `bounded memory (RSS grew ${grew.toFixed(0)} MB)`);
      if (c.name.startsWith("wrong-types")) {
        // Only the 4 wrong event_types and 3 of the 4 wrong times cannot be placed (42 is a time: epoch
        // seconds); every other wrong value is set aside on its document (docs/DATA-QUALITY.md).
        assert.equal(result.rejected, 7, `wrong types rejected: ${result.rejected} of ${result.records}`);
      }
    });
  }

  it("a wrong type in every field: each line ends as one document, most indexed with the value set aside", async () => {
    const c = generatedCases({ big: false }).find((x) => x.name === "wrong-types.ndjson")!;
    const { result, seen } = await ingestCase(c);
    assert.equal(seen.length, result.records);
    assert.ok(result.indexed / result.records > 0.85, `${result.indexed} of ${result.records} indexed`);
    for (const s of seen.filter((x) => x.kind === "quarantine"))
      assert.equal(s.reason, "schema_invalid", "only unplaceable records (event_type, time) in quarantine");
  });
});
