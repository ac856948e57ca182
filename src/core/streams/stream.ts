/**
 * `defineStream`: a stream's declaration from its event's fields. What it returns is all the pipeline knows
 * of the stream: the record's zod schema (its type by `z.infer`), the specs of its event's fields (the
 * normaliser, the fast check, the mapping and the field table are derived from them) and its ECS builder.
 */
import { z } from "zod";
import { parseEventTime } from "../events/time.ts";
import { eventSpecs, type FieldSpecs, VERSION_TEXT } from "./declare.ts";
import type { EcsWriter } from "./ecs.ts";

/** `1` in the sync examples, `"1"` on the audit schema page; any positive integer or numeric string. */
export const VersionSchema = z.union([z.number().int().positive(), z.string().regex(VERSION_TEXT)], {
  error: "must be a positive integer or a numeric string",
});

export const EventTimeSchema = z
  .string({ error: "must be a string" })
  .refine((s) => parseEventTime(s) !== undefined, {
    error:
      "must be an ISO-8601 time with Z or a ±hh:mm offset (e.g. 2025-07-25T18:19:41.236597+00:00), between 1970 and 2262",
  });

/** Fields every event has: they place it (version and time are read before the declared fields). */
const base = { version: VersionSchema, time: EventTimeSchema };

type Shape = Record<string, z.ZodType>;
type EventOf<S extends Shape> = z.infer<z.ZodObject<typeof base & S>>;

export interface Stream<N extends string = string, S extends Shape = Shape> {
  readonly name: N;
  /** The clean event (what needs no normalising): version, time and the declared fields. */
  readonly event: z.ZodObject<typeof base & S>;
  /** The clean record `{event_type, event}`. */
  readonly record: z.ZodObject<{ event_type: z.ZodLiteral<N>; event: z.ZodObject<typeof base & S> }>;
  /** The specs of the event's declared fields (version and time aside). */
  readonly fields: FieldSpecs;
  /** Events of this stream name a principal (a user or service account): one without is noted. */
  readonly principal: boolean;
  /** Writes the ECS fields of a validated event (event, observer, source, destination, user, host, related...). */
  ecs(event: EventOf<S>, w: EcsWriter): void;
}

export function defineStream<N extends string, S extends Shape>(
  name: N,
  shape: S,
  ecs: (event: EventOf<S>, w: EcsWriter) => void,
  options: { principal?: boolean } = {},
): Stream<N, S> {
  const event = z.object({ ...base, ...shape }) as z.ZodObject<typeof base & S>;
  return {
    name,
    event,
    record: z.object({ event_type: z.literal(name), event }),
    fields: eventSpecs(shape),
    principal: options.principal ?? false,
    ecs,
  };
}
