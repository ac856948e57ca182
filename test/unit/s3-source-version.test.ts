/**
 * A versioned bucket: S3's notification names the version it announces, and the worker reads that version
 * (GetObject with VersionId), not whatever the key holds by then (an overwrite). moto's notifications carry
 * no versionId, so this is proven here with aws-sdk-client-mock and on moto with a notification the e2e
 * test writes itself (test/e2e/overwritten.test.ts).
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { parseNotification } from "../../src/core/notifications/index.ts";
import { s3Source } from "../../src/core/sources/s3.ts";
import { ObjectAccessError } from "../../src/core/sources/types.ts";

const KEY = "tg/2025-07-25T18:20:00+00:00.json";
/** A GetObject body as the SDK gives it in Node (a Readable). */
const body = (text: string) => Readable.from([Buffer.from(text)]) as never;

/** S3's own notification of a put to a versioned bucket (eventVersion 2.1, the object's versionId). */
function notification(versionId?: string): string {
  const object = {
    key: encodeURIComponent(KEY).replace(/%2F/g, "/"),
    size: 4,
    eTag: "0123abcd",
    ...(versionId ? { versionId } : {}),
  };
  return JSON.stringify({
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: "us-east-1",
        eventTime: "2025-07-25T18:25:00.000Z",
        eventName: "ObjectCreated:Put",
        s3: { s3SchemaVersion: "1.0", bucket: { name: "b", arn: "arn:aws:s3:::b" }, object },
      },
    ],
  });
}

function refOf(message: string) {
  const n = parseNotification(message);
  assert.equal(n.kind, "objects");
  if (n.kind !== "objects") throw new Error("not objects");
  return n.objects[0]!;
}

describe("a versioned bucket's notification", () => {
  it("GetObject asks for the version the notification names, and the read records which version it got", async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).resolves({
      Body: body("{}\n"),
      ETag: '"0123abcd"',
      ContentLength: 3,
      VersionId: "v1",
    });
    const ref = refOf(notification("v1"));
    assert.equal(ref.versionId, "v1");
    const stream = await s3Source(s3 as unknown as S3Client).open(ref);
    assert.ok(stream);
    stream.resume();
    const calls = s3.commandCalls(GetObjectCommand);
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.args[0].input, { Bucket: "b", Key: KEY, VersionId: "v1" });
    assert.equal(ref.read?.versionId, "v1");
    s3.restore();
  });

  it("without a versionId (an unversioned bucket) GetObject reads the key as it is", async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).resolves({ Body: body("{}\n") });
    const ref = refOf(notification());
    (await s3Source(s3 as unknown as S3Client).open(ref))?.resume();
    assert.deepEqual(s3.commandCalls(GetObjectCommand)[0]!.args[0].input, { Bucket: "b", Key: KEY });
    s3.restore();
  });

  it("a version deleted since (NoSuchVersion) is gone, like a deleted key; a refused version read names s3:GetObjectVersion", async () => {
    const s3 = mockClient(S3Client);
    s3.on(GetObjectCommand).rejects(Object.assign(new Error("gone"), { name: "NoSuchVersion" }));
    assert.equal(await s3Source(s3 as unknown as S3Client).open(refOf(notification("v0"))), undefined);
    s3.reset();
    s3.on(GetObjectCommand).rejects(
      Object.assign(new Error("Access Denied"), { name: "AccessDenied", $metadata: { httpStatusCode: 403 } }),
    );
    await assert.rejects(
      s3Source(s3 as unknown as S3Client).open(refOf(notification("v0"))),
      (err: unknown) => err instanceof ObjectAccessError && /s3:GetObjectVersion/.test(err.message),
    );
    s3.restore();
  });
});
