/**
 * The pipeline's middle stage, one reader item in, one action out: a valid record becomes its document,
 * anything else its quarantine document (src/core/documents/quarantine.ts). Pure but for the clock given.
 */
import { type DocumentOptions, toIndexAction } from "../documents/index.ts";
import {
  fileErrorRejection,
  toQuarantineAction,
  toRejection,
  unstorableRejection,
} from "../documents/quarantine.ts";
import { parseAnyTime, type validateRecord } from "../events/index.ts";
import type { IndexAction, ObjectRef, RecordSource, Rejection } from "../model.ts";
import { keepExactIntegers } from "../parse/exact-integers.ts";
import type { ReaderItem } from "../parse/index.ts";
import type { RejectionCap } from "./reject-cap.ts";

export function actionsFor(
  ref: ObjectRef,
  opts: {
    /** Where documents go; `fileTimeMs` is set from the first valid record when the key gave none. */
    docOpts: DocumentOptions;
    validate: typeof validateRecord;
    /** Rejections beyond the per-reason cap are counted there instead (undefined is returned). */
    cap: RejectionCap;
  },
): (item: ReaderItem) => IndexAction | undefined {
  const docOpts = opts.docOpts;
  const source = { bucket: ref.bucket, key: ref.key };
  const quarantine = (r: Rejection) =>
    opts.cap.admit(r) ? toQuarantineAction(r, source, docOpts) : undefined;
  return (item) => {
    if (item.kind === "rejected") return quarantine(item.rejection);
    // Never capped: one per file.
    if (item.kind === "file_error") return toQuarantineAction(fileErrorRejection(item), source, docOpts);
    const placed = placeRecord(item, ref, docOpts, opts.validate);
    return placed.action ?? quarantine(placed.rejection);
  };
}

/**
 * One parsed record: its document (index action), or the rejection that sends it to quarantine. The
 * record stage every path shares (files, and replay's quarantined records).
 */
export function placeRecord(
  item: Extract<ReaderItem, { kind: "record" }>,
  ref: { bucket: string; key: string },
  docOpts: DocumentOptions,
  validate: typeof validateRecord,
): { action: IndexAction; rejection?: never } | { action?: never; rejection: Rejection } {
  // Integers a double cannot hold keep their digits (parse/exact-integers.ts); the same value for the others.
  const value = keepExactIntegers(item.raw, item.value);
  const v = validate(value);
  if (!v.ok) return { rejection: toRejection(v, item) };
  const src: RecordSource = { bucket: ref.bucket, key: ref.key, ordinal: item.ordinal };
  if (item.line !== undefined) src.line = item.line;
  if (docOpts.fileTimeMs === undefined && docOpts.maxTimeDeviationMs !== undefined)
    docOpts.fileTimeMs = parseAnyTime(v.record.event.time)?.time.epochMs;
  try {
    // Built (and serialised) here, so that one record that cannot be (e.g. nested too deep for the call
    // stack) goes to quarantine alone instead of failing its whole file on every delivery.
    // The record's text as read: its id's text when the file is written compactly (no re-serialising).
    return { action: toIndexAction(v.record, src, docOpts, v.record === item.value ? item.raw : undefined) };
  } catch (err) {
    return { rejection: unstorableRejection(err, v.record.event_type, item) };
  }
}
