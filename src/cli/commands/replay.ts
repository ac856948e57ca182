import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const replayCommand: CommandModule = {
  command: "replay",
  describe: "replay (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("replay is not implemented yet");
  },
};
