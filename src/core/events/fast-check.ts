/**
 * The fast check, derived from a stream's declaration: true only when the normaliser would find nothing to
 * do in the event (every declared field in its clean form, no key OpenSearch could refuse in the event or
 * a declared object, no undeclared field), so the record is indexed as it is without walking it again. False means "ask the
 * normaliser" (normalise.ts), which stays the single source of verdicts, deviations and messages.
 *
 * Clean, per spec (the same rules as the declaration's zod schemas, which a differential test holds it to,
 * but for keys: zod ignores undeclared ones, the check refuses them, so that the normaliser lists them):
 * str: absent, null or a string (req: a non-empty string); ip: absent, null or IP text (req: IP text);
 * count / port / deg: absent, null or a number in range; reason: absent, null, a string or an object of
 * string ids and names; obj: absent or null (unless req) or an object whose fields are clean; arr: absent,
 * null or an array of clean elements; bool: absent, null or a boolean; flat: absent or null (a value is
 * copied to the catch-all by the normaliser). Every object walked has only declared keys (the event:
 * version and time besides), so no undeclared field and no key OpenSearch could refuse.
 *
 * The check is compiled to straight-line code per stream (property names as literals: loads V8 caches per
 * site instead of megamorphic keyed loads); `checkEvent` interprets the same rules where a runtime forbids
 * code from strings, and is the definition the compiled code is tested against.
 */
import type { FieldSpec, FieldSpecs } from "../streams/declare.ts";
import { VERSION_TEXT } from "../streams/declare.ts";
import { isIpText } from "./ip.ts";
import { parseEventTime } from "./time.ts";
import { isObj, type Obj } from "./values.ts";

const REASON: FieldSpecs = { id: { t: "str" }, name: { t: "str" } };

/** Version and time: placed and clean. */
function cleanBase(e: Obj): boolean {
  const version = e["version"];
  if (typeof version === "number") {
    if (!(Number.isSafeInteger(version) && version > 0)) return false;
  } else if (typeof version !== "string" || !VERSION_TEXT.test(version)) return false;
  const time = e["time"];
  return typeof time === "string" && parseEventTime(time) !== undefined;
}

/** The rules, interpreted: one value by its spec. */
function clean(spec: FieldSpec, v: unknown): boolean {
  if (v === undefined || v === null)
    return !((spec.t === "str" || spec.t === "ip" || spec.t === "obj") && spec.req);
  switch (spec.t) {
    case "str":
      return typeof v === "string" && (!spec.req || v.length > 0);
    case "ip":
      return typeof v === "string" && isIpText(v);
    case "count":
      return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
    case "port":
      return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= 65535;
    case "deg":
      return typeof v === "number" && v >= -spec.max && v <= spec.max;
    case "reason":
      return typeof v === "string" || (isObj(v) && cleanObject(REASON, v));
    case "bool":
      return typeof v === "boolean";
    case "flat":
      return false; // present: the normaliser copies it to the catch-all
    case "obj":
      return isObj(v) && cleanObject(spec.f, v);
    case "arr": {
      if (!Array.isArray(v)) return false;
      for (let i = 0; i < v.length; i++) if (!clean(spec.of, v[i])) return false;
      return true;
    }
  }
}

function cleanObject(fields: FieldSpecs, v: Obj, root = false): boolean {
  for (const k in v)
    if (!(Object.hasOwn(fields, k) || (root && (k === "version" || k === "time")))) return false;
  for (const k in fields) if (!clean(fields[k]!, Object.hasOwn(v, k) ? v[k] : undefined)) return false;
  return true;
}

/** The fast check, interpreted (the definition; used where code cannot be generated). */
export function checkEvent(fields: FieldSpecs, event: Obj): boolean {
  return cleanBase(event) && cleanObject(fields, event, true);
}

// ---- the compiler ---------------------------------------------------------------------------------

/** Code that returns false unless `x` (a variable name) is clean by `spec`. */
function emit(spec: FieldSpec, x: string, vars: { n: number }): string {
  const nullish = `${x} === undefined || ${x} === null`;
  const req = (spec.t === "str" || spec.t === "ip" || spec.t === "obj") && spec.req === true;
  const orNull = (cond: string) =>
    req ? `if (!(${cond})) return false;\n` : `if (!(${nullish} || ${cond})) return false;\n`;
  switch (spec.t) {
    case "str":
      return orNull(req ? `typeof ${x} === "string" && ${x}.length > 0` : `typeof ${x} === "string"`);
    case "ip":
      return orNull(`typeof ${x} === "string" && isIpText(${x})`);
    case "count":
      return orNull(`typeof ${x} === "number" && Number.isSafeInteger(${x}) && ${x} >= 0`);
    case "port":
      return orNull(`typeof ${x} === "number" && Number.isSafeInteger(${x}) && ${x} >= 0 && ${x} <= 65535`);
    case "deg":
      return orNull(`typeof ${x} === "number" && ${x} >= ${-spec.max} && ${x} <= ${spec.max}`);
    case "reason":
      return orNull(`typeof ${x} === "string" || (isObj(${x}) && cleanReason(${x}))`);
    case "bool":
      return orNull(`typeof ${x} === "boolean"`);
    case "flat":
      return `if (!(${nullish})) return false;\n`;
    case "obj": {
      const head = req
        ? `if (!isObj(${x})) return false;\n`
        : `if (!(${nullish})) {\nif (!isObj(${x})) return false;\n`;
      return `${head}${emitFields(spec.f, x, vars)}${req ? "" : "}\n"}`;
    }
    case "arr": {
      const i = `i${vars.n++}`;
      const y = `y${vars.n++}`;
      return `if (!(${nullish})) {\nif (!Array.isArray(${x})) return false;\nfor (let ${i} = 0; ${i} < ${x}.length; ${i}++) {\nconst ${y} = ${x}[${i}];\n${emit(spec.of, y, vars)}}\n}\n`;
    }
  }
}

/** Every key of the object declared (so no undeclared field, and no key OpenSearch could refuse). */
function emitKeys(keys: readonly string[], v: string): string {
  const cases = keys.map((k) => `case ${JSON.stringify(k)}:`).join(" ");
  return `for (const k in ${v}) switch (k) { ${cases} break; default: return false; }\n`;
}

function emitFields(fields: FieldSpecs, v: string, vars: { n: number }, root = false): string {
  let code = emitKeys(root ? ["version", "time", ...Object.keys(fields)] : Object.keys(fields), v);
  for (const [k, spec] of Object.entries(fields)) {
    const x = `v${vars.n++}`;
    code += `{\nconst ${x} = ${v}[${JSON.stringify(k)}];\n${emit(spec, x, vars)}}\n`;
  }
  return code;
}

/** The fast check of one stream's event, compiled (or interpreted where code cannot be generated). */
export function compileEventCheck(fields: FieldSpecs): (event: Obj) => boolean {
  const body = emitFields(fields, "e", { n: 0 }, true);
  try {
    const make = new Function(
      "isObj",
      "isIpText",
      "cleanBase",
      "cleanReason",
      `return function cleanEvent(e) {\nif (!cleanBase(e)) return false;\n${body}return true;\n};`,
    );
    return make(isObj, isIpText, cleanBase, (r: Obj) => cleanObject(REASON, r)) as (event: Obj) => boolean;
  } catch {
    // A runtime that forbids code from strings (--disallow-code-generation-from-strings): the same rules.
    return (event) => checkEvent(fields, event);
  }
}
