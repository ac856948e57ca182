/** `audit_log`: changes admins (users, API keys, Twingate support) made (the vendor's Audit Logs Schema). */
import { array, bool, flat, keyword, object } from "./declare.ts";
import { lc } from "./ecs.ts";
import { defineStream } from "./stream.ts";

/** Target types (lowercased) that are identities and access: ECS category `iam`; others `configuration`. */
const IAM_TARGETS = new Set([
  "user",
  "group",
  "serviceaccount",
  "serviceaccountkey",
  "publicapikey",
  "apikey",
  "role",
]);

/** ECS event.type by the action: create, delete; edit and any other (relations: add, remove) a change. */
function actionType(action: unknown): string {
  const a = lc(action);
  if (a === "create") return "creation";
  if (a === "delete") return "deletion";
  return "change";
}

export const auditLog = defineStream(
  "audit_log",
  {
    action: keyword({ req: true, doc: "create, edit, delete" }),
    actor: object(
      {
        type: keyword({ req: true, doc: "User, API, Twingate Support" }),
        id: keyword(),
        info: object({
          email: keyword({ lower: true }),
          name: keyword({ map: "keyword_text" }),
        }),
      },
      { req: true },
    ),
    targets: array(
      object({
        version: keyword(),
        type: keyword({ req: true, doc: "PublicAPIKey, resource, user, group, ..." }),
        id: keyword(),
        name: keyword({ map: "keyword_text" }),
        email: keyword({ lower: true, doc: "a user target's e-mail" }),
        permission: keyword({ doc: "an API key's: read only, read write, provision" }),
        state: keyword(),
        role: keyword(),
        isAdmin: bool(),
        isActive: bool(),
        address: object(
          { type: keyword(), value: keyword({ lower: true }) },
          { doc: "a resource's address" },
        ),
        allowedIpRanges: array(keyword()),
        protocols: flat({ doc: "a resource's protocols and their ports (shape varies)" }),
        location: keyword({ doc: "a remote network's location (e.g. ON_PREMISE)" }),
        remoteNetwork: object(
          { id: keyword(), name: keyword({ map: "keyword_text" }) },
          { doc: "a connector's" },
        ),
        isTrusted: bool({ doc: "a device's" }),
        activeState: keyword(),
        serialNumber: keyword(),
        user: object({ id: keyword(), email: keyword({ lower: true }) }, { doc: "a device's user" }),
        before: flat({ doc: "the target's state before an edit" }),
      }),
      { doc: "what changed; type-specific fields besides these" },
    ),
  },
  (e, w) => {
    const targets = (e.targets ?? []).filter((t) => t !== null && t !== undefined);
    const iam = targets.some((t) => IAM_TARGETS.has(lc(t.type)));
    const type = [actionType(e.action)];
    for (const kind of ["user", "group"])
      if (targets.some((t) => lc(t.type) === kind) && !type.includes(kind)) type.push(kind);
    w.event("audit_log", [iam ? "iam" : "configuration"], type, e.action, "success");
    const a = e.actor;
    // The actor is the principal whatever its type (a user, an API key, Twingate support); a user target
    // is user.target (only beside an actor).
    w.obj("user").emailUser(a?.id, a?.info?.email, a?.info?.name ?? (a?.info?.email ? undefined : a?.type));
    const target = targets.find((t) => lc(t.type) === "user");
    if (target && !w.isEmpty) w.obj("target").emailUser(target.id, target.email, target.name).end();
    w.end();
    const users: unknown[] = [a?.info?.email, a?.info?.name, a?.id];
    for (const t of targets) {
      if (lc(t.type) === "user") users.push(t.email, t.name, t.id);
      else users.push(t.email);
    }
    w.related(
      [],
      users,
      targets.map((t) => (typeof t.address?.value === "string" ? t.address.value.toLowerCase() : undefined)),
    );
  },
  { principal: true },
);
