/**
 * Integers a double cannot hold keep their digits (docs/DATA-QUALITY.md, section 5), through the worker
 * and the real OpenSearch: three events differing only in a 19-digit numeric user.id stay three documents
 * (before, JSON.parse rounded the three to 1234567890123456800, one id, two "duplicates"), each found by
 * its own id's digits; a 64-bit counter is set aside exactly as sent; OpenSearch refuses nothing.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { countDocs, queueDepth, startWorker, waitFor } from "../helpers/processes.ts";
import { createBucketWithQueueNotification, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { aws, os } = useStack();

const IDS = ["1234567890123456789", "1234567890123456790", "1234567890123456791"];
const COUNTER = "18446744073709551615";

/** A network_access record with the JSON texts given for user.id and bytes_transferred. */
function line(userId: string, bytes = "404"): string {
  return `{"event_type":"network_access","event":{"version":1,"time":"2025-07-25T18:19:41.236597+00:00","status":"closed_connection","connection":{"client_ip":"1.2.3.4","protocol":"tcp","bytes_received":338,"bytes_transferred":${bytes}},"resource":{"address":"a.int","id":"1","ip":"10.11.12.13","port":80},"device":{"id":"1"},"user":{"email":"a@b.c","id":${userId}}}}`;
}

describe("64-bit integers through the worker", { timeout: 300_000 }, () => {
  const newPrefix = indexPrefixes();
  it("three events differing only in a 19-digit user.id stay three documents; a 64-bit counter is set aside exactly", async (t) => {
    const bucket = uniqueName("tg-exact");
    const prefix = newPrefix("exact");
    const { queueUrl, dlqUrl } = await createBucketWithQueueNotification(
      { bucket, queue: bucket },
      { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
    );
    const body = `${[...IDS.map((id) => line(id)), line("42", COUNTER)].join("\n")}\n`;
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: "tg/2025-07-25T18:20:00+00:00.json", Body: body }),
    );
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { AUTO_SETUP: "true" } });
    try {
      await waitFor(
        "the file ingested and its message deleted",
        async () => ({ q: await queueDepth(aws.sqs, queueUrl), logs: worker.logs() }),
        (x) => x.q.visible === 0 && x.q.inFlight === 0 && x.logs.includes('"msg":"object ingested"'),
        120_000,
      );
      assert.equal(await countDocs(os, `${prefix}-network_access-*`), 4, "four events, four documents");
      assert.equal(await countDocs(os, `${prefix}-quarantine-*`), 0, "nothing quarantined");
      for (const id of IDS) {
        const res = await os.search({
          index: `${prefix}-network_access-*`,
          body: { query: { term: { "twingate.network_access.user.id": id } } },
        });
        const hits = (res.body as { hits: { hits: { _source: unknown }[] } }).hits.hits;
        assert.equal(hits.length, 1, `one document has user.id ${id}`);
        assert.ok(JSON.stringify(hits[0]!._source).includes(id));
      }
      const res = await os.search({
        index: `${prefix}-network_access-*`,
        body: { query: { term: { "twingate.network_access.user.id": "42" } } },
      });
      const src = JSON.stringify(
        (res.body as { hits: { hits: { _source: unknown }[] } }).hits.hits[0]?._source,
      );
      assert.ok(src.includes(`"${COUNTER}"`), `the counter's digits kept: ${src.slice(0, 600)}`);
      assert.ok(src.includes("bytes_transferred:set_aside"), "listed as set aside");
      assert.doesNotMatch(
        worker.logs(),
        /1234567890123456800|18446744073709552000/,
        "no rounded value anywhere",
      );
      assert.equal((await queueDepth(aws.sqs, dlqUrl!)).visible, 0, "nothing in the DLQ");
      t.diagnostic("4 events, 4 documents, each id's digits exact");
    } finally {
      await worker.stop();
    }
  });
});
