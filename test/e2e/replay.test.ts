/**
 * Replay against a real OpenSearch: records a validator (a test double) rejected are quarantined; after
 * "fixing the schema" (today's validators), replay moves them to their index exactly once, removes them from
 * quarantine, and leaves the records that still fail where they were. A second replay changes nothing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import { type ValidationResult, validateRecord } from "../../src/core/events/index.ts";
import { ingestObject } from "../../src/core/ingest/ingest-object.ts";
import { buildPipeline, objectSource } from "../../src/core/ingest/pipeline.ts";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { slotsInRange } from "../../src/core/twingate.ts";
import { createLogger, type Logger } from "../../src/platform/logger.ts";
import { runReplay } from "../../src/runtimes/replay/run.ts";
import { buildPools } from "../../src/tools/produce/pools.ts";
import { type ProduceSummary, produceRange } from "../../src/tools/produce/run.ts";
import { dirTarget } from "../../src/tools/produce/targets.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { countDocs } from "../helpers/processes.ts";
import { dropPrefix, opensearchClient, stackAvailable, uniqueName } from "../helpers/stack.ts";

const silent = createLogger("silent");

/** A logger whose warnings a test can read (replay's holds are said there). */
function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      done();
    },
  });
  return { logger: createLogger("warn", sink), lines };
}

/** `n` distinct dns_filtering records (valid under today's schemas) of the slot 18:20 of 2025-07-25. */
function dnsFile(n: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(
      JSON.stringify({
        event_type: "dns_filtering",
        event: {
          version: 1,
          time: `2025-07-25T18:21:4${i}.236597+00:00`,
          domain: `host${i}.example.com`,
          root: "example.com",
          status: "ALLOWED",
        },
      }),
    );
  return `${lines.join("\n")}\n`;
}
const DOUBLE_MESSAGE = "event.domain: refused by the strict test schema";

/** The "old" schema: refuses every dns_filtering record. */
function strictValidator(value: unknown): ValidationResult {
  const v = validateRecord(value);
  if (v.ok && v.record.event_type === "dns_filtering") {
    return {
      ok: false,
      reason: "schema_invalid",
      message: DOUBLE_MESSAGE,
      path: "event.domain",
      eventType: "dns_filtering",
    };
  }
  return v;
}

