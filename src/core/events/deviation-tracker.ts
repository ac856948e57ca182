/**
 * Counts the deviations of the records a process validates (docs/DATA-QUALITY.md) and says when an
 * `event_type / path / action` is seen for the first time, so the worker logs a new deviation once, not
 * once per record. The set of keys is bounded: paths come from FIELD_SPECS, event types from EVENT_TYPES.
 */

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
      counter?.inc({ event_type: eventType, path: d.path, action: d.action });
      const key = `${eventType}\u0000${d.path}\u0000${d.action}`;
      if (!this.seen.has(key)) {
        this.seen.add(key);
        onNew(d, eventType);
      }
    }
  }
}

/** The process's tracker (the worker, backfill and replay each log a new deviation once). */
export const processDeviations = new DeviationTracker();
