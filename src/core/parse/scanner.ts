/**
 * The synchronous core of the file reader: bytes in (any chunking), reader items out.
 *
 * The layout is decided per record, not per file, so that a bad line costs that line whatever comes first
 * (a first line `["x"]`, `42`, an HTML page, NUL bytes, a lone `]`, a very deep `[[[...` line) and a
 * pretty-printed or array file still reads as such:
 *
 * - LINE mode (the default, at the start of each line outside any value): a whole line that `JSON.parse`
 *   accepts is one record (NDJSON), or, when it is an array, one record per element (a compact array file,
 *   or a line holding one). Lines are found with Buffer#indexOf; lines complete in a chunk are read in place
 *   with one UTF-8 check for all of them; blank lines are skipped; a line that is not valid UTF-8 is
 *   rejected alone. This is the hot path (Twingate writes NDJSON).
 * - STRUCT mode, for a line `JSON.parse` refuses or one longer than maxRecordBytes: a byte-level JSON
 *   grammar (strings jumped with indexOf, a bracket stack bounded at MAX_NESTING) reads the values that
 *   start on it, across lines: pretty-printed objects, objects back to back, and arrays. A top-level `[`
 *   followed by `{` or `]` is an array of records (each element one record); any other `[` starts a value
 *   (one record, which the validator rejects as not an object). Back at the top level at a line's end,
 *   outside any array, the scanner returns to LINE mode.
 * - Recovery: a byte the grammar cannot take costs the least it can. Garbage between values, or a value
 *   broken on its first line, is rejected with the rest of that line (`invalid_json`, its raw text kept);
 *   a value that spanned lines before breaking (a first line cut short, then whole records) has its first
 *   line rejected and the lines after it read again (at most RESCAN_BUDGET bytes re-read per file; beyond,
 *   or past maxRecordBytes, the value is rejected up to the end of the line where it broke). The end of
 *   the file inside a value is a break like any other. Only an array still open at the end of the file
 *   is a file-level `syntax_error` (after everything in it was read).
 *
 * Every record and rejection is emitted in file order with a 0-based ordinal and its 1-based line; the
 * output does not depend on how the input is chunked (a property test feeds it byte by byte).
 *
 * Memory is bounded by maxRecordBytes: a record is buffered only up to that size; beyond it the
 * scanner keeps a short preview, skips to the record's end and emits a `record_too_large` rejection.
 */
import { isUtf8 } from "node:buffer";
import { cutRaw, MAX_RAW_QUARANTINE_CHARS, type Rejection, type RejectReason } from "../model.ts";

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
/** Sized for Twingate's 5-minute files with room to spare: see the maxFileBytes setting. */
export const DEFAULT_MAX_FILE_BYTES = 2 * 1024 ** 3;

export interface ReaderOptions {
  /** Largest record accepted, in bytes of its text (default 1 MiB). */
  maxRecordBytes?: number;
  /** Largest decompressed file accepted, in bytes (default 2 GiB). */
  maxFileBytes?: number;
}

export type ReaderItem =
  | { kind: "record"; value: unknown; raw: string; ordinal: number; line?: number }
  | { kind: "rejected"; rejection: Rejection }
  | { kind: "file_error"; reason: RejectReason; message: string; ordinal: number };

export type Layout = "ndjson" | "array" | "concatenated";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

/**
 * Deepest nesting of arrays and objects a record may have. Older V8s' JSON.parse recursed and gave up
 * somewhere in the thousands (by stack size), Node 26's parses any depth: without a limit of our own the
 * same record was rejected or accepted by runtime. No Twingate record nests more than a few levels.
 */
export const MAX_NESTING_DEPTH = 1000;

