/**
 * Records -> the bytes of one file, in one of the layouts seen in the wild, optionally gzipped.
 * Deterministic: the same records give the same bytes (gzip at a fixed level, mtime 0, no file name).
 */
import { gzipSync } from "node:zlib";

export const LAYOUTS = ["ndjson", "array", "concatenated"] as const;
export type Layout = (typeof LAYOUTS)[number];

interface EncodeOptions {
  layout: Layout;
  gzip: boolean;
}

/**
 * - `ndjson`: one record per line, each line ending in "\n".
 * - `array`: one JSON array, a record per line: `[{...},\n{...}]\n`.
 * - `concatenated`: pretty-printed objects one after the other (a record spans many lines), so only a
 *   streaming JSON reader, not a line reader, can split them.
 *
 * Record texts must be JSON except in NDJSON, where a broken line only costs that line; elsewhere a broken
 * record would make the rest of the file unreadable, which is a different test (see LayoutError).
 */
function encodeRecords(texts: readonly string[], layout: Layout): Buffer {
  switch (layout) {
    case "ndjson":
      return Buffer.from(texts.map((t) => `${t}\n`).join(""), "utf8");
    case "array":
      return Buffer.from(`[${texts.join(",\n")}]\n`, "utf8");
    case "concatenated":
      return Buffer.from(texts.map((t) => `${JSON.stringify(JSON.parse(t), null, 2)}\n`).join(""), "utf8");
  }
}

export function gzip(bytes: Buffer): Buffer {
  // Node writes a gzip header with mtime 0 and no name: the output depends on the input only.
  return gzipSync(bytes, { level: 6 });
}

export function encodeFile(texts: readonly string[], opts: EncodeOptions): Buffer {
  const raw = encodeRecords(texts, opts.layout);
  return opts.gzip ? gzip(raw) : raw;
}

/**
 * A gzip stream cut short, as an interrupted upload would leave it: the trailer (CRC and length) and
 * part of the compressed data are gone, so a reader must report `truncated_gzip`.
 */
export function truncateGzip(gz: Buffer): Buffer {
  if (gz.length < 24) throw new RangeError("gzip data too short to truncate meaningfully");
  const cut = Math.min(Math.floor(gz.length * 0.6), gz.length - 9);
  return gz.subarray(0, Math.max(11, cut));
}

export function contentType(gzipped: boolean): string {
  return gzipped ? "application/gzip" : "application/json";
}
