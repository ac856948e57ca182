/**
 * gzip → bytes, member by member (RFC 1952): the header and trailer are read here, each member's deflate
 * data goes through zlib's raw inflate. What node's own Gunzip does, but for where a file ends:
 * - bytes after the last member that are not another member ("trailing garbage", which `gzip -d` ignores
 *   with a warning) are an error only after every byte of the members has come out. node's Gunzip reads
 *   them as the next member's header and drops the output of the call that ran into them: up to one
 *   zlib chunk of records, from a file whose data was whole;
 * - zeros after the last member are padding, ignored (as node and gzip do).
 * Errors carry zlib's words where zlib would have reported the same thing.
 */
import { Transform, type TransformCallback } from "node:stream";
import { crc32, createInflateRaw, type InflateRaw } from "node:zlib";

const ID1 = 0x1f;
const ID2 = 0x8b;
const DEFLATE = 8;
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED = 0xe0;
/** A header longer than this (a file name or comment without its end) is not one. */
const MAX_HEADER_BYTES = 64 * 1024;
const TRAILER_BYTES = 8;

class GzipDataError extends Error {
  override name = "GzipDataError";
}

/**
 * The length of the gzip header at the start of `b`, or -1 when `b` holds only its beginning so far.
 * Throws GzipDataError when it is not a gzip header.
 */
export function gzipHeaderLength(b: Buffer): number {
  if (b.length >= 1 && b[0] !== ID1) throw new GzipDataError("incorrect header check");
  if (b.length >= 2 && b[1] !== ID2) throw new GzipDataError("incorrect header check");
  if (b.length >= 3 && b[2] !== DEFLATE) throw new GzipDataError("unknown compression method");
  if (b.length < 10) return -1;
  const flags = b[3]!;
  if (flags & RESERVED) throw new GzipDataError("unknown header flags set");
  let at = 10;
  if (flags & FEXTRA) {
    if (b.length < at + 2) return -1;
    at += 2 + b.readUInt16LE(at);
  }
  for (const flag of [FNAME, FCOMMENT]) {
    if (!(flags & flag)) continue;
    const end = b.indexOf(0, at);
    if (end === -1) return -1;
    at = end + 1;
  }
  if (flags & FHCRC) {
    if (b.length < at + 2) return -1;
    if ((crc32(b.subarray(0, at)) & 0xffff) !== b.readUInt16LE(at))
      throw new GzipDataError("header crc mismatch");
    at += 2;
  }
  return b.length < at ? -1 : at;
}

type State = "header" | "body" | "trailer" | "padding" | "failed";

/**
 * A Transform from gzip bytes (one or more members) to the decompressed bytes. Bad gzip data does not
 * error the stream (which would drop output still buffered in it): the output ends after every byte
 * decoded before the problem, and `dataError` says what it was.
 */
export class GzipMembers extends Transform {
  /** Set when the gzip data was bad (corrupt, cut short, trailing garbage); the output ended there. */
  dataError: GzipDataError | undefined;
  private state: State = "header";
  /** Header or trailer bytes gathered so far. */
  private gathered: Buffer = Buffer.alloc(0);
  private inflater: InflateRaw | undefined;
  private inflaterEnded: Promise<void> | undefined;
  /** Bytes given to the current member's inflater, and its output's CRC-32 and length. */
  private fed = 0;
  private crc = 0;
  private size = 0;
  private members = 0;

