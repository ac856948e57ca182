/**
 * CPU profile of the parse path as the benchmark times it (reader → validate → document and id, the
 * record's text reused as ingest/actions.ts does), on a generated file or FILE:
 *   node --import tsx --cpu-prof bench/profile-parse.ts [FILE.json] [--mb N] [--bulk]
 * Prints records/s per round; the profile (.cpuprofile) then shows where the time goes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as documents from "../src/core/documents/index.ts";
import * as events from "../src/core/events/index.ts";
import * as parse from "../src/core/parse/index.ts";
import * as bulkBody from "../src/core/sink/bulk-body.ts";
import { fullRun } from "./lib/parse-runs.ts";
import { generate } from "./lib/records.ts";

const flag = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? undefined : process.argv[i + 1];
};
const given = process.argv[2] && !process.argv[2].startsWith("--") ? process.argv[2] : undefined;
const dir = given ? undefined : mkdtempSync(join(tmpdir(), "tg-prof-"));
const path = given ?? join(dir!, "2025-07-25T18:20:00+00:00.json");
if (!given) await generate(path, Number(flag("mb") ?? 20) * 1024 * 1024);
const run = fullRun(parse, events, documents, process.argv.includes("--bulk") ? bulkBody : undefined);
try {
  for (let round = 0; round < 5; round++) {
    const r = await run(path);
    console.log(`round ${round}: ${r.records} records, ${Math.round(r.records / r.seconds)} records/s`);
  }
} finally {
  if (dir) rmSync(dir, { recursive: true, force: true });
}
