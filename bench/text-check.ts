/**
 * Per-record cost of the id's text check (src/core/documents/json-text.ts) against what it spares
 * (`JSON.stringify` of the parsed record) and `JSON.parse` of the line, on generated Twingate-like records:
 *   npm run bench:text-check [-- --mb N]
 * Under another runtime: bash scripts/node.sh run 24 --import tsx bench/text-check.ts
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isJsonTextOf } from "../src/core/documents/json-text.ts";
import { generate } from "./lib/records.ts";

const i = process.argv.indexOf("--mb");
const mb = i === -1 ? 10 : Number(process.argv[i + 1]);
const dir = mkdtempSync(join(tmpdir(), "tg-text-"));
try {
  const path = join(dir, "records.json");
  await generate(path, mb * 1024 * 1024);
  const lines = readFileSync(path, "utf8").split("\n").filter(Boolean);
  const values = lines.map((l) => JSON.parse(l) as unknown);
  const taken = lines.filter((l, k) => isJsonTextOf(l, values[k])).length;
  console.log(`${process.version}: ${lines.length} records, text taken for ${taken} (the rest serialised)`);
  const time = (name: string, f: (k: number) => unknown) => {
    for (let r = 0; r < 3; r++) for (let k = 0; k < lines.length; k++) f(k); // warm-up
    const t0 = performance.now();
    for (let r = 0; r < 5; r++) for (let k = 0; k < lines.length; k++) f(k);
    const us = ((performance.now() - t0) * 1000) / (5 * lines.length);
    console.log(`${name.padEnd(28)} ${us.toFixed(2)} µs a record`);
  };
  time("JSON.parse of the line", (k) => JSON.parse(lines[k]!));
  time("JSON.stringify of the record", (k) => JSON.stringify(values[k]));
  time("isJsonTextOf", (k) => isJsonTextOf(lines[k]!, values[k]));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
