/**
 * Progress of a long run on stderr: a bar on a terminal; plain lines every interval otherwise (CI, `docker
 * logs`, a Kubernetes Job), each with what is done, the rate and the time left; or nothing.
 */
import cliProgress from "cli-progress";
import type { BackfillProgress } from "./listing-run.ts";

interface ProgressDisplay {
  update(p: BackfillProgress): void;
  stop(): void;
}

export type ProgressMode = "bar" | "lines" | "off";

/** `--progress` / `--no-progress` and whether stderr is a terminal → how progress is shown. */
export function progressMode(flag: boolean | undefined, isTty: boolean): ProgressMode {
  if (flag === false) return "off";
  return isTty ? "bar" : "lines";
}

/** Records per second and seconds left from what is known (pure, for the lines). */
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

function duration(sec: number): string {
  if (sec < 60) return `${sec}s`;
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(sec % 60).padStart(2, "0")}s`;
}

/** One plain progress line (pure): `backfill: 120/300 files (40%), 52000 records, 5300 records/s, ETA 34s`. */
export function progressLine(p: BackfillProgress, elapsedMs: number): string {
  const r = rates(p, elapsedMs);
  const files = p.listingDone
    ? `${p.done}/${p.listed} files (${p.listed > 0 ? Math.floor((p.done / p.listed) * 100) : 100}%)`
    : `${p.done}/${p.listed}+ files (still listing)`;
  const eta = r.etaSec !== undefined ? `ETA ${duration(r.etaSec)}` : "ETA unknown until the listing ends";
  return `backfill: ${files}, ${p.records} records, ${r.recordsPerSec} records/s, ${eta}, ${duration(Math.round(elapsedMs / 1000))} elapsed`;
}

export function createProgress(opts: {
  mode: ProgressMode;
  intervalMs?: number;
  stream?: NodeJS.WritableStream;
  now?: () => number;
}): ProgressDisplay {
  const now = opts.now ?? (() => performance.now());
  const started = now();
  const stream = opts.stream ?? process.stderr;
  let last: BackfillProgress = { listed: 0, listingDone: false, done: 0, records: 0, bytes: 0 };
  if (opts.mode === "off") return { update() {}, stop() {} };
  if (opts.mode === "bar") {
    const bar = new cliProgress.SingleBar(
      {
        stream: stream as NodeJS.WriteStream,
        format: "{bar} {value}/{total} files{more} | {records} records | {rps} rec/s | ETA {eta_formatted}",
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
    // Started at the first file listed: a bar of 0/0 is drawn full.
    let shown = false;
    return {
      update(p) {
        last = p;
        if (p.listed === 0) return;
        const r = rates(p, now() - started);
        const payload = { records: p.records, rps: r.recordsPerSec, more: p.listingDone ? "" : "+" };
        if (!shown) {
          shown = true;
          bar.start(p.listed, p.done, payload);
          return;
        }
        bar.setTotal(p.listed);
        bar.update(p.done, payload);
      },
      stop() {
        if (shown) bar.stop();
      },
    };
  }
  const timer = setInterval(() => {
    stream.write(`${progressLine(last, now() - started)}\n`);
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
