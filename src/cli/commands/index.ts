import type { CommandModule } from "yargs";
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
export const commands: CommandModule<any, any>[] = [
  workerCommand,
  backfillCommand,
  setupCommand,
  doctorCommand,
  produceCommand,
  validateCommand,
  replayCommand,
  gapsCommand,
  redriveCommand,
];
