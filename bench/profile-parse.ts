/**
 * CPU profile of the parse path up to the bulk request bytes (reader → validate → documents → bulk batch):
 *   node --import tsx --cpu-prof bench/profile-parse.ts FILE.json
 */
import { createReadStream } from "node:fs";
import { toIndexAction } from "../src/core/documents/index.ts";
import { validateRecord } from "../src/core/events/index.ts";
import { readRecordBatches } from "../src/core/parse/index.ts";
import { BulkBatch } from "../src/core/sink/bulk-body.ts";

const path = process.argv[2]!;
for (let round = 0; round < 3; round++) {
  const t0 = performance.now();
  let n = 0;
  let batch = new BulkBatch(6 * 1024 * 1024);
  for await (const items of readRecordBatches(createReadStream(path, { highWaterMark: 64 * 1024 })))
    for (const item of items) {
      if (item.kind !== "record") continue;
      const v = validateRecord(item.value);
      if (!v.ok) continue;
      batch.add(
        toIndexAction(
          v.record,
          { bucket: "b", key: "k", ordinal: item.ordinal, line: item.line },
          { indexPrefix: "t", ingestedAt: "2025-07-25T18:25:00Z" },
        ),
      );
      if (batch.size >= 2000) batch = new BulkBatch(6 * 1024 * 1024);
      n++;
    }
  console.log(n, Math.round(n / ((performance.now() - t0) / 1000)));
}
