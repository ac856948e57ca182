/**
 * Progress of a long run: a bar on a terminal (stderr), a log line every interval otherwise.
 */
import cliProgress from "cli-progress";
import type { Logger } from "../../platform/logger.ts";
import type { BackfillProgress } from "./listing-run.ts";

interface ProgressDisplay {
  update(p: BackfillProgress): void;
  stop(): void;
}

/** Records per second and seconds left from what is known (pure, for the log lines). */
export function rates(
  p: BackfillProgress,
  elapsedMs: number,
): { recordsPerSec: number; etaSec: number | undefined } {
  const secs = Math.max(elapsedMs / 1000, 0.001);
  const recordsPerSec = p.records / secs;
  const filesPerSec = p.done / secs;
  const left = p.listed - p.done;
  const etaSec = p.listingDone && filesPerSec > 0 ? Math.round(left / filesPerSec) : undefined;
  return { recordsPerSec: Math.round(recordsPerSec), etaSec };
}

export function createProgress(opts: {
  tty: boolean;
  logger: Logger;
  intervalMs?: number;
  stream?: NodeJS.WriteStream;
}): ProgressDisplay {
  const started = performance.now();
  let last: BackfillProgress = { listed: 0, listingDone: false, done: 0, records: 0, bytes: 0 };
  if (opts.tty) {
    const bar = new cliProgress.SingleBar(
      {
        stream: opts.stream ?? process.stderr,
        format: "{bar} {value}/{total} files{more} | {records} records | {rps} rec/s | ETA {eta_formatted}",
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(0, 0, { records: 0, rps: 0, more: "+" });
    return {
      update(p) {
        last = p;
        const r = rates(p, performance.now() - started);
        bar.setTotal(p.listed);
        bar.update(p.done, { records: p.records, rps: r.recordsPerSec, more: p.listingDone ? "" : "+" });
      },
      stop() {
        bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    const r = rates(last, performance.now() - started);
    opts.logger.info(
      {
        files: last.done,
        listed: last.listed,
        listingDone: last.listingDone,
        records: last.records,
        bytes: last.bytes,
        recordsPerSec: r.recordsPerSec,
        ...(r.etaSec !== undefined ? { etaSec: r.etaSec } : {}),
      },
      "backfill progress",
    );
  }, opts.intervalMs ?? 10_000);
  timer.unref();
  return {
    update(p) {
      last = p;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
