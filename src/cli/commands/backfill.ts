import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const backfillCommand: CommandModule = {
  command: "backfill",
  describe: "backfill (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("backfill is not implemented yet");
  },
};
