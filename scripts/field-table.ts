/** Writes docs/MAPPINGS.md's field table from the stream declarations (between its markers). */
import { readFileSync, writeFileSync } from "node:fs";
import { fieldTable, TABLE_END, TABLE_START } from "../src/core/streams/field-table.ts";

const file = new URL("../docs/MAPPINGS.md", import.meta.url);
const page = readFileSync(file, "utf8");
const start = page.indexOf(TABLE_START);
const end = page.indexOf(TABLE_END);
if (start < 0 || end < start)
  throw new Error(`docs/MAPPINGS.md has no ${TABLE_START} ... ${TABLE_END} markers`);
writeFileSync(file, page.slice(0, start) + fieldTable() + page.slice(end + TABLE_END.length));
process.stdout.write("docs/MAPPINGS.md: field table written\n");
