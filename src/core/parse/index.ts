/**
 * Streaming reader of Twingate S3 sync files: gzip (by magic bytes) or plain; NDJSON, a JSON array,
 * or concatenated objects. Memory stays bounded by maxRecordBytes plus a few chunks, whatever the
 * file size.
 *
 * Errors are split in two on purpose:
 * - a failure of the INPUT stream (connection reset, read error) is thrown: the caller retries the
 *   whole object later;
 * - a problem of the CONTENT (corrupt or truncated gzip after the input ended cleanly, a syntax error
 *   that makes the rest unreadable, a file over maxFileBytes) is the last item, `kind: "file_error"`.
 *
 * The generator destroys the input when it stops early (a file_error, or the caller breaking out),
 * so an S3 connection is released.
 */
import type { Readable } from "node:stream";
import { DeadlineError, withDeadline } from "../../platform/util/deadline.ts";
import { GzipMembers } from "./gunzip.ts";
import { type ReaderItem, type ReaderOptions, RecordScanner } from "./scanner.ts";

export {
  DEFAULT_MAX_FILE_BYTES,
  DEFAULT_MAX_RECORD_BYTES,
  type Layout,
  type ReaderItem,
  type ReaderOptions,
  RecordScanner,
  readRecordText,
} from "./scanner.ts";

/** Thrown (wrapped) when the input stream itself fails; `cause` is the original error. */
export class InputStreamError extends Error {
  override name = "InputStreamError";
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === "string") return Buffer.from(chunk, "utf8");
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError(`unsupported chunk type from the input stream: ${typeof chunk}`);
}

function wrapInputError(err: unknown): InputStreamError {
  const message = err instanceof Error ? err.message : String(err);
  return new InputStreamError(`reading the input failed: ${message}`, { cause: err });
}

/** Reader options: the scanner's, and how long the input may leave a read unanswered. */
interface ReadOptions extends ReaderOptions {
  /**
   * A read the input leaves unanswered this long fails the file (InputStreamError): a download that
   * stalls on a connection that stays open would otherwise hold its object (and its message) forever.
   * Counted only while the reader waits for input, never while the consumer holds it back.
   */
  inputIdleMs?: number;
  /**
   * Largest expansion of a gzip input (decompressed / compressed bytes) once past RATIO_GUARD_MIN_BYTES
   * decompressed: beyond it the file ends with a `decompression_ratio` file error, so a decompression bomb
   * costs a fraction of a second instead of inflating up to maxFileBytes on every delivery.
   */
  maxDecompressionRatio?: number;
}

/** Decompressed bytes before the ratio guard applies: a small file costs little whatever its ratio. */
const RATIO_GUARD_MIN_BYTES = 32 * 1024 * 1024;

/** Pull chunks from the input, rethrowing its errors (and a stall past idleMs) as InputStreamError. */
async function nextChunk(it: AsyncIterator<unknown>, idleMs?: number): Promise<Buffer | undefined> {
  let r: IteratorResult<unknown>;
  try {
    r = await (idleMs === undefined
      ? it.next()
      : withDeadline("input read", idleMs, undefined, () => it.next()));
  } catch (err) {
    if (err instanceof DeadlineError)
      throw new InputStreamError(`the input sent nothing for ${err.ms / 1000} s while being read: stalled`);
    throw wrapInputError(err);
  }
  return r.done ? undefined : toBuffer(r.value);
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
/** Decompressed bytes queued before the gunzip is paused (it then stops reading its input). */
const QUEUE_HIGH_BYTES = 256 * 1024;
const GZIP_WRITE_SLICE = 16 * 1024;

/**
 * Decompress: a pump writes input chunks into the gunzip (respecting its backpressure) while the
 * generator reads its output. Input errors are remembered and thrown; gunzip errors are content errors.
 */
async function* gunzipChunks(
  head: Buffer,
  it: AsyncIterator<unknown>,
  onContentError: (message: string) => void,
  idleMs: number | undefined,
  compressed: { bytes: number },
): AsyncGenerator<Buffer> {
  const gunzip = new GzipMembers();
  let inputError: InputStreamError | undefined;
  let stopped = false;
  const waitDrain = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        gunzip.off("drain", done);
        gunzip.off("close", done);
        resolve();
      };
      gunzip.on("drain", done);
      gunzip.on("close", done);
    });
  const pump = (async () => {
    try {
      let chunk: Buffer | undefined = head;
      while (chunk !== undefined && !stopped && !gunzip.destroyed) {
        // Small writes: zlib drops the output of the call that hits a corruption, so this bounds
        // what is lost before the file_error to the output of one slice.
        for (let off = 0; off < chunk.length; off += GZIP_WRITE_SLICE) {
          const slice = chunk.subarray(off, off + GZIP_WRITE_SLICE);
          compressed.bytes += slice.length;
          if (!gunzip.write(slice)) await waitDrain();
          if (stopped || gunzip.destroyed) return;
        }
        chunk = await nextChunk(it, idleMs);
      }
      if (!stopped && !gunzip.destroyed) gunzip.end();
    } catch (err) {
      inputError = err instanceof InputStreamError ? err : wrapInputError(err);
      gunzip.destroy();
    }
  })();
  // Output is taken from 'data' events (not the async iterator, which drops buffered output when the
  // stream errors), so everything decoded before a corruption reaches the scanner first.
  const queue: Buffer[] = [];
  let queued = 0;
  let ended = false;
  let gzError: Error | undefined;
  let wake: (() => void) | undefined;
  gunzip.on("data", (b: Buffer) => {
    queue.push(b);
    queued += b.length;
    if (queued > QUEUE_HIGH_BYTES) gunzip.pause();
    wake?.();
  });
  gunzip.on("end", () => {
    ended = true;
    wake?.();
  });
  gunzip.on("error", (e: Error) => {
    gzError = e;
    wake?.();
  });
  gunzip.on("close", () => {
    ended = true;
    wake?.();
  });
  try {
    for (;;) {
      const b = queue.shift();
      if (b !== undefined) {
        queued -= b.length;
        if (queued <= QUEUE_HIGH_BYTES && gunzip.isPaused() && !gunzip.destroyed) gunzip.resume();
        yield b;
        continue;
      }
      if (gzError !== undefined || ended) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  } finally {
    stopped = true;
    if (!gunzip.destroyed) gunzip.destroy();
  }
  await pump;
  if (inputError) throw inputError;
  const bad = gunzip.dataError ?? gzError;
  if (bad !== undefined) onContentError(`gzip data is corrupt or truncated: ${bad.message}`);
}

