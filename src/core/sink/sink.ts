/**
 * Where the pipeline's documents go. A `Sink` owns batching, back-pressure and the writes in flight; the
 * pipeline (src/core/ingest/ingest-object.ts) only hands it actions, one object at a time, through a `SinkWriter`.
 * Implementations: `BulkSink` (OpenSearch `_bulk`), `CountingSink` (counts, writes nothing: validate, dry
 * runs). A new destination is one new file implementing this, plus its registration in the command that
 * picks it.
 */
import type { IndexAction } from "../model.ts";

/** What one object's writes stored. */
export interface SinkOutcome {
  created: number;
  duplicates: number;
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
  return { created: 0, duplicates: 0, quarantinedOnIndex: 0, indexedByType: {}, quarantinedByReason: {} };
}

export function mergeOutcome(into: SinkOutcome, o: SinkOutcome): SinkOutcome {
  into.created += o.created;
  into.duplicates += o.duplicates;
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
