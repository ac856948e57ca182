import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  filterObject,
  type ObjectFilter,
  objectFilterFromConfig,
} from "../../src/core/notifications/index.ts";
import { loadConfig, TWINGATE_KEY_PATTERN } from "../../src/platform/config/index.ts";

const TG = new RegExp(TWINGATE_KEY_PATTERN);
const base: ObjectFilter = { bucketAllowlist: [], keyPrefix: "", keyPattern: TG };
const obj = (key: string, bucket = "acme-logs") => ({ bucket, key });

describe("filterObject", () => {
  it("allows any bucket when the allowlist is empty", () => {
    assert.deepEqual(filterObject(obj("2025-07-25T18:20:00+00:00.json", "whatever"), base), { ok: true });
  });

  it("refuses a bucket outside a non-empty allowlist, naming it", () => {
    const f = { ...base, bucketAllowlist: ["acme-logs", "acme-logs-eu"] };
    assert.deepEqual(filterObject(obj("x/2025-07-25T18:20:00+00:00.json", "acme-logs-eu"), f), { ok: true });
    const r = filterObject(obj("x/2025-07-25T18:20:00+00:00.json", "acme-log"), f);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /bucket "acme-log" is not in the bucket allowlist/);
  });

  it("applies the key prefix to the decoded key", () => {
    const f = { ...base, keyPrefix: "twingate/" };
    assert.deepEqual(filterObject(obj("twingate/network_access/2025-07-25T18:20:00+00:00.json"), f), {
      ok: true,
    });
    const r = filterObject(obj("other/2025-07-25T18:20:00+00:00.json"), f);
    assert.equal(r.ok, false);
    assert.match((r as { reason: string }).reason, /not under the key prefix "twingate\/"/);
  });

  it("the default pattern accepts Twingate's names and refuses others", () => {
    for (const key of [
      "2025-07-25T18:20:00+00:00.json",
      "twingate/network_access/2025-07-25T18:20:00+00:00.json",
      "p/2025-07-25T18:20:00Z.json.gz",
      "p/2025-07-25T18:20:00.123-05:00.json",
    ]) {
      assert.deepEqual(filterObject(obj(key), base), { ok: true }, key);
    }
    for (const key of [
      "2025-07-25T18:20:00 00:00.json", // a "+" decoded as a space by mistake
      "twingate/README.txt",
      "twingate/2025-07-25T18:20:00+00:00.json.tmp",
      "x2025-07-25T18:20:00+00:00.json",
    ]) {
      const r = filterObject(obj(key), base);
      assert.equal(r.ok, false, key);
      assert.match((r as { reason: string }).reason, /does not match the key pattern/);
    }
  });

  it("checks the bucket before the key", () => {
    const f = { ...base, bucketAllowlist: ["a"], keyPrefix: "p/" };
    assert.match((filterObject(obj("q/x", "b"), f) as { reason: string }).reason, /^bucket/);
  });

  it("a global or sticky pattern gives the same answer on every call", () => {
    for (const flags of ["g", "y", "gy"]) {
      const f = { ...base, keyPattern: new RegExp("^twingate/", flags) };
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(filterObject(obj("twingate/a.json"), f), { ok: true }, `${flags} #${i}`);
      }
      assert.equal(filterObject(obj("x/twingate/a.json"), f).ok, false);
      assert.equal(f.keyPattern.lastIndex, 0, "the caller's RegExp is untouched");
    }
  });

  it("bounds the reason for very long keys", () => {
    const r = filterObject(obj("k".repeat(100_000)), base);
    assert.equal(r.ok, false);
    assert.ok((r as { reason: string }).reason.length < 600);
  });
});

describe("objectFilterFromConfig", () => {
  it("builds the filter from loaded settings (default pattern: Twingate names)", () => {
    const f = objectFilterFromConfig(loadConfig({}, {}));
    assert.deepEqual(f.bucketAllowlist, []);
    assert.equal(f.keyPrefix, "");
    assert.equal(f.keyPattern.source, TG.source);
  });

  it("takes the allowlist, prefix and pattern from the environment", () => {
    const config = loadConfig({}, { BUCKET_ALLOWLIST: "a, b", KEY_PREFIX: "tg/", KEY_PATTERN: "\\.json$" });
    const f = objectFilterFromConfig(config);
    assert.deepEqual(f.bucketAllowlist, ["a", "b"]);
    assert.deepEqual(filterObject({ bucket: "b", key: "tg/x.json" }, f), { ok: true });
    assert.equal(filterObject({ bucket: "c", key: "tg/x.json" }, f).ok, false);
    assert.equal(filterObject({ bucket: "a", key: "tg/x.txt" }, f).ok, false);
  });
});
