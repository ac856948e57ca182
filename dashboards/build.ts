/**
 * Writes dashboards/twingate.ndjson from src/tools/setup/dashboards-source.ts (for the default index prefix).
 * Run: npm run dashboards:build. A unit test fails when the committed file differs from this output.
 */
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildSavedObjects, DEFAULT_DASHBOARDS_PREFIX, toNdjson } from "../src/tools/setup/dashboards-source.ts";

const out = fileURLToPath(new URL("./twingate.ndjson", import.meta.url));
const objects = buildSavedObjects(DEFAULT_DASHBOARDS_PREFIX);
writeFileSync(out, toNdjson(objects));
process.stdout.write(`wrote ${objects.length} saved objects to ${out}\n`);
