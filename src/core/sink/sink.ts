/**
 * Where the pipeline's documents go. A `Sink` owns batching, back-pressure and the writes in flight; the
 * pipeline (src/core/ingest/ingest-object.ts) only hands it actions, one object at a time, through a `SinkWriter`.
 * Implementations: `BulkSink` (OpenSearch `_bulk`), `CountingSink` (counts, writes nothing: validate, dry
 * runs). A new destination is one new file implementing this, plus its registration in the command that
 * picks it.
 */
import type { IndexAction } from "../model.ts";

/**
 * How the bulk sink writes an action. `create` (the default, the only one ingestion uses): a second copy
 * of a deterministic id is a 409, counted as already there. `index`: replaces the document of that id
 * (replay's rewritten quarantine documents, whose id stays when their reason or message changes).
 */
export type DocumentAction = IndexAction & { op?: "create" | "index" };

/** A document to remove (replay's quarantine documents once their record is stored): gone if already gone. */
export interface DeleteAction {
  op: "delete";
  index: string;
  id: string;
  /** What the document is (a quarantine document, for replay). */
  kind: IndexAction["kind"];
}

/** What the bulk sink writes: one place where every write is held, retried, classified and counted. */
export type WriteAction = DocumentAction | DeleteAction;

/** What one object's writes stored. */
export interface SinkOutcome {
  /** Documents created (`create`: not there before). */
  created: number;
  /** `create`s already there (409): the same id from an earlier delivery. */
  duplicates: number;
  /** Documents written with `index` (replacing any of that id). */
  replaced: number;
  /** Documents deleted, or already gone (a 404 on `delete`). */
  deleted: number;
  /** Records the destination refused for their content, now in quarantine instead. */
  quarantinedOnIndex: number;
  /** Per event type counts of records (not quarantine docs) created or already there. */
  indexedByType: Record<string, number>;
  /** Per reason counts of quarantine documents stored (including those refused at index time). */
  quarantinedByReason: Record<string, number>;
}

export interface Sink {
  /** A writer for one object's actions; `signal` ends its waits and writes. */
  open(signal?: AbortSignal): SinkWriter;
}

export interface SinkWriter {
  /**
   * Takes one action. Returns a promise only when the caller must wait before adding more (back-pressure:
   * a batch went out); awaiting per record would cost a microtask hop each. Throws once a write failed.
   */
  add(action: IndexAction): Promise<void> | undefined;
  /** Resolves when everything added is stored (or quarantined); throws when that cannot be done now. */
  finish(): Promise<SinkOutcome>;
  /** Gives up: nothing more is sent, and the writes in flight have settled when it resolves. */
  abort(): Promise<void>;
}

export function emptyOutcome(): SinkOutcome {
  return {
    created: 0,
    duplicates: 0,
    replaced: 0,
    deleted: 0,
    quarantinedOnIndex: 0,
    indexedByType: {},
    quarantinedByReason: {},
  };
}

export function mergeOutcome(into: SinkOutcome, o: SinkOutcome): SinkOutcome {
  into.created += o.created;
  into.duplicates += o.duplicates;
  into.replaced += o.replaced;
  into.deleted += o.deleted;
  into.quarantinedOnIndex += o.quarantinedOnIndex;
  for (const [k, v] of Object.entries(o.indexedByType))
    into.indexedByType[k] = (into.indexedByType[k] ?? 0) + v;
  for (const [k, v] of Object.entries(o.quarantinedByReason))
    into.quarantinedByReason[k] = (into.quarantinedByReason[k] ?? 0) + v;
  return into;
}

/** Counts one stored action by its event type (a record) or its reason (a quarantine document). */
export function countStored(
  outcome: SinkOutcome,
  kind: IndexAction["kind"],
  eventType: string | undefined,
  reason: string | undefined,
): void {
  if (kind === "record") {
    const t = eventType ?? "unknown";
    outcome.indexedByType[t] = (outcome.indexedByType[t] ?? 0) + 1;
  } else {
    const r = reason ?? "unknown";
    outcome.quarantinedByReason[r] = (outcome.quarantinedByReason[r] ?? 0) + 1;
  }
}