describe("replay", { skip: !stackAvailable() && "needs the local stack (npm test)" }, () => {
  let os: Client;
  let dir: string;
  let prefix: string;
  let produced: ProduceSummary;
  const config = (indexPrefix: string) => ({
    indexPrefix,
    bulkMaxDocs: 50,
    bulkMaxBytes: 5 * 1024 * 1024,
    bulkConcurrency: 2,
    maxRecordBytes: 1024 * 1024,
    maxFileBytes: 1024 ** 3,
  });
  const dns = () => countDocs(os, `${prefix}-dns_filtering-*`);
  const quarantine = (q?: Record<string, unknown>) => countDocs(os, `${prefix}-quarantine-*`, q);
  const replay = (dryRun: boolean, validate?: typeof validateRecord) =>
    runReplay({
      client: os,
      indexPrefix: prefix,
      bulk: { maxDocs: 50, maxBytes: 5 * 1024 * 1024, concurrency: 2 },
      maxRecordBytes: 1024 * 1024,
      filter: { reasons: ["schema_invalid"] },
      dryRun,
      logger: silent,
      pageSize: 7, // several scroll pages
      ...(validate ? { validate } : {}),
    });

  /** Ingests the local file `key` under `indexPrefix` through the one pipeline function. */
  const ingestAs = (indexPrefix: string, key: string, validate?: typeof validateRecord) => {
    const pipeline = buildPipeline({
      config: config(indexPrefix),
      opensearch: os,
      source: objectSource("local"),
      logger: silent,
    });
    return ingestObject({ bucket: "", key }, validate ? { ...pipeline.deps, validate } : pipeline.deps);
  };
  /** Replays every quarantine document of `indexPrefix`, in batches of 2 (several per page). */
  const replayAll = (indexPrefix: string, logger: Logger = silent) =>
    runReplay({
      client: os,
      indexPrefix,
      bulk: { maxDocs: 2, maxBytes: 5 * 1024 * 1024, concurrency: 2 },
      maxRecordBytes: 1024 * 1024,
      filter: {},
      dryRun: false,
      logger,
    });

  before(async () => {
    os = opensearchClient();
    dir = await mkdtemp(join(tmpdir(), "e2e-replay-"));
    prefix = uniqueName("e2e-replay");
    await runSetup(os, { indexPrefix: prefix, replicas: 0 }, silent);
    const slots = slotsInRange(Date.parse("2025-07-25T18:00:00Z"), Date.parse("2025-07-25T19:00:00Z"));
    produced = await produceRange(
      buildPools(11),
      {
        seed: 11,
        mix: { network_access: 2, dns_filtering: 2, audit_log: 1, data_loss_prevention: 1 },
        eventsPerFile: 6,
        layout: "ndjson",
        gzip: false,
        prefix: "tg/",
        faults: { invalid: 0.1, corrupt: 0.05, unknownType: 0 },
        oversized: 0,
        oversizedBytes: 1024 * 1024,
        truncatedGzip: 0,
        emptySlotRate: 0,
      },
      dirTarget(dir),
      { fromMs: slots[0]!.startMs, toMs: slots.at(-1)!.endMs, slots },
    );
    assert.ok(produced.by_event_type.dns_filtering > 5, "enough dns_filtering records to move");
    // Ingest through the one pipeline function with the strict schema double.
    const pipeline = buildPipeline({
      config: config(prefix),
      opensearch: os,
      source: objectSource("local"),
      logger: silent,
    });
    for (const f of produced.files) {
      await ingestObject(
        { bucket: "", key: join(dir, f.key) },
        { ...pipeline.deps, validate: strictValidator },
      );
    }
  });

  after(async () => {
    if (os && prefix) await dropPrefix(os, prefix);
    await os?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("moves records that pass today from quarantine to their index, exactly once", async () => {
    const invalid = produced.faults["invalid"] ?? 0;
    const corrupt = produced.faults["corrupt"] ?? 0;
    const movable = produced.by_event_type.dns_filtering;
    assert.equal(await dns(), 0);
    assert.equal(await quarantine(), movable + invalid + corrupt);
    assert.equal(await quarantine({ term: { "quarantine.message.keyword": DOUBLE_MESSAGE } }), movable);

    // Still the strict schema: nothing passes; nothing changes.
    const same = await replay(false, strictValidator);
    assert.equal(same.passed, 0);
    assert.equal(same.rewritten, 0);
    assert.equal(same.deleted, 0);
    assert.equal(same.scanned, movable + invalid);

    // Dry run with today's schemas: counts what would pass, changes nothing.
    const dry = await replay(true);
    assert.equal(dry.passed, movable);
    assert.deepEqual(dry.passedByEventType, { dns_filtering: movable });
    assert.deepEqual(dry.stillFailingByReason, invalid ? { schema_invalid: invalid } : {});
    assert.equal(await dns(), 0);
    assert.equal(await quarantine(), movable + invalid + corrupt);

    const done = await replay(false);
    assert.equal(done.passed, movable);
    assert.equal(done.alreadyIndexed, 0);
    assert.equal(done.deleted, movable);
    assert.equal(await dns(), movable);
    assert.equal(await quarantine(), invalid + corrupt, "only the records that still fail stay");
    assert.equal(await quarantine({ term: { "quarantine.message.keyword": DOUBLE_MESSAGE } }), 0);

    // Again: nothing left to move, nothing duplicated.
    const again = await replay(false);
    assert.equal(again.passed, 0);
    assert.equal(again.scanned, invalid);
    assert.equal(await dns(), movable);
    assert.equal(await quarantine(), invalid + corrupt);
    for (const t of EVENT_TYPES) {
      assert.equal(await countDocs(os, `${prefix}-${t}-*`), produced.by_event_type[t], `documents of ${t}`);
    }
  });

  it("a record the cluster refuses (a mapping conflict) is reported refused, never already indexed; once the mapping is fixed it moves, once", async () => {
    const own = uniqueName("e2e-replay-refused");
    await runSetup(os, { indexPrefix: own, replicas: 0 }, silent);
    try {
      // The day's index made by hand with dns.question.name a number: every dns_filtering record is refused.
      const day = `${own}-dns_filtering-2025.07.25`;
      const conflict = {
        properties: { dns: { properties: { question: { properties: { name: { type: "long" } } } } } },
      };
      await os.indices.create({ index: day, body: { mappings: conflict } } as never);
      const key = join(dir, "2025-07-25T18:20:00+00:00.json");
      await writeFile(key, dnsFile(4));
      await ingestAs(own, key);
      const rejected = { term: { "quarantine.reason": "index_rejected" } };
      assert.equal(await countDocs(os, `${own}-quarantine-*`, rejected), 4, "refused at ingestion");

      // The mapping still refuses them: refused again, their quarantine documents kept (replaced in place).
      const still = await replayAll(own);
      assert.equal(still.scanned, 4);
      assert.equal(still.refusedByOpenSearch, 4);
      assert.equal(still.alreadyIndexed, 0, "a refused record is not one already indexed");
      assert.equal(still.passed, 0);
      assert.deepEqual(still.stillFailingByReason, { index_rejected: 4 });
      assert.equal(still.deleted, 0);
      assert.equal(await countDocs(os, day), 0);
      assert.equal(await countDocs(os, `${own}-quarantine-*`, rejected), 4, "kept, not doubled");

      // The mapping fixed (the index dropped: the templates make it again): they pass, once.
      await os.indices.delete({ index: day });
      const fixed = await replayAll(own);
      assert.deepEqual(
        [fixed.scanned, fixed.passed, fixed.refusedByOpenSearch, fixed.alreadyIndexed, fixed.deleted],
        [4, 4, 0, 0, 4],
      );
      assert.equal(await countDocs(os, `${own}-dns_filtering-*`), 4);
      assert.equal(await countDocs(os, `${own}-quarantine-*`), 0);
    } finally {
      await dropPrefix(os, own);
    }
  });

  it("a replay against write-blocked indices holds (records, then the quarantine deletes) and completes with exact counts", async () => {
    const own = uniqueName("e2e-replay-blocked");
    await runSetup(os, { indexPrefix: own, replicas: 0 }, silent);
    const quarantineIdx = `${own}-quarantine-*`;
    const day = `${own}-dns_filtering-2025.07.25`;
    const unblock = (index: string) =>
      os.indices.putSettings({ index, body: { "index.blocks.write": null } } as never);
    try {
      const key = join(dir, "2025-07-25T18:20:00+00:00.json");
      await writeFile(key, dnsFile(5));
      await ingestAs(own, key, strictValidator);
      assert.equal(await countDocs(os, quarantineIdx), 5);
      // The records' index exists (from the templates) and, like the quarantine, takes no writes.
      await os.indices.create({ index: day } as never);
      await os.indices.putSettings({ index: `${own}-*`, body: { "index.blocks.write": true } } as never);
      const { logger, lines } = recordingLogger();
      const held = () => lines.filter((l) => l.includes("cannot take writes now (index_block)")).length;
      const replaying = replayAll(own, logger);
      let settled = false;
      void replaying.then(
        () => (settled = true),
        () => (settled = true),
      );
      await waitUntil(() => held() >= 1, "the records' writes held");
      assert.equal(settled, false, "still running: held, not failed");
      assert.equal(await countDocs(os, day), 0);
      await unblock(day);
      // The records go in; their quarantine documents' deletes are then held by the quarantine's block.
      await waitUntil(() => held() >= 2, "the deletes held");
      assert.equal(settled, false);
      assert.equal(await countDocs(os, day), 5, "records stored before any quarantine document goes");
      assert.equal(await countDocs(os, quarantineIdx), 5);
      await unblock(quarantineIdx);
      const done = await replaying;
      assert.deepEqual(
        [done.scanned, done.passed, done.alreadyIndexed, done.refusedByOpenSearch, done.deleted],
        [5, 5, 0, 0, 5],
      );
      assert.deepEqual(done.stillFailingByReason, {});
      assert.equal(await countDocs(os, day), 5);
      assert.equal(await countDocs(os, quarantineIdx), 0);
    } finally {
      await unblock(`${own}-*`).catch(() => undefined);
      await dropPrefix(os, own);
    }
  });

  it("a file not named like Twingate's: a far record the old rules quarantined lands where a re-read puts it, once", async () => {
    // Its time is its first valid record's (2025-07-25); the dns_filtering record is five years away, so
    // bounded placement indexes it in the file's day, as a re-read with today's rules does.
    const own = uniqueName("e2e-replay-far");
    await runSetup(os, { indexPrefix: own, replicas: 0 }, silent);
    try {
      const key = join(dir, "export-tenant-a.json");
      const first = {
        event_type: "audit_log",
        event: { version: 1, time: "2025-07-25T18:01:00Z", action: "create", actor: { id: "a" } },
      };
      const far = {
        event_type: "dns_filtering",
        event: { version: 1, time: "2031-01-01T00:00:00Z", domain: "x.example", status: "ALLOWED" },
      };
      await writeFile(key, `${JSON.stringify(first)}\n${JSON.stringify(far)}\n`);
      const settings = { ...config(own), maxEventTimeDeviationHours: 48 };
      const pipeline = buildPipeline({
        config: settings,
        opensearch: os,
        source: objectSource("local"),
        logger: silent,
      });
      await ingestObject({ bucket: "", key }, { ...pipeline.deps, validate: strictValidator });
      assert.equal(await countDocs(os, `${own}-quarantine-*`), 1);

      const done = await runReplay({
        client: os,
        indexPrefix: own,
        bulk: { maxDocs: 50, maxBytes: 5 * 1024 * 1024, concurrency: 2 },
        maxRecordBytes: 1024 * 1024,
        maxTimeDeviationMs: 48 * 3_600_000,
        filter: {},
        dryRun: false,
        logger: silent,
      });
      assert.equal(done.passed, 1);
      assert.equal(await countDocs(os, `${own}-dns_filtering-2025.07.25`), 1, "in the file's day");

      // A re-read of the file with today's rules finds the record already there: no second copy.
      await ingestObject({ bucket: "", key }, pipeline.deps);
      assert.equal(await countDocs(os, `${own}-dns_filtering-*`), 1);
      assert.equal(await countDocs(os, `${own}-quarantine-*`), 0);
    } finally {
      await dropPrefix(os, own);
    }
  });
});

async function waitUntil(ok: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
