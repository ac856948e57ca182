/** `audit_log`: changes admins (users, API keys, Twingate support) made (the vendor's Audit Logs Schema). */
import { array, keyword, object } from "./declare.ts";
import { compact, type Json, present, setDefined } from "./ecs.ts";
import { defineStream } from "./stream.ts";

export const auditLog = defineStream(
  "audit_log",
  {
    action: keyword({ req: true, doc: "create, edit, delete" }),
    actor: object(
      {
        type: keyword({ req: true, doc: "User, API, Twingate Support" }),
        id: keyword(),
        info: object({ email: keyword(), name: keyword({ map: "keyword_text" }) }),
      },
      { req: true },
    ),
    targets: array(
      object({
        version: keyword(),
        type: keyword({ req: true, doc: "PublicAPIKey, resource, user, group, ..." }),
        id: keyword(),
        name: keyword({ map: "keyword_text" }),
      }),
      { doc: "what changed; type-specific fields besides these" },
    ),
  },
  (e) => {
    const out: Json = {};
    const a = e.actor;
    if (a?.type?.toLowerCase() === "user") {
      setDefined(
        out,
        "user",
        compact({ id: present(a.id), email: present(a.info?.email), name: present(a.info?.name) }),
      );
    }
    return out;
  },
);
