import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import util from "node:util";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { type ReaderItem, RecordScanner, readRecords } from "../../src/core/parse/index.ts";
import { elementTexts } from "../../src/core/parse/scanner.ts";

/** JSON values as JSON.parse returns them (no -0, no undefined). */
const jsonValue = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const record = fc
  .record({
    event_type: fc.string({ maxLength: 12, unit: "binary" }),
    event: fc.dictionary(fc.string({ maxLength: 8, unit: "grapheme" }), jsonValue, { maxKeys: 5 }),
  })
  .map((r) => JSON.parse(JSON.stringify(r)) as unknown);

type LayoutName = "ndjson" | "ndjson-crlf" | "array" | "array-pretty" | "concat-pretty" | "concat-compact";

function write(records: unknown[], layout: LayoutName): string {
  switch (layout) {
    case "ndjson":
      return records.map((r) => JSON.stringify(r)).join("\n") + (records.length ? "\n" : "");
    case "ndjson-crlf":
      return records.map((r) => JSON.stringify(r)).join("\r\n\r\n");
    case "array":
      return JSON.stringify(records);
    case "array-pretty":
      return JSON.stringify(records, null, 2);
    case "concat-pretty":
      return records.map((r) => JSON.stringify(r, null, "\t")).join("\n");
    case "concat-compact":
      return records.map((r) => JSON.stringify(r)).join("");
  }
}

function split(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) out.push(b.subarray(prev, p));
    prev = Math.max(prev, p);
  }
  if (prev < b.length) out.push(b.subarray(prev));
  return out;
}

async function readAll(chunks: Buffer[]): Promise<ReaderItem[]> {
  const out: ReaderItem[] = [];
  for await (const item of readRecords(Readable.from(chunks))) out.push(item);
  return out;
}

