export class UsageError extends Error {
  override name = "UsageError";
  constructor(
    message: string,
    readonly quiet = false,
  ) {
    super(message);
  }
}

/**
 * The one exit-code rule of every command (README, "Exit codes"), as each command's --help ends: 0 done;
 * 1 the work found problems (what that means for the command: `problems`); 2 usage or configuration (the
 * message names the setting); 130 interrupted before the work was done.
 */
export function exitCodesEpilog(
  problems: string,
  interrupted = "interrupted (SIGINT/SIGTERM) before the work was done",
): string {
  return (
    "Exit codes: 0 done, nothing wrong; " +
    `1 ${problems}; ` +
    "2 usage or configuration error, the message naming the setting (a bad flag or variable, wrong OpenSearch " +
    "credentials or CA, templates missing without AUTO_SETUP, a queue, bucket or path that does not exist, access denied); " +
    `130 ${interrupted}.`
  );
}
