/**
 * A node:test reporter (scripts/run-tests.mjs adds it beside the spec reporter for end-to-end runs): at the
 * end, each test file's wall time, slowest first, so what makes CI slow is named. A file's time runs from
 * its first event to its last one (its first test's start to its last test's end, hooks included; not its
 * module loading); with files run two at a time the times overlap, so their sum exceeds the run's.
 */
import path from "node:path";

export default async function* fileTimes(source) {
  const files = new Map();
  const t0 = Date.now();
  for await (const event of source) {
    const file = event.data?.file && path.resolve(event.data.file);
    if (!file || event.type === "test:enqueue") continue;
    const now = Date.now();
    const f = files.get(file) ?? { first: now, last: now, failed: false };
    f.last = now;
    if (event.type === "test:fail") f.failed = true;
    files.set(file, f);
  }
  if (files.size === 0) return;
  const rows = [...files].sort((a, b) => b[1].last - b[1].first - (a[1].last - a[1].first));
  const sec = (ms) => `${(ms / 1000).toFixed(0).padStart(5)}s`;
  let out = `\n[tests] time per file (wall, from its first test to its last event; ${files.size} files, run ${sec(Date.now() - t0).trim()}):\n`;
  for (const [file, f] of rows) {
    out += `  ${sec(f.last - f.first)}  ${path.relative(process.cwd(), file)}${f.failed ? "  (failed)" : ""}\n`;
  }
  yield out;
}
