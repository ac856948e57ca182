/**
 * Validate files without indexing: the same reader and schemas as the worker, counted into a summary.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { ingestObject } from "../../core/ingest/ingest-object.ts";
import type { RejectReason } from "../../core/model.ts";
import type { ReaderOptions } from "../../core/parse/index.ts";
import { CountingSink } from "../../core/sink/counting-sink.ts";
import { createLogger } from "../../platform/logger.ts";
import { filesUnder } from "../../platform/util/files.ts";
import {
  addDeviations,
  addFile,
  addFileError,
  addRejected,
  addValid,
  type Detail,
  newSummary,
  type ValidationSummary,
} from "./summary.ts";

export * from "./summary.ts";

const silent = createLogger("silent");

/**
 * Read one file's stream and count it: the worker's own pipeline (ingestObject) into a CountingSink.
 * Input stream errors are thrown (the caller reports them).
 */
export async function validateStream(
  input: Readable,
  file: string,
  opts: ReaderOptions = {},
  onDetail?: (d: Detail) => void,
): Promise<ValidationSummary> {
  const s = newSummary();
  addFile(s);
  const sink = new CountingSink((action) => {
    if (action.kind === "record") {
      addValid(s, action.eventType ?? "unknown");
      const devs = action.deviations ?? [];
      if (devs.length === 0) return;
      addDeviations(
        s,
        devs.map((d) => `${d.path}:${d.action}`),
      );
      if (onDetail) {
        const ingest = action.document["ingest"] as { ordinal: number; line?: number };
        for (const d of devs)
          onDetail({
            file,
            ordinal: ingest.ordinal,
            ...(ingest.line !== undefined ? { line: ingest.line } : {}),
            kind: "deviation",
            reason: d.action,
            path: d.at,
            message: d.message,
          });
      }
      return;
    }
    const d = action.document as {
      quarantine: { reason: RejectReason; message: string; path?: string; raw: string };
      ingest: { ordinal: number; line?: number };
    };
    const q = d.quarantine;
    // A file-level error is the one quarantine document without raw text (a record always has some).
    if (q.raw === "")
      return addFileError(s, file, q.reason, `${q.message} (after ${d.ingest.ordinal} records)`);
    onDetail?.({
      file,
      ordinal: d.ingest.ordinal,
      ...(d.ingest.line !== undefined ? { line: d.ingest.line } : {}),
      kind: "rejected",
      reason: q.reason,
      ...(q.path !== undefined ? { path: q.path } : {}),
      message: q.message,
    });
    addRejected(s, file, {
      reason: q.reason,
      message: q.message,
      raw: q.raw,
      ordinal: d.ingest.ordinal,
      ...(q.path !== undefined ? { path: q.path } : {}),
      ...(action.eventType !== undefined ? { eventType: action.eventType } : {}),
      ...(d.ingest.line !== undefined ? { line: d.ingest.line } : {}),
    });
  });
  await ingestObject(
    { bucket: "", key: file },
    {
      source: { open: async () => input },
      sink,
      logger: silent,
      indexPrefix: "validate",
      // validate stores nothing: every rejection counted and listed, none folded into a summary.
      maxRejectsPerReason: Number.MAX_SAFE_INTEGER,
      ...(opts.maxRecordBytes !== undefined ? { maxRecordBytes: opts.maxRecordBytes } : {}),
      ...(opts.maxFileBytes !== undefined ? { maxFileBytes: opts.maxFileBytes } : {}),
    },
  );
  return s;
}

export async function validateFile(
  path: string,
  opts: ReaderOptions = {},
  onDetail?: (d: Detail) => void,
): Promise<ValidationSummary> {
  return validateStream(createReadStream(path), path, opts, onDetail);
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
