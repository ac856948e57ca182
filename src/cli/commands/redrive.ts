import type { CommandModule } from "yargs";
import { createSqsClient } from "../../platform/aws/clients.ts";
import { AWS_SETTINGS, loadConfig, settingOptions } from "../../platform/config/index.ts";
import { redrive } from "../../runtimes/redrive/index.ts";
import { type CommandArgs, queueWithRegion } from "../options.ts";

const KEYS = ["logLevel", "queueUrl", ...AWS_SETTINGS] as const;

interface RedriveArgs extends CommandArgs {
  dlqUrl?: string;
  dryRun: boolean;
  max?: number;
  json: boolean;
}

export const redriveCommand: CommandModule<object, RedriveArgs> = {
  command: "redrive",
  describe:
    "Return the dead-letter queue's messages to the queue (send, then delete: never lost), once the cause is fixed",
  builder: (y) =>
    y
      .options({
        "dlq-url": {
          type: "string",
          describe: "Dead-letter queue URL (default: the queue's RedrivePolicy target)",
        },
        "dry-run": { type: "boolean", default: false, describe: "Count and peek, move nothing" },
        max: { type: "number", describe: "Move at most this many (default: the DLQ's depth at the start)" },
        json: { type: "boolean", default: false, describe: "Print the summary as JSON" },
      })
      .options(settingOptions(KEYS)) as never,
  handler: async (argv) => {
    const config = loadConfig(argv);
    const queueUrl = await queueWithRegion(config);
    const sqs = createSqsClient(config);
    try {
      const s = await redrive(sqs, {
        queueUrl,
        dryRun: argv.dryRun,
        ...(argv.dlqUrl ? { dlqUrl: argv.dlqUrl } : {}),
        ...(argv.max !== undefined ? { max: argv.max } : {}),
      });
      if (argv.json) process.stdout.write(`${JSON.stringify(s)}\n`);
      else {
        const age = s.oldestAgeSeconds === undefined ? "" : `, the oldest sent ${s.oldestAgeSeconds} s ago`;
        process.stdout.write(
          `${s.dlqDepth} message(s) in ${s.dlqUrl}${age}; ${s.dryRun ? "would move" : "moved"} ${s.moved} to ${s.queueUrl}` +
            `${s.failed > 0 ? `; ${s.failed} failed (${s.errors.join("; ")})` : ""}\n`,
        );
      }
      argv.exitCode = s.failed > 0 ? 1 : 0;
    } finally {
      sqs.destroy();
    }
  },
};
