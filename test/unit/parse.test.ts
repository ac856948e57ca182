import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { MAX_RAW_QUARANTINE_CHARS } from "../../src/core/model.ts";
import {
  InputStreamError,
  type ReaderItem,
  type ReaderOptions,
  readRecords,
} from "../../src/core/parse/index.ts";

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "files");

function chunked(data: Buffer | string, size: number): Readable {
  const b = Buffer.isBuffer(data) ? data : Buffer.from(data);
  const parts: Buffer[] = [];
  for (let i = 0; i < b.length; i += size) parts.push(b.subarray(i, i + size));
  return Readable.from(parts);
}

async function collect(input: Readable, opts?: ReaderOptions): Promise<ReaderItem[]> {
  const out: ReaderItem[] = [];
  for await (const item of readRecords(input, opts)) out.push(item);
  return out;
}

async function read(data: Buffer | string, chunk = 65536, opts?: ReaderOptions): Promise<ReaderItem[]> {
  return collect(chunked(data, chunk), opts);
}

function values(items: ReaderItem[]): unknown[] {
  return items.filter((i) => i.kind === "record").map((i) => (i as { value: unknown }).value);
}

const R = [
  { event_type: "a", event: { n: 1, s: 'quote " brace } bracket ] backslash \\' } },
  { event_type: "b", event: { arr: [1, [2, { x: "{" }]], u: "é😀" } },
  { event_type: "c", event: {} },
];

describe("readRecords: layouts", () => {
  it("reads NDJSON with line numbers and ordinals", async () => {
    const items = await read(R.map((r) => JSON.stringify(r)).join("\n") + "\n");
    assert.deepEqual(values(items), R);
    assert.deepEqual(
      items.map((i) => (i.kind === "record" ? [i.ordinal, i.line] : null)),
      [
        [0, 1],
        [1, 2],
        [2, 3],
      ],
    );
    assert.equal((items[0] as { raw: string }).raw, JSON.stringify(R[0]));
  });

  it("reads a JSON array (pretty and compact) and concatenated objects", async () => {
    for (const text of [
      JSON.stringify(R, null, 2),
      JSON.stringify(R),
      R.map((r) => JSON.stringify(r, null, 2)).join("\n"),
      R.map((r) => JSON.stringify(r)).join(""),
      R.map((r) => JSON.stringify(r, null, 1)).join(""),
    ]) {
      const items = await read(text);
      assert.deepEqual(values(items), R, text.slice(0, 60));
      assert.deepEqual(
        items.map((i) => i.kind),
        ["record", "record", "record"],
      );
    }
  });

  it("tolerates a BOM, CRLF, blank lines and a missing final newline", async () => {
    const text = "\uFEFF\r\n" + R.map((r) => JSON.stringify(r)).join("\r\n\r\n  \r\n");
    const items = await read(text);
    assert.deepEqual(values(items), R);
    assert.deepEqual(
      items.map((i) => (i.kind === "record" ? i.line : 0)),
      [2, 5, 8],
    );
    assert.ok(!(items[0] as { raw: string }).raw.endsWith("\r"));
  });

  it("treats empty, whitespace-only and BOM-only files as valid and empty", async () => {
    for (const text of ["", "   \n\r\n", "\uFEFF", "\uFEFF\n"]) assert.deepEqual(await read(text), []);
    assert.deepEqual(await read("[]"), []);
    assert.deepEqual(await read(" [ ]\n"), []);
  });

  it("reads gzip by magic bytes, whatever the name", async () => {
    const text = R.map((r) => JSON.stringify(r)).join("\n");
    assert.deepEqual(values(await read(gzipSync(text), 7)), R);
    assert.deepEqual(values(await read(gzipSync(JSON.stringify(R)), 1)), R);
    // Two gzip members back to back (concatenated gzip files) read as one stream.
    const two = Buffer.concat([gzipSync(JSON.stringify(R[0]) + "\n"), gzipSync(JSON.stringify(R[1]))]);
    assert.deepEqual(values(await read(two, 5)), [R[0], R[1]]);
  });

  it("reads the seed fixtures in every layout to the same four records", async () => {
    const expected = values(await collect(createReadStream(join(FIXTURES, "seed.ndjson"))));
    assert.equal(expected.length, 4);
    for (const f of ["seed-array.json", "seed-concatenated.json", "seed-crlf-bom.ndjson", "seed.ndjson.gz"]) {
      const items = await collect(createReadStream(join(FIXTURES, f), { highWaterMark: 97 }));
      assert.deepEqual(values(items), expected, f);
      assert.equal(items.length, 4, f);
    }
    assert.deepEqual(await collect(createReadStream(join(FIXTURES, "empty.json"))), []);
  });

  it("accepts non-object array elements as records (the validator rejects them)", async () => {
    assert.deepEqual(values(await read('["s", 12, -1.5e3, true, null, [1]]')), [
      "s",
      12,
      -1500,
      true,
      null,
      [1],
    ]);
    assert.deepEqual(values(await read('["s",12]', 1)), ["s", 12]);
  });
});

