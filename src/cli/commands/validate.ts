import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const validateCommand: CommandModule = {
  command: "validate",
  describe: "validate (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("validate is not implemented yet");
  },
};
