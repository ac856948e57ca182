/**
 * The synchronous core of the file reader: bytes in (any chunking), reader items out.
 *
 * It finds record boundaries itself, at the byte level, and calls JSON.parse once per record:
 * - NDJSON: records end at "\n" (a raw newline cannot occur inside valid JSON text), found with
 *   Buffer#indexOf; each line is parsed on its own, so a bad line is one rejected record.
 * - JSON array / concatenated objects: a small state machine tracks string, escape and bracket depth.
 *   Inside strings it jumps to the next quote with Buffer#indexOf and counts the backslashes before it.
 *   Structural characters are ASCII, and UTF-8 never uses ASCII bytes inside a multi-byte sequence,
 *   so scanning bytes is exact.
 *
 * Layout detection looks at the first non-whitespace byte (after an optional UTF-8 BOM):
 * "[" is an array; "{" is NDJSON when the first object ends on its first line (nothing but
 * whitespace after it on that line), otherwise concatenated objects (pretty-printed or back to back),
 * unless the first line ends inside its object and the next two lines are each one whole object: then it
 * is an NDJSON file whose first line is cut short (rejected alone, instead of swallowing the file).
 *
 * Memory is bounded by maxRecordBytes: a record is buffered only up to that size; beyond it the
 * scanner keeps a short preview, skips to the record's end and emits a `record_too_large` rejection.
 */
import { isUtf8 } from "node:buffer";
import { MAX_RAW_QUARANTINE_CHARS, type Rejection, type RejectReason } from "../model.ts";

export const DEFAULT_MAX_RECORD_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FILE_BYTES = 20 * 1024 ** 3;

export interface ReaderOptions {
  /** Largest record accepted, in bytes of its text (default 1 MiB). */
  maxRecordBytes?: number;
  /** Largest decompressed file accepted, in bytes (default 20 GiB). */
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

/** Bytes of an oversized record kept for the quarantine preview (a UTF-8 char is at most 4 bytes). */
const PREVIEW_BYTES = MAX_RAW_QUARANTINE_CHARS * 4;

function isWs(c: number): boolean {
  return c === SPACE || c === LF || c === CR || c === TAB;
}

/** Cut a text to the quarantine bound. */
export function boundRaw(text: string): string {
  return text.length > MAX_RAW_QUARANTINE_CHARS ? text.slice(0, MAX_RAW_QUARANTINE_CHARS) : text;
}

function describeByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `0x${c.toString(16).padStart(2, "0")}`;
}

/** Where the scanner is, outside and inside a value, for the array and concatenated layouts. */
type Top =
  | "value" // inside a value (object/array/string/bare token)
  | "between" // concatenated: between top-level values
  | "array_start" // array: after "[", expecting a value or "]"
  | "array_value" // array: after ",", expecting a value (or "]": a trailing comma is tolerated)
  | "array_after" // array: after a value, expecting "," or "]"
  | "array_closed"; // array: after "]", expecting only whitespace (or another array)

export class RecordScanner {
  readonly maxRecordBytes: number;
  readonly maxFileBytes: number;

  private out: ReaderItem[] = [];
  /** Set once a file_error was emitted or the input ended: nothing more comes out. */
  finished = false;
  layout: Layout | undefined;

  private totalBytes = 0;
  private ordinal = 0;
  private sawBom = false;
  private started = false; // saw the first non-whitespace byte
  private bomBytes: number[] = [];

  // Detection state (before the layout is known): buffered chunks, and a mini-scan of the first object.
  private detectChunks: Buffer[] = [];
  private detectBytes = 0;
  private dDepth = 0;
  private dInString = false;
  private dEscape = false;
  private dClosed = false;
  /** The first line ended inside its object: scanning the next lines (whole objects so far, and whether
   * the current one has begun). */
  private dProbing = false;
  private dWholeLines = 0;
  private dLineStarted = false;

  // Current record's bytes (both modes).
  private parts: Buffer[] = [];
  private partBytes = 0;
  private oversize = false;
  private preview: Buffer[] = [];
  private previewBytes = 0;

  // NDJSON.
  private lineNo = 1;

  // Array / concatenated.
  private top: Top = "between";
  private depth = 0;
  private inString = false;
  private escape = false;
  /** The current value is a bare token (number, true, false, null) or a top-level string. */
  private bare = false;
  private valueLine = 1;

  constructor(opts: ReaderOptions = {}) {
    this.maxRecordBytes = opts.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxFileBytes = opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
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
    let buf = chunk;
    if (!this.started) {
      buf = this.skipLeading(buf);
      if (buf.length === 0) return this.out;
    }
    if (this.layout === undefined) {
      this.detect(buf);
    } else {
      this.feed(buf);
    }
    return this.out;
  }

