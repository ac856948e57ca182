/**
 * Keeps docs/RELIABILITY.md and docs/SECURITY.md honest: every reliability and security test, and every
 * malformed corpus case, is named in them, and every test the docs name exists.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { generatedCases, smallCases } from "../fixtures/malformed/corpus.ts";

const read = (p: string) => readFileSync(new URL(`../../${p}`, import.meta.url), "utf8");
const titles = (src: string) => [...src.matchAll(/\bit\(\s*"((?:[^"\\]|\\.)+)"/g)].map((m) => m[1]!);

const reliability = read("docs/RELIABILITY.md");
const security = read("docs/SECURITY.md");
/** Whitespace-normalised (tables and wrapped lines). */
const docs = `${reliability}\n${security}`.replace(/\s+/g, " ");
const tests = {
  "test/e2e/reliability.test.ts": titles(read("test/e2e/reliability.test.ts")),
  "test/e2e/security.test.ts": titles(read("test/e2e/security.test.ts")),
  "test/e2e/stalled-body.test.ts": titles(read("test/e2e/stalled-body.test.ts")),
  "test/e2e/write-holds.test.ts": titles(read("test/e2e/write-holds.test.ts")),
  "test/e2e/hostile.test.ts": titles(read("test/e2e/hostile.test.ts")),
  "test/unit/fuzz-validate.test.ts": titles(read("test/unit/fuzz-validate.test.ts")),
};

describe("RELIABILITY.md and SECURITY.md name the tests that prove them", () => {
  for (const [file, names] of Object.entries(tests)) {
    it(`every test of ${file} is in the docs`, () => {
      assert.ok(names.length > 0);
      for (const n of names) assert.ok(docs.includes(n), `docs do not name the test "${n}"`);
    });
  }

  it("every malformed corpus case is in RELIABILITY.md", () => {
    for (const c of [...smallCases(), ...generatedCases({ big: false })]) {
      assert.ok(reliability.includes(`\`${c.name}\``), `RELIABILITY.md does not list ${c.name}`);
    }
    assert.ok(
      reliability.includes("`single-50mb-line.ndjson`") && reliability.includes("`gzip-bomb.json.gz`"),
    );
  });

  it("every test title the docs quote (in italics) exists", () => {
    const all = [
      ...Object.values(tests).flat(),
      ...titles(read("test/e2e/worker.test.ts")),
      ...titles(read("test/e2e/backfill.test.ts")),
      ...titles(read("test/e2e/enqueue.test.ts")),
      ...titles(read("test/e2e/replay.test.ts")),
    ];
    const prose = docs.replace(/`[^`]*`/g, "");
    const quoted = [...prose.matchAll(/(?<!\*)\*([^*\s][^*]{18,}?)\*(?!\*)/g)].map((m) => m[1]!.trim());
    assert.ok(quoted.length >= 10, `found ${quoted.length} quoted titles`);
    for (const q of quoted) {
      const ok = q.endsWith("...") ? all.some((t) => t.startsWith(q.slice(0, -3))) : all.includes(q);
      assert.ok(ok, `the docs quote a test that does not exist: "${q}"`);
    }
  });
});
