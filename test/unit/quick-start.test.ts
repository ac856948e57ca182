/** What a new user meets in a clone (issue #28, "quick start truths"). */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { basename, join } from "node:path";
import { describe, it } from "node:test";
import { checkpointId, defaultCheckpointPath } from "../../src/runtimes/backfill/checkpoint.ts";

const ROOT = join(import.meta.dirname, "..", "..");

describe("quick start", () => {
  it("backfill's default checkpoint file is git-ignored", (t) => {
    const git = spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: ROOT, encoding: "utf8" });
    if (git.status !== 0) return t.skip("not a git clone");
    const id = checkpointId({ source: "s3://bucket/prefix/", from: "2025-07-01", allKeys: false });
    const name = basename(defaultCheckpointPath(id, ROOT));
    const r = spawnSync("git", ["check-ignore", "-q", name], { cwd: ROOT });
    assert.equal(r.status, 0, `${name} is not ignored by .gitignore`);
  });
});
