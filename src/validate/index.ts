/**
 * Validate files without indexing: the same reader and schemas as the worker, counted into a summary.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { toRejection, validateRecord } from "../events/index.ts";
import { type ReaderOptions, readRecords } from "../parse/index.ts";
import { filesUnder } from "../util/files.ts";
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
 * skipped, symbolic links followed). Throws (ENOENT and the like) for a path that cannot be read.
 */
export async function expandPaths(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    const st = await stat(p);
    if (!st.isDirectory()) {
      out.push(p);
      continue;
    }
    const files = await filesUnder(p, (name) => name.startsWith("."));
    files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
    out.push(...files.map((f) => join(p, f.rel)));
  }
  return out;
}
