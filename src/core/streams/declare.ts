/**
 * The vocabulary a stream is declared in (one module per stream beside this one; src/core/streams/index.ts
 * lists them). Each builder returns a zod 4 schema of the field's CLEAN form (what needs no normalising) and
 * registers, as the schema's metadata, the field's `FieldSpec`: how the tolerant reader normalises it
 * (events/normalise.ts), its OpenSearch type (platform/opensearch/mappings.ts), whether its keyword is
 * case-blind, and a line of documentation (docs/MAPPINGS.md's field table). So a field is written once and
 *
 * - `z.infer` of the stream's record schema is its TypeScript type;
 * - `specOf(schema)` is its normaliser spec; the index mapping, the fast check (fast-check.ts), the field
 *   table and the producer's field coverage are derived from the specs;
 * - zod's own parse of the schema is the reference the derived fast check is held to (a differential test).
 *
 * Ingestion runs the code derived from the declaration, not zod's parser: docs/BENCHMARKS.md
 * ("Validation") has the measurement.
 */
import { z } from "zod";
import { isIpText } from "../events/ip.ts";

/** An OpenSearch type for a leaf field (mappings.ts turns each into a mapping). */
export type MappingKind =
  /** `keyword` (ignore_above 1024) */
  | "keyword"
  /** `keyword` with a `.text` sub-field: names people search by words */
  | "keyword_text"
  /** `text` with a `.keyword` sub-field: messages */
  | "text_keyword"
  | "ip"
  | "long"
  | "integer"
  | "double"
  | "boolean"
  /** stored in `_source`, not parsed (`enabled: false`): values whose shape varies */
  | "disabled";

/** What a leaf says besides its normaliser kind. */
interface LeafInfo {
  /** The OpenSearch type (each kind has a default). */
  readonly map?: MappingKind;
  /** Case-blind keyword (e-mail addresses, DNS and host names): the lowercase normalizer. */
  readonly lower?: boolean;
  /** One line for docs/MAPPINGS.md. */
  readonly doc?: string;
}

/** How a field is typed. `req`: the schema requires it (absent/null/empty is a `missing` deviation). */
export type FieldSpec =
  /** keyword text: strings; numbers become their text (ids sent as JSON numbers) */
  | ({ readonly t: "str"; readonly req?: boolean } & LeafInfo)
  /** an `ip`: IPv4 or IPv6 text; "" becomes null */
  | ({ readonly t: "ip"; readonly req?: boolean } & LeafInfo)
  /** a `long` count: a safe integer >= 0; numeric strings become numbers */
  | ({ readonly t: "count" } & LeafInfo)
  /** an `integer` port 0..65535; numeric strings become numbers */
  | ({ readonly t: "port" } & LeafInfo)
  /** a `double` in [-max, max] (latitude 90, longitude 180); numeric strings become numbers */
  | ({ readonly t: "deg"; readonly max: number } & LeafInfo)
  /** an object with typed fields (others kept as they are) */
  | {
      readonly t: "obj";
      readonly req?: boolean;
      readonly f: Readonly<Record<string, FieldSpec>>;
      readonly doc?: string;
    }
  /** an array of values of one spec */
  | { readonly t: "arr"; readonly of: FieldSpec; readonly doc?: string }
  /** a DNS filtering reason: a string or an {id, name} object (stored `enabled: false`) */
  | ({ readonly t: "reason" } & LeafInfo)
  /** a `boolean`; "true" and "false" become booleans */
  | ({ readonly t: "bool" } & LeafInfo)
  /**
   * a value whose shape varies (an audit target's `before`, its `ports`): stored as sent, not parsed
   * (`enabled: false`), and copied to the `twingate.flat` catch-all, where every leaf is searchable
   */
  | ({ readonly t: "flat" } & LeafInfo);

/** The specs of one object's fields. */
export type FieldSpecs = Readonly<Record<string, FieldSpec>>;

const SPECS = z.registry<{ spec: FieldSpec }>();

function declared<S extends z.ZodType>(schema: S, spec: FieldSpec): S {
  SPECS.add(schema, { spec });
  return schema;
}

/** The spec a builder registered for `schema` (every field of a declaration has one). */
export function specOf(schema: z.ZodType): FieldSpec {
  const meta = SPECS.get(schema);
  if (!meta) throw new Error("a declared field must be built with src/core/streams/declare.ts");
  return meta.spec;
}

