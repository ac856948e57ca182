import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const gapsCommand: CommandModule = {
  command: "gaps",
  describe: "gaps (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("gaps is not implemented yet");
  },
};
