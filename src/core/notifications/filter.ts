/**
 * Which announced objects the worker may fetch. Pure: the caller logs the reason and acknowledges
 * filtered objects without fetching them.
 */
import type { ObjectRef } from "../model.ts";
import { quoteBounded } from "./keys.ts";

export interface ObjectFilter {
  /** Buckets we may read; empty allows any. Exact, case-sensitive names (S3 bucket names are lower-case). */
  bucketAllowlist: string[];
  /** Keys must start with this ("" for any). Compared to the decoded key. */
  keyPrefix: string;
  /** Keys must match (anywhere: anchor it if needed). Default: TWINGATE_KEY_PATTERN from src/platform/config. */
  keyPattern: RegExp;
}

export type FilterResult = { ok: true } | { ok: false; reason: string };

export function filterObject(ref: ObjectRef, filter: ObjectFilter): FilterResult {
  if (filter.bucketAllowlist.length > 0 && !filter.bucketAllowlist.includes(ref.bucket)) {
    return { ok: false, reason: `bucket ${quoteBounded(ref.bucket, 70)} is not in the bucket allowlist` };
  }
  if (!ref.key.startsWith(filter.keyPrefix)) {
    return {
      ok: false,
      reason: `key ${quoteBounded(ref.key)} is not under the key prefix ${quoteBounded(filter.keyPrefix)}`,
    };
  }
  if (!matches(filter.keyPattern, ref.key)) {
    return {
      ok: false,
      reason: `key ${quoteBounded(ref.key)} does not match the key pattern /${quoteBoundedPattern(filter.keyPattern)}/`,
    };
  }
  return { ok: true };
}

/** Build the filter from the loaded settings (keyPattern is a string there, validated as a RegExp). */
export function objectFilterFromConfig(config: {
  bucketAllowlist: string[];
  keyPrefix: string;
  keyPattern: string;
}): ObjectFilter {
  return {
    bucketAllowlist: [...config.bucketAllowlist],
    keyPrefix: config.keyPrefix,
    keyPattern: new RegExp(config.keyPattern),
  };
}

/** RegExp#test with the g or y flag reads and moves lastIndex: test a fresh copy (lastIndex 0) instead. */
function matches(pattern: RegExp, s: string): boolean {
  return (pattern.global || pattern.sticky ? new RegExp(pattern) : pattern).test(s);
}

function quoteBoundedPattern(p: RegExp): string {
  return p.source.length > 200 ? `${p.source.slice(0, 200)}…` : p.source;
}