type Leaf = LeafInfo & { readonly req?: boolean };

const stringError = { error: "must be a string" };
const nonEmpty = { error: "must be a non-empty string" };

/** A keyword (ids, names, statuses): a string; with `req`, a non-empty one. */
export function keyword<R extends boolean = false>(
  o: Leaf & { req?: R } = {},
): R extends true ? z.ZodString : z.ZodOptional<z.ZodNullable<z.ZodString>> {
  const s = o.req ? z.string(stringError).min(1, nonEmpty) : z.string(stringError).nullish();
  return declared(s, { t: "str", ...o }) as never;
}

/** Free text people search by words (error messages): text with a `.keyword` sub-field. */
export function text(o: Omit<Leaf, "map" | "req"> = {}) {
  return declared(z.string(stringError).nullish(), { t: "str", map: "text_keyword", ...o });
}

const ipText = () =>
  z.string({ error: "invalid IP address" }).refine(isIpText, { error: "invalid IP address" });

/** An IPv4 or IPv6 address (`ip`); `""` is normalised to null. */
export function ip<R extends boolean = false>(
  o: Omit<Leaf, "map"> & { req?: R } = {},
): R extends true ? z.ZodString : z.ZodOptional<z.ZodNullable<z.ZodString>> {
  return declared(o.req ? ipText() : ipText().nullish(), { t: "ip", ...o }) as never;
}

const wholeNumber = () =>
  z
    .number({ error: "must be a number" })
    .int({ error: "must be an integer" })
    .min(0, { error: "must not be negative" });

/** A count (`long`): a whole number >= 0. */
export function count(o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  return declared(wholeNumber().max(Number.MAX_SAFE_INTEGER, { error: "is too large" }).nullish(), {
    t: "count",
    ...o,
  });
}

/** A port (`integer`): 0..65535. */
export function port(o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  return declared(wholeNumber().max(65535, { error: "must be a port (0..65535)" }).nullish(), {
    t: "port",
    ...o,
  });
}

/** Degrees (`double`) in [-max, max]: latitude 90, longitude 180. */
export function degrees(max: number, o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  const range = { error: `must be between -${max} and ${max}` };
  return declared(z.number({ error: "must be a number" }).min(-max, range).max(max, range).nullish(), {
    t: "deg",
    max,
    ...o,
  });
}

/** A DNS filtering reason: a string, or an `{id, name}` object (stored as sent, not parsed). */
export function reason(o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  const idName = z.object({ id: z.string().nullish(), name: z.string().nullish() });
  return declared(
    z.union([z.string(), idName], { error: "must be a string or an {id, name} object" }).nullish(),
    {
      t: "reason",
      ...o,
    },
  );
}

type Shape = Record<string, z.ZodType>;

function specsOf(shape: Shape): FieldSpecs {
  const f: Record<string, FieldSpec> = {};
  for (const [k, s] of Object.entries(shape)) f[k] = specOf(s);
  return f;
}

/** A boolean. */
export function bool(o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  return declared(z.boolean({ error: "must be a boolean" }).nullish(), { t: "bool", ...o });
}

/** A value of any shape, searchable through the `twingate.flat` catch-all (see FieldSpec `flat`). */
export function flat(o: Omit<Leaf, "map" | "req" | "lower"> = {}) {
  return declared(z.unknown().optional(), { t: "flat", ...o });
}

/** An object of declared fields (other keys are kept as sent); with `req`, the object must be there. */
export function object<S extends Shape, R extends boolean = false>(
  shape: S,
  o: { req?: R; doc?: string } = {},
): R extends true ? z.ZodObject<S> : z.ZodOptional<z.ZodNullable<z.ZodObject<S>>> {
  const s = o.req ? z.object(shape) : z.object(shape).nullish();
  return declared(s, { t: "obj", f: specsOf(shape), ...o }) as never;
}

/** An array of one declared field's values. */
export function array<E extends z.ZodType>(of: E, o: { doc?: string } = {}) {
  return declared(z.array(of).nullish(), { t: "arr", of: specOf(of), ...o });
}

/** The specs of an event's declared fields (`object`'s shape). */
export function eventSpecs(shape: Shape): FieldSpecs {
  return specsOf(shape);
}

// ---- the fields every event has -----------------------------------------------------------------

/** `1` in the sync examples, `"1"` on the audit schema page: a positive integer or its text. */
export const VERSION_TEXT = /^[1-9]\d{0,8}$/;
