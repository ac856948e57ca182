import type { Readable } from "node:stream";
import type { ObjectRef } from "../model.ts";

/** Where object bytes come from: S3 (worker, backfill) or a local folder (backfill --dir). */
export interface ObjectSource {
  /** The object's body as a stream, or `undefined` when it no longer exists. Throws on other errors. */
  open(ref: ObjectRef, signal?: AbortSignal): Promise<Readable | undefined>;
}

/** An error that names the object and says whether trying again later can help. */
export class ObjectAccessError extends Error {
  override name = "ObjectAccessError";
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