  constructor() {
    // Room for a few inflate calls' output, so the inflater rarely waits on the reader between them.
    super({ readableHighWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.state === "failed") {
      done(); // the output has ended: the rest of the input is not read
      return;
    }
    this.consume(chunk).then(
      () => done(),
      (err: unknown) => done(this.fail(err)),
    );
  }

  override _flush(done: TransformCallback): void {
    if (this.state === "failed") {
      done();
      return;
    }
    this.finish().then(
      () => done(),
      (err: unknown) => done(this.fail(err)),
    );
  }

  /** Bad data (ours, or zlib's words for it) ends the output; anything else errors the stream. */
  private fail(err: unknown): Error | undefined {
    const zlibData = err instanceof Error && typeof (err as { errno?: unknown }).errno === "number";
    if (!(err instanceof GzipDataError) && !zlibData) return err as Error;
    this.dataError = err instanceof GzipDataError ? err : new GzipDataError((err as Error).message);
    this.state = "failed";
    this.inflater?.destroy();
    this.push(null);
    return undefined;
  }

  override _destroy(err: Error | null, done: (error?: Error | null) => void): void {
    this.inflater?.destroy();
    done(err);
  }

  private async consume(chunk: Buffer): Promise<void> {
    let rest = chunk;
    while (rest.length > 0) {
      switch (this.state) {
        case "header": {
          if (this.members > 0 && this.gathered.length === 0 && rest[0] === 0) {
            this.state = "padding";
            continue;
          }
          const b = this.gathered.length === 0 ? rest : Buffer.concat([this.gathered, rest]);
          let length: number;
          try {
            length = gzipHeaderLength(b);
          } catch (err) {
            if (this.members === 0) throw err;
            throw new GzipDataError(
              `${b.length} bytes after the end of the gzip data are not gzip (trailing garbage; every record before them was read)`,
            );
          }
          if (length === -1) {
            if (b.length > MAX_HEADER_BYTES) throw new GzipDataError("gzip header too long");
            this.gathered = Buffer.from(b); // a copy: the chunk's memory is not kept
            return;
          }
          rest = b.subarray(length);
          this.gathered = Buffer.alloc(0);
          this.startMember();
          break;
        }
        case "body": {
          const unused = await this.inflate(rest);
          if (unused === undefined) return;
          rest = unused;
          await this.inflaterEnded; // every byte of the member is out: its CRC is complete
          this.state = "trailer";
          break;
        }
        case "trailer": {
          const need = TRAILER_BYTES - this.gathered.length;
          const take = rest.subarray(0, need);
          this.gathered =
            this.gathered.length === 0 ? Buffer.from(take) : Buffer.concat([this.gathered, take]);
          rest = rest.subarray(take.length);
          if (this.gathered.length < TRAILER_BYTES) return;
          this.checkTrailer(this.gathered);
          this.gathered = Buffer.alloc(0);
          this.members++;
          this.state = "header";
          break;
        }
        case "failed":
          return;
        case "padding": {
          const nonZero = rest.findIndex((c) => c !== 0);
          if (nonZero !== -1)
            throw new GzipDataError(
              "bytes after the end of the gzip data and its zero padding are not gzip (trailing garbage; every record before them was read)",
            );
          return;
        }
      }
    }
  }

  private startMember(): void {
    const inflater = createInflateRaw();
    this.inflater = inflater;
    this.fed = 0;
    this.crc = 0;
    this.size = 0;
    inflater.on("data", (out: Buffer) => {
      this.crc = crc32(out, this.crc);
      this.size += out.length;
      this.push(out);
    });
    this.inflaterEnded = new Promise<void>((resolve, reject) => {
      inflater.once("end", resolve);
      inflater.once("error", reject);
    });
    this.inflaterEnded.catch(() => undefined); // awaited (or raced) where it matters
    this.state = "body";
  }

  /**
   * Gives `data` to the member's inflater. Resolves with what it did not take (the deflate data ended
   * inside `data`: the rest is the trailer and beyond), or undefined when it took everything.
   */
  private async inflate(data: Buffer): Promise<Buffer | undefined> {
    const inflater = this.inflater!;
    this.fed += data.length;
    await Promise.race([
      new Promise<void>((resolve, reject) => inflater.write(data, (err) => (err ? reject(err) : resolve()))),
      this.inflaterEnded, // rejects on corrupt data, which may leave the write unanswered
    ]);
    const left = this.fed - inflater.bytesWritten;
    if (left === 0) return undefined;
    this.fed = inflater.bytesWritten;
    return data.subarray(data.length - left);
  }

  private checkTrailer(t: Buffer): void {
    if (t.readUInt32LE(0) !== this.crc >>> 0) throw new GzipDataError("incorrect data check");
    if (t.readUInt32LE(4) !== this.size % 2 ** 32) throw new GzipDataError("incorrect length check");
  }

  private async finish(): Promise<void> {
    switch (this.state) {
      case "header":
        if (this.members === 0 || this.gathered.length > 0) throw new GzipDataError("unexpected end of file");
        return;
      case "padding":
      case "failed":
        return;
      case "trailer":
        throw new GzipDataError("unexpected end of file");
      case "body": {
        // The input ended where the deflate data may or may not have: ending the inflater tells.
        const inflater = this.inflater!;
        inflater.end();
        await this.inflaterEnded;
        throw new GzipDataError("unexpected end of file"); // no trailer
      }
    }
  }
}
