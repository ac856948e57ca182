/** `data_loss_prevention`: app-control and DLP decisions (only the sync page's example is public). */
import { device, idName, user } from "./common.ts";
import { array, keyword, object } from "./declare.ts";
import { compact, hostOf, type Json, present, setDefined, userOf } from "./ecs.ts";
import { defineStream } from "./stream.ts";

export const dataLossPrevention = defineStream(
  "data_loss_prevention",
  {
    action: keyword({ req: true, doc: "e.g. block_upload" }),
    status: keyword({ doc: "e.g. blocked" }),
    data_loss_prevention_policies: array(idName()),
    device: device(),
    user: user(),
    resource: object({ address: keyword(), applied_rule: keyword(), id: keyword() }),
  },
  (e) => {
    const out: Json = {};
    setDefined(out, "user", userOf(e.user));
    setDefined(out, "host", hostOf(e.device));
    if (e.resource) setDefined(out, "destination", compact({ address: present(e.resource.address) }));
    return out;
  },
);
