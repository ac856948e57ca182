/**
 * The S3 client follows region redirects: a bucket in another region than the worker's answers 301 with
 * `x-amz-bucket-region`, and the client asks again signed for that region instead of failing the object.
 * Proven against a local HTTP server that plays S3's part (no network).
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { createS3Client } from "../../src/platform/aws/clients.ts";

const BUCKET_REGION = "eu-central-1";
const seen: string[] = [];
const server = createServer((req, res) => {
  // the region of the request's SigV4 credential scope: .../<date>/<region>/s3/aws4_request
  const region = /Credential=[^/]+\/\d+\/([^/]+)\/s3\//.exec(req.headers.authorization ?? "")?.[1] ?? "";
  seen.push(region);
  if (region !== BUCKET_REGION) {
    res.writeHead(301, { "content-type": "application/xml", "x-amz-bucket-region": BUCKET_REGION });
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint.</Message></Error>`,
    );
    return;
  }
  res.writeHead(200, { "content-type": "application/json", "content-length": "2" });
  res.end("{}");
});
let endpoint = "";
const saved = { id: process.env["AWS_ACCESS_KEY_ID"], secret: process.env["AWS_SECRET_ACCESS_KEY"] };

before(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env["AWS_ACCESS_KEY_ID"] = "test";
  process.env["AWS_SECRET_ACCESS_KEY"] = "test";
});
after(() => {
  server.close();
  if (saved.id === undefined) delete process.env["AWS_ACCESS_KEY_ID"];
  else process.env["AWS_ACCESS_KEY_ID"] = saved.id;
  if (saved.secret === undefined) delete process.env["AWS_SECRET_ACCESS_KEY"];
  else process.env["AWS_SECRET_ACCESS_KEY"] = saved.secret;
});

describe("createS3Client", () => {
  test("follows a region redirect: the object of a bucket in another region is read", async () => {
    const s3 = createS3Client({ awsRegion: "us-east-1", s3Endpoint: endpoint, s3ForcePathStyle: true });
    try {
      const res = await s3.send(
        new GetObjectCommand({ Bucket: "elsewhere", Key: "2025-07-25T18:20:00+00:00.json" }),
      );
      assert.equal(await res.Body?.transformToString(), "{}");
      assert.deepEqual(
        seen,
        ["us-east-1", BUCKET_REGION],
        "asked once in its own region, then in the bucket's",
      );
    } finally {
      s3.destroy();
    }
  });
});
