import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import fc from "fast-check";
import { validateRecord } from "../../src/core/events/index.ts";
import { actionsFor } from "../../src/core/ingest/actions.ts";
import { RejectionCap } from "../../src/core/ingest/reject-cap.ts";
import type { IndexAction } from "../../src/core/model.ts";
import { keepExactIntegers, mayHoldInexactInteger } from "../../src/core/parse/exact-integers.ts";
import { readRecords } from "../../src/core/parse/index.ts";

const FIXTURES = new URL("../fixtures/files/", import.meta.url);
const KEY = "tg/2025-07-25T18:20:00+00:00.json";

/** The actions the worker's record stage gives for a file's text (uncapped). */
async function actionsOf(text: string): Promise<IndexAction[]> {
  const toAction = actionsFor(
    { bucket: "b", key: KEY },
    {
      docOpts: { indexPrefix: "tw", ingestedAt: "2025-07-26T00:00:00.000Z" },
      validate: validateRecord,
      cap: new RejectionCap(),
    },
  );
  const out: IndexAction[] = [];
  for await (const item of readRecords(Readable.from([Buffer.from(text)]), { maxRecordBytes: 1 << 20 }))
    out.push(toAction(item)!);
  return out;
}

/** A network_access record with `user.id` and `bytes_transferred` as given (their JSON text). */
function line(userId: string, bytes = "404"): string {
  return `{"event_type":"network_access","event":{"version":1,"time":"2025-07-25T18:19:41.236597+00:00","status":"closed_connection","connection":{"client_ip":"1.2.3.4","protocol":"tcp","bytes_received":338,"bytes_transferred":${bytes}},"resource":{"address":"a.int","id":"1","ip":"10.11.12.13","port":80},"device":{"id":"1"},"user":{"email":"a@b.c","id":${userId}}}}`;
}

describe("integers a double cannot hold keep their digits", () => {
  it("the cheap test finds exactly the texts with a run of 16 digits or more", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom("0", "7", "9", "a", '"', ":", ",", " ", "-"), { maxLength: 120 }),
        (cs) => {
          const text = cs.join("");
          assert.equal(mayHoldInexactInteger(text), /[0-9]{16}/.test(text), text);
        },
      ),
      { numRuns: 3000 },
    );
    assert.equal(mayHoldInexactInteger("1".repeat(15)), false);
    assert.equal(mayHoldInexactInteger(`x${"1".repeat(16)}`), true);
  });

  it("keeps JSON.parse's very value when no integer lost digits (a long digit run in a string, a big exact integer, 2^53)", () => {
    for (const raw of [
      '{"a":"12345678901234567890"}',
      '{"a":100000000000000000000,"b":9007199254740992,"c":-9007199254740991}',
      '{"a":1.2345678901234567}',
      '{"a":1}',
    ]) {
      const value = JSON.parse(raw);
      assert.equal(keepExactIntegers(raw, value), value, raw);
    }
  });

  it("gives the digits of an integer beyond 2^53 as text, everything else as JSON.parse reads it", () => {
    const raw =
      '{"id":12345678901234567891,"n":[-9007199254740993,9007199254740993.5,"x"],"k":1,"k":2,"__proto__":{"z":18446744073709551615},"e":1e400}';
    const value = JSON.parse(raw);
    const exact = keepExactIntegers(raw, value) as Record<string, unknown>;
    assert.notEqual(exact, value);
    assert.equal(exact["id"], "12345678901234567891");
    assert.deepEqual(exact["n"], ["-9007199254740993", Number("9007199254740993.5"), "x"]);
    assert.equal(exact["k"], 2, "a key given twice: the last value, as JSON.parse");
    assert.deepEqual(Object.keys(exact), Object.keys(value), "the same keys in the same order");
    assert.ok(Object.hasOwn(exact, "__proto__"), "__proto__ stays data");
    assert.equal(
      (Object.getOwnPropertyDescriptor(exact, "__proto__")!.value as { z: string }).z,
      "18446744073709551615",
    );
    assert.equal(exact["e"], Number.POSITIVE_INFINITY, "a number out of range reads as JSON.parse reads it");
  });

  it("three events differing only in a 19-digit user.id stay three documents, each holding its own digits", async () => {
    const ids = ["1234567890123456789", "1234567890123456790", "1234567890123456791"];
    assert.equal(new Set(ids.map((d) => JSON.stringify(JSON.parse(d)))).size, 1, "a double merges them");
    const actions = await actionsOf(`${ids.map((d) => line(d)).join("\n")}\n`);
    assert.equal(actions.length, 3);
    assert.ok(actions.every((a) => a.kind === "record"));
    assert.equal(new Set(actions.map((a) => a.id)).size, 3, "three ids");
    for (const [i, a] of actions.entries()) {
      const doc = JSON.stringify(a.document);
      assert.ok(doc.includes(ids[i]!), `the document holds ${ids[i]}: ${doc.slice(0, 300)}`);
      assert.ok(!doc.includes("1234567890123456800"), "never the rounded value");
    }
  });

  it("a 64-bit counter is set aside as its digits, exactly as sent", async () => {
    const [a] = await actionsOf(`${line("7", "18446744073709551615")}\n`);
    assert.equal(a!.kind, "record");
    const doc = a!.document as { set_aside?: Record<string, unknown>; ingest?: { deviations?: string[] } };
    const text = JSON.stringify(doc);
    assert.ok(text.includes('"18446744073709551615"'), text.slice(0, 400));
    assert.ok(!text.includes("18446744073709552000"), "never the rounded value");
  });

  it("every fixture record (none holds such an integer) keeps the value JSON.parse gave: today's ids and bytes", async () => {
    let n = 0;
    for (const f of readdirSync(FIXTURES)) {
      const text = readFileSync(new URL(f, FIXTURES), "utf8");
      for await (const item of readRecords(Readable.from([Buffer.from(text)]), { maxRecordBytes: 1 << 20 })) {
        if (item.kind !== "record") continue;
        n++;
        assert.equal(keepExactIntegers(item.raw, item.value), item.value, `${f} #${item.ordinal}`);
      }
    }
    assert.ok(n > 20, `${n} records`);
  });
});
