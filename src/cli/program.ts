import yargs from "yargs";
import { ConfigError } from "../platform/config/index.ts";
import { commands } from "./commands/index.ts";
import { UsageError } from "./errors.ts";
import { explainError } from "./explain.ts";

/** Exit codes: 0 ok, 1 the work found problems (e.g. rejected records), 2 usage or configuration error. */
export async function main(args: string[]): Promise<number> {
  let exitCode = 0;
  const parser = yargs(args)
    .scriptName("twingate-ingest")
    .usage("$0 <command> [options]\n\nIngest Twingate's S3 sync files into OpenSearch.")
    .command(commands)
    .demandCommand(1, "Choose a command.")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version()
    .wrap(Math.min(120, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    });
  try {
    const argv = await parser.parseAsync();
    if (typeof argv["exitCode"] === "number") exitCode = argv["exitCode"];
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`twingate-ingest: ${err.message}\n`);
      if (err instanceof UsageError && !err.quiet) process.stderr.write("Run with --help for usage.\n");
      return 2;
    }
    const explained = explainError(err);
    if (explained) {
      process.stderr.write(`twingate-ingest: ${explained.message}\n`);
      return explained.code;
    }
    process.stderr.write(
      `twingate-ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    return 1;
  }
  return exitCode;
}
