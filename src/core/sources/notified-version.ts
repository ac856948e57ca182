/**
 * Is the object read the one the notification announced? S3 notifies each PutObject with the new version's
 * eTag and size; when the key was written again before we read it, GetObject (without a version id) returns
 * the newer object, and the first version is gone unless the bucket is versioned (then the notification
 * carries its versionId and the source reads that version). A mismatch is said, not hidden: the newer
 * object is ingested as usual (its own notification follows), and the operator learns that one version was
 * never read (docs/DEPLOY.md, "Overwritten objects").
 */
import type { ObjectRef } from "../model.ts";

/** What the source read: set on the ref when it opens the object (S3: GetObject's ETag and ContentLength). */
export interface ObjectRead {
  etag?: string | undefined;
  size?: number | undefined;
  versionId?: string | undefined;
}

/** S3 quotes an ETag in headers (`"abc"`) but not in event notifications (`abc`). */
function bareEtag(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"|"$/g, "");
}

/** Why the object read differs from the notified one, or undefined when it is the same (or nothing to compare). */
export function notifiedVersionMismatch(ref: ObjectRef, read: ObjectRead | undefined): string | undefined {
  if (!read) return undefined;
  const diffs: string[] = [];
  if (ref.etag && read.etag && bareEtag(ref.etag) !== bareEtag(read.etag))
    diffs.push(`eTag ${bareEtag(ref.etag)} notified, ${bareEtag(read.etag)} read`);
  if (ref.size !== undefined && read.size !== undefined && ref.size !== read.size)
    diffs.push(`size ${ref.size} notified, ${read.size} read`);
  return diffs.length ? diffs.join("; ") : undefined;
}
