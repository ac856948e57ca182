import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { crc32, gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { GzipMembers, gzipHeaderLength } from "../../src/core/parse/gunzip.ts";

/** Runs `gz` through GzipMembers in chunks of `size`: the output and the data error, if any. */
async function gunzip(gz: Buffer, size = 16 * 1024): Promise<{ out: Buffer; error?: string }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < gz.length; i += size) parts.push(gz.subarray(i, i + size));
  const g = new GzipMembers();
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    g.on("data", (b: Buffer) => chunks.push(b));
    g.on("end", resolve);
    g.on("error", reject);
    Readable.from(parts).pipe(g);
  });
  const out = Buffer.concat(chunks);
  return g.dataError ? { out, error: g.dataError.message } : { out };
}

const text = (n: number, seed = 0) =>
  Buffer.from(
    Array.from({ length: n }, (_, i) => `{"n":${seed + i},"s":"${((seed + i) * 7919).toString(36)}"}\n`).join(
      "",
    ),
  );

/** A member with the optional header fields set (FEXTRA, FNAME, FCOMMENT, FHCRC), same data. */
function withHeaderFields(member: Buffer): Buffer {
  const flags = 0x04 | 0x08 | 0x10 | 0x02;
  const head = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, flags]),
    member.subarray(4, 10),
    Buffer.from([3, 0, 0x41, 0x42, 0x43]), // XLEN 3 + 3 bytes
    Buffer.from("name.json\0comment\0"),
  ]);
  const hcrc = Buffer.alloc(2);
  hcrc.writeUInt16LE(crc32(head) & 0xffff);
  return Buffer.concat([head, hcrc, member.subarray(10)]);
}

describe("GzipMembers", () => {
  it("decodes what gunzipSync decodes: one or several members, any chunking, header fields (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat(3000), fc.integer({ min: 0, max: 9 }), fc.boolean()), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.integer({ min: 1, max: 70_000 }),
        async (members, size) => {
          const datas = members.map(([n], i) => text(n, i * 10_000));
          const gz = Buffer.concat(
            members.map(([, level, fields], i) => {
              const m = gzipSync(datas[i]!, { level });
              return fields ? withHeaderFields(m) : m;
            }),
          );
          assert.deepEqual(gunzipSync(gz), Buffer.concat(datas), "zlib agrees on the input");
          const r = await gunzip(gz, size);
          assert.equal(r.error, undefined);
          assert.ok(r.out.equals(Buffer.concat(datas)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it("trailing garbage: every byte of the data comes out, then the error says what it was", async () => {
    const data = text(3000);
    for (const size of [1000, 16 * 1024, 1 << 20]) {
      const r = await gunzip(Buffer.concat([gzipSync(data), Buffer.from("garbage\n")]), size);
      assert.ok(r.out.equals(data), `all ${data.length} bytes (chunks of ${size}), got ${r.out.length}`);
      assert.match(r.error ?? "", /after the end of the gzip data are not gzip \(trailing garbage/);
    }
    // Zeros after the data are padding; garbage after the padding is still garbage.
    const padded = Buffer.concat([gzipSync(data), Buffer.alloc(100)]);
    assert.deepEqual(await gunzip(padded), { out: data });
    const r = await gunzip(Buffer.concat([padded, Buffer.from("x")]));
    assert.ok(r.out.equals(data));
    assert.match(r.error ?? "", /zero padding are not gzip/);
  });

  it("cut short anywhere: what was decoded comes out, and the error says so", async () => {
    const data = text(2000);
    const gz = gzipSync(data);
    for (const cut of [1, 5, 10, 11, gz.length >> 1, gz.length - 9, gz.length - 8, gz.length - 1]) {
      const r = await gunzip(gz.subarray(0, cut), 4096);
      assert.ok(r.error, `cut at ${cut}: an error`);
      assert.ok(data.subarray(0, r.out.length).equals(r.out), `cut at ${cut}: a prefix of the data`);
    }
    assert.equal(
      (await gunzip(gz.subarray(0, gz.length - 4))).out.length,
      data.length,
      "trailer cut: all data",
    );
  });

  it("a wrong CRC or length, corrupt deflate data and a bad header are errors with zlib's words", async () => {
    const data = text(2000);
    const gz = gzipSync(data);
    const crc = Buffer.from(gz);
    crc[crc.length - 8]! ^= 0xff;
    assert.equal((await gunzip(crc)).error, "incorrect data check");
    const len = Buffer.from(gz);
    len[len.length - 1]! ^= 0xff;
    assert.equal((await gunzip(len)).error, "incorrect length check");
    const corrupt = Buffer.from(gz);
    corrupt.fill(0xff, 200, 260);
    const c = await gunzip(corrupt, 1024);
    assert.ok(c.error && !/trailing/.test(c.error), c.error);
    assert.ok(data.subarray(0, c.out.length).equals(c.out), "a prefix of the data");
    const reserved = Buffer.from(gz);
    reserved[3] = 0x20;
    assert.deepEqual(await gunzip(reserved), { out: Buffer.alloc(0), error: "unknown header flags set" });
    const method = Buffer.from(gz);
    method[2] = 7;
    assert.equal((await gunzip(method)).error, "unknown compression method");
    const hcrc = withHeaderFields(gz);
    hcrc[hcrc.indexOf("comment\0") + 8]! ^= 1;
    assert.equal((await gunzip(hcrc)).error, "header crc mismatch");
  });

  it("gzipHeaderLength: -1 until the header is whole", () => {
    const m = withHeaderFields(gzipSync(Buffer.from("x")));
    const full = 10 + 2 + 3 + "name.json\0comment\0".length + 2;
    for (let n = 0; n < full; n++) assert.equal(gzipHeaderLength(m.subarray(0, n)), -1, `${n} bytes`);
    assert.equal(gzipHeaderLength(m), full);
  });
});
