/**
 * Listing what a backfill (or the gaps report) has to look at: an S3 prefix, paged with
 * ListObjectsV2 to its end (from a checkpoint's watermark when resuming), or a local folder; each key
 * taken or not by the time in its name.
 */
import { stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from "@aws-sdk/client-s3";
import { DeadlineError, withDeadline } from "../../platform/util/deadline.ts";
import { filesUnder } from "../../platform/util/files.ts";
import { classifyKey, compareKeys, type KeyVerdict, type ListPlan } from "./range.ts";

export interface ListedObject {
  /** S3 key, or the file's absolute path for a local folder. */
  key: string;
  size: number;
  etag?: string;
}

export interface ListingStats {
  /** ListObjectsV2 calls made (0 for a folder). */
  pages: number;
  /** Keys S3 returned (or files found), whatever their verdict. */
  seen: number;
  taken: number;
  skippedName: number;
  outOfRange: number;
}

export function emptyListingStats(): ListingStats {
  return { pages: 0, seen: 0, taken: 0, skippedName: 0, outOfRange: 0 };
}

function count(stats: ListingStats, verdict: KeyVerdict): void {
  if (verdict === "take") stats.taken++;
  else if (verdict === "skip-name") stats.skippedName++;
  else if (verdict === "out-of-range") stats.outOfRange++;
}

/** Each ListObjectsV2 page must answer within this (the SDK's own retries included). */
const LIST_PAGE_DEADLINE_MS = 60_000;
/** Pages given up on (no answer) are asked again this many times before the listing fails. */
const LIST_PAGE_ATTEMPTS = 3;

/**
 * Keys to read from `bucket` under the plan, in S3's order. `resumeAfter` (a checkpoint's watermark)
 * is the StartAfter. Pages are fetched one at a time, as the caller consumes. A page whose answer
 * does not come within `deadlineMs` is asked again (a listing is safe to repeat), then the listing fails
 * with a DeadlineError instead of waiting forever.
 */
export async function* listS3(
  s3: S3Client,
  bucket: string,
  plan: ListPlan,
  stats: ListingStats,
  opts: { resumeAfter?: string; signal?: AbortSignal; pageSize?: number; deadlineMs?: number } = {},
): AsyncGenerator<ListedObject> {
  const startAfter = opts.resumeAfter;
  let token: string | undefined;
  do {
    opts.signal?.throwIfAborted();
    const command = new ListObjectsV2Command({
      Bucket: bucket,
      ...(plan.prefix ? { Prefix: plan.prefix } : {}),
      ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
      ...(opts.pageSize ? { MaxKeys: opts.pageSize } : {}),
    });
    const res = await listPage(s3, command, opts.deadlineMs ?? LIST_PAGE_DEADLINE_MS, opts.signal);
    stats.pages++;
    for (const o of res.Contents ?? []) {
      if (o.Key === undefined) continue;
      stats.seen++;
      const verdict = classifyKey(o.Key, plan);
      count(stats, verdict);
      if (verdict === "take") {
        yield { key: o.Key, size: o.Size ?? 0, ...(o.ETag ? { etag: o.ETag } : {}) };
      }
    }
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
}

/**
 * Files under `dir` (recursively) selected by the plan on their path relative to `dir`, sorted the
 * way S3 sorts keys. Keys of the result are absolute paths (what the local source opens).
 */
export async function listDir(dir: string, plan: ListPlan, stats: ListingStats): Promise<ListedObject[]> {
  const root = resolve(dir);
  const info = await stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`--dir ${dir}: ${err.code === "ENOENT" ? "no such folder" : err.message}`);
  });
  if (!info.isDirectory()) throw new Error(`--dir ${dir}: not a folder`);
  // Skip our own state files and partial writes.
  const files = await filesUnder(
    root,
    (name) => name.startsWith(".twingate-backfill-") || name.includes(".partial-"),
  );
  files.sort((a, b) => compareKeys(a.rel, b.rel));
  const out: ListedObject[] = [];
  for (const f of files) {
    stats.seen++;
    const verdict = classifyKey(f.rel, plan);
    count(stats, verdict);
    if (verdict !== "take") continue;
    const s = await stat(f.abs);
    out.push({ key: f.abs, size: s.size });
  }
  return out;
}

async function listPage(
  s3: S3Client,
  command: ListObjectsV2Command,
  deadlineMs: number,
  signal: AbortSignal | undefined,
): Promise<ListObjectsV2CommandOutput> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await withDeadline("ListObjectsV2", deadlineMs, signal, (abortSignal) =>
        s3.send(command, { abortSignal }),
      );
    } catch (err) {
      if (!(err instanceof DeadlineError) || attempt >= LIST_PAGE_ATTEMPTS) throw err;
    }
  }
}
