/**
 * Command-line values -> a checked production plan. Pure, so every refusal is unit-tested.
 */
import { EVENT_TYPES, type EventType } from "../../core/model.ts";
import {
  DEFAULT_SLOT_MS,
  lastCompleteSlots,
  normalizePrefix,
  type Slot,
  slotsInRange,
} from "../../core/twingate.ts";
import { parseDuration, parseInstant } from "../../platform/util/instants.ts";
import type { Layout } from "./encode.ts";
import { LAYOUTS } from "./encode.ts";
import { DEFAULT_MIX, type Mix } from "./generator.ts";
import type { ProduceOptions } from "./run.ts";
import { DEFAULT_DRIFT_RATE } from "./variety.ts";

export class ProduceUsageError extends Error {
  override name = "ProduceUsageError";
}

/** The default mix as `--mix` text: `network_access=60,dns_filtering=30,audit_log=5,data_loss_prevention=5`. */
export const DEFAULT_MIX_TEXT = Object.entries(DEFAULT_MIX)
  .map(([t, share]) => `${t}=${share}`)
  .join(",");

/** `network_access=60,dns_filtering=30,audit_log=5,data_loss_prevention=5`; types not named get 0. */
export function parseMix(text: string): Mix {
  const mix = Object.fromEntries(EVENT_TYPES.map((t) => [t, 0])) as Mix;
  const seen = new Set<string>();
  for (const part of text
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z_]+)\s*[=:]\s*(\d+(?:\.\d+)?)$/.exec(part);
    if (!m) throw new ProduceUsageError(`--mix: "${part}" is not <event_type>=<share>`);
    const type = m[1]!;
    if (!(EVENT_TYPES as readonly string[]).includes(type)) {
      throw new ProduceUsageError(`--mix: unknown event type "${type}" (known: ${EVENT_TYPES.join(", ")})`);
    }
    if (seen.has(type)) throw new ProduceUsageError(`--mix: "${type}" given twice`);
    seen.add(type);
    mix[type as EventType] = Number(m[2]);
  }
  if (EVENT_TYPES.every((t) => mix[t] === 0))
    throw new ProduceUsageError("--mix: give at least one positive share");
  return mix;
}

export interface ProduceArgs {
  seed?: string | number;
  from?: string;
  to?: string;
  files?: number;
  eventsPerFile?: number;
  rate?: number;
  mix?: string;
  layout?: string;
  gzip?: boolean;
  prefix?: string;
  interval?: string;
  slot?: string;
  count?: number;
  invalidRate?: number;
  corruptRate?: number;
  unknownTypeRate?: number;
  truncatedGzip?: number;
  oversized?: number;
  emptySlotRate?: number;
  driftRate?: number;
}

type ProducePlan =
  | { mode: "range"; options: ProduceOptions; fromMs: number; toMs: number; slots: Slot[]; slotMs: number }
  | { mode: "loop"; options: ProduceOptions; slotMs: number; count?: number };

const rate = (name: string, v: number | undefined): number => {
  const x = v ?? 0;
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new ProduceUsageError(`--${name} must be between 0 and 1`);
  return x;
};
const nonNegInt = (name: string, v: number | undefined): number => {
  const x = v ?? 0;
  if (!Number.isInteger(x) || x < 0) throw new ProduceUsageError(`--${name} must be a whole number >= 0`);
  return x;
};

/** At most this many slots in one range run (a year of 5-minute slots). */
const MAX_SLOTS = 366 * 288;

