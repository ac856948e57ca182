/**
 * Validate files without indexing: the same reader and schemas as the worker, counted into a summary.
 */
import { createReadStream } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { toRejection, validateRecord } from "../events/index.ts";
import { type ReaderOptions, readRecords } from "../parse/index.ts";
import {
  addFile,
  addFileError,
  addRejected,
  addValid,
  newSummary,
  type ValidationSummary,
} from "./summary.ts";

export * from "./summary.ts";

/** Read one file's stream and count it. Input stream errors are thrown (the caller reports them). */
export async function validateStream(
  input: Readable,
  file: string,
  opts: ReaderOptions = {},
): Promise<ValidationSummary> {
  const s = newSummary();
  addFile(s);
  for await (const item of readRecords(input, opts)) {
    if (item.kind === "record") {
      const v = validateRecord(item.value);
      if (v.ok) addValid(s, v.record.event_type);
      else addRejected(s, file, toRejection(v, item));
    } else if (item.kind === "rejected") {
      addRejected(s, file, item.rejection);
    } else {
      addFileError(s, file, item.reason, `${item.message} (after ${item.ordinal} records)`);
    }
  }
  return s;
}

export async function validateFile(path: string, opts: ReaderOptions = {}): Promise<ValidationSummary> {
  return validateStream(createReadStream(path), path, opts);
}

/**
 * The files to validate: each path as given, directories walked recursively (sorted, hidden entries
 * skipped). Throws (ENOENT and the like) for a path that cannot be read.
 */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p);
    if (st.isDirectory()) await walk(p, out);
    else out.push(p);
  }
  return out;
}

async function walk(dir: string, out: string[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true });
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith(".")) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) await walk(full, out);
    else if (e.isFile()) out.push(full);
  }
}
