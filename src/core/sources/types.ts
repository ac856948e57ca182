import type { Readable } from "node:stream";
import type { ObjectRef } from "../model.ts";

/** Where object bytes come from: S3 (worker, backfill) or a local folder (backfill --dir). */
export interface ObjectSource {
  /** The object's body as a stream, or `undefined` when it no longer exists. Throws on other errors. */
  open(ref: ObjectRef, signal?: AbortSignal): Promise<Readable | undefined>;
}

/**
 * An error reading an object, naming it and what to fix. Always worth trying again later (a permission
 * granted, a bucket created): the message is returned to the queue.
 */
export class ObjectAccessError extends Error {
  override name = "ObjectAccessError";
}
