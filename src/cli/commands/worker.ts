import type { CommandModule } from "yargs";
import { loadConfig } from "../../config/index.ts";

// Placeholder until its issue lands: validates configuration, then refuses to run.
export const workerCommand: CommandModule = {
  command: "worker",
  describe: "worker (not implemented yet)",
  handler: async (argv) => {
    loadConfig(argv);
    throw new Error("worker is not implemented yet");
  },
};
