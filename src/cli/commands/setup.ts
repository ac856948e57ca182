import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const setupCommand: CommandModule = {
  command: "setup",
  describe: "setup (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("setup is not implemented yet");
  },
};