describe("readRecords (property)", () => {
  it("any records, any layout, gzipped or not, chunked anywhere, read back equal", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { maxLength: 8 }),
        fc.constantFrom<LayoutName>(
          "ndjson",
          "ndjson-crlf",
          "array",
          "array-pretty",
          "concat-pretty",
          "concat-compact",
        ),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (records, layout, gzip, bom, cuts) => {
          const text = (bom ? "\uFEFF" : "") + write(records, layout);
          const bytes = gzip ? gzipSync(text) : Buffer.from(text);
          const items = await readAll(split(bytes, cuts));
          assert.deepEqual(
            items.map((i) => i.kind),
            records.map(() => "record"),
          );
          assert.deepEqual(
            items.map((i) => (i as { value: unknown }).value),
            records,
          );
          assert.deepEqual(
            items.map((i) => (i as { ordinal: number }).ordinal),
            records.map((_, k) => k),
          );
          for (const item of items) {
            const { raw, value } = item as { raw: string; value: unknown };
            assert.deepEqual(JSON.parse(raw), value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it("arbitrary bytes never throw and a file_error is always last", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(s)),
          fc
            .array(fc.constantFrom("{", "}", "[", "]", '"', "\\", ",", ":", "\n", " ", "1", "a"), {
              maxLength: 80,
            })
            .map((a) => new TextEncoder().encode(`{${a.join("")}`)),
        ),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (bytes, cuts) => {
          const items = await readAll(split(Buffer.from(bytes), cuts));
          const errors = items.filter((i) => i.kind === "file_error");
          assert.ok(errors.length <= 1);
          if (errors.length === 1) assert.equal(items.at(-1)!.kind, "file_error");
        },
      ),
      { numRuns: 300 },
    );
  });
  it("arbitrary bytes give the same items however they are chunked (quarantine ids depend on it)", () => {
    const piece = fc.oneof(
      fc.constantFrom(
        "{",
        "}",
        "[",
        "]",
        '"',
        "\\",
        ",",
        ":",
        "\n",
        "\r\n",
        " ",
        "1",
        "a",
        "<html>",
        '{"a":1}',
      ),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: "binary", maxLength: 4 }),
    );
    const file = fc.array(piece, { maxLength: 40 }).map((ps) => Buffer.from(ps.join("")));
    const scan = (chunks: Buffer[], maxRecordBytes: number) => {
      const s = new RecordScanner({ maxRecordBytes });
      const out: ReaderItem[] = [];
      for (const c of chunks) out.push(...s.push(c));
      out.push(...s.end());
      return out;
    };
    fc.assert(
      fc.property(
        file,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom(9, 30, 1 << 20),
        (bytes, cuts, max) => {
          const whole = scan([bytes], max);
          assert.deepEqual(scan(split(bytes, cuts), max), whole);
          assert.deepEqual(
            scan(
              [...bytes].map((b) => Buffer.from([b])),
              max,
            ),
            whole,
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("one bad line anywhere in NDJSON costs at most that line: every record around it is read (issue #18)", async () => {
    const garbage = fc.oneof(
      fc.string({ unit: "binary", maxLength: 30 }),
      fc
        .array(fc.constantFrom("{", "}", "[", "]", '"', "\\", ",", ":", " ", "1", "a", '"k":'), {
          maxLength: 20,
        })
        .map((a) => a.join("")),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v).slice(0, -1)), // cut short
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(record, { minLength: 1, maxLength: 6 }),
        garbage.map((g) => g.replace(/[\r\n]/g, "")),
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        async (records, bad, at, cuts) => {
          const lines = records.map((r) => JSON.stringify(r));
          lines.splice(at % (lines.length + 1), 0, bad);
          const items = await readAll(split(Buffer.from(`${lines.join("\n")}\n`), cuts));
          const values = items.filter((i) => i.kind === "record").map((i) => (i as { value: unknown }).value);
          // Every record, in order (the bad line may itself be a record: a JSON value, or an array's elements).
          let k = 0;
          for (const v of values) if (k < records.length && util.isDeepStrictEqual(v, records[k])) k++;
          assert.equal(k, records.length, `records read: ${JSON.stringify(values)}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("NDJSON with bad lines reads the same in one chunk as byte by byte (in-chunk lines vs lines across chunks)", () => {
    // Whole lines inside a chunk take a path of their own (read in place, UTF-8 checked once per chunk);
    // byte-by-byte input sends every line through the general path. Both must give the same items.
    const piece = fc.oneof(
      fc.constantFrom(
        '{"a":1}',
        '{"b": "é"}',
        "  ",
        "\r",
        "\t",
        "{",
        "}",
        "[1]",
        '"x"',
        '{"a":"\\n"}',
        "null",
        "\uFFFD",
      ),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      fc.string({ unit: "binary", maxLength: 6 }),
    );
    const line = fc.oneof(
      fc.array(piece, { maxLength: 4 }).map((ps) => Buffer.from(ps.join(""))),
      fc.uint8Array({ maxLength: 4 }).map((u) => Buffer.from(u)), // invalid UTF-8 too
    );
    const file = fc
      .tuple(fc.array(line, { maxLength: 10 }), fc.constantFrom("\n", "\r\n", "\n\n"), fc.boolean())
      .map(([lines, sep, last]) =>
        Buffer.concat([
          Buffer.from('{"f":1}\n'), // makes the layout NDJSON (shorter than any maxRecordBytes below)
          ...lines.flatMap((l, k) => (k < lines.length - 1 || last ? [l, Buffer.from(sep)] : [l])),
        ]),
      );
    const scan = (chunks: Buffer[], maxRecordBytes: number) => {
      const s = new RecordScanner({ maxRecordBytes });
      const out: ReaderItem[] = [];
      for (const c of chunks) out.push(...s.push(c));
      out.push(...s.end());
      return { out, layout: s.layout };
    };
    fc.assert(
      fc.property(file, fc.constantFrom(9, 30, 1 << 20), (bytes, max) => {
        const whole = scan([bytes], max);
        assert.equal(whole.layout, "ndjson");
        const bytewise = scan(
          [...bytes].map((b) => Buffer.from([b])),
          max,
        );
        assert.deepEqual(whole, bytewise);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("elementTexts (property)", () => {
  it("an array line's elements are the exact texts the line holds, whatever the spacing", () => {
    const space = fc.constantFrom("", " ", "  ", "\t", "\r\n ");
    fc.assert(
      fc.property(fc.array(fc.tuple(jsonValue, space, space), { maxLength: 8 }), space, (els, tail) => {
        const texts = els.map(([v]) => JSON.stringify(v, null, typeof v === "object" ? 1 : undefined));
        const line = `[${els.map(([, a, b], k) => `${a}${texts[k]}${b}`).join(",")}${tail}]`;
        assert.deepEqual(elementTexts(line, els.length), texts);
      }),
      { numRuns: 2000 },
    );
  });

  it("keeps what re-serialising would change (1e999, an escape, -0)", async () => {
    const line = '[{"event":{"n":1e999}}, {"s":"\\u00e9\\"]"} ,{"z":-0.0}]';
    assert.deepEqual(elementTexts(line, 3), ['{"event":{"n":1e999}}', '{"s":"\\u00e9\\"]"}', '{"z":-0.0}']);
    const items = await readAll([Buffer.from(`${line}\n`)]);
    assert.deepEqual(
      items.map((i) => (i as { raw: string }).raw),
      ['{"event":{"n":1e999}}', '{"s":"\\u00e9\\"]"}', '{"z":-0.0}'],
    );
  });
});
