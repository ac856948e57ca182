/** What the record readers share about parsed JSON values (pure). */

/** A JSON object, as JSON.parse gives it. */
export type Obj = Record<string, unknown>;

/** A JSON object (not an array, not null). */
export function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
