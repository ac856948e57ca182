/**
 * The streams, one declaration each (a module beside this one). Every per-stream table in the code is
 * derived from STREAMS (or typed `{ [K in EventType]: ... }`, which the compiler holds exhaustive): a new
 * stream is its module, its line here and in EVENT_TYPES, its fixture and the generated docs, dashboards
 * and templates' revision; no code outside src/core/ changes (docs/ARCHITECTURE.md, "Add a fifth
 * stream"; `npm run check:recipe` walks it and fails on a skipped step).
 */
import { z } from "zod";
import { EVENT_TYPES, type EventType } from "../twingate.ts";
import { auditLog } from "./audit-log.ts";
import { dataLossPrevention } from "./data-loss-prevention.ts";
import type { FieldSpecs } from "./declare.ts";
import { dnsFiltering } from "./dns-filtering.ts";
import { EcsWriter, membersObject } from "./ecs.ts";
import { networkAccess } from "./network-access.ts";
import type { Stream } from "./stream.ts";

export type { FieldSpec, FieldSpecs, MappingKind } from "./declare.ts";
export { EventTimeSchema, type Stream, VersionSchema } from "./stream.ts";

export const STREAMS = {
  network_access: networkAccess,
  dns_filtering: dnsFiltering,
  audit_log: auditLog,
  data_loss_prevention: dataLossPrevention,
} as const satisfies { readonly [K in EventType]: Stream<K> };

type Streams = typeof STREAMS;

export type RecordOf<K extends EventType> = z.infer<Streams[K]["record"]>;
export type EventOf<K extends EventType> = z.infer<Streams[K]["event"]>;

export type NetworkAccessRecord = RecordOf<"network_access">;
export type DnsFilteringRecord = RecordOf<"dns_filtering">;
export type AuditLogRecord = RecordOf<"audit_log">;
export type DataLossPreventionRecord = RecordOf<"data_loss_prevention">;
/** A validated record of any stream. */
export type TwingateRecord = { [K in EventType]: RecordOf<K> }[EventType];

const byStream = <T>(pick: (s: Stream<EventType>) => T) =>
  Object.fromEntries(EVENT_TYPES.map((t) => [t, pick(STREAMS[t] as Stream<EventType>)])) as {
    readonly [K in EventType]: T;
  };

/** The clean record of each stream (zod: the reference the derived checks are held to). */
export const RECORD_SCHEMAS: { readonly [K in EventType]: Streams[K]["record"] } = byStream(
  (s) => s.record,
) as never;

/** Any stream's clean record. */
export const TwingateRecordSchema = z.discriminatedUnion(
  "event_type",
  EVENT_TYPES.map((t) => STREAMS[t].record) as unknown as [Streams[EventType]["record"]],
);

/** Every declared field of each stream's `event` (version and time aside). */
export const FIELD_SPECS: { readonly [K in EventType]: FieldSpecs } = byStream((s) => s.fields);

/**
 * The ECS fields of a validated record as JSON text, `,"<key>":<value>` each (what follows `twingate` in
 * its document), by its stream's builder; the writer says which members it wrote.
 */
export function writeEcs(record: TwingateRecord): EcsWriter {
  const w = new EcsWriter();
  // each builder is typed by its own stream's event; the record's type selects it
  (STREAMS[record.event_type] as Stream<EventType>).ecs(record.event as never, w);
  return w;
}

/** The ECS fields of a validated record, as an object (writeEcs's text, parsed). */
export function ecsFields(record: TwingateRecord): Record<string, unknown> {
  return membersObject(writeEcs(record).text);
}

/** Whether the record's stream names a principal on every event (`no_principal` is noted where none). */
export function expectsPrincipal(record: TwingateRecord): boolean {
  return STREAMS[record.event_type].principal;
}
