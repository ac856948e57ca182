import type { IndexAction } from "../model.ts";

/**
 * An action once serialised: the metadata the sink reads (index, id, kind, type, reason) and its NDJSON
 * lines, without the document object. The document is rebuilt from the text only if asked for (a record
 * OpenSearch refused, turned into quarantine: rare). Dropping the object right after serialising lets it
 * die young instead of being promoted with the batch, which keeps the heap (and the GC's work) small.
 */
class SerialisedAction implements IndexAction {
  readonly index: string;
  readonly id: string;
  readonly kind: IndexAction["kind"];
  readonly eventType?: string;
  readonly reason?: IndexAction["reason"];

  constructor(
    action: IndexAction,
    /** `{"create":...}\n<document>\n` */
    readonly line: string,
    private readonly docStart: number,
  ) {
    this.index = action.index;
    this.id = action.id;
    this.kind = action.kind;
    if (action.eventType !== undefined) this.eventType = action.eventType;
    if (action.reason !== undefined) this.reason = action.reason;
  }

  get document(): Record<string, unknown> {
    return JSON.parse(this.line.slice(this.docStart, -1)) as Record<string, unknown>;
  }
}

/**
 * One bulk batch: actions serialised once, as they arrive, into NDJSON lines; the byte count is
 * known without a second serialisation, and a retried action reuses its lines. `create` (not `index`)
 * makes a second copy of the same deterministic id a 409 conflict, which the sink counts as "already
 * indexed".
 */
export class BulkBatch {
  readonly actions: IndexAction[] = [];
  private readonly lines: string[] = [];
  bytes = 0;

  add(action: IndexAction): void {
    let entry: SerialisedAction;
    if (action instanceof SerialisedAction) entry = action;
    else {
      const head = `{"create":{"_index":${JSON.stringify(action.index)},"_id":${JSON.stringify(action.id)}}}\n`;
      entry = new SerialisedAction(action, `${head}${JSON.stringify(action.document)}\n`, head.length);
    }
    this.actions.push(entry);
    this.lines.push(entry.line);
    this.bytes += Buffer.byteLength(entry.line);
  }

  get size(): number {
    return this.actions.length;
  }

  body(): string {
    return this.lines.join("");
  }

  /** A new batch holding a subset (for retrying some items). */
  static of(actions: Iterable<IndexAction>): BulkBatch {
    const b = new BulkBatch();
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
