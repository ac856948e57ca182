/**
 * Backfill progress that survives an interruption. Keys are taken in listing order but finish out of
 * order (several objects in flight), so the state is a watermark (every taken key up to it is done)
 * plus the keys done beyond it. Written atomically (temporary file + rename) after each object.
 */
import { createHash } from "node:crypto";
import { access, constants, open, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { compareKeys } from "./range.ts";

export interface Totals {
  /** Objects ingested to the end. */
  files: number;
  /** Objects listed but gone when read. */
  notFound: number;
  /** Objects with a file-level error (truncated gzip, broken array...): recorded in quarantine. */
  fileErrors: number;
  records: number;
  indexed: number;
  duplicates: number;
  rejected: number;
  bytes: number;
  byEventType: Record<string, number>;
  rejectedByReason: Record<string, number>;
}

export function emptyTotals(): Totals {
  return {
    files: 0,
    notFound: 0,
    fileErrors: 0,
    records: 0,
    indexed: 0,
    duplicates: 0,
    rejected: 0,
    bytes: 0,
    byEventType: {},
    rejectedByReason: {},
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

export function addTotals(into: Totals, from: Totals): Totals {
  into.files += from.files;
  into.notFound += from.notFound;
  into.fileErrors += from.fileErrors;
  into.records += from.records;
  into.indexed += from.indexed;
  into.duplicates += from.duplicates;
  into.rejected += from.rejected;
  into.bytes += from.bytes;
  addCounts(into.byEventType, from.byEventType);
  addCounts(into.rejectedByReason, from.rejectedByReason);
  return into;
}

/** What is written to the checkpoint file. */
export interface CheckpointState {
  version: 1;
  /** Identity of the run (source + range as given): a checkpoint of another run is refused. */
  id: string;
  source: string;
  /** The resolved range, kept so that `--since 7d` resumes the same range. */
  range: { fromMs?: number; toMs?: number };
  allKeys: boolean;
  /** Every taken key <= watermark (in S3 order) is done. */
  watermark?: string;
  /** Keys done after the watermark. */
  done: string[];
  /** Counts of the objects done so far, over every resumed run. */
  totals: Totals;
  updatedAt: string;
}

/** Identity of a backfill: the source and the range as the user gave them. */
export function checkpointId(parts: {
  source: string;
  from?: string | undefined;
  to?: string | undefined;
  since?: string | undefined;
  allKeys: boolean;
}): string {
  const text = JSON.stringify([
    parts.source,
    parts.from ?? null,
    parts.to ?? null,
    parts.since ?? null,
    parts.allKeys,
  ]);
  return createHash("sha256").update(text).digest("hex").slice(0, 16);
}

export function defaultCheckpointPath(id: string, cwd = process.cwd()): string {
  return resolve(cwd, checkpointFileName(id));
}

function checkpointFileName(id: string): string {
  return `.twingate-backfill-${id}.json`;
}

type CheckpointLocation = { kind: "file"; path: string } | { kind: "s3"; bucket: string; key: string };

/**
 * The checkpoint of run `id` from the setting (BACKFILL_CHECKPOINT / --checkpoint):
 * - absent: `.twingate-backfill-<id>.json` in the current folder;
 * - `s3://bucket/key.json`: that object; `s3://bucket/` or `s3://bucket/prefix/` (ends with `/`): the object
 *   `<prefix>twingate-backfill-<id>.json` there (a second machine resuming the run finds it);
 * - a path ending with `/` or naming an existing folder: the default file name in that folder;
 * - any other path: that file.
 */
export async function resolveCheckpointLocation(
  setting: string | undefined,
  id: string,
  cwd = process.cwd(),
): Promise<CheckpointLocation> {
  const name = checkpointFileName(id);
  if (setting === undefined || setting.trim() === "") return { kind: "file", path: resolve(cwd, name) };
  const text = setting.trim();
  if (/^s3:\/\//i.test(text)) {
    const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/i.exec(text);
    if (!m?.[1])
      throw new CheckpointError(
        `checkpoint location ${text}: expected s3://bucket/key or s3://bucket/prefix/`,
      );
    const rest = m[2] ?? "";
    const key = rest === "" || rest.endsWith("/") ? `${rest}${name.slice(1)}` : rest;
    return { kind: "s3", bucket: m[1], key };
  }
  const abs = resolve(cwd, text);
  if (text.endsWith("/")) return { kind: "file", path: resolve(abs, name) };
  const info = await stat(abs).catch(() => undefined);
  return { kind: "file", path: info?.isDirectory() ? resolve(abs, name) : abs };
}

/** Pure progress tracking: taken keys in listing order, completions in any order. */
export class ProgressTracker {
  private readonly pending: string[] = [];
  private head = 0;
  private readonly doneAhead = new Set<string>();
  private watermarkKey: string | undefined;

  constructor(resume?: { watermark?: string | undefined; done?: readonly string[] }) {
    this.watermarkKey = resume?.watermark;
    for (const k of resume?.done ?? []) this.doneAhead.add(k);
  }

  get watermark(): string | undefined {
    return this.watermarkKey;
  }

  /** Whether a key was finished by this or an earlier run. */
  isDone(key: string): boolean {
    if (this.watermarkKey !== undefined && compareKeys(key, this.watermarkKey) <= 0) return true;
    return this.doneAhead.has(key);
  }

  /** A key about to be read, in listing order. */
  taken(key: string): void {
    if (this.pending.length > this.head) {
      const last = this.pending[this.pending.length - 1]!;
      if (compareKeys(key, last) <= 0) throw new Error(`keys out of order: ${key} after ${last}`);
    }
    this.pending.push(key);
  }

  /** A key finished (ingested, or found gone). Moves the watermark over every finished key at the front. */
  completed(key: string): void {
    this.doneAhead.add(key);
    while (this.head < this.pending.length && this.doneAhead.has(this.pending[this.head]!)) {
      const k = this.pending[this.head++]!;
      this.doneAhead.delete(k);
      this.watermarkKey = k;
    }
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Keys done beyond the watermark, in order. */
  doneKeys(): string[] {
    return [...this.doneAhead].sort(compareKeys);
  }

  /** Keys taken but not finished (still running, failed, or never started). */
  unfinished(): string[] {
    return this.pending.slice(this.head).filter((k) => !this.doneAhead.has(k));
  }
}

export class CheckpointError extends Error {
  override name = "CheckpointError";
}

/** Parse and check a checkpoint file's text. */
export function parseCheckpoint(text: string, path: string): CheckpointState {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new CheckpointError(
      `checkpoint ${path} is not valid JSON (${(err as Error).message}); remove it or use --restart`,
    );
  }
  const s = data as Partial<CheckpointState>;
  if (
    s === null ||
    typeof s !== "object" ||
    s.version !== 1 ||
    typeof s.id !== "string" ||
    !Array.isArray(s.done) ||
    typeof s.totals !== "object" ||
    s.totals === null
  ) {
    throw new CheckpointError(`checkpoint ${path} is not a backfill checkpoint; remove it or use --restart`);
  }
  return { ...s, totals: { ...emptyTotals(), ...s.totals } } as CheckpointState;
}

/**
 * Where a run's progress lives: a local file or an S3 object. Read at start, checked writable before any work,
 * written after progress, removed when the run completes.
 */
export interface CheckpointStore {
  /** The path or `s3://bucket/key`, for messages and the summary. */
  readonly path: string;
  load(): Promise<CheckpointState | undefined>;
  checkWritable(): Promise<void>;
  write(state: CheckpointState): Promise<void>;
  remove(): Promise<void>;
}

/** The checkpoint file: read, write atomically, check writability up front, remove when done. */
export class CheckpointFile implements CheckpointStore {
  constructor(readonly path: string) {}

  async load(): Promise<CheckpointState | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw new CheckpointError(`cannot read checkpoint ${this.path}: ${(err as Error).message}`);
    }
    return parseCheckpoint(text, this.path);
  }

  /** Fails with a clear error when the checkpoint cannot be written (before any work starts). */
  async checkWritable(): Promise<void> {
    const dir = dirname(this.path);
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      throw new CheckpointError(
        `cannot write the checkpoint ${this.path}: folder ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); use --checkpoint PATH`,
      );
    }
  }

  /** Write the state: temporary file, fsync, rename over the old one (never a half-written file). */
  async write(state: CheckpointState): Promise<void> {
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      const fh = await open(tmp, "w");
      try {
        await fh.writeFile(`${JSON.stringify(state)}\n`);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new CheckpointError(`cannot write the checkpoint ${this.path}: ${(err as Error).message}`);
    }
  }

  async remove(): Promise<void> {
    await rm(this.path, { force: true });
  }
}

/**
 * Saves the latest state without ever running two writes at once: a request during a write makes
 * one more write after it. The first failure is kept and reported to `onError` (the run stops).
 */
export class CoalescingSaver {
  private running: Promise<void> | undefined;
  private again = false;
  error: unknown;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly onError: (err: unknown) => void,
  ) {}

  request(): void {
    if (this.error !== undefined) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => {
      this.running = undefined;
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.save();
      } catch (err) {
        this.error = err;
        this.onError(err);
        return;
      }
    } while (this.again);
  }

  /** Wait for any write in progress, then write the latest state once more. Throws the kept error. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    if (this.error !== undefined) throw this.error;
    await this.save();
  }
}
