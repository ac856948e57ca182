import { type Logger, pino } from "pino";

export type { Logger };

/**
 * JSON logs on stderr (stdout is kept for command output such as --json summaries).
 * Secrets are redacted by path as a second line of defence; the code never logs them on purpose.
 */
export function createLogger(level = "info", destination: number | NodeJS.WritableStream = 2): Logger {
  return pino(
    {
      level,
      base: { app: "twingate-ingest" },
      redact: {
        paths: [
          "password",
          "*.password",
          "opensearchPassword",
          "*.opensearchPassword",
          "secretAccessKey",
          "*.secretAccessKey",
          "sessionToken",
          "*.sessionToken",
          "authorization",
          "*.authorization",
          "headers.authorization",
        ],
        censor: "[redacted]",
      },
    },
    typeof destination === "number" ? pino.destination({ fd: destination, sync: false }) : destination,
  );
}