describe("readRecords: chunk boundaries", () => {
  const layouts: Record<string, string> = {
    ndjson: R.map((r) => JSON.stringify(r)).join("\r\n"),
    array: JSON.stringify(R, null, 2),
    concatenated: R.map((r) => JSON.stringify(r, null, 2)).join(""),
    backToBack: R.map((r) => JSON.stringify(r)).join(""),
  };
  for (const [name, text] of Object.entries(layouts)) {
    it(`${name}: a record split at every byte offset reads back equal`, async () => {
      const b = Buffer.from("\uFEFF" + text);
      for (let cut = 1; cut < b.length; cut++) {
        const input = Readable.from([b.subarray(0, cut), b.subarray(cut)]);
        assert.deepEqual(values(await collect(input)), R, `cut at ${cut}`);
      }
    });
  }
  it("escaped quotes and backslash runs split across chunks", async () => {
    const rec = { event_type: "x", event: { s: '\\\\"\\"\\\\\\' } };
    for (const layout of [JSON.stringify([rec, rec]), `${JSON.stringify(rec)}${JSON.stringify(rec)}`]) {
      for (let size = 1; size < 12; size++) assert.deepEqual(values(await read(layout, size)), [rec, rec]);
    }
  });
});

describe("readRecords: bad records and files", () => {
  it("NDJSON: an invalid line is a rejection and the rest flows", async () => {
    const items = await read('{"a":1}\n{"b": nope}\n{"c":3}');
    assert.deepEqual(
      items.map((i) => i.kind),
      ["record", "rejected", "record"],
    );
    const rej = items[1]!;
    assert.ok(rej.kind === "rejected");
    assert.equal(rej.rejection.reason, "invalid_json");
    assert.equal(rej.rejection.raw, '{"b": nope}');
    assert.equal(rej.rejection.line, 2);
    assert.equal(rej.rejection.ordinal, 1);
    assert.equal((items[2] as { ordinal: number }).ordinal, 2);
  });

  it("array: a broken element with balanced brackets is rejected, the rest flows", async () => {
    const items = await read('[{"a":1},{"b":tru},{"c":3}]');
    assert.deepEqual(
      items.map((i) => i.kind),
      ["record", "rejected", "record"],
    );
  });

  it("array/concatenated: a syntax error costs what it breaks, not the rest of the file (issue #18)", async () => {
    // Before, each of these ended the file with a syntax_error after {a} and {b}; now the layout is decided
    // per record and only an array left open at the end is a file-level error.
    const cases: [string, unknown[], string[]][] = [
      // A missing comma between elements loses nothing.
      ['[{"a":1},{"b":2} {"c":3}]', [{ a: 1 }, { b: 2 }, { c: 3 }], ["record", "record", "record"]],
      // Garbage after the array: rejected with its line.
      ['[{"a":1},{"b":2}]x', [{ a: 1 }, { b: 2 }], ["record", "record", "invalid_json"]],
      ['{\n"a":1}\n{"b":2}\n, {"c":3}', [{ a: 1 }, { b: 2 }], ["record", "record", "invalid_json"]],
      // Cut inside the last element: that element rejected with its text, then the open array reported.
      ['[{"a":1},{"b":2},{"c":', [{ a: 1 }, { b: 2 }], ["record", "record", "invalid_json", "syntax_error"]],
      ['[{"a":1},{"b":2}', [{ a: 1 }, { b: 2 }], ["record", "record", "syntax_error"]],
    ];
    for (const [text, want, kinds] of cases) {
      for (const size of [1, 3, 65536]) {
        const items = await read(text, size);
        assert.deepEqual(values(items), want, text);
        assert.deepEqual(
          items.map((i) =>
            i.kind === "record" ? "record" : i.kind === "rejected" ? i.rejection.reason : i.reason,
          ),
          kinds,
          text,
        );
        const last = items.at(-1)!;
        if (last.kind === "file_error") assert.equal(last.ordinal, kinds.length - 1);
      }
    }
    const cut = await read('[{"a":1},{"b":2},{"c":');
    assert.ok(cut[2]!.kind === "rejected" && cut[2]!.rejection.raw === '{"c":');
  });

  it("NDJSON whose first line is cut short: that line is rejected, the rest read (not one broken object)", async () => {
    const lines = R.map((r) => JSON.stringify(r));
    for (const first of ['{"event_type":"a","event":{"n":1', '{"event_type":"a","event":{"n":{"m":[1,']) {
      const text = `${first}\n${lines.join("\n")}\n`;
      for (const size of [1, 7, 65536]) {
        const items = await read(text, size);
        assert.deepEqual(
          items.map((i) => (i.kind === "rejected" ? i.rejection.reason : i.kind)),
          ["invalid_json", "record", "record", "record"],
          `${first} in chunks of ${size}`,
        );
        assert.deepEqual(values(items), R);
        assert.deepEqual(
          items.map((i) => (i.kind === "record" ? i.line : i.kind === "rejected" ? i.rejection.line : 0)),
          [1, 2, 3, 4],
        );
      }
    }
    // Blank lines between the cut line and the next object change nothing; without a final newline either.
    assert.deepEqual(values(await read(`{"a":[1,\n\n\r\n${lines[0]}`, 2)), [R[0]]);
  });

  it("pretty-printed objects, even with a nested object alone on an unindented line, stay concatenated", async () => {
    const text = '{"event_type":"a","event":\n{"n":1}\n}\n{\n"event_type":"b","event":{}}';
    assert.deepEqual(values(await read(text, 5)), [
      { event_type: "a", event: { n: 1 } },
      { event_type: "b", event: {} },
    ]);
  });

  it("a bad first line costs that line, whatever it is; the records after it are read (issue #18)", async () => {
    const good = Array.from({ length: 100 }, (_, k) => ({ event_type: "network_access", event: { k } }));
    const tail = `${good.map((r) => JSON.stringify(r)).join("\n")}\n`;
    const deep = 100_000;
    const firsts: [string, string][] = [
      ['["x"]', "not an object (one element)"],
      ["42", "a number"],
      ["]", "a lone ]"],
      ["\u0000\u0000\u0000\u0000", "NUL bytes"],
      ['<!DOCTYPE html><html><head><title>503</title></head><body>{"error": "busy"}</body></html>', "HTML"],
      ["[".repeat(deep), "a very deep [[[ line, never closed"],
      [`${"[".repeat(deep)}${"]".repeat(deep)}`, "a very deep balanced line"],
      ["[".repeat(2_000_000), "a deep line over maxRecordBytes"],
      ['{"event_type":"network_access","event":{"k":', "a line cut short"],
      ["{", "a lone {"],
      ['"unterminated', "an unterminated string"],
      ["[{", "an array opened and cut"],
    ];
    for (const [first, what] of firsts) {
      for (const size of [65536, 4093]) {
        const items = await read(`${first}\n${tail}`, size);
        const rejected = items.filter((i) => i.kind !== "record");
        assert.deepEqual(values(items).slice(-100), good, `${what}: the 100 records after it`);
        assert.ok(
          rejected.every((i) => i.kind === "rejected"),
          `${what}: no file-level error, got ${JSON.stringify(rejected.map((i) => (i.kind === "file_error" ? i.message : "")))}`,
        );
        // The line itself is one rejection (or one record the validator rejects), with its raw text.
        assert.ok(items.length <= 101, `${what}: ${items.length} items`);
        const own = items.length === 101 ? items[0]! : undefined;
        if (own?.kind === "rejected") {
          assert.equal(own.rejection.line, 1, what);
          assert.ok(first.startsWith(own.rejection.raw.slice(0, 1000)), `${what}: raw text kept`);
        }
      }
    }
    // An HTML page of several lines: each line is one rejection, then the records.
    const page = "<html>\n<body>\n<h1>Service Unavailable</h1>\n</body>\n</html>\n";
    const items = await read(page + tail);
    assert.deepEqual(values(items), good);
    assert.deepEqual(
      items.slice(0, 5).map((i) => (i.kind === "rejected" ? [i.rejection.line, i.rejection.raw] : i.kind)),
      page
        .trim()
        .split("\n")
        .map((l, k) => [k + 1, l]),
    );
  });

  it("a pretty-printed object, an array, then NDJSON lines in one file: each read as what it is", async () => {
    const text = `${JSON.stringify(R[0], null, 2)}\n${JSON.stringify([R[1]], null, 2)}\n${JSON.stringify(R[2])}\n`;
    for (const size of [1, 5, 65536]) assert.deepEqual(values(await read(text, size)), R);
  });

  it("invalid UTF-8 inside a record rejects that record", async () => {
    const bad = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}\n{"b":1}\n'),
    ]);
    const items = await read(bad);
    assert.equal(items[0]!.kind, "rejected");
    assert.equal((items[0] as { rejection: { reason: string } }).rejection.reason, "invalid_utf8");
    assert.deepEqual(values(items), [{ b: 1 }]);
  });

  it("a record over maxRecordBytes is rejected without stopping the file (NDJSON and array)", async () => {
    const big = JSON.stringify({ event_type: "x", event: { pad: "y".repeat(50_000) } });
    for (const text of [`{"a":1}\n${big}\n{"c":3}\n`, `[{"a":1},${big},{"c":3}]`, `{"a":1}${big}{"c":3}`]) {
      for (const chunk of [1000, 65536]) {
        const items = await read(text, chunk, { maxRecordBytes: 10_000 });
        assert.deepEqual(
          items.map((i) => i.kind),
          ["record", "rejected", "record"],
          text.slice(0, 20),
        );
        const rej = (items[1] as { rejection: { reason: string; raw: string; rawTruncated?: boolean } })
          .rejection;
        assert.equal(rej.reason, "record_too_large");
        assert.ok(rej.raw.startsWith('{"event_type":"x"'));
        assert.ok(rej.raw.length <= MAX_RAW_QUARANTINE_CHARS);
        assert.equal(rej.rawTruncated, true);
      }
    }
  });

  it("huge records under the limit read fine", async () => {
    const big = { event_type: "x", event: { pad: "z".repeat(3_000_000) } };
    const items = await read(JSON.stringify([big, big]), 65536, { maxRecordBytes: 4_000_000 });
    assert.deepEqual(values(items), [big, big]);
  });

  it("a file over maxFileBytes ends with file_too_large", async () => {
    const line = `${JSON.stringify({ a: "b".repeat(100) })}\n`;
    const items = await read(line.repeat(100), 1000, { maxFileBytes: 5000 });
    const last = items.at(-1)!;
    assert.ok(last.kind === "file_error");
    assert.equal(last.reason, "file_too_large");
    assert.ok(items.length > 1 && items.length < 100);
    assert.equal(last.ordinal, items.length - 1);
  });

  it("a gzip bomb stops at maxFileBytes of output", async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20));
    const items = await read(bomb, 65536, { maxFileBytes: 1024 * 1024 });
    assert.equal(items.length, 1);
    assert.ok(items[0]!.kind === "file_error" && items[0]!.reason === "file_too_large");
  });

  it("truncated or corrupt gzip is a file error after the records before it", async () => {
    // Records that do not compress to nothing, so half the gzip holds many of them.
    let text = "";
    for (let i = 0; i < 600; i++)
      text += `${JSON.stringify({ event_type: "x", event: { id: (i * 7919) % 10007, h: (i * 104729).toString(36) } })}\n`;
    const gz = gzipSync(text);
    const items = await read(gz.subarray(0, Math.floor(gz.length / 2)), 100);
    const last = items.at(-1)!;
    assert.ok(last.kind === "file_error");
    assert.equal(last.reason, "truncated_gzip");
    assert.ok(items.length > 1);
    assert.equal(last.ordinal, items.length - 1);
    // A wrong CRC in the trailer: every record decodes, then the check fails.
    const corrupt = Buffer.from(gz);
    corrupt.writeUInt32LE((corrupt.readUInt32LE(corrupt.length - 8) ^ 0xffffffff) >>> 0, corrupt.length - 8);
    const items2 = await read(corrupt, 100);
    const last2 = items2.at(-1)!;
    assert.ok(last2.kind === "file_error" && last2.reason === "truncated_gzip");
    assert.equal(last2.ordinal, items2.length - 1);
    assert.ok(last2.ordinal > 500, `${last2.ordinal} records before the error`);
  });

  it("gzip followed by bytes that are not gzip: every record, then a file error naming the trailing garbage", async () => {
    let text = "";
    for (let i = 0; i < 3000; i++) text += `${JSON.stringify({ event_type: "x", event: { i } })}\n`;
    for (const garbage of ["garbage\n", "\u0000\u0000x"]) {
      for (const size of [100, 65536]) {
        const items = await read(Buffer.concat([gzipSync(text), Buffer.from(garbage)]), size);
        assert.equal(values(items).length, 3000, `every record (chunks of ${size})`);
        const last = items.at(-1)!;
        assert.ok(last.kind === "file_error" && last.reason === "truncated_gzip");
        assert.match(last.message, /trailing garbage; every record before them was read/);
      }
    }
    // Zero padding after the data is no error.
    const padded = await read(Buffer.concat([gzipSync(text), Buffer.alloc(512)]), 100);
    assert.equal(values(padded).length, 3000);
    assert.equal(padded.at(-1)!.kind, "record");
  });
});

