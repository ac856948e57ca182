/**
 * Where produced files go: an S3 bucket (any endpoint: an emulator or AWS with the default credential
 * chain) or a local folder (for backfill from disk and for tests without a server).
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve, sep } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

export interface Target {
  /** `s3://bucket/` or the folder's absolute path, for logs and the summary. */
  readonly location: string;
  put(key: string, body: Buffer, contentType: string, signal?: AbortSignal): Promise<void>;
}

export function s3Target(client: S3Client, bucket: string): Target {
  return {
    location: `s3://${bucket}/`,
    async put(key, body, contentType, signal) {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
        signal ? { abortSignal: signal } : {},
      );
    },
  };
}

/** Files under `dir`, a key's "/" making sub-folders. Written to a temporary name, then renamed into place. */
export function dirTarget(dir: string): Target {
  const root = resolve(dir);
  return {
    location: root,
    async put(key, body) {
      const path = resolve(join(root, key));
      if (path !== root && !path.startsWith(root + sep))
        throw new Error(`key escapes the target folder: ${key}`);
      await mkdir(dirname(path), { recursive: true });
      const tmp = `${path}.partial-${process.pid}`;
      await writeFile(tmp, body);
      await rename(tmp, path);
    },
  };
}
