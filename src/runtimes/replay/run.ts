/**
 * Replay: scroll through quarantine documents, read each raw record again with the pipeline's record
 * rules (plan.ts: the reader's limits, today's validators, the file's placement), index those that pass
 * under their normal index and id (`create`, so a record already there is a harmless 409), and only then
 * delete their quarantine documents. Those still failing get their quarantine document rewritten with the
 * new reason (`index`: replaced). Every write, in three steps per page, goes through the one bulk sink:
 * held while the cluster cannot take it, classified and counted there (write-failure.ts), never here.
 * Interrupted at any point, a second run finishes the job: ids are deterministic.
 */
import type { Client } from "@opensearch-project/opensearch";
import type { IndexPeriod } from "../../core/documents/index.ts";
import { quarantineRefused } from "../../core/documents/quarantine.ts";
import type { IndexAction } from "../../core/model.ts";
import { BulkSink, type BulkTransport } from "../../core/sink/bulk-sink.ts";
import { WriteHolds } from "../../core/sink/holds.ts";
import type { IndexGuard } from "../../core/sink/index-guard.ts";
import { openSearchBulkTransport } from "../../core/sink/opensearch-transport.ts";
import type { SinkOutcome, WriteAction } from "../../core/sink/sink.ts";
import type { Logger } from "../../platform/logger.ts";
import { type PlanOptions, planReplay, type QuarantineHit, quarantineQuery, type SkipWhy } from "./plan.ts";

interface ReplayOptions {
  client: Client;
  indexPrefix: string;
  /** Period of the index names (absent: day). */
  indexPeriod?: IndexPeriod | undefined;
  bulk: { maxDocs: number; maxBytes: number; concurrency: number };
  maxRecordBytes: number;
  /** Bounded placement's limit, as ingestion applies it (MAX_EVENT_TIME_DEVIATION_HOURS); none when absent. */
  maxTimeDeviationMs?: number | undefined;
  filter: { fromMs?: number; toMs?: number; reasons?: readonly string[]; eventTypes?: readonly string[] };
  dryRun: boolean;
  logger: Logger;
  /** Today's validators by default; a test double in tests. */
  validate?: PlanOptions["validate"];
  /** Documents per scroll page. */
  pageSize?: number;
  signal?: AbortSignal;
  now?: () => Date;
  /** Bulk transport (tests); the client's `_bulk` by default. */
  transport?: BulkTransport;
  /** How long a write may be held (cluster blocked, down...) before replay gives up (HOLD_LIMIT). */
  holdLimitMs?: number;
  /** Asked before the first write to each index: no index born without the templates (cli: always given). */
  indexGuard?: IndexGuard;
}

export interface ReplaySummary {
  dryRun: boolean;
  /** Quarantine documents matched by the filter. */
  scanned: number;
  /** Records that pass today (in a dry run: that would pass) and are now in their index. */
  passed: number;
  passedByEventType: Record<string, number>;
  /** Records written that were already there (409): indexed by an earlier, interrupted replay. */
  alreadyIndexed: number;
  /**
   * Records that passed validation but OpenSearch refused (they stay in quarantine as index_rejected, or
   * record_too_large; counted under that reason in stillFailingByReason too).
   */
  refusedByOpenSearch: number;
  /** Records still failing, by their reason today. */
  stillFailingByReason: Record<string, number>;
  /** Of the failing ones, documents whose reason, message or place changed (rewritten). */
  rewritten: number;
  /** Not replayable: raw text cut, or file-level errors (backfill the files instead). */
  skipped: Record<SkipWhy, number>;
  /** Quarantine documents deleted (their record passed, or they were replaced by a new document). */
  deleted: number;
  durationMs: number;
}

function inc(o: Record<string, number>, k: string, n = 1): void {
  o[k] = (o[k] ?? 0) + n;
}

