import type { Argv, CommandModule } from "yargs";
import { exitCodesEpilog } from "../errors.ts";
import { backfillCommand } from "./backfill.ts";
import { doctorCommand } from "./doctor.ts";
import { gapsCommand } from "./gaps.ts";
import { produceCommand } from "./produce.ts";
import { redriveCommand } from "./redrive.ts";
import { replayCommand } from "./replay.ts";
import { setupCommand } from "./setup.ts";
import { validateCommand } from "./validate.ts";
import { workerCommand } from "./worker.ts";

// biome-ignore lint/suspicious/noExplicitAny: yargs command modules carry their own argv types
type AnyCommand = CommandModule<any, any>;

/** What exit code 1 means for each command (the rest of the rule is the same for all: errors.ts). */
const PROBLEMS: [AnyCommand, string, string?][] = [
  [
    workerCommand,
    "a fatal error while running, or OpenSearch not answering at a one-off check",
    "a second SIGINT/SIGTERM (the first finishes or releases the work in flight, then exits 0)",
  ],
  [backfillCommand, "records rejected (quarantined), files that failed, or the run stopped early"],
  [setupCommand, "the dashboards import failed, or OpenSearch did not answer"],
  [doctorCommand, "a check failed (warnings do not)"],
  [produceCommand, "a write to S3 or the folder failed"],
  [validateCommand, "a record or a file was rejected (with --strict, also a record with deviations)"],
  [replayCommand, "OpenSearch did not answer, or a write was given up after HOLD_LIMIT"],
  [gapsCommand, "missing slots or files without documents were found (with --repair: files left unrepaired)"],
  [redriveCommand, "messages that could not be returned to the queue"],
];

export const commands: AnyCommand[] = PROBLEMS.map(([c, problems, interrupted]) => ({
  ...c,
  builder: (y: Argv) => {
    const b = typeof c.builder === "function" ? (c.builder(y) as Argv) : y.options(c.builder ?? {});
    return b.epilog(exitCodesEpilog(problems, interrupted));
  },
}));
