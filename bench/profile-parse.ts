/** CPU profile of the parse path: node --import tsx --cpu-prof bench/profile-parse.ts FILE.json */
import { createReadStream } from "node:fs";
import { toIndexAction } from "../src/documents/index.ts";
import { validateRecord } from "../src/events/index.ts";
import { readRecordBatches } from "../src/parse/index.ts";

const path = process.argv[2]!;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  let n = 0;
  for await (const items of readRecordBatches(createReadStream(path, { highWaterMark: 64 * 1024 })))
    for (const item of items) {
      if (item.kind !== "record") continue;
      const v = validateRecord(item.value);
      if (!v.ok) continue;
      toIndexAction(
        v.record,
        { bucket: "b", key: "k", ordinal: item.ordinal, line: item.line },
        { indexPrefix: "t", ingestedAt: "2025-07-25T18:25:00Z" },
      );
      n++;
    }
  console.log(n, Math.round(n / ((performance.now() - t0) / 1000)));
}
