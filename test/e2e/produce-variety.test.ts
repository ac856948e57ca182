/**
 * End to end: the producer's varied records (IPv6 addresses, 0-3 relays, null and missing objects, the
 * vendor's time and version forms, resolve failures, audit relations and target detail, drift fields at a
 * raised rate) all land in OpenSearch: every one indexed, none refused or quarantined, none merged with
 * another (distinct ids), through the CLI as a user would run it (produce to a folder, backfill it).
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { createLogger } from "../../src/platform/logger.ts";
import type { BackfillSummary } from "../../src/runtimes/backfill/run.ts";
import type { ProduceSummary } from "../../src/tools/produce/run.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { countDocs, produce, startCli } from "../helpers/processes.ts";
import { dropPrefix, opensearchClient, stackAvailable, uniqueName } from "../helpers/stack.ts";

describe("produce: varied records, indexed", {
  skip: !stackAvailable() && "needs the local stack (npm test)",
}, () => {
  let os: Client;
  let dir: string;
  const prefix = uniqueName("e2e-variety");

  before(async () => {
    os = opensearchClient();
    dir = await mkdtemp(join(tmpdir(), "e2e-variety-"));
    await runSetup(os, { indexPrefix: prefix, replicas: 0 }, createLogger("silent"));
  });

  after(async () => {
    await dropPrefix(os, prefix);
    await os?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("every record of a varied folder is indexed, none quarantined or merged", async () => {
    const produced = (await produce([
      ...["--dir", dir, "--from", "2025-07-25T18:00:00Z", "--to", "2025-07-25T18:15:00Z"],
      ...["--events-per-file", "1500", "--drift-rate", "0.02", "--seed", "42"],
    ])) as unknown as ProduceSummary;
    assert.equal(produced.valid, 4500);
    assert.ok(Object.values(produced.drift).reduce((a, b) => a + b, 0) > 30, "drift fields planted");

    const run = await startCli(["backfill", "--json", "--dir", dir, "--index-prefix", prefix]).done;
    assert.equal(run.code, 0, run.stderr);
    const summary = JSON.parse(run.stdout) as BackfillSummary;
    assert.equal(summary.run.indexed, produced.valid);
    assert.equal(summary.run.duplicates, 0, "no two records share a document id");
    assert.deepEqual(summary.run.rejectedByReason, {});
    for (const t of EVENT_TYPES)
      assert.equal(await countDocs(os, `${prefix}-${t}-*`), produced.by_event_type[t], `documents of ${t}`);
    assert.equal(await countDocs(os, `${prefix}-quarantine-*`), 0, "nothing refused or quarantined");
  });
});