  /** The input ended cleanly: flush the last record or report what is unfinished. */
  end(): ReaderItem[] {
    this.out = [];
    if (this.finished) return this.out;
    if (this.layout === undefined && this.detectChunks.length > 0) {
      // Everything fitted before a decision: one line, or objects back to back on it, or a cut first line
      // and whole objects after it. (dClosed without a decision: only spaces/tabs/CR followed an object.)
      const wholeLast = this.dClosed || (this.dProbing && !this.dLineStarted && this.dWholeLines > 0);
      this.decide(wholeLast ? "ndjson" : "concatenated");
    }
    if (this.layout === "ndjson") {
      if (this.partBytes > 0 || this.oversize) this.finishLine(Buffer.alloc(0));
    } else if (this.layout !== undefined) {
      if (this.top === "value") {
        if (this.bare && !this.inString && this.depth === 0) {
          this.finishValue();
          if (this.layout === "array") this.top = "array_after";
        } else {
          this.fileError(
            "syntax_error",
            `unexpected end of file inside the record starting at line ${this.valueLine}`,
          );
          return this.out;
        }
      }
      if (this.layout === "array" && this.top !== "array_closed") {
        this.fileError("syntax_error", "unexpected end of file: the JSON array is not closed");
        return this.out;
      }
    }
    this.finished = true;
    return this.out;
  }

  // ---- start of file ---------------------------------------------------------------------------

  /** Drop a UTF-8 BOM and leading whitespace; returns the rest (empty if it was all skipped). */
  private skipLeading(buf: Buffer): Buffer {
    let i = 0;
    if (!this.sawBom) {
      // The BOM may be split across chunks.
      while (i < buf.length && this.bomBytes.length < 3) {
        const expected = [0xef, 0xbb, 0xbf][this.bomBytes.length];
        if (buf[i] !== expected) break;
        this.bomBytes.push(buf[i]!);
        i++;
      }
      if (this.bomBytes.length === 3) {
        this.sawBom = true;
      } else if (i < buf.length) {
        // Not (the rest of) a BOM: give back any partial BOM bytes as content.
        this.sawBom = true;
        if (this.bomBytes.length > 0) {
          const head = Buffer.from(this.bomBytes);
          this.bomBytes = [];
          return this.skipLeading(Buffer.concat([head, buf.subarray(i)]));
        }
      } else {
        return buf.subarray(i);
      }
    }
    while (i < buf.length && isWs(buf[i]!)) {
      if (buf[i] === LF) this.lineNo++;
      i++;
    }
    if (i < buf.length) this.started = true;
    return buf.subarray(i);
  }

