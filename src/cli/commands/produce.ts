import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const produceCommand: CommandModule = {
  command: "produce",
  describe: "produce (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("produce is not implemented yet");
  },
};