/** True when the JSON text nests arrays/objects deeper than `limit` (brackets in strings do not count). */
export function nestsDeeperThan(text: string, limit: number): boolean {
  // d levels take at least 2d characters: short texts cannot exceed the limit
  if (text.length <= 2 * limit) return false;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      // to the closing quote: one not preceded by an odd number of backslashes
      for (i++; i < text.length; i++) {
        const s = text.charCodeAt(i);
        if (s === BACKSLASH) i++;
        else if (s === QUOTE) break;
      }
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

function tooLargeMessage(size: number, max: number): string {
  return `record of ${size} bytes is larger than the limit of ${max} bytes (max record bytes)`;
}

/** A rejection item; its raw text cut to the quarantine's limit (then marked truncated, as when `truncated`). */
function rejectedItem(
  reason: RejectReason,
  message: string,
  raw: string,
  ordinal: number,
  line: number | undefined,
  truncated = false,
): ReaderItem {
  const cut = cutRaw(raw);
  const rejection: Rejection = { reason, message, raw: cut.raw, ordinal };
  if (truncated || cut.truncated) rejection.rawTruncated = true;
  if (line !== undefined) rejection.line = line;
  return { kind: "rejected", rejection };
}

/** One record's decoded text: the record, or an invalid_json rejection (not JSON, or nested too deep). */
function parseRecordText(raw: string, ordinal: number, line: number | undefined): ReaderItem {
  if (nestsDeeperThan(raw, MAX_NESTING_DEPTH))
    return rejectedItem("invalid_json", `nested deeper than ${MAX_NESTING_DEPTH} levels`, raw, ordinal, line);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return rejectedItem("invalid_json", `not valid JSON: ${(err as Error).message}`, raw, ordinal, line);
  }
  return line === undefined
    ? { kind: "record", value, raw, ordinal }
    : { kind: "record", value, raw, ordinal, line };
}

/**
 * One record's whole text read under the reader's rules for a record (its size limit, its nesting limit,
 * JSON.parse), as the item the reader gives for it: replay reads a quarantined record's stored text with
 * this, so that a record passes or fails there exactly as it would in a file. The text is whole, so a
 * record over the size limit keeps it (cut only to the quarantine's limit).
 */
export function readRecordText(
  raw: string,
  at: { ordinal: number; line?: number | undefined },
  maxRecordBytes: number = DEFAULT_MAX_RECORD_BYTES,
): ReaderItem {
  const size = Buffer.byteLength(raw, "utf8");
  if (size > maxRecordBytes)
    return rejectedItem("record_too_large", tooLargeMessage(size, maxRecordBytes), raw, at.ordinal, at.line);
  return parseRecordText(raw, at.ordinal, at.line);
}

