/**
 * Bounded quarantine per file: the first `cap` rejections of each reason get a document each; the rest of
 * that reason are counted into ONE summary document (count, first and last samples, ordinal and line range),
 * so a hostile file (300,000 lines `{}` in a 1 KB gzip) costs a bounded number of documents, not one per line.
 *
 * The summary's id hashes (bucket, key, reason): a redelivery or re-read of the same file makes no second
 * copy (its content is a function of the file too). Its `raw` is empty, like a file-level error's: the
 * summarised records' texts are not kept, so replay skips it (read the file again to get them back).
 */
import { documentId } from "../documents/index.ts";
import { toQuarantineAction } from "../documents/quarantine.ts";
import { cutRaw, type IndexAction, type Rejection } from "../model.ts";

const DEFAULT_MAX_REJECTS_PER_REASON = 1000;

interface Sample {
  ordinal: number;
  line?: number;
  message: string;
  path?: string;
  raw: string;
  raw_truncated: boolean;
}

interface Overflow {
  count: number;
  first: Sample;
  last: Sample;
  eventType?: string;
}

function sample(r: Rejection): Sample {
  const { raw, truncated } = cutRaw(r.raw);
  const s: Sample = {
    ordinal: r.ordinal,
    message: r.message.slice(0, 2000),
    // A copy, so the sample does not keep a large record's whole text alive.
    raw: truncated ? Buffer.from(raw).toString() : raw,
    raw_truncated: truncated || r.rawTruncated === true,
  };
  if (r.line !== undefined) s.line = r.line;
  if (r.path !== undefined) s.path = r.path;
  return s;
}

export class RejectionCap {
  private readonly seen = new Map<string, number>();
  private readonly overflow = new Map<string, Overflow>();

  constructor(readonly cap: number = DEFAULT_MAX_REJECTS_PER_REASON) {}

  /** True: the rejection gets its own document; false: it is counted into its reason's summary. */
  admit(r: Rejection): boolean {
    const n = (this.seen.get(r.reason) ?? 0) + 1;
    this.seen.set(r.reason, n);
    if (n <= this.cap) return true;
    const o = this.overflow.get(r.reason);
    if (o) {
      o.count++;
      o.last = sample(r);
    } else {
      const first = sample(r);
      const added: Overflow = { count: 1, first, last: first };
      if (r.eventType !== undefined) added.eventType = r.eventType;
      this.overflow.set(r.reason, added);
    }
    return false;
  }

  /** Rejections counted into summaries (not given a document of their own), by reason. */
  summarised(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [reason, o] of this.overflow) out[reason] = o.count;
    return out;
  }

  /** One summary quarantine document per reason that went over the cap (none usually). */
  actions(
    source: { bucket: string; key: string },
    opts: { indexPrefix: string; ingestedAt: string },
  ): IndexAction[] {
    const out: IndexAction[] = [];
    for (const [reason, o] of this.overflow) {
      const rejection: Rejection = {
        reason: reason as Rejection["reason"],
        message:
          `${o.count} more records of this file rejected for ${reason} after the first ${this.cap} ` +
          `(max rejects per reason): counted here instead of one document each; the first and last are in ` +
          `quarantine.summary, the others only in the file (read it again to replay them)`,
        raw: "",
        ordinal: o.first.ordinal,
      };
      if (o.first.line !== undefined) rejection.line = o.first.line;
      if (o.eventType !== undefined) rejection.eventType = o.eventType;
      const action = toQuarantineAction(rejection, source, opts);
      const q = action.document["quarantine"] as Record<string, unknown>;
      q["summary"] = {
        count: o.count,
        first_ordinal: o.first.ordinal,
        last_ordinal: o.last.ordinal,
        ...(o.first.line !== undefined ? { first_line: o.first.line } : {}),
        ...(o.last.line !== undefined ? { last_line: o.last.line } : {}),
        first: o.first,
        last: o.last,
      };
      out.push({ ...action, id: documentId({ quarantine_summary: [source.bucket, source.key, reason] }) });
    }
    return out;
  }
}