/** Replay quarantined records matching the filter (see the module comment). */
export async function runReplay(opts: ReplayOptions): Promise<ReplaySummary> {
  const started = performance.now();
  const now = opts.now ?? (() => new Date());
  const transport = opts.transport ?? openSearchBulkTransport(opts.client);
  const summary: ReplaySummary = {
    dryRun: opts.dryRun,
    scanned: 0,
    passed: 0,
    passedByEventType: {},
    alreadyIndexed: 0,
    refusedByOpenSearch: 0,
    stillFailingByReason: {},
    rewritten: 0,
    skipped: { raw_truncated: 0, file_level: 0, invalid_utf8: 0 },
    deleted: 0,
    durationMs: 0,
  };
  // Records OpenSearch refuses become index_rejected quarantine documents; remember which, by index and
  // id (the sink sees the batch's own copy of an action, not the object this loop added). Written with
  // `index`: one of the same id (the record refused the same way before) is replaced, with today's message,
  // and a `create`'s 409 is only ever a record already there.
  const refused = new Map<string, IndexAction>();
  const actionKey = (a: IndexAction) => `${a.index}\u0000${a.id}`;
  const holds = new WriteHolds(opts.logger, undefined, opts.holdLimitMs);
  const sink = new BulkSink(
    transport,
    {
      ...opts.bulk,
      holds,
      ...(opts.indexGuard ? { indexGuard: opts.indexGuard } : {}),
      quarantine: (action, message, reason) => {
        const q = quarantineRefused(action, message, opts.indexPrefix, opts.indexPeriod, reason);
        refused.set(actionKey(action), q);
        return { ...q, op: "index" };
      },
    },
    opts.logger,
  );
  const index = `${opts.indexPrefix}-quarantine-*`;
  await opts.client.transport.request({
    method: "POST",
    path: `/${index}/_refresh`,
    querystring: { ignore_unavailable: true, allow_no_indices: true },
  });
  let res = await opts.client.transport.request({
    method: "POST",
    path: `/${index}/_search`,
    querystring: { scroll: "5m", ignore_unavailable: true, allow_no_indices: true },
    body: { size: opts.pageSize ?? 500, sort: ["_doc"], query: quarantineQuery(opts.filter) },
  });
  let scrollId: string | undefined;
  try {
    for (;;) {
      const body = res.body as { _scroll_id?: string; hits?: { hits?: QuarantineHit[] } };
      scrollId = body._scroll_id;
      const hits = body.hits?.hits ?? [];
      if (hits.length === 0) break;
      await replayPage(hits);
      if (!scrollId) break;
      opts.signal?.throwIfAborted();
      res = await opts.client.transport.request({
        method: "POST",
        path: "/_search/scroll",
        body: { scroll: "5m", scroll_id: scrollId },
      });
    }
  } finally {
    if (scrollId) {
      await opts.client.transport
        .request({ method: "DELETE", path: "/_search/scroll", body: { scroll_id: scrollId } })
        .catch(() => undefined);
    }
  }
  summary.durationMs = Math.round(performance.now() - started);
  return summary;

  async function replayPage(hits: QuarantineHit[]): Promise<void> {
    const ingestedAt = now().toISOString();
    const passes: { hit: QuarantineHit; action: IndexAction }[] = [];
    const rewrites: IndexAction[] = [];
    const deletes: { index: string; id: string }[] = [];
    for (const hit of hits) {
      summary.scanned++;
      const d = planReplay(hit, {
        indexPrefix: opts.indexPrefix,
        indexPeriod: opts.indexPeriod,
        maxRecordBytes: opts.maxRecordBytes,
        maxTimeDeviationMs: opts.maxTimeDeviationMs,
        ingestedAt,
        ...(opts.validate ? { validate: opts.validate } : {}),
      });
      if (d.kind === "skip") summary.skipped[d.why]++;
      else if (d.kind === "fail") {
        inc(summary.stillFailingByReason, d.reason);
        if (!d.unchanged) {
          summary.rewritten++;
          rewrites.push(d.action);
          if (d.action.index !== hit._index || d.action.id !== hit._id)
            deletes.push({ index: hit._index, id: hit._id });
        }
      } else passes.push({ hit, action: d.action });
    }
    if (opts.dryRun) {
      summary.passed += passes.length;
      for (const p of passes) inc(summary.passedByEventType, p.action.eventType ?? "unknown");
      return;
    }
    // 1. Records that pass (create: a record already there is a 409, counted as done).
    refused.clear();
    summary.alreadyIndexed += (await write(passes.map((p) => p.action))).duplicates;
    for (const p of passes) {
      const q = refused.get(actionKey(p.action));
      if (q) {
        summary.refusedByOpenSearch++;
        inc(summary.stillFailingByReason, q.reason ?? "index_rejected");
        // The sink stored the new quarantine document; the old one goes unless it is the same.
        if (q.index !== p.hit._index || q.id !== p.hit._id)
          deletes.push({ index: p.hit._index, id: p.hit._id });
      } else {
        summary.passed++;
        inc(summary.passedByEventType, p.action.eventType ?? "unknown");
        deletes.push({ index: p.hit._index, id: p.hit._id });
      }
    }
    // 2. Failing documents with a new reason/message (replaced), then 3. the deletes: each step stored
    // before the next starts, so a quarantine document goes only once what replaces it is stored.
    await write(rewrites.map((action) => ({ ...action, op: "index" as const })));
    summary.deleted += (
      await write(deletes.map((d) => ({ op: "delete" as const, kind: "quarantine" as const, ...d })))
    ).deleted;
  }

  /** Writes these actions through the sink; resolves when every one is stored (or quarantined). */
  async function write(actions: WriteAction[]): Promise<SinkOutcome> {
    const writer = sink.open(opts.signal);
    try {
      for (const a of actions) {
        const wait = writer.add(a);
        if (wait) await wait;
      }
      return await writer.finish();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }
}
