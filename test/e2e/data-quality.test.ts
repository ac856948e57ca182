/**
 * Data quality through the worker against the real stack (issue #17, docs/DATA-QUALITY.md): the
 * vendor-shaped corpus (test/fixtures/data-quality) and a record with a wrong type in every field, as
 * Twingate files in moto's S3, indexed by a real worker into the real OpenSearch with the project's
 * templates. Each placeable record is searchable in its stream's index under the id a re-read gives, its
 * deviations listed; each unplaceable one is in quarantine with its reason; OpenSearch refuses nothing
 * (no `index_rejected`), whatever wrong type the normaliser let through to a mapped field.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { documentId } from "../../src/core/documents/index.ts";
import { generatedCases } from "../fixtures/malformed/corpus.ts";
import { countDocs, startWorker, waitFor } from "../helpers/processes.ts";
import { createBucketWithQueueNotification, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { aws, os } = useStack();

interface Case {
  name: string;
  record: Record<string, unknown>;
  expect: { stream: string | null; deviations?: string[]; quarantine?: { reason: string; path: string } };
}
const DIR = new URL("../fixtures/data-quality/", import.meta.url);
const CASES = JSON.parse(readFileSync(new URL("cases.json", DIR), "utf8")) as Case[];
const CORPUS_KEY = "tg/2025-07-25T18:25:00+00:00.json";
const WRONG_KEY = "tg/2025-07-25T18:30:00+00:00.json";

describe("data quality through the worker", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();
  it("indexes every placeable record with its deviations, quarantines only the unplaceable, and OpenSearch refuses nothing", async () => {
    const bucket = uniqueName("tg-dq");
    const prefix = newPrefix("dq");
    const { queueUrl } = await createBucketWithQueueNotification(
      { bucket, queue: bucket },
      { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
    );
    const wrong = generatedCases({ big: false }).find((c) => c.name === "wrong-types.ndjson")!.bytes;
    const wrongLines = wrong
      .toString("utf8")
      .split("\n")
      .filter((l) => l.trim() !== "").length;
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: CORPUS_KEY,
        // the corpus as a Twingate file: one case's record per line
        Body: `${CASES.map((c) => JSON.stringify(c.record)).join("\n")}\n`,
      }),
    );
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: WRONG_KEY, Body: wrong }));
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: { BUCKET_ALLOWLIST: bucket, AUTO_SETUP: "true" },
    });
    try {
      const total = CASES.length + wrongLines;
      await waitFor(
        "every record indexed or quarantined",
        () => countDocs(os, `${prefix}-*`),
        (n) => n >= total,
        180_000,
      );
      assert.equal(await countDocs(os, `${prefix}-*`), total, "one document per record");
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`, { term: { "quarantine.reason": "index_rejected" } }),
        0,
        "OpenSearch refused no document",
      );
      const unplaceable = CASES.filter((c) => c.expect.quarantine);
      // the wrong-types file: only its 4 wrong event_types and 3 unreadable times are unplaceable
      assert.equal(
        await countDocs(os, `${prefix}-quarantine-*`),
        unplaceable.length + 7,
        "quarantined records",
      );
      for (const c of CASES) {
        if (c.expect.quarantine) {
          const n = await countDocs(os, `${prefix}-quarantine-*`, {
            bool: {
              filter: [
                { term: { "ingest.key": CORPUS_KEY } },
                { term: { "quarantine.reason": c.expect.quarantine.reason } },
                { term: { "quarantine.path": c.expect.quarantine.path } },
              ],
            },
          });
          assert.ok(
            n >= 1,
            `${c.name}: in quarantine as ${c.expect.quarantine.reason} at ${c.expect.quarantine.path}`,
          );
          continue;
        }
        const id = documentId(c.record);
        const res = await os.search({
          index: `${prefix}-${c.expect.stream}-*`,
          body: { query: { ids: { values: [id] } } },
        } as never);
        const hits = (res.body as { hits: { hits: { _source: Record<string, unknown> }[] } }).hits.hits;
        assert.equal(hits.length, 1, `${c.name}: in ${c.expect.stream}'s index under the id a re-read gives`);
        const ingest = hits[0]!._source["ingest"] as { deviations?: string[] };
        for (const d of c.expect.deviations ?? [])
          assert.ok(ingest.deviations?.includes(d), `${c.name}: ${d}`);
        // and searchable by its deviation
        for (const d of c.expect.deviations ?? []) {
          const n = await countDocs(os, `${prefix}-${c.expect.stream}-*`, {
            bool: { filter: [{ ids: { values: [id] } }, { term: { "ingest.deviations": d } }] },
          });
          assert.equal(n, 1, `${c.name}: found by ingest.deviations:${d}`);
        }
      }
      // a set-aside value is kept verbatim, and the rest of its event stays searchable
      const byIp = await countDocs(os, `${prefix}-network_access-*`, {
        bool: {
          filter: [
            { term: { "ingest.deviations": "event.resource.ip:set_aside" } },
            { term: { "twingate.network_access.resource.address": "argocd.eks.twindemo.int" } },
          ],
        },
      });
      assert.ok(byIp >= 1, "an event with its IP set aside is found by its other fields");
      assert.ok(worker.logs().includes("new data-quality deviation"), "the worker logs new deviations");
      const once = worker
        .logs()
        .split("\n")
        .filter(
          (l) =>
            l.includes('"path":"event.resource.ip"') &&
            l.includes("new data-quality deviation") &&
            l.includes('"action":"set_aside"'),
        );
      assert.ok(once.length <= 1, "a deviation path is logged once, not per record");
    } finally {
      await worker.stop();
    }
  });
});
