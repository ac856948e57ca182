/** Shared timed runs for the parse benchmarks. */
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Bare: stream the file, split lines, JSON.parse each. */
export async function bare(path: string): Promise<{ records: number; seconds: number }> {
  const t0 = process.hrtime.bigint();
  let records = 0;
  let rest: Buffer | undefined;
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let pos = 0;
    for (;;) {
      const nl = buf.indexOf(10, pos);
      if (nl === -1) break;
      if (nl > pos) {
        JSON.parse(buf.toString("utf8", pos, nl));
        records++;
      }
      pos = nl + 1;
    }
    rest = pos < buf.length ? buf.subarray(pos) : undefined;
  }
  if (rest?.length) {
    JSON.parse(rest.toString("utf8"));
    records++;
  }
  return { records, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

// Loose module shapes so a baseline tree (older API) can be loaded too.
type Item = { kind: string; value?: unknown; raw?: string; ordinal?: number; line?: number };
interface ParseMod {
  readRecords: (input: Readable) => AsyncIterable<Item>;
  readRecordBatches?: (input: Readable) => AsyncIterable<Item[]>;
}
interface EventsMod {
  validateRecord: (v: unknown) => { ok: boolean; record?: unknown };
}
interface DocumentsMod {
  toIndexAction: (r: never, s: never, o: never, text?: string) => { id: string };
}
interface BulkBodyMod {
  BulkBatch: new (
    capacity?: number,
  ) => { add(a: never): void; readonly size: number; readonly bytes: number };
}
interface ExactMod {
  keepExactIntegers: (raw: string, value: unknown) => unknown;
}
export type FullRun = (path: string) => Promise<{ records: number; seconds: number; rejected: number }>;

/**
 * Full: reader + validateRecord + toIndexAction, with the reader API the tree has (batches if any); with
 * `bulk`, also serialised into bulk batches of 2000 (the sink's share of the work, to the request bytes).
 */
export function fullRun(
  parse: ParseMod,
  events: EventsMod,
  documents: DocumentsMod,
  bulk?: BulkBodyMod,
  /** parse/exact-integers.ts, in a tree that has it (the record stage's first step, ingest/actions.ts). */
  exact?: ExactMod,
): FullRun {
  return async (path) => {
    const t0 = process.hrtime.bigint();
    let records = 0;
    let rejected = 0;
    let sink = 0;
    let batch: InstanceType<BulkBodyMod["BulkBatch"]> | undefined;
    const opts = { indexPrefix: "twingate", ingestedAt: new Date().toISOString() };
    const one = (item: Item) => {
      if (item.kind !== "record") {
        rejected++;
        return;
      }
      const value = exact ? exact.keepExactIntegers(item.raw ?? "", item.value) : item.value;
      const v = events.validateRecord(value);
      if (!v.ok) {
        rejected++;
        return;
      }
      const src: Record<string, unknown> = { bucket: "bench", key: path, ordinal: item.ordinal };
      if (item.line !== undefined) src["line"] = item.line;
      // As ingest/actions.ts: the record's text as read (a tree without that parameter ignores it).
      const text = v.record === item.value ? item.raw : undefined;
      const action = documents.toIndexAction(v.record as never, src as never, opts as never, text);
      sink += action.id.length;
      if (bulk) {
        batch ??= new bulk.BulkBatch(6 * 1024 * 1024);
        batch.add(action as never);
        if (batch.size >= 2000) {
          sink += batch.bytes;
          batch = undefined;
        }
      }
      records++;
    };
    const input = createReadStream(path, { highWaterMark: 64 * 1024 });
    if (parse.readRecordBatches) {
      for await (const items of parse.readRecordBatches(input)) for (const item of items) one(item);
    } else {
      for await (const item of parse.readRecords(input)) one(item);
    }
    if (sink === 0 && records > 0) throw new Error("unreachable");
    return { records, seconds: Number(process.hrtime.bigint() - t0) / 1e9, rejected };
  };
}