/** Bytes of an oversized record kept for the quarantine preview (a UTF-8 char is at most 4 bytes). */
const PREVIEW_BYTES = MAX_RAW_QUARANTINE_CHARS * 4;

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, "0")}`;
}

/** Nesting deeper than this inside one value read in STRUCT mode breaks it (the same limit as JSON texts). */
const MAX_NESTING = MAX_NESTING_DEPTH;
/** Bytes of broken values re-read (see recovery) per file at most, if more than 4 × maxRecordBytes. */
const RESCAN_BUDGET_MIN = 64 * 1024 * 1024;

const EMPTY = Buffer.alloc(0);
const BOM = [0xef, 0xbb, 0xbf];

// Modes.
const LINE = 0;
const STRUCT = 1;
// STRUCT, where the scanner is: between values, after a top-level "[" (record or array of records?), inside
// a value, or skipping the rest of a line that is rejected.
const T_BETWEEN = 0;
const T_BRACKET = 1;
const T_VALUE = 2;
const T_SKIP = 3;
// Inside a value: what the grammar expects next.
const X_VALUE = 0;
const X_VALUE_OR_CLOSE = 1;
const X_KEY_OR_CLOSE = 2;
const X_KEY = 3;
const X_COLON = 4;
const X_COMMA_OR_CLOSE = 5;
// Bracket stack entries.
const OBJ = 1;
const ARR = 2;

/** First byte of a number or literal. */
function isBareStart(c: number): boolean {
  return c === 0x2d || (c >= 0x30 && c <= 0x39) || c === 0x74 || c === 0x66 || c === 0x6e;
}

/** Ends a number or literal. */
function isDelimiter(c: number): boolean {
  return (
    isWs(c) ||
    c === COMMA ||
    c === CLOSE_BRACKET ||
    c === CLOSE_BRACE ||
    c === COLON ||
    c === OPEN_BRACE ||
    c === OPEN_BRACKET ||
    c === QUOTE
  );
}

export class RecordScanner {
  readonly maxRecordBytes: number;
  readonly maxFileBytes: number;

  private out: ReaderItem[] = [];
  /** Set once a file_error was emitted or the input ended: nothing more comes out. */
  finished = false;
  /** How the first record was read (files may mix layouts; informational). */
  layout: Layout | undefined;

  private totalBytes = 0;
  private ordinal = 0;
  private sawBom = false;
  private bomBytes: number[] = [];
  /** Bytes still to scan, in order: the current chunk, or bytes given back to be read again. */
  private queue: Buffer[] = [];
  private mode = LINE;
  private lineNo = 1;
  private rescanBudget: number;

  // The current line (LINE) or value / skipped text (STRUCT): its bytes.
  private parts: Buffer[] = [];
  private partBytes = 0;
  private oversize = false;
  private preview: Buffer[] = [];
  private previewBytes = 0;

  // STRUCT.
  private top = T_BETWEEN;
  /** Inside an array of records (its elements are records). */
  private inArray = false;
  /** The line the array of records opened on, and whether any element of it was read. */
  private arrayLine = 0;
  private arrayRead = false;
  /** Its "[" and the spaces after it, for a rejection's raw text if it turns out to be a bad line. */
  private arrayOpen: Buffer = EMPTY;
  private stack = new Uint8Array(MAX_NESTING + 1);
  private depth = 0;
  private expect = X_VALUE;
  private inString = false;
  private isKey = false;
  private escape = false;
  /** The current value is a number or literal (or, at depth 0, that or a string). */
  private bare = false;
  /** Line where the current value (or skipped text) starts. */
  private valueLine = 1;
  /** Offset in the value's bytes of its first line break (-1: none yet). */
  private firstLf = -1;
  private skipMessage = "";

  constructor(opts: ReaderOptions = {}) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.rescanBudget = Math.max(RESCAN_BUDGET_MIN, 4 * this.maxRecordBytes);
  }

  /** Decompressed bytes fed so far. */
  get bytesRead(): number {
    return this.totalBytes;
  }

  /** The ordinal the next record will get (= records and rejections emitted so far). */
  get nextOrdinal(): number {
    return this.ordinal;
  }

  /** Feed the next chunk of decompressed bytes; returns the items completed by it. */
  push(chunk: Buffer): ReaderItem[] {
    this.out = [];
    if (this.finished || chunk.length === 0) return this.out;
    this.totalBytes += chunk.length;
    if (this.totalBytes > this.maxFileBytes) {
      this.fileError(
        "file_too_large",
        `decompressed file is larger than the limit of ${this.maxFileBytes} bytes (max file bytes)`,
      );
      return this.out;
    }
    const buf = this.sawBom ? chunk : this.skipBom(chunk);
    if (buf.length > 0) {
      this.queue.push(buf);
      this.drain();
    }
    return this.out;
  }

  /** The input ended cleanly: flush the last record or report what is unfinished. */
  end(): ReaderItem[] {
    this.out = [];
    if (this.finished) return this.out;
    if (!this.sawBom && this.bomBytes.length > 0) {
      // The file is the start of a BOM and nothing else: content after all.
      this.sawBom = true;
      this.queue.push(Buffer.from(this.bomBytes));
      this.drain();
    }
    while (!this.finished) {
      if (this.mode === LINE) {
        if (this.partBytes === 0) break;
        const line = this.takeParts(EMPTY);
        if (this.wholeLine(line, 0, line.length, isUtf8(line))) break;
        this.mode = STRUCT;
        this.queue.push(line);
        this.drain();
        continue;
      }
      if (this.top === T_VALUE) {
        if (this.bare && this.depth === 0) this.finishValue();
        else if (this.breakValue(EMPTY, 0, 0, "unexpected end of file inside the record") < 0) this.drain();
        continue;
      }
      if (this.top === T_SKIP) {
        this.endSkip();
        continue;
      }
      if (this.top === T_BRACKET || this.inArray) {
        this.fileError("syntax_error", "unexpected end of file: the JSON array is not closed");
        return this.out;
      }
      break;
    }
    this.finished = true;
    return this.out;
  }

  /** Drop a UTF-8 BOM at the start (it may be split across chunks); returns the rest. */
  private skipBom(buf: Buffer): Buffer {
    let i = 0;
    while (i < buf.length && this.bomBytes.length < 3) {
      if (buf[i] !== BOM[this.bomBytes.length]) break;
      this.bomBytes.push(buf[i]!);
      i++;
    }
    if (this.bomBytes.length === 3) {
      this.sawBom = true;
      return buf.subarray(i);
    }
    if (i < buf.length) {
      // Not (the rest of) a BOM: any partial BOM bytes are content.
      this.sawBom = true;
      const held = this.bomBytes;
      this.bomBytes = [];
      return held.length > 0 ? Buffer.concat([Buffer.from(held), buf.subarray(i)]) : buf.subarray(i);
    }
    return EMPTY;
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.finished) {
      const buf = this.queue.shift()!;
      let pos = 0;
      while (pos < buf.length && !this.finished) {
        pos = this.mode === LINE ? this.feedLines(buf, pos) : this.feedStruct(buf, pos);
        if (pos < 0) break; // the rest was given back to the queue
      }
    }
  }

  /** Read `first` and then `buf` from `pos` in STRUCT mode (a line's start found in LINE mode). */
  private toStruct(first: Buffer, buf: Buffer, pos: number): number {
    this.mode = STRUCT;
    this.queue.unshift(first, buf.subarray(pos));
    return -1;
  }

  // ---- record bytes -----------------------------------------------------------------------------

  /** Keep bytes of the current record, switching to preview-only once it is over the limit. */
  private keep(piece: Buffer): void {
    if (piece.length === 0) return;
    if (!this.oversize) {
      if (this.partBytes + piece.length <= this.maxRecordBytes) {
        this.parts.push(piece);
        this.partBytes += piece.length;
        return;
      }
      this.oversize = true;
      for (const p of this.parts) this.addPreview(p);
      this.parts = [];
    }
    this.partBytes += piece.length;
    this.addPreview(piece);
  }

  private addPreview(piece: Buffer): void {
    if (this.previewBytes >= PREVIEW_BYTES) return;
    const take = piece.subarray(0, PREVIEW_BYTES - this.previewBytes);
    // Copy: the chunk's memory must not be retained by a long-running preview.
    this.preview.push(Buffer.from(take));
    this.previewBytes += take.length;
  }

  /** The record's bytes (parts + tail); resets the record state. */
  private take(tail: Buffer): { bytes: Buffer | undefined; size: number; preview: string } {
    this.keep(tail);
    const size = this.partBytes;
    let result: { bytes: Buffer | undefined; size: number; preview: string };
    if (this.oversize) {
      result = { bytes: undefined, size, preview: Buffer.concat(this.preview).toString("utf8") };
    } else {
      result = { bytes: this.takeParts(EMPTY), size, preview: "" };
    }
    this.parts = [];
    this.partBytes = 0;
    this.oversize = false;
    this.preview = [];
    this.previewBytes = 0;
    return result;
  }

  /** The kept bytes and `tail` as one buffer (never over the limit here); resets them. */
  private takeParts(tail: Buffer): Buffer {
    const parts = this.parts;
    const n = this.partBytes + tail.length;
    let bytes: Buffer;
    if (parts.length === 0) bytes = tail;
    else if (parts.length === 1 && tail.length === 0) bytes = parts[0]!;
    else bytes = Buffer.concat(tail.length > 0 ? [...parts, tail] : parts, n);
    this.parts = [];
    this.partBytes = 0;
    return bytes;
  }

  /** Decode and parse one record's text; emits a record or a rejection. */
  private emit(bytes: Buffer | undefined, size: number, preview: string, line: number): void {
    const ordinal = this.ordinal++;
    if (bytes === undefined) {
      this.reject(
        "record_too_large",
        tooLargeMessage(size, this.maxRecordBytes),
        preview,
        ordinal,
        line,
        true,
      );
      return;
    }
    if (!isUtf8(bytes)) {
      this.reject("invalid_utf8", "record is not valid UTF-8", bytes.toString("utf8"), ordinal, line);
      return;
    }
    this.parse(bytes.toString("utf8"), ordinal, line);
  }

  /** Parses one record's decoded text; emits the record or an invalid_json rejection. */
  private parse(raw: string, ordinal: number, line: number): void {
    this.out.push(parseRecordText(raw, ordinal, line));
  }

  private reject(
    reason: RejectReason,
    message: string,
    raw: string,
    ordinal: number,
    line: number | undefined,
    truncated = false,
  ): void {
    this.out.push(rejectedItem(reason, message, raw, ordinal, line, truncated));
  }

  private fileError(reason: RejectReason, message: string): void {
    this.out.push({ kind: "file_error", reason, message, ordinal: this.ordinal });
    this.finished = true;
    this.parts = [];
    this.preview = [];
    this.queue = [];
  }

  // ---- LINE mode ----------------------------------------------------------------------------------

  /** Whole lines from `pos`; returns where it stopped (STRUCT mode from there), buf's end, or -1. */
  private feedLines(buf: Buffer, pos: number): number {
    const n = buf.length;
    const max = this.maxRecordBytes;
    if (this.partBytes > 0) {
      // A line begun in an earlier chunk.
      const nl = buf.indexOf(LF, pos);
      const end = nl === -1 ? n : nl;
      // Longer than any record: read as values (a compact array, objects back to back), from its start.
      if (this.partBytes + (end - pos) > max) return this.toStruct(this.takeParts(EMPTY), buf, pos);
      if (nl === -1) {
        this.parts.push(buf.subarray(pos));
        this.partBytes += n - pos;
        return n;
      }
      const line = this.takeParts(buf.subarray(pos, nl));
      if (!this.wholeLine(line, 0, line.length, isUtf8(line))) return this.toStruct(line, buf, nl);
      pos = nl + 1;
    }
    const last = buf.lastIndexOf(LF);
    if (last >= pos) {
      // The lines complete in this chunk are read in place when their bytes are valid UTF-8: checked once
      // for all of them, which is exact because they are split at ASCII bytes (a valid UTF-8 text cut at
      // "\n" gives valid UTF-8 pieces); otherwise each line is checked alone.
      const utf8 = isUtf8(pos === 0 && last === n - 1 ? buf : buf.subarray(pos, last));
      while (pos <= last) {
        const nl = buf.indexOf(LF, pos);
        if (nl - pos > max || !this.wholeLine(buf, pos, nl, utf8 || isUtf8(buf.subarray(pos, nl)))) {
          this.mode = STRUCT;
          return pos;
        }
        pos = nl + 1;
      }
    }
    if (pos < n) {
      if (n - pos > max) {
        this.mode = STRUCT;
        return pos;
      }
      this.parts.push(buf.subarray(pos));
      this.partBytes += n - pos;
    }
    return n;
  }

  /**
   * One whole line buf[start, end) of at most maxRecordBytes: blank (skipped), not UTF-8 (rejected), a
   * JSON text (its record, or its elements' records for an array). False, with nothing consumed, for a
   * line JSON.parse refuses: STRUCT mode reads it.
   */
  private wholeLine(buf: Buffer, start: number, end: number, utf8: boolean): boolean {
    let i = start;
    while (i < end && isWs(buf[i]!)) i++;
    if (i === end) {
      this.lineNo++;
      return true;
    }
    if (buf[end - 1] === CR) end--; // whitespace to JSON.parse; not part of the raw text
    if (!utf8) {
      const line = this.lineNo++;
      this.reject(
        "invalid_utf8",
        "record is not valid UTF-8",
        buf.toString("utf8", start, end),
        this.ordinal++,
        line,
      );
      return true;
    }
    const raw = buf.toString("utf8", start, end);
    if (nestsDeeperThan(raw, MAX_NESTING_DEPTH)) {
      // Rejected alone, the same on every runtime (see MAX_NESTING_DEPTH).
      const line = this.lineNo++;
      this.reject(
        "invalid_json",
        `nested deeper than ${MAX_NESTING_DEPTH} levels`,
        raw,
        this.ordinal++,
        line,
      );
      return true;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      return false;
    }
    const line = this.lineNo++;
    // An array is an array of records when its first element is an object (or it is empty), or when it
    // opens the file; otherwise it is one record (which the validator rejects: not an object), so that one
    // array line in an NDJSON file costs one document, not one per element.
    if (Array.isArray(value) && (this.ordinal === 0 || value.length === 0 || isObject(value[0]))) {
      this.layout ??= "array";
      const texts = elementTexts(raw, value.length);
      for (let k = 0; k < value.length; k++) {
        this.out.push({ kind: "record", value: value[k], raw: texts[k]!, ordinal: this.ordinal++, line });
      }
      return true;
    }
    this.layout ??= "ndjson";
    this.out.push({ kind: "record", value, raw, ordinal: this.ordinal++, line });
    return true;
  }

  // ---- STRUCT mode --------------------------------------------------------------------------------

  private startValue(kind: number): void {
    this.top = T_VALUE;
    this.valueLine = this.lineNo;
    this.firstLf = -1;
    this.inString = false;
    this.escape = false;
    this.bare = false;
    if (kind === 0) {
      this.depth = 0;
    } else {
      this.depth = 1;
      this.stack[1] = kind;
      this.expect = kind === OBJ ? X_KEY_OR_CLOSE : X_VALUE_OR_CLOSE;
    }
  }

  private finishValue(): void {
    const { bytes, size, preview } = this.take(EMPTY);
    this.top = T_BETWEEN;
    this.bare = false;
    this.inString = false;
    this.depth = 0;
    this.layout ??= this.inArray ? "array" : "concatenated";
    if (this.inArray) this.arrayRead = true;
    this.emit(bytes, size, preview, this.valueLine);
  }

  /** Reject from here to the end of the line (what was kept of the value so far included). */
  private startSkip(why: string): void {
    this.top = T_SKIP;
    this.skipMessage = why;
  }

  /** The skipped text (a broken value, garbage) is one rejection; STRUCT mode goes on after its line. */
  private endSkip(): void {
    const line = this.valueLine;
    const { bytes, preview } = this.take(EMPTY);
    this.top = T_BETWEEN;
    this.bare = false;
    this.inString = false;
    this.depth = 0;
    let raw: string;
    let truncated = false;
    if (bytes === undefined) {
      raw = preview;
      truncated = true;
    } else {
      const end = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.length - 1 : bytes.length;
      raw = bytes.toString("utf8", 0, end);
    }
    this.reject(
      "invalid_json",
      `not valid JSON (line ${line}): ${this.skipMessage}`,
      raw,
      this.ordinal++,
      line,
      truncated,
    );
  }

  /**
   * The value breaks at buf[i] (or at the end of the file). Broken on its first line: it and the rest of
   * that line are one rejection (T_SKIP from i). Broken on a later line (a first line cut short, then
   * whole records): its first line is rejected and what followed is read again, from LINE mode (returns
   * -1, the bytes given back to the queue); when those bytes were not kept (over maxRecordBytes) or the
   * file's re-read budget is spent, the value is rejected up to the end of the line where it broke.
   */
  private breakValue(buf: Buffer, i: number, start: number, why: string): number {
    const size = this.partBytes + (i - start);
    if (this.firstLf < 0 || size > this.maxRecordBytes || size > this.rescanBudget) {
      this.startSkip(why);
      return i;
    }
    const line = this.valueLine;
    const bytes = this.takeParts(buf.subarray(start, i));
    const cut = this.firstLf;
    const end = cut > 0 && bytes[cut - 1] === CR ? cut - 1 : cut;
    const rest = bytes.subarray(cut + 1);
    this.rescanBudget -= rest.length;
    this.top = T_BETWEEN;
    this.bare = false;
    this.inString = false;
    this.depth = 0;
    // "[" and a first element broken on the same line (`[{` then NDJSON lines): not an array of records
    // after all, but a bad line; the lines after it are read as lines.
    const leave = this.inArray && !this.arrayRead && this.arrayLine === line;
    const first = leave ? Buffer.concat([this.arrayOpen, bytes.subarray(0, end)]) : bytes.subarray(0, end);
    if (leave) this.inArray = false;
    this.reject(
      isUtf8(first) ? "invalid_json" : "invalid_utf8",
      `not valid JSON (line ${line}): ${why} on a later line; this line is rejected and the next ones read again`,
      first.toString("utf8"),
      this.ordinal++,
      line,
    );
    this.lineNo = line + 1;
    if (!this.inArray) this.mode = LINE;
    this.queue.unshift(rest, buf.subarray(i));
    return -1;
  }

  /** Values from `from`; returns where LINE mode takes over, buf's end, or -1 (bytes given back). */
  private feedStruct(buf: Buffer, from: number): number {
    const n = buf.length;
    let i = from;
    let start = from; // where the current value's (or skipped text's) bytes in this chunk begin
    let nextLf = -2; // buf.indexOf(LF) from some point at or before i (-2: not looked for yet)
    while (i < n) {
      const top = this.top;
      if (top === T_SKIP) {
        const nl = buf.indexOf(LF, i);
        if (nl === -1) {
          i = n;
          break;
        }
        this.keep(buf.subarray(start, nl));
        this.endSkip();
        this.lineNo++;
        i = nl + 1;
        start = i;
        if (!this.inArray) {
          this.mode = LINE;
          return i;
        }
        continue;
      }
      if (top === T_BETWEEN) {
        const c = buf[i]!;
        if (c === LF) {
          this.lineNo++;
          i++;
          if (!this.inArray) {
            this.mode = LINE;
            return i;
          }
          continue;
        }
        if (c === SPACE || c === TAB || c === CR) {
          i++;
          continue;
        }
        start = i;
        if (this.inArray && (c === COMMA || c === CLOSE_BRACKET)) {
          // Separators; a missing or doubled comma costs nothing (no record is lost with it).
          if (c === CLOSE_BRACKET) this.inArray = false;
          i++;
          continue;
        }
        if (c === OPEN_BRACE) {
          this.startValue(OBJ);
          i++;
        } else if (c === OPEN_BRACKET) {
          if (this.inArray) this.startValue(ARR);
          else {
            this.top = T_BRACKET;
            this.valueLine = this.lineNo;
            this.firstLf = -1;
          }
          i++;
        } else if (c === QUOTE) {
          this.startValue(0);
          this.inString = true;
          this.isKey = false;
          i++;
        } else if (isBareStart(c)) {
          this.startValue(0);
          this.bare = true;
          i++;
        } else {
          this.valueLine = this.lineNo;
          this.startSkip(`unexpected ${describeByte(c)} where a record should start`);
        }
        continue;
      }
      if (top === T_BRACKET) {
        const c = buf[i]!;
        if (c === LF) {
          if (this.firstLf < 0) this.firstLf = this.partBytes + (i - start);
          this.lineNo++;
          i++;
          continue;
        }
        if (c === SPACE || c === TAB || c === CR) {
          i++;
          continue;
        }
        if (c === OPEN_BRACE || c === CLOSE_BRACKET) {
          // "[" then "{" or "]": an array of records. What was kept of it ("[" and spaces) is not a record.
          this.arrayOpen = this.take(buf.subarray(start, i)).bytes ?? EMPTY;
          this.inArray = true;
          this.arrayLine = this.valueLine;
          this.arrayRead = false;
          this.top = T_BETWEEN;
          this.layout ??= "array";
          continue;
        }
        // Any other "[": one value (a record the validator rejects, or a broken one).
        this.top = T_VALUE;
        this.depth = 1;
        this.stack[1] = ARR;
        this.expect = X_VALUE_OR_CLOSE;
        this.inString = false;
        this.bare = false;
        continue;
      }
      // T_VALUE
      if (this.inString) {
        if (this.escape) {
          if (buf[i] === LF) {
            const r = this.breakValue(buf, i, start, "a line break inside a string");
            if (r < 0) return r;
            continue;
          }
          this.escape = false;
          i++;
          continue;
        }
        const q = buf.indexOf(QUOTE, i);
        if (nextLf !== -1 && nextLf < i) nextLf = buf.indexOf(LF, i);
        if (nextLf !== -1 && (q === -1 || nextLf < q)) {
          // A raw line break inside a string: not JSON (a line cut short, most likely).
          i = nextLf;
          const r = this.breakValue(buf, i, start, "a line break inside a string");
          if (r < 0) return r;
          continue;
        }
        if (q === -1) {
          let k = n;
          while (k > i && buf[k - 1] === BACKSLASH) k--;
          this.escape = ((n - k) & 1) === 1;
          i = n;
          break;
        }
        let k = q;
        while (k > i && buf[k - 1] === BACKSLASH) k--;
        i = q + 1;
        if (((q - k) & 1) === 1) continue; // an escaped quote
        this.inString = false;
        if (this.depth === 0) {
          this.keep(buf.subarray(start, i));
          this.finishValue();
        } else this.expect = this.isKey ? X_COLON : X_COMMA_OR_CLOSE;
        continue;
      }
      if (this.bare) {
        while (i < n && !isDelimiter(buf[i]!)) i++;
        if (i === n) break;
        this.bare = false;
        if (this.depth === 0) {
          this.keep(buf.subarray(start, i));
          this.finishValue();
        } else this.expect = X_COMMA_OR_CLOSE;
        continue;
      }
      const c = buf[i]!;
      if (c === SPACE || c === TAB || c === CR) {
        i++;
        continue;
      }
      if (c === LF) {
        if (this.firstLf < 0) this.firstLf = this.partBytes + (i - start);
        this.lineNo++;
        i++;
        continue;
      }
      let why: string | undefined;
      switch (this.expect) {
        case X_VALUE:
        case X_VALUE_OR_CLOSE:
          if (c === OPEN_BRACE || c === OPEN_BRACKET) {
            if (this.depth >= MAX_NESTING) {
              why = `nested deeper than ${MAX_NESTING} levels`;
              break;
            }
            this.stack[++this.depth] = c === OPEN_BRACE ? OBJ : ARR;
            this.expect = c === OPEN_BRACE ? X_KEY_OR_CLOSE : X_VALUE_OR_CLOSE;
            i++;
          } else if (c === QUOTE) {
            this.inString = true;
            this.isKey = false;
            i++;
          } else if (isBareStart(c)) {
            this.bare = true;
            i++;
          } else if (c === CLOSE_BRACKET && this.expect === X_VALUE_OR_CLOSE) {
            i = this.close(buf, i, start);
          } else why = `unexpected ${describeByte(c)}, expected a value`;
          break;
        case X_KEY_OR_CLOSE:
        case X_KEY:
          if (c === QUOTE) {
            this.inString = true;
            this.isKey = true;
            i++;
          } else if (c === CLOSE_BRACE && this.expect === X_KEY_OR_CLOSE) {
            i = this.close(buf, i, start);
          } else why = `unexpected ${describeByte(c)}, expected a key`;
          break;
        case X_COLON:
          if (c === COLON) {
            this.expect = X_VALUE;
            i++;
          } else why = `unexpected ${describeByte(c)}, expected ':'`;
          break;
        default: {
          const open = this.stack[this.depth];
          if (c === COMMA) {
            this.expect = open === OBJ ? X_KEY : X_VALUE;
            i++;
          } else if ((c === CLOSE_BRACE && open === OBJ) || (c === CLOSE_BRACKET && open === ARR)) {
            i = this.close(buf, i, start);
          } else why = `unexpected ${describeByte(c)}, expected ',' or '${open === OBJ ? "}" : "]"}'`;
        }
      }
      if (why !== undefined) {
        const r = this.breakValue(buf, i, start, why);
        if (r < 0) return r;
      }
    }
    if (this.top !== T_BETWEEN) this.keep(buf.subarray(start, n));
    return n;
  }

  /** A closing bracket at buf[i]; returns the next index. */
  private close(buf: Buffer, i: number, start: number): number {
    i++;
    if (--this.depth === 0) {
      this.keep(buf.subarray(start, i));
      this.finishValue();
    } else this.expect = X_COMMA_OR_CLOSE;
    return i;
  }
}

function isObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * The exact text of each element of a JSON array text (one JSON.parse has accepted, with `count`
 * elements), without the whitespace around them: a record's raw text, as the file holds it (a quarantined
 * element keeps the vendor's bytes, e.g. `1e999`, not a re-serialisation). One pass over the line; strings
 * are skipped with indexOf.
 */
export function elementTexts(text: string, count: number): string[] {
  const out: string[] = new Array(count);
  let n = 0;
  let depth = 0;
  let start = -1; // where the current top-level element starts (-1: between elements)
  let end = -1; // just after its last character so far
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === SPACE || c === LF || c === CR || c === TAB) continue;
    if (depth === 0) {
      if (c === OPEN_BRACKET) depth = 1; // the array's own bracket (a BOM or nothing else before it)
      continue;
    }
    if (c === COMMA && depth === 1) {
      out[n++] = text.slice(start, end);
      start = -1;
      continue;
    }
    if ((c === CLOSE_BRACKET || c === CLOSE_BRACE) && --depth === 0) {
      if (start >= 0) out[n++] = text.slice(start, end);
      break;
    }
    if (start < 0) start = i;
    if (c === OPEN_BRACKET || c === OPEN_BRACE) depth++;
    else if (c === QUOTE) i = closingQuote(text, i + 1);
    end = i + 1;
  }
  return out;
}

/** Where the string whose text starts at `from` ends (its closing quote): the next quote not escaped. */
function closingQuote(text: string, from: number): number {
  let q = text.indexOf('"', from);
  for (;;) {
    if (q < 0) return text.length; // not JSON (never, after JSON.parse): end the walk
    let b = q - 1;
    while (text.charCodeAt(b) === BACKSLASH) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    q = text.indexOf('"', q + 1);
  }
}
