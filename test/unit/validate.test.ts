import assert from "node:assert/strict";
import { mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { runValidate } from "../../src/cli/commands/validate.ts";
import { UsageError } from "../../src/cli/errors.ts";
import {
  addFileError,
  addRejected,
  addValid,
  type Detail,
  EXAMPLES_PER_REASON,
  formatDetail,
  formatTotal,
  isClean,
  mergeSummary,
  newSummary,
  toJson,
  validateStream,
} from "../../src/tools/validate/index.ts";

const ROOT = join(import.meta.dirname, "..", "..");
const FIXTURES = join(ROOT, "test", "fixtures", "files");

describe("summary", () => {
  it("counts records, reasons, unknown types and keeps the first few examples", () => {
    const s = newSummary();
    addValid(s, "audit_log");
    for (let i = 0; i < 5; i++) {
      addRejected(s, "f", {
        reason: "unknown_event_type",
        eventType: "vpn",
        message: "m",
        raw: "",
        ordinal: i,
      });
    }
    assert.equal(s.records, 6);
    assert.equal(s.rejected, 5);
    assert.deepEqual(s.unknown_event_types, { vpn: 5 });
    assert.equal(s.examples["unknown_event_type"]!.length, EXAMPLES_PER_REASON);
    assert.equal(isClean(s), false);
    assert.match(formatTotal(s), /unknown_event_type \(first 3 of 5\)/);
  });

  it("counts event types named like Object's own properties (constructor, __proto__) as numbers", () => {
    const s = newSummary();
    for (const t of ["constructor", "toString", "__proto__", "__proto__"])
      addRejected(s, "f", { reason: "unknown_event_type", eventType: t, message: "m", raw: "", ordinal: 0 });
    assert.deepEqual(
      JSON.parse(JSON.stringify(toJson(s).unknown_event_types)),
      JSON.parse('{"constructor":1,"toString":1,"__proto__":2}'),
    );
    assert.equal(Object.getPrototypeOf(s.unknown_event_types), Object.prototype);
  });

  it("file errors do not count as rejected records but make the run unclean", () => {
    const s = newSummary();
    addValid(s, "dns_filtering");
    addFileError(s, "f", "syntax_error", "broken");
    assert.equal(s.rejected, 0);
    assert.deepEqual(s.rejected_by_reason, {});
    assert.equal(isClean(s), false);
    assert.deepEqual(toJson(s).file_errors, [{ file: "f", error: "broken", reason: "syntax_error" }]);
    assert.equal("examples" in toJson(s), false);
  });

  it("merges", () => {
    const a = newSummary();
    const b = newSummary();
    addValid(a, "audit_log");
    addValid(b, "audit_log");
    addValid(b, "network_access");
    addRejected(b, "g", { reason: "invalid_json", message: "m", raw: "", ordinal: 0 });
    mergeSummary(a, b);
    assert.deepEqual(a.by_event_type, { audit_log: 2, network_access: 1 });
    assert.equal(a.records, 4);
    assert.deepEqual(a.rejected_by_reason, { invalid_json: 1 });
  });
});

describe("validateStream", () => {
  it("counts a mixed file", async () => {
    const text = [
      '{"event_type":"audit_log","event":{"version":1,"time":"2021-08-15T14:30Z","action":"create","actor":{"type":"API"}}}',
      '{"event_type":"new_stream","event":{}}',
      "{oops",
    ].join("\n");
    const s = await validateStream(Readable.from([Buffer.from(text)]), "mem");
    assert.deepEqual(toJson(s), {
      files: 1,
      records: 3,
      valid: 1,
      with_issues: 0,
      rejected: 2,
      by_event_type: { audit_log: 1 },
      rejected_by_reason: { unknown_event_type: 1, invalid_json: 1 },
      unknown_event_types: { new_stream: 1 },
      rejected_by_path: { event_type: 1, "-": 1 },
      deviations_by_path: {},
      file_errors: [],
    });
    assert.equal(s.examples["invalid_json"]![0]!.line, 3);
  });

  it("counts records indexed with deviations, per path, and lists each with --details' callback", async () => {
    const text = [
      '{"event_type":"network","event":{"time":"2025-07-25 18:19:41+0000","status":"closed_connection","connection":{"client_ip":"1.2.3.4"},"resource":{"ip":"intranet.local","port":"80"}}}',
      '{"event_type":"audit_log","event":{"version":1,"action":"create","actor":{"type":"API"}}}',
    ].join("\n");
    const details: Detail[] = [];
    const s = await validateStream(Readable.from([Buffer.from(text)]), "mem", {}, (d) => details.push(d));
    const j = toJson(s);
    assert.equal(j.valid, 1);
    assert.equal(j.with_issues, 1);
    assert.equal(j.rejected, 1);
    assert.deepEqual(j.rejected_by_path, { "event.time": 1 });
    assert.deepEqual(j.deviations_by_path, {
      "event_type:aliased": 1,
      "event.time:coerced": 1,
      "event.version:defaulted": 1,
      "event.resource.ip:set_aside": 1,
      "event.resource.port:coerced": 1,
    });
    assert.deepEqual(
      details.map((d) => `${formatDetail(d).split(": ")[0]}`),
      [
        "mem:1  event_type  deviation aliased",
        "mem:1  event.time  deviation coerced",
        "mem:1  event.version  deviation defaulted",
        "mem:1  event.resource.ip  deviation set_aside",
        "mem:1  event.resource.port  deviation coerced",
        "mem:2  event.time  rejected schema_invalid",
      ],
    );
  });
});

describe("validate command", () => {
  /** Run the command's work as its handler does, capturing its output. */
  async function run(paths: string[], extra: Record<string, unknown> = {}) {
    let stdout = "";
    let stderr = "";
    let error: unknown;
    let exitCode: number | undefined;
    try {
      exitCode = await runValidate(
        { paths, json: true, ...extra },
        { out: (t) => (stdout += t), err: (t) => (stderr += t) },
      );
    } catch (err) {
      error = err;
    }
    return { exitCode, stdout, stderr, error };
  }

  it("exit 0 and a JSON summary for valid files; a directory is walked", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-validate-"));
    const rec = {
      event_type: "audit_log",
      event: { version: "1", time: "2021-08-15T14:30Z", action: "edit", actor: { type: "User" } },
    };
    writeFileSync(join(dir, "a.json"), JSON.stringify([rec]));
    writeFileSync(join(dir, ".hidden"), "not json");
    const r = await run([dir, join(FIXTURES, "seed.ndjson.gz")]);
    assert.equal(r.exitCode, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.files, 2);
    assert.equal(out.valid, 5);
    assert.equal(out.by_event_type.audit_log, 2);
  });

  it("deviations exit 0 (the records are indexed); --strict exits 1 on any", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-validate-"));
    const rec = {
      event_type: "audit_log",
      event: { version: "1.0", time: "2021-08-15T14:30Z", action: "edit", actor: { type: "User" } },
    };
    writeFileSync(join(dir, "a.json"), JSON.stringify(rec));
    const r = await run([dir]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).with_issues, 1);
    assert.equal((await run([dir], { strict: true })).exitCode, 1);
    writeFileSync(join(dir, "a.json"), JSON.stringify({ ...rec, event: { ...rec.event, version: "1" } }));
    assert.equal((await run([dir], { strict: true })).exitCode, 0);
  });

  it("a directory's symbolic links are followed, to files and to folders", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tg-validate-links-"));
    const elsewhere = mkdtempSync(join(tmpdir(), "tg-validate-target-"));
    const rec = {
      event_type: "audit_log",
      event: { version: "1", time: "2021-08-15T14:30Z", action: "edit", actor: { type: "User" } },
    };
    writeFileSync(join(elsewhere, "b.json"), JSON.stringify([rec, rec]));
    symlinkSync(join(elsewhere, "b.json"), join(dir, "linked.json"));
    symlinkSync(elsewhere, join(dir, "linked-folder"));
    const r = await run([dir]);
    assert.equal(r.exitCode, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.files, 2);
    assert.equal(out.valid, 4);
  });

  it("exit 1 when a record or a file is rejected", async () => {
    const bad = await run([join(FIXTURES, "mixed-bad.ndjson")]);
    assert.equal(bad.exitCode, 1);
    assert.equal(JSON.parse(bad.stdout).rejected, 5);
    const dir = mkdtempSync(join(tmpdir(), "tg-validate-"));
    writeFileSync(join(dir, "t.json"), '[{"event_type":"x"},');
    const trunc = await run([join(dir, "t.json")]);
    assert.equal(trunc.exitCode, 1);
    assert.equal(JSON.parse(trunc.stdout).file_errors[0].reason, "syntax_error");
    const small = await run([join(FIXTURES, "seed.ndjson")], { "max-record-bytes": "1kb" });
    assert.equal(small.exitCode, 0, "the seed records are under 1 KiB each");
  });

  it("a missing path is a usage/I-O error (exit 2 through main)", async () => {
    const r = await run([join(FIXTURES, "nope.json")]);
    assert.ok(r.error instanceof UsageError);
  });

  it("human output lists each file and the total", async () => {
    const r = await run([join(FIXTURES, "mixed-bad.ndjson")], { json: false });
    assert.match(r.stdout, /^FAIL {2}.*mixed-bad.ndjson: 9 records, 4 valid/m);
    assert.match(r.stdout, /Total: 1 file, 9 records, 4 valid, 5 rejected, 0 file errors/);
    assert.match(r.stdout, /unknown event types: vpn_session=1/);
  });
});
