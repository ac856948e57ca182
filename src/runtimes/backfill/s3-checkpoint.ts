/**
 * A checkpoint kept as an S3 object (`s3://bucket/key`): survives the machine that ran the backfill, so a
 * second machine (or a restarted container) resumes where the first stopped. A PutObject replaces the whole
 * object at once, so a reader never sees a half-written state.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  CheckpointError,
  type CheckpointState,
  type CheckpointStore,
  parseCheckpoint,
} from "./checkpoint.ts";

function notFound(err: unknown): boolean {
  return (
    err instanceof S3ServiceException &&
    (err.name === "NoSuchKey" || err.name === "NotFound" || err.$metadata.httpStatusCode === 404)
  );
}

export class S3Checkpoint implements CheckpointStore {
  readonly path: string;

  constructor(
    private readonly s3: S3Client,
    readonly bucket: string,
    readonly key: string,
  ) {
    this.path = `s3://${bucket}/${key}`;
  }

  async load(): Promise<CheckpointState | undefined> {
    let text: string;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.key }));
      text = (await res.Body?.transformToString("utf8")) ?? "";
    } catch (err) {
      if (notFound(err)) return undefined;
      throw new CheckpointError(`cannot read checkpoint ${this.path}: ${(err as Error).message}`);
    }
    return parseCheckpoint(text, this.path);
  }

  /** S3 has no "may I write" question: the first write (made before any work) is the check. */
  async checkWritable(): Promise<void> {}

  async write(state: CheckpointState): Promise<void> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.key,
          Body: `${JSON.stringify(state)}\n`,
          ContentType: "application/json",
        }),
      );
    } catch (err) {
      throw new CheckpointError(`cannot write the checkpoint ${this.path}: ${(err as Error).message}`);
    }
  }

  async remove(): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.key }));
    } catch (err) {
      if (!notFound(err)) throw err;
    }
  }
}
