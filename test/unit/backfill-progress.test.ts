import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { emptyTotals } from "../../src/runtimes/backfill/checkpoint.ts";
import { createProgress, progressLine, progressMode, rates } from "../../src/runtimes/backfill/progress.ts";
import { formatBackfillSummary } from "../../src/runtimes/backfill/report.ts";
import type { BackfillSummary } from "../../src/runtimes/backfill/run.ts";

/** A stream that records what is written; `tty` makes it look like a terminal to cli-progress. */
function fakeStream(tty: boolean) {
  const out: string[] = [];
  const stream = {
    isTTY: tty,
    columns: 120,
    write(c: string) {
      out.push(String(c));
      return true;
    },
    cursorTo: () => true,
    clearLine: () => true,
    clearScreenDown: () => true,
    moveCursor: () => true,
    on: () => stream,
    removeListener: () => stream,
  };
  return { stream: stream as unknown as NodeJS.WritableStream, out };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("backfill progress", () => {
  it("a bar on a terminal, plain lines otherwise (also with --progress), nothing with --no-progress", () => {
    assert.equal(progressMode(undefined, true), "bar");
    assert.equal(progressMode(undefined, false), "lines");
    assert.equal(progressMode(true, false), "lines");
    assert.equal(progressMode(false, true), "off");
  });

  it("plain lines say what is done, the rate and the time left", async () => {
    const p = { listed: 300, listingDone: true, done: 120, records: 52_000, bytes: 0 };
    assert.equal(rates(p, 10_000).recordsPerSec, 5200);
    assert.equal(rates(p, 10_000).etaSec, 15);
    assert.equal(
      progressLine(p, 10_000),
      "backfill: 120/300 files (40%), 52000 records, 5200 records/s, ETA 15s, 10s elapsed",
    );
    assert.match(
      progressLine({ ...p, listingDone: false }, 10_000),
      /120\/300\+ files \(still listing\).*ETA unknown until the listing ends/,
    );
    const { stream, out } = fakeStream(false);
    const d = createProgress({ mode: "lines", intervalMs: 5, stream });
    d.update(p);
    await wait(40);
    d.stop();
    assert.ok(out.length >= 1, "periodic lines on a stream that is not a terminal");
    assert.match(out[0]!, /^backfill: 120\/300 files \(40%\), 52000 records, \d+ records\/s, ETA /);
  });

  it("the bar is not drawn at 0/0 (it would show full), only once files are listed", async () => {
    const { stream, out } = fakeStream(true);
    const d = createProgress({ mode: "bar", stream });
    d.update({ listed: 0, listingDone: false, done: 0, records: 0, bytes: 0 });
    await wait(30);
    assert.equal(out.join(""), "", "nothing drawn before a file is listed");
    d.update({ listed: 5, listingDone: false, done: 0, records: 0, bytes: 0 });
    d.stop();
    assert.match(out.join(""), /0\/5 files\+/);
    assert.doesNotMatch(out.join(""), /0\/0/);
  });
});

describe("backfill summary", () => {
  it("indexed, quarantined and already there are separate counts (a rerun: more already there than indexed)", () => {
    const t = {
      ...emptyTotals(),
      files: 10,
      records: 172_006,
      indexed: 170_289,
      rejected: 1_717,
      duplicates: 172_006,
    };
    const s = {
      source: "s3://b/",
      range: {},
      listing: { listed: 10, taken: 10, skippedName: 0, skippedRange: 0 },
      alreadyDone: 0,
      run: t,
      total: t,
      failed: [],
      interrupted: false,
      resumed: false,
      durationMs: 1000,
    } as unknown as BackfillSummary;
    const text = formatBackfillSummary(s);
    assert.match(text, /records: 172006 {2}indexed: 170289 {2}quarantined: 1717\n/);
    assert.match(text, /documents already there \(.*indexed or quarantined.*\): 172006/);
    assert.doesNotMatch(text, /indexed: \d+ \(\d+ already there\)/);
  });
});
