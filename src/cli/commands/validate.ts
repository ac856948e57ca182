import type { Argv, CommandModule } from "yargs";
import { loadConfig, READER_SETTINGS, settingOptions } from "../../platform/config/index.ts";
import {
  addFileError,
  expandPaths,
  formatDetail,
  formatFileLine,
  formatTotal,
  isClean,
  mergeSummary,
  newSummary,
  toJson,
  validateFile,
} from "../../tools/validate/index.ts";
import { UsageError } from "../errors.ts";

interface ValidateArgs {
  paths: string[];
  json: boolean;
  details?: boolean;
  exitCode?: number;
}

function builder(y: Argv) {
  return y
    .positional("paths", {
      type: "string",
      array: true,
      describe: "Files (gzip or not, any layout) or directories (walked recursively)",
    })
    .options({
      json: {
        type: "boolean",
        default: false,
        describe: "Print one JSON summary on stdout instead of the per-file report",
      },
      details: {
        type: "boolean",
        default: false,
        describe:
          "List every rejection and every deviation (a value normalised or set aside) as file:line, path and reason (on stderr with --json)",
      },
      strict: {
        type: "boolean",
        default: false,
        describe: "Exit 1 also when a record would be indexed with deviations (normalised or set aside)",
      },
      ...settingOptions(READER_SETTINGS),
    })
    .example("$0 validate ./export/", "Check every file under ./export")
    .example("$0 validate --json 2025-07-25T18:20:00+00:00.json.gz", "Machine-readable summary")
    .epilog(
      "Valid records include those indexed with deviations (with_issues, deviations_by_path; see docs/DATA-QUALITY.md).\n" +
        "File-level errors (syntax_error, truncated_gzip, file_too_large) are listed in file_errors with their\n" +
        "reason and are not counted in rejected/rejected_by_reason, which count records only.",
    );
}

interface ValidateIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: ValidateIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};

/** The command's work; returns the exit code (0 clean, 1 rejections or file errors, 2 I/O error). */
export async function runValidate(
  argv: { paths: string[]; json: boolean; details?: boolean; strict?: boolean } & Record<string, unknown>,
  io: ValidateIo = processIo,
): Promise<number> {
  const config = loadConfig(argv);
  const opts = { maxRecordBytes: config.maxRecordBytes, maxFileBytes: config.maxFileBytes };
  let files: string[];
  try {
    files = await expandPaths(argv.paths);
  } catch (err) {
    throw new UsageError(
      `cannot read ${(err as NodeJS.ErrnoException).path ?? "path"}: ${(err as Error).message}`,
      true,
    );
  }
  const total = newSummary();
  let ioError = false;
  for (const file of files) {
    try {
      const print = argv.json ? io.err : io.out;
      const s = await validateFile(
        file,
        opts,
        argv.details ? (d) => print(`${formatDetail(d)}\n`) : undefined,
      );
      mergeSummary(total, s);
      if (!argv.json) io.out(`${formatFileLine(file, s)}\n`);
    } catch (err) {
      ioError = true;
      const message = err instanceof Error ? err.message : String(err);
      total.files++;
      addFileError(total, file, "io_error", message);
      io.err(`twingate-ingest: cannot read ${file}: ${message}\n`);
    }
  }
  if (argv.json) io.out(`${JSON.stringify(toJson(total))}\n`);
  else io.out(`${formatTotal(total)}\n`);
  // Deviations are not failures (the records are indexed); --strict makes them one.
  return ioError ? 2 : isClean(total) && !(argv.strict === true && total.with_issues > 0) ? 0 : 1;
}

export const validateCommand: CommandModule<object, ValidateArgs> = {
  command: "validate <paths..>",
  describe: "Validate local Twingate export files and print a summary (no indexing)",
  builder: builder as unknown as CommandModule<object, ValidateArgs>["builder"],
  handler: async (argv) => {
    argv.exitCode = await runValidate(argv as unknown as ValidateArgs & Record<string, unknown>);
  },
};
