import type { IndexAction } from "../model.ts";
import { countStored, emptyOutcome, type Sink, type SinkWriter } from "./sink.ts";

/**
 * A sink that stores nothing and counts what it is given, as if every action were created: `validate`,
 * dry runs. `onAction` sees each action (validate reads a quarantine document's reason and place from it).
 */
export class CountingSink implements Sink {
  constructor(private readonly onAction?: (action: IndexAction) => void) {}

  open(): SinkWriter {
    const outcome = emptyOutcome();
    return {
      add: (action) => {
        this.onAction?.(action);
        outcome.created++;
        countStored(outcome, action.kind, action.eventType, action.reason);
        return undefined;
      },
      finish: async () => outcome,
      abort: async () => undefined,
    };
  }
}