export function buildPlan(args: ProduceArgs, nowMs: number, oversizedBytes: number): ProducePlan {
  const layout = (args.layout ?? "ndjson") as Layout;
  if (!LAYOUTS.includes(layout)) throw new ProduceUsageError(`--layout must be one of ${LAYOUTS.join(", ")}`);
  const faults = {
    invalid: rate("invalid-rate", args.invalidRate),
    corrupt: rate("corrupt-rate", args.corruptRate),
    unknownType: rate("unknown-type-rate", args.unknownTypeRate),
  };
  if (faults.invalid + faults.corrupt + faults.unknownType > 1) {
    throw new ProduceUsageError("--invalid-rate + --corrupt-rate + --unknown-type-rate must not exceed 1");
  }
  if (faults.corrupt > 0 && layout !== "ndjson") {
    throw new ProduceUsageError(
      "--corrupt-rate needs --layout ndjson: in an array or concatenated file one broken record makes the rest unreadable",
    );
  }
  if (args.eventsPerFile !== undefined && args.rate !== undefined) {
    throw new ProduceUsageError("give --events-per-file or --rate, not both");
  }
  if (args.eventsPerFile !== undefined) nonNegInt("events-per-file", args.eventsPerFile);
  if (args.rate !== undefined && !(Number.isFinite(args.rate) && args.rate >= 0)) {
    throw new ProduceUsageError("--rate must be a number of events per second >= 0");
  }
  const seedRaw = args.seed ?? 42;
  const seed =
    typeof seedRaw === "number" || /^\d+$/.test(String(seedRaw)) ? Number(seedRaw) : String(seedRaw);
  const options: ProduceOptions = {
    seed,
    mix: args.mix === undefined ? { ...DEFAULT_MIX } : parseMix(args.mix),
    ...(args.eventsPerFile !== undefined
      ? { eventsPerFile: args.eventsPerFile }
      : { ratePerSecond: args.rate ?? 1 }),
    layout,
    gzip: args.gzip ?? false,
    prefix: normalizePrefix(args.prefix),
    faults,
    oversized: nonNegInt("oversized", args.oversized),
    oversizedBytes,
    truncatedGzip: nonNegInt("truncated-gzip", args.truncatedGzip),
    emptySlotRate: rate("empty-slot-rate", args.emptySlotRate),
    driftRate: args.driftRate === undefined ? DEFAULT_DRIFT_RATE : rate("drift-rate", args.driftRate),
  };

  const parseTime = (flag: string, v: string) => {
    try {
      return parseInstant(v, nowMs);
    } catch (err) {
      throw new ProduceUsageError(`--${flag}: ${(err as Error).message}`);
    }
  };
  const parseDur = (flag: string, v: string) => {
    try {
      return parseDuration(v);
    } catch (err) {
      throw new ProduceUsageError(`--${flag}: ${(err as Error).message}`);
    }
  };

  if (args.interval !== undefined) {
    if (args.from !== undefined || args.to !== undefined || args.files !== undefined) {
      throw new ProduceUsageError(
        "--interval writes as time passes: do not combine it with --from/--to/--files",
      );
    }
    const intervalMs = parseDur("interval", args.interval);
    // One file per slot: the interval is the slot width (5m as Twingate; shorter for demos).
    const slotMs = intervalMs;
    if (args.slot !== undefined && parseDur("slot", args.slot) !== intervalMs) {
      throw new ProduceUsageError(
        "--slot must equal --interval when writing as time passes (one file per slot)",
      );
    }
    if (args.count !== undefined) nonNegInt("count", args.count);
    return { mode: "loop", options, slotMs, ...(args.count !== undefined ? { count: args.count } : {}) };
  }
  if (args.count !== undefined) throw new ProduceUsageError("--count only applies with --interval");

  const slotMs = args.slot !== undefined ? parseDur("slot", args.slot) : DEFAULT_SLOT_MS;
  let fromMs: number;
  let toMs: number;
  let slots: Slot[];
  if (args.from !== undefined || args.to !== undefined) {
    if (args.files !== undefined) throw new ProduceUsageError("give --from/--to or --files, not both");
    if (args.from === undefined) throw new ProduceUsageError("--to needs --from");
    fromMs = parseTime("from", args.from);
    toMs = args.to !== undefined ? parseTime("to", args.to) : nowMs;
    if (!(toMs > fromMs)) throw new ProduceUsageError("--to must be after --from");
    if ((toMs - fromMs) / slotMs > MAX_SLOTS) {
      throw new ProduceUsageError(`the range holds more than ${MAX_SLOTS} slots: split it into several runs`);
    }
    slots = slotsInRange(fromMs, toMs, slotMs);
  } else {
    const files = nonNegInt("files", args.files ?? 1);
    slots = lastCompleteSlots(nowMs, files, slotMs);
    fromMs = slots[0]?.startMs ?? nowMs;
    toMs = slots.at(-1)?.endMs ?? nowMs;
  }
  return { mode: "range", options, fromMs, toMs, slots, slotMs };
}
