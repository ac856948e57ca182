import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { notifiedVersionMismatch } from "../../src/core/sources/notified-version.ts";

describe("notifiedVersionMismatch", () => {
  const ref = { bucket: "b", key: "k", etag: "0123abcd", size: 10 };
  it("the same object: quoted ETag of the header against the notification's bare one", () => {
    assert.equal(notifiedVersionMismatch(ref, { etag: '"0123abcd"', size: 10 }), undefined);
  });
  it("an overwrite: both differences named", () => {
    assert.equal(
      notifiedVersionMismatch(ref, { etag: '"ffff"', size: 20 }),
      "eTag 0123abcd notified, ffff read; size 10 notified, 20 read",
    );
  });
  it("nothing to compare (a local file, a notification without eTag/size): no mismatch", () => {
    assert.equal(notifiedVersionMismatch(ref, undefined), undefined);
    assert.equal(notifiedVersionMismatch({ bucket: "b", key: "k" }, { etag: "x", size: 1 }), undefined);
  });
});
