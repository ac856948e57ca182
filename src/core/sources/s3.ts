import { addAbortSignal, type Readable } from "node:stream";
import { GetObjectCommand, NoSuchKey, type S3Client } from "@aws-sdk/client-s3";
import { withDeadline } from "../../platform/util/deadline.ts";
import type { ObjectRef } from "../model.ts";
import { ObjectAccessError, type ObjectSource } from "./types.ts";

/**
 * GetObject as a stream. SSE-S3 and SSE-KMS objects decrypt server-side (the role needs kms:Decrypt).
 * The SDK retries throttling and 5xx on the request; a body cut mid-way surfaces as a stream error
 * and the whole object is retried later (ids are deterministic, so that is harmless).
 * The response head must come within GET_OBJECT_DEADLINE_MS (the SDK's own retries included): a
 * request whose answer never comes fails the object for a later retry instead of holding its message.
 */
const GET_OBJECT_DEADLINE_MS = 60_000;

export function s3Source(s3: S3Client): ObjectSource {
  return {
    async open(ref: ObjectRef, signal?: AbortSignal): Promise<Readable | undefined> {
      try {
        const res = await withDeadline("GetObject", GET_OBJECT_DEADLINE_MS, signal, (abortSignal) =>
          s3.send(
            new GetObjectCommand({
              Bucket: ref.bucket,
              Key: ref.key,
              ...(ref.versionId ? { VersionId: ref.versionId } : {}),
            }),
            { abortSignal },
          ),
        );
        const body = res.Body as Readable;
        if (res.LastModified) ref.lastModified = res.LastModified.toISOString();
        ref.read = { etag: res.ETag, size: res.ContentLength, versionId: res.VersionId };
        // The deadline's signal covered the head only: from here the caller's signal (shutdown, Ctrl-C,
        // the Lambda deadline) must still be able to end a body that is downloading.
        if (signal) addAbortSignal(signal, body);
        return body;
      } catch (err) {
        if (signal?.aborted) throw err;
        const name = (err as { name?: string }).name;
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (err instanceof NoSuchKey || name === "NoSuchKey" || name === "NoSuchVersion") return undefined;
        if (name === "AccessDenied" || status === 403) {
          throw new ObjectAccessError(
            `access denied reading s3://${ref.bucket}/${ref.key}${ref.versionId ? ` (version ${ref.versionId})` : ""}: the worker's role needs s3:GetObject on it${ref.versionId ? " and s3:GetObjectVersion (a versioned bucket's notification names the version)" : ""} (and kms:Decrypt for SSE-KMS)`,
            { cause: err },
          );
        }
        if (name === "NoSuchBucket") {
          throw new ObjectAccessError(`bucket ${ref.bucket} does not exist (reading ${ref.key})`, {
            cause: err,
          });
        }
        throw new ObjectAccessError(
          `GetObject s3://${ref.bucket}/${ref.key} failed: ${name ?? "error"}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    },
  };
}