  private detect(buf: Buffer): void {
    const first = this.detectChunks.length === 0 ? buf[0]! : -1;
    if (first === OPEN_BRACKET) {
      this.decide("array", buf);
      return;
    }
    if (first !== -1 && first !== OPEN_BRACE) {
      this.fileError(
        "syntax_error",
        `not a JSON file: unexpected ${describeByte(first)} at the start (expected '{' or '[')`,
      );
      return;
    }
    this.detectChunks.push(buf);
    this.detectBytes += buf.length;
    // Mini-scan of the first object and the rest of its line (and, if that object is still open at the
    // line's end, of the next line: see below).
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      if (this.dClosed) {
        if (c === SPACE || c === TAB || c === CR) continue;
        if (c !== LF) {
          this.decide("concatenated");
          return;
        }
        if (!this.dProbing || ++this.dWholeLines === 2) {
          this.decide("ndjson");
          return;
        }
        this.dClosed = false;
        this.dLineStarted = false;
        this.dDepth = 0;
        continue;
      }
      if (this.dProbing && !this.dLineStarted) {
        // The lines after an unfinished first one: NDJSON if the next two are each one whole object (one
        // could be an object nested in a pretty-printed one, alone on its line).
        if (c === SPACE || c === TAB || c === CR || c === LF) continue;
        if (c !== OPEN_BRACE) {
          this.decide("concatenated");
          return;
        }
        this.dLineStarted = true;
      }
      if (this.dInString) {
        if (this.dEscape) this.dEscape = false;
        else if (c === BACKSLASH) this.dEscape = true;
        else if (c === QUOTE) this.dInString = false;
        else if (c === LF) {
          this.decide("ndjson");
          return;
        } // a raw newline in a string: a broken line
        continue;
      }
      if (c === QUOTE) this.dInString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.dDepth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        this.dDepth--;
        if (this.dDepth <= 0) this.dClosed = true;
      } else if (c === LF) {
        // An object spanning lines: pretty-printed (concatenated objects), unless this is the first line,
        // cut short, of an NDJSON file, which the next line tells: one whole object on its own.
        if (this.dProbing) {
          this.decide("concatenated");
          return;
        }
        this.dProbing = true;
        this.dDepth = 0;
      }
    }
    if (this.detectBytes > this.maxRecordBytes) {
      // A first line longer than any record may be: the concatenated scanner reads NDJSON too.
      this.decide("concatenated");
    }
  }

  private decide(layout: Layout, firstChunk?: Buffer): void {
    this.layout = layout;
    this.top = layout === "array" ? "array_closed" : "between";
    const chunks = firstChunk ? [firstChunk] : this.detectChunks;
    this.detectChunks = [];
    for (const c of chunks) {
      if (this.finished) break;
      this.feed(c);
    }
  }

  private feed(buf: Buffer): void {
    if (this.layout === "ndjson") this.feedLines(buf);
    else this.feedValues(buf);
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
      const bytes = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partBytes);
      result = { bytes, size, preview: "" };
    }
    this.parts = [];
    this.partBytes = 0;
    this.oversize = false;
    this.preview = [];
    this.previewBytes = 0;
    return result;
  }

  /** Decode and parse one record's text; emits a record or a rejection. */
  private emit(bytes: Buffer | undefined, size: number, preview: string, line: number | undefined): void {
    const ordinal = this.ordinal++;
    if (bytes === undefined) {
      this.reject(
        "record_too_large",
        `record of ${size} bytes is larger than the limit of ${this.maxRecordBytes} bytes (max record bytes)`,
        preview,
        ordinal,
        line,
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
  private parse(raw: string, ordinal: number, line: number | undefined): void {
    let value: unknown;
    if (nestsDeeperThan(raw, MAX_NESTING_DEPTH)) {
      this.reject("invalid_json", `nested deeper than ${MAX_NESTING_DEPTH} levels`, raw, ordinal, line);
      return;
    }
    try {
      value = JSON.parse(raw);
    } catch (err) {
      this.reject("invalid_json", `not valid JSON: ${(err as Error).message}`, raw, ordinal, line);
      return;
    }
    if (line === undefined) this.out.push({ kind: "record", value, raw, ordinal });
    else this.out.push({ kind: "record", value, raw, ordinal, line });
  }

  private reject(
    reason: RejectReason,
    message: string,
    raw: string,
    ordinal: number,
    line: number | undefined,
  ): void {
    const rejection: Rejection = { reason, message, raw: boundRaw(raw), ordinal };
    if (raw.length > MAX_RAW_QUARANTINE_CHARS || reason === "record_too_large") rejection.rawTruncated = true;
    if (line !== undefined) rejection.line = line;
    this.out.push({ kind: "rejected", rejection });
  }

  private fileError(reason: RejectReason, message: string): void {
    this.out.push({ kind: "file_error", reason, message, ordinal: this.ordinal });
    this.finished = true;
    this.parts = [];
    this.preview = [];
    this.detectChunks = [];
  }

  // ---- NDJSON -----------------------------------------------------------------------------------

  private feedLines(buf: Buffer): void {
    let pos = 0;
    const n = buf.length;
    // A line begun in an earlier chunk ends in this one: the general path.
    if (this.partBytes > 0 || this.oversize) {
      const nl = buf.indexOf(LF);
      if (nl === -1) {
        this.keep(buf);
        return;
      }
      this.finishLine(buf.subarray(0, nl));
      pos = nl + 1;
    }
    const last = buf.lastIndexOf(LF);
    if (last >= pos) {
      // The lines complete in this chunk are read in place (no Buffer views, no part list) when their
      // bytes are valid UTF-8: checked once for all of them, which is exact because they are split at
      // ASCII bytes (a valid UTF-8 text cut at "\n" or "\r" gives valid UTF-8 pieces, and a piece
      // that is not valid makes the whole invalid). Otherwise, or for a line over maxRecordBytes, each
      // line takes the general path, which rejects it as before.
      const utf8 = isUtf8(pos === 0 && last === n - 1 ? buf : buf.subarray(pos, last));
      const max = this.maxRecordBytes;
      while (pos <= last) {
        const nl = buf.indexOf(LF, pos);
        if (utf8 && nl - pos <= max) this.fastLine(buf, pos, nl);
        else this.finishLine(buf.subarray(pos, nl));
        pos = nl + 1;
      }
    }
    if (pos < n) this.keep(buf.subarray(pos));
  }

  /**
   * A whole line buf[start, end) of valid UTF-8 and at most maxRecordBytes: what finishLine + emit do
   * for it, without copying it out of the chunk first.
   */
  private fastLine(buf: Buffer, start: number, end: number): void {
    const line = this.lineNo++;
    // Blank (whitespace-only) lines are skipped; a trailing CR is whitespace to JSON.parse.
    let i = start;
    while (i < end && isWs(buf[i]!)) i++;
    if (i === end) return;
    if (buf[end - 1] === CR) end--;
    this.parse(buf.toString("utf8", start, end), this.ordinal++, line);
  }

  private finishLine(tail: Buffer): void {
    const line = this.lineNo++;
    const { bytes, size, preview } = this.take(tail);
    if (bytes === undefined) {
      this.emit(undefined, size, preview, line);
      return;
    }
    // Blank (whitespace-only) lines are skipped; a trailing CR is whitespace to JSON.parse.
    let i = 0;
    while (i < bytes.length && isWs(bytes[i]!)) i++;
    if (i === bytes.length) return;
    let end = bytes.length;
    if (bytes[end - 1] === CR) end--;
    this.emit(end === bytes.length ? bytes : bytes.subarray(0, end), size, preview, line);
  }

  // ---- array / concatenated -------------------------------------------------------------------

  private feedValues(buf: Buffer): void {
    const n = buf.length;
    let i = 0;
    let start = 0; // where the current value's bytes in this chunk begin
    while (i < n) {
      if (this.top !== "value") {
        const c = buf[i]!;
        if (isWs(c)) {
          if (c === LF) this.lineNo++;
          i++;
          continue;
        }
        if (!this.structural(c)) return;
        const started = (this.top as Top) === "value";
        if (started) start = i;
        i++;
        if (started && this.bare && !this.inString) {
          // A bare token (number, literal): runs to the next delimiter.
          while (i < n) {
            const d = buf[i]!;
            if (d === COMMA || d === CLOSE_BRACKET || isWs(d)) break;
            i++;
          }
          if (i < n) {
            this.keep(buf.subarray(start, i));
            this.finishValue();
            this.top = "array_after";
          }
        }
        continue;
      }
      if (this.bare && !this.inString) {
        // Continuation of a bare token across chunks.
        while (i < n) {
          const d = buf[i]!;
          if (d === COMMA || d === CLOSE_BRACKET || isWs(d)) break;
          i++;
        }
        if (i < n) {
          this.keep(buf.subarray(start, i));
          this.finishValue();
          this.top = "array_after";
        }
        continue;
      }
      if (this.inString) {
        if (this.escape) {
          this.escape = false;
          i++;
          continue;
        }
        const q = buf.indexOf(QUOTE, i);
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
          // A top-level string value (array element) ends here.
          this.keep(buf.subarray(start, i));
          this.finishValue();
          this.top = this.layout === "array" ? "array_after" : "between";
        }
        continue;
      }
      // Structural bytes inside an object/array.
      const c = buf[i]!;
      i++;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (--this.depth === 0) {
          this.keep(buf.subarray(start, i));
          this.finishValue();
          this.top = this.layout === "array" ? "array_after" : "between";
        }
      } else if (c === LF) this.lineNo++;
    }
    if (this.top === "value" && !this.finished) this.keep(buf.subarray(start, n));
  }

  /**
   * A non-whitespace byte outside a value. Returns false after a file_error.
   * May switch `top` to "value" (the byte starts a value).
   */
  private structural(c: number): boolean {
    switch (this.top) {
      case "between":
        if (c === OPEN_BRACE || c === OPEN_BRACKET) return this.startValue(c);
        return this.syntax(c, "expected '{' to start the next object");
      case "array_closed":
        if (c === OPEN_BRACKET) {
          this.top = "array_start";
          return true;
        }
        return this.syntax(c, "expected nothing after the end of the JSON array");
      case "array_start":
      case "array_value":
        if (c === CLOSE_BRACKET) {
          this.top = "array_closed";
          return true;
        }
        if (c === COMMA || c === CLOSE_BRACE || c === COLON) {
          return this.syntax(c, "expected an array element");
        }
        return this.startValue(c);
      case "array_after":
        if (c === COMMA) {
          this.top = "array_value";
          return true;
        }
        if (c === CLOSE_BRACKET) {
          this.top = "array_closed";
          return true;
        }
        return this.syntax(c, "expected ',' or ']' after an array element");
      default:
        return true;
    }
  }

  private startValue(c: number): boolean {
    this.top = "value";
    this.valueLine = this.lineNo;
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.bare = false;
    if (c === OPEN_BRACE || c === OPEN_BRACKET) this.depth = 1;
    else if (c === QUOTE) {
      this.inString = true;
      this.bare = true;
    } else this.bare = true;
    return true;
  }

  private syntax(c: number, expected: string): boolean {
    this.fileError(
      "syntax_error",
      `JSON syntax error at line ${this.lineNo}: unexpected ${describeByte(c)}, ${expected}; the rest of the file is unreadable`,
    );
    return false;
  }

  private finishValue(): void {
    const { bytes, size, preview } = this.take(Buffer.alloc(0));
    this.bare = false;
    this.inString = false;
    this.escape = false;
    this.depth = 0;
    this.emit(bytes, size, preview, undefined);
  }
}
