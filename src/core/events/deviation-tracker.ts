/**
 * Counts the deviations of the records a process validates (docs/DATA-QUALITY.md) and says when an
 * `event_type / path / action` is seen for the first time, so the worker logs a new deviation once, not
 * once per record. The set of keys is bounded: paths come from FIELD_SPECS, event types from EVENT_TYPES,
 * except undeclared fields' (the vendor's), of which the first MAX_UNDECLARED_PATHS keep their own label and
 * the rest are counted as OTHER_UNDECLARED (their paths are on the documents all the same).
 */

/** Distinct undeclared paths with a label (and a log line) of their own, per process. */
export const MAX_UNDECLARED_PATHS = 200;
export const OTHER_UNDECLARED = "(other undeclared fields)";

/** A Deviation (src/core/events/normalise.ts) as an index action carries it. */
interface DeviationLike {
  readonly path: string;
  readonly action: string;
  readonly message: string;
}

interface DeviationCounter {
  inc(labels: { event_type: string; path: string; action: string }, n?: number): void;
}

export class DeviationTracker {
  private readonly seen = new Set<string>();
  private readonly undeclared = new Set<string>();

  /**
   * Count a record's deviations on `counter`; `onNew` is called once per `event_type / path / action`
   * this tracker has not seen before, with that deviation (its message is one example).
   */
  record(
    eventType: string,
    deviations: readonly DeviationLike[],
    counter: DeviationCounter | undefined,
    onNew: (d: DeviationLike, eventType: string) => void,
  ): void {
    for (const d of deviations) {
      const path = d.action === "undeclared" ? this.undeclaredLabel(eventType, d.path) : d.path;
      counter?.inc({ event_type: eventType, path, action: d.action });
      const key = `${eventType}\u0000${path}\u0000${d.action}`;
      if (!this.seen.has(key)) {
        this.seen.add(key);
        onNew(path === d.path ? d : { ...d, path }, eventType);
      }
    }
  }

  /** An undeclared path's label: its own while fewer than MAX_UNDECLARED_PATHS have one, else OTHER_UNDECLARED. */
  private undeclaredLabel(eventType: string, path: string): string {
    const key = `${eventType}\u0000${path}`;
    if (this.undeclared.has(key)) return path;
    if (this.undeclared.size >= MAX_UNDECLARED_PATHS) return OTHER_UNDECLARED;
    this.undeclared.add(key);
    return path;
  }
}

/** The process's tracker (the worker, backfill and replay each log a new deviation once). */
export const processDeviations = new DeviationTracker();
