/** Sub-objects several streams declare alike (each field still declared once, here). */
import { keyword, object } from "./declare.ts";

/** `{id, name}`: connectors, remote networks, DLP policies. */
export const idName = () => object({ id: keyword(), name: keyword({ map: "keyword_text" }) });

/** A Twingate user: `{id, email}`. */
export const user = () =>
  object({ id: keyword(), email: keyword({ lower: true, doc: "the user's e-mail address" }) });

/** A device: `{id, name, model}`. */
export const device = () =>
  object({
    id: keyword(),
    name: keyword({ map: "keyword_text" }),
    model: object({
      hostname: keyword({ lower: true }),
      local_name: keyword({ map: "keyword_text" }),
      serial_number: keyword(),
    }),
  });
