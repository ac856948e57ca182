import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { ProduceSummary } from "../../src/tools/produce/run.ts";

const ROOT = join(import.meta.dirname, "..", "..");

function cli(args: string[]) {
  return spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", "produce", ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
}

describe("produce: command line", () => {
  it("writes to a folder and prints an exact JSON summary", async () => {
    const dir = await mkdtemp(join(tmpdir(), "produce-cli-"));
    try {
      const r = cli([
        "--dir",
        dir,
        "--from",
        "2025-07-25T18:00:00Z",
        "--to",
        "2025-07-25T18:10:00Z",
        "--events-per-file",
        "30",
        "--layout",
        "concatenated",
        "--mix",
        "audit_log=1",
        "--unknown-type-rate",
        "0.1",
        "--oversized",
        "1",
        "--max-record-bytes",
        "2kb",
        "--json",
      ]);
      assert.equal(r.status, 0, r.stderr);
      const summary = JSON.parse(r.stdout) as ProduceSummary;
      assert.deepEqual(
        summary.files.map((f) => f.key),
        ["2025-07-25T18:00:00+00:00.json", "2025-07-25T18:05:00+00:00.json"],
      );
      assert.deepEqual((await readdir(dir)).sort(), [
        "2025-07-25T18:00:00+00:00.json",
        "2025-07-25T18:05:00+00:00.json",
      ]);
      assert.equal(summary.records, 60);
      assert.equal(summary.faults.oversized, 1);
      assert.equal(summary.by_event_type.audit_log, summary.valid);
      assert.equal(summary.by_event_type.network_access, 0);
      assert.equal(summary.layout, "concatenated");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 with a reason on flags it cannot honour", () => {
    const r = cli(["--dir", tmpdir(), "--corrupt-rate", "0.1", "--layout", "array"]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--corrupt-rate needs --layout ndjson/);
    assert.equal(r.stdout, "");
  });
});
