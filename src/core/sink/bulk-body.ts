import type { IndexAction } from "../model.ts";
import type { WriteAction } from "./sink.ts";

/**
 * A batch's action, read back from the batch's bytes and metadata: only made for the rare paths (an
 * item to retry, a record OpenSearch refused, a batch halved for 413). Valid while its batch is.
 */
class BatchAction implements IndexAction {
  private head?: { _index: string; _id: string };

  constructor(
    private readonly batch: BulkBatch,
    readonly at: number,
  ) {}

  get kind(): IndexAction["kind"] {
    return this.batch.kindOf(this.at);
  }
  get op(): WriteAction["op"] {
    return this.batch.opOf(this.at);
  }
  get eventType(): string | undefined {
    return this.batch.eventTypeOf(this.at);
  }
  get reason(): IndexAction["reason"] {
    return this.batch.reasonOf(this.at);
  }
  get index(): string {
    return this.parsedHead()._index;
  }
  get id(): string {
    return this.parsedHead()._id;
  }
  /** The action's lines (`{"create":...}\n<document>\n`), UTF-8. */
  get line(): Buffer {
    return this.batch.linesOf(this.at);
  }
  /** Where the document starts in `line`. */
  documentOffset(): number {
    return this.batch.headOf(this.at).length;
  }
  get document(): Record<string, unknown> {
    return JSON.parse(this.batch.documentOf(this.at).toString("utf8")) as Record<string, unknown>;
  }
  get received(): string | undefined {
    return this.batch.receivedOf(this.at);
  }

  private parsedHead(): { _index: string; _id: string } {
    // `{"create":{...}}`, `{"index":{...}}` or `{"delete":{...}}`
    this.head ??= Object.values(
      JSON.parse(this.batch.headOf(this.at).toString("utf8")) as Record<
        string,
        { _index: string; _id: string }
      >,
    )[0]!;
    return this.head;
  }
}

const MIN_GROWTH = 64 * 1024;
/**
 * Numbers kept per action in `meta`: where its lines start, where its document starts, kind and operation
 * (kind + 2 x op), type, reason.
 */
const STRIDE = 5;
const KINDS: readonly IndexAction["kind"][] = ["record", "quarantine"];
const OPS: readonly NonNullable<WriteAction["op"]>[] = ["create", "index", "delete"];

/**
 * One bulk batch: actions serialised once, as they arrive, into NDJSON in one growing UTF-8 buffer;
 * the byte count is known without a second serialisation, the request body is a view of the buffer (no
 * copy), and a retried action's bytes are copied into its new batch. `create` (not `index`) makes a second
 * copy of the same deterministic id a 409 conflict, which the sink counts as "already indexed"; an action
 * may ask for `index` (replace) or `delete` instead (replay: sink.ts WriteAction).
 *
 * The buffer is allocated at the batch's expected size up front (`capacity`: the sink passes its byte
 * limit): memory the OS maps lazily, so the unused tail costs no RSS, and large buffers go back to the OS
 * when freed; it grows (by copying) only if a batch outgrows it.
 *
 * Why bytes and numbers rather than strings and objects: a batch lives as long as its bulk request, long
 * enough for what it holds to be promoted to V8's old generation where, as garbage once the request is
 * done, it made the heap (and the RSS) grow to several times the live data. So the batch keeps no object
 * per action: the text is encoded once into the buffer (outside the JS heap), and what the sink reads
 * per action (kind, event type, reason) is numbers in one typed array, the strings they stand for kept
 * once per batch. Index and id are read back from the bytes when an action is needed whole (`action`).
 */
export class BulkBatch {
  private buf: Buffer;
  bytes = 0;
  private count = 0;
  private meta = new Int32Array(STRIDE * 64);
  /** Event types and reasons in this batch; `meta` holds their position + 1 (0: none). */
  private readonly labels: string[] = [];
  /** The received text of the (rare) normalised records, by position: a refusal quarantines it. */
  private receivedTexts: Map<number, string> | undefined;
  private released = false;

  /** `buffer`: memory to write into (e.g. from a pool), else a new one of `capacity` bytes. */
  constructor(capacity = 0, buffer?: Buffer) {
    this.buf = buffer ?? Buffer.allocUnsafeSlow(capacity);
  }

  /**
   * Gives up the batch's memory (for reuse by a later batch) once the batch is done with: its
   * request answered and any retry copied out. The batch and its actions are unusable after.
   */
  release(): Buffer {
    const buf = this.buf;
    this.buf = Buffer.alloc(0);
    this.receivedTexts = undefined;
    this.released = true;
    return buf;
  }

