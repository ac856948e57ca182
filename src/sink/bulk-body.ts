import type { IndexAction } from "../model.ts";

/**
 * An action once serialised: the metadata the sink reads (index, id, kind, type, reason) and where its
 * NDJSON lines are in its batch's buffer, without the document object. The document is rebuilt from the
 * bytes only if asked for (a record OpenSearch refused, turned into quarantine: rare).
 */
class SerialisedAction implements IndexAction {
  readonly index: string;
  readonly id: string;
  readonly kind: IndexAction["kind"];
  readonly eventType?: string;
  readonly reason?: IndexAction["reason"];

  constructor(
    action: IndexAction,
    private readonly batch: BulkBatch,
    /** `{"create":...}\n<document>\n` is batch bytes [start, end); the document starts at docStart. */
    readonly start: number,
    readonly docStart: number,
    readonly end: number,
  ) {
    this.index = action.index;
    this.id = action.id;
    this.kind = action.kind;
    if (action.eventType !== undefined) this.eventType = action.eventType;
    if (action.reason !== undefined) this.reason = action.reason;
  }

  /** The action's lines, UTF-8. */
  get line(): Buffer {
    return this.batch.bytesOf(this.start, this.end);
  }

  get document(): Record<string, unknown> {
    const text = this.batch.bytesOf(this.docStart, this.end - 1).toString("utf8");
    return JSON.parse(text) as Record<string, unknown>;
  }
}

const MIN_GROWTH = 64 * 1024;

/**
 * One bulk batch: actions serialised once, as they arrive, into NDJSON in one growing UTF-8 buffer;
 * the byte count is known without a second serialisation, the request body is a view of the buffer (no
 * copy), and a retried action's bytes are copied into its new batch. `create` (not `index`) makes a second
 * copy of the same deterministic id a 409 conflict, which the sink counts as "already indexed".
 *
 * The buffer is allocated at the batch's expected size up front (`capacity`: the sink passes its byte
 * limit): memory the OS maps lazily, so the unused tail costs no RSS, and large buffers go back to the OS
 * when freed; it grows (by copying) only if a batch outgrows it.
 *
 * Why a buffer rather than strings: a batch lives as long as its bulk request, long enough for its lines
 * to be promoted to V8's old generation where, as garbage once the request is done, they made the heap
 * (and the RSS) grow to several times the live data. The buffer lives outside the JS heap and goes with
 * its batch; the text is encoded once here instead of when the request is written.
 */
export class BulkBatch {
  readonly actions: IndexAction[] = [];
  private buf: Buffer;
  bytes = 0;
  private released = false;

  /** `buffer`: memory to write into (e.g. from a pool), else a new one of `capacity` bytes. */
  constructor(capacity = 0, buffer?: Buffer) {
    this.buf = buffer ?? Buffer.allocUnsafeSlow(capacity);
  }

  /**
   * Gives up the batch's memory (for reuse by a later batch) once the batch is done with: its
   * request answered and any retry copied out. The batch and its actions' bytes are unusable after.
   */
  release(): Buffer {
    const buf = this.buf;
    this.buf = Buffer.alloc(0);
    this.released = true;
    return buf;
  }

  add(action: IndexAction): void {
    if (action instanceof SerialisedAction) {
      const line = action.line;
      const start = this.reserve(line.length);
      line.copy(this.buf, start);
      this.bytes += line.length;
      const docStart = start + action.docStart - action.start;
      this.actions.push(new SerialisedAction(action, this, start, docStart, this.bytes));
      return;
    }
    const head = `{"create":{"_index":${JSON.stringify(action.index)},"_id":${JSON.stringify(action.id)}}}\n`;
    const doc = action.json ?? [JSON.stringify(action.document)];
    // A UTF-16 code unit takes at most 3 bytes in UTF-8: room for that, then one encoding pass per part
    // (writing the parts one by one spares V8 flattening their concatenation into another string).
    let chars = head.length;
    for (const part of doc) chars += part.length;
    const start = this.reserve(chars * 3 + 1);
    const docStart = start + this.buf.write(head, start, "utf8");
    let end = docStart;
    for (const part of doc) end += this.buf.write(part, end, "utf8");
    this.buf[end] = 0x0a; // "\n"
    this.bytes = end + 1;
    this.actions.push(new SerialisedAction(action, this, start, docStart, this.bytes));
  }

  get size(): number {
    return this.actions.length;
  }

  /** The request body: NDJSON, UTF-8 (a view of the batch's buffer, valid while the batch is). */
  body(): Buffer {
    return this.bytesOf(0, this.bytes);
  }

  /** @internal bytes [start, end) of this batch */
  bytesOf(start: number, end: number): Buffer {
    if (this.released) throw new Error("bulk batch used after release");
    return this.buf.subarray(start, end);
  }

  /** Makes room for `n` more bytes; returns where they go. */
  private reserve(n: number): number {
    if (this.released) throw new Error("bulk batch used after release");
    const need = this.bytes + n;
    if (need > this.buf.length) {
      const grown = Buffer.allocUnsafeSlow(Math.max(need, this.buf.length * 2, MIN_GROWTH));
      this.buf.copy(grown, 0, 0, this.bytes);
      this.buf = grown;
    }
    return this.bytes;
  }

  /** A new batch holding a subset (for retrying some items). */
  static of(actions: readonly IndexAction[]): BulkBatch {
    let bytes = 0;
    for (const a of actions) if (a instanceof SerialisedAction) bytes += a.end - a.start;
    const b = new BulkBatch(bytes);
    for (const a of actions) b.add(a);
    return b;
  }
}

/** Per-item result of `_bulk` as we read it (filter_path keeps only these). */
export interface BulkItemResult {
  status: number;
  error?: { type?: string; reason?: string; caused_by?: { type?: string; reason?: string } };
}

export type ItemOutcome = "created" | "duplicate" | "retry" | "rejected";

/**
 * What to do with one item: 2xx created; 409 on create is the same id already there (an earlier
 * delivery indexed it); 429 and 5xx are worth retrying; any other 4xx (mapping, parsing) will
 * fail again the same way, so the record goes to quarantine.
 */
export function classifyItem(item: BulkItemResult): ItemOutcome {
  const s = item.status;
  if (s >= 200 && s < 300) return "created";
  if (s === 409) return "duplicate";
  if (s === 429 || s >= 500) return "retry";
  return "rejected";
}

export function itemErrorMessage(item: BulkItemResult): string {
  const e = item.error;
  if (!e) return `status ${item.status}`;
  const cause = e.caused_by ? ` (${e.caused_by.type}: ${e.caused_by.reason})` : "";
  return `${e.type ?? "error"}: ${e.reason ?? ""}${cause}`.slice(0, 2000);
}
