/**
 * A node:test reporter (scripts/run-tests.mjs adds it beside the spec reporter for end-to-end runs): at the
 * end, each test file's wall time, slowest first, so what makes CI slow is named. A file's time runs from
 * the runner taking it off its queue (its process starting) to its completion, both events the runner emits
 * as they happen (the start/pass events of a file's tests may be held back to keep the output in file order).
 * With files run two at a time the times overlap, so their sum exceeds the run's.
 */
import path from "node:path";

export default async function* fileTimes(source) {
  const files = new Map();
  const t0 = Date.now();
  for await (const event of source) {
    const file = event.data?.file && path.resolve(event.data.file);
    if (!file) continue;
    const now = Date.now();
    const f = files.get(file) ?? { start: undefined, end: undefined, failed: false };
    // the file's own entry (nesting 0, named by its path): taken off the queue, then complete
    const own = event.data.nesting === 0 && path.resolve(String(event.data.name)) === file;
    if (own && event.type === "test:dequeue") f.start = now;
    if (own && event.type === "test:complete") f.end = now;
    if (event.type === "test:fail") f.failed = true;
    files.set(file, f);
  }
  const rows = [...files]
    .filter(([, f]) => f.start !== undefined)
    .map(([file, f]) => [file, (f.end ?? Date.now()) - f.start, f]);
  if (rows.length === 0) return;
  rows.sort((a, b) => b[1] - a[1]);
  const sec = (ms) => `${(ms / 1000).toFixed(0).padStart(5)}s`;
  let out = `\n[tests] time per file (wall, its process's start to its end; ${rows.length} files, run ${sec(Date.now() - t0).trim()}):\n`;
  for (const [file, ms, f] of rows) {
    out += `  ${sec(ms)}  ${path.relative(process.cwd(), file)}${f.failed ? "  (failed)" : ""}${f.end === undefined ? "  (did not end)" : ""}\n`;
  }
  yield out;
}