async function* plainChunks(
  head: Buffer,
  it: AsyncIterator<unknown>,
  idleMs: number | undefined,
): AsyncGenerator<Buffer> {
  yield head;
  for (;;) {
    const chunk = await nextChunk(it, idleMs);
    if (chunk === undefined) return;
    yield chunk;
  }
}

/**
 * Read every record of one file. Yields records and per-record rejections in file order; a
 * `file_error`, when there is one, is the last item. Throws InputStreamError if the input fails.
 */
export async function* readRecords(input: Readable, opts: ReadOptions = {}): AsyncGenerator<ReaderItem> {
  for await (const items of readRecordBatches(input, opts)) yield* items;
}

/** Input bytes scanned per batch of items at most (see readRecordBatches). */
const MAX_PIECE = 64 * 1024;

/**
 * `readRecords` a chunk at a time: each yield is the (non-empty) list of items one input chunk (or one
 * MAX_PIECE of a larger chunk) completed, in file order. The hot path uses this: one await per chunk
 * instead of one per record.
 */
export async function* readRecordBatches(
  input: Readable,
  opts: ReadOptions = {},
): AsyncGenerator<ReaderItem[]> {
  const scanner = new RecordScanner(opts);
  const it = (input as AsyncIterable<unknown>)[Symbol.asyncIterator]();
  let completed = false;
  try {
    // Enough bytes to see the gzip magic (the first chunk may be a single byte).
    let head: Buffer = Buffer.alloc(0);
    while (head.length < 2) {
      const chunk = await nextChunk(it, opts.inputIdleMs);
      if (chunk === undefined) break;
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
    }
    if (head.length === 0) {
      completed = true;
      return; // an empty file: valid, no records
    }
    let contentError: string | undefined;
    const gzip = head[0] === GZIP_MAGIC_0 && head[1] === GZIP_MAGIC_1;
    const compressed = { bytes: 0 };
    const maxRatio = gzip ? opts.maxDecompressionRatio : undefined;
    const chunks = gzip
      ? gunzipChunks(
          head,
          it,
          (m) => {
            contentError = m;
          },
          opts.inputIdleMs,
          compressed,
        )
      : plainChunks(head, it, opts.inputIdleMs);
    for await (const chunk of chunks) {
      // At most MAX_PIECE bytes of records per yield: the consumer may wait (back-pressure from the
      // sink) in the middle of a batch, and what it still holds then survives collections and is
      // promoted; with several objects at once that garbage grew the old generation (peak RSS).
      for (let off = 0; off < chunk.length; off += MAX_PIECE) {
        const items = scanner.push(chunk.length <= MAX_PIECE ? chunk : chunk.subarray(off, off + MAX_PIECE));
        if (items.length > 0) yield items;
        if (scanner.finished) return; // a file_error (e.g. file too large): stop reading
      }
      const out = scanner.bytesRead;
      if (maxRatio !== undefined && out > RATIO_GUARD_MIN_BYTES && out > maxRatio * compressed.bytes) {
        // Records read so far have been emitted; what is left of the file is not read.
        yield [
          {
            kind: "file_error",
            reason: "decompression_ratio",
            message: `gzip expands more than ${maxRatio}:1 (${out} bytes from ${compressed.bytes}; max decompression ratio): a decompression bomb; the rest of the file is not read`,
            ordinal: scanner.nextOrdinal,
          },
        ];
        return;
      }
    }
    if (contentError !== undefined) {
      // What was decoded before the corruption has been emitted; a partial record is lost with it.
      yield [
        {
          kind: "file_error",
          reason: "truncated_gzip",
          message: contentError,
          ordinal: scanner.nextOrdinal,
        },
      ];
      return;
    }
    const last = scanner.end();
    if (last.length > 0) yield last;
    completed = true;
  } finally {
    if (!completed && !input.destroyed) input.destroy();
    // Let the input's iterator clean up if we stopped early (no-op once it is done).
    if (!completed) await it.return?.().catch(() => undefined);
  }
}
