/**
 * Helpers the streams' ECS builders share (pure): build small objects without `{}` shells or absent members.
 */

export type Json = Record<string, unknown>;

/**
 * The defined members, in order; undefined for none (no `{}` shells). The object itself when all are
 * defined (the usual case: no copy); else a copy rather than `delete`s: a deleted property turns an
 * object into a slow dictionary, which JSON.stringify then walks slowly.
 */
export function compact(obj: Json): Json | undefined {
  let keys = 0;
  let defined = 0;
  for (const k in obj) {
    keys++;
    if (obj[k] !== undefined) defined++;
  }
  if (defined === keys) return keys === 0 ? undefined : obj;
  if (defined === 0) return undefined;
  const out: Json = {};
  for (const k in obj) {
    const v = obj[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** A value usable as a document field (null and "" count as absent). */
export function present<T>(v: T | null | undefined | ""): T | undefined {
  return v === null || v === undefined || v === "" ? undefined : (v as T);
}

/** Sets `out[key]` when `value` is defined. */
export function setDefined(out: Json, key: string, value: Json | undefined): void {
  if (value !== undefined) out[key] = value;
}

type Device = { id?: string | null; name?: string | null; model?: { hostname?: string | null } | null };

/** ECS `host` of a Twingate device. */
export function hostOf(device: Device | null | undefined): Json | undefined {
  if (!device) return undefined;
  return compact({
    id: present(device.id),
    name: present(device.name),
    hostname: present(device.model?.hostname),
  });
}

/** ECS `user` of a Twingate user object. */
export function userOf(
  user: { id?: string | null; email?: string | null } | null | undefined,
): Json | undefined {
  return user ? compact({ id: present(user.id), email: present(user.email) }) : undefined;
}