  add(action: WriteAction): void {
    let start: number;
    let docStart: number;
    const { op } = action; // absent: create (ingestion's, the hot path)
    if (action instanceof BatchAction) {
      const line = action.line;
      start = this.reserve(line.length);
      line.copy(this.buf, start);
      docStart = start + action.documentOffset();
      this.bytes += line.length;
    } else if (op === "delete") {
      // `{"delete":...}` has no document line: the document is empty, ending where the line does
      const head = `{"delete":{"_index":${JSON.stringify(action.index)},"_id":${JSON.stringify(action.id)}}}\n`;
      start = this.reserve(head.length * 3);
      docStart = start + this.buf.write(head, start, "utf8");
      this.bytes = docStart;
    } else {
      const head =
        op === "index"
          ? `{"index":{"_index":${JSON.stringify(action.index)},"_id":${JSON.stringify(action.id)}}}\n`
          : `{"create":{"_index":${JSON.stringify(action.index)},"_id":${JSON.stringify(action.id)}}}\n`;
      const doc = action.json ?? [JSON.stringify(action.document)];
      // A UTF-16 code unit takes at most 3 bytes in UTF-8: room for that, then one encoding pass per text
      // part (writing the parts one by one spares V8 flattening their concatenation into another string);
      // a part given as bytes (UTF-8 already) is copied.
      let room = head.length * 3 + 1;
      for (const part of doc) room += typeof part === "string" ? part.length * 3 : part.length;
      start = this.reserve(room);
      docStart = start + this.buf.write(head, start, "utf8");
      let end = docStart;
      for (const part of doc) {
        if (typeof part === "string") end += this.buf.write(part, end, "utf8");
        else {
          this.buf.set(part, end);
          end += part.length;
        }
      }
      this.buf[end] = 0x0a; // "\n"
      this.bytes = end + 1;
    }
    if (this.meta.length < (this.count + 1) * STRIDE) {
      const grown = new Int32Array(this.meta.length * 2);
      grown.set(this.meta);
      this.meta = grown;
    }
    const m = this.count * STRIDE;
    this.meta[m] = start;
    this.meta[m + 1] = docStart;
    this.meta[m + 2] = (action.kind === "record" ? 0 : 1) + (op === undefined ? 0 : 2 * OPS.indexOf(op));
    if (op === "delete") {
      this.meta[m + 3] = 0;
      this.meta[m + 4] = 0;
      this.count++;
      return;
    }
    this.meta[m + 3] = this.label(action.eventType);
    this.meta[m + 4] = this.label(action.reason);
    const received = action.received;
    if (received !== undefined) {
      this.receivedTexts ??= new Map();
      this.receivedTexts.set(this.count, received);
    }
    this.count++;
  }

  private label(s: string | undefined): number {
    if (s === undefined) return 0;
    const i = this.labels.indexOf(s);
    return i === -1 ? this.labels.push(s) : i + 1;
  }

  get size(): number {
    return this.count;
  }

  kindOf(i: number): IndexAction["kind"] {
    return KINDS[this.meta[i * STRIDE + 2]! & 1]!;
  }
  opOf(i: number): NonNullable<WriteAction["op"]> {
    return OPS[this.meta[i * STRIDE + 2]! >> 1]!;
  }
  eventTypeOf(i: number): string | undefined {
    const l = this.meta[i * STRIDE + 3]!;
    return l === 0 ? undefined : this.labels[l - 1];
  }
  reasonOf(i: number): IndexAction["reason"] {
    const l = this.meta[i * STRIDE + 4]!;
    return l === 0 ? undefined : (this.labels[l - 1] as IndexAction["reason"]);
  }

  receivedOf(i: number): string | undefined {
    return this.receivedTexts?.get(i);
  }

  /** Action i, read back (for the rare paths: retry, refusal, halving). Valid while this batch is. */
  action(i: number): IndexAction {
    if (i < 0 || i >= this.count) throw new RangeError(`no action ${i} in a batch of ${this.count}`);
    return new BatchAction(this, i);
  }

  /** @internal action i's bytes: all its lines, its action line, its document */
  linesOf(i: number): Buffer {
    return this.bytesOf(this.meta[i * STRIDE]!, this.endOf(i));
  }
  headOf(i: number): Buffer {
    return this.bytesOf(this.meta[i * STRIDE]!, this.meta[i * STRIDE + 1]!);
  }
  documentOf(i: number): Buffer {
    return this.bytesOf(this.meta[i * STRIDE + 1]!, this.endOf(i) - 1);
  }
  private endOf(i: number): number {
    return i + 1 < this.count ? this.meta[(i + 1) * STRIDE]! : this.bytes;
  }

  /** The request body: NDJSON, UTF-8 (a view of the batch's buffer, valid while the batch is). */
  body(): Buffer {
    return this.bytesOf(0, this.bytes);
  }

  private bytesOf(start: number, end: number): Buffer {
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

  /** Actions [from, to) as a new batch (their bytes copied). */
  slice(from: number, to: number): BulkBatch {
    const actions: WriteAction[] = [];
    for (let i = from; i < to; i++) actions.push(this.action(i));
    return BulkBatch.of(actions);
  }

  /** A new batch holding these actions (e.g. some of a batch's, to retry). */
  static of(actions: readonly WriteAction[]): BulkBatch {
    let bytes = 0;
    for (const a of actions) if (a instanceof BatchAction) bytes += a.line.length;
    const b = new BulkBatch(bytes);
    for (const a of actions) b.add(a);
    return b;
  }
}