describe("readRecords: input stream errors are thrown", () => {
  for (const gz of [false, true]) {
    it(`an input that fails mid-way throws InputStreamError (${gz ? "gzip" : "plain"})`, async () => {
      const text = R.map((r) => JSON.stringify(r))
        .join("\n")
        .repeat(50);
      const body = gz ? gzipSync(text) : Buffer.from(text);
      const input = new PassThrough();
      input.write(body.subarray(0, Math.floor(body.length / 2)));
      setImmediate(() => input.destroy(new Error("ECONNRESET")));
      const seen: ReaderItem[] = [];
      await assert.rejects(
        async () => {
          for await (const item of readRecords(input)) seen.push(item);
        },
        (err: unknown) => {
          assert.ok(err instanceof InputStreamError);
          assert.match(err.message, /ECONNRESET/);
          return true;
        },
      );
      assert.ok(seen.every((i) => i.kind !== "file_error"));
    });
  }

  it("stopping early destroys the input", async () => {
    const input = new PassThrough();
    input.write(`${JSON.stringify(R[0])}\n${JSON.stringify(R[1])}\n`);
    for await (const item of readRecords(input)) {
      assert.equal(item.kind, "record");
      break;
    }
    assert.equal(input.destroyed, true);
  });
});

describe("readRecords: an input that stalls", () => {
  const line = `${JSON.stringify({ event_type: "audit_log", event: { version: 1 } })}\n`;

  for (const gz of [false, true]) {
    it(`fails with InputStreamError when a read goes unanswered for inputIdleMs${gz ? " (gzip)" : ""}`, async () => {
      const bytes = gz ? gzipSync(line.repeat(50)) : Buffer.from(line.repeat(50));
      const input = new PassThrough();
      input.write(bytes.subarray(0, Math.floor(bytes.length / 2))); // then nothing, never ended
      const seen: ReaderItem[] = [];
      await assert.rejects(
        (async () => {
          for await (const item of readRecords(input, { inputIdleMs: 150 })) seen.push(item);
        })(),
        (err: Error) =>
          err instanceof InputStreamError && /sent nothing for 0.15 s.*stalled/.test(err.message),
      );
      // (the error names the idle limit: no wall-clock bound, the runner's timeout catches a hang)
      // (plain: the first half's records were read; half a gzip stream this small may decode to nothing yet)
      if (!gz) assert.ok(seen.length > 0, "what arrived before the stall was read");
      assert.ok(input.destroyed, "the stalled input is destroyed");
    });
  }

  it("time the consumer holds the reader back does not count", async () => {
    const input = Readable.from([Buffer.from(line), Buffer.from(line), Buffer.from(line)], {
      objectMode: false,
    });
    let n = 0;
    for await (const _ of readRecords(input, { inputIdleMs: 50 })) {
      n++;
      await new Promise((r) => setTimeout(r, 200)); // the sink is slow: 4x the idle limit per record
    }
    assert.equal(n, 3);
  });
});
