/** `data_loss_prevention`: app-control and DLP decisions (only the sync page's example is public). */
import { idName, user } from "./common.ts";
import { array, keyword, object } from "./declare.ts";
import {
  compact,
  distinct,
  domainOf,
  ecsEvent,
  hostOf,
  type Json,
  lc,
  OBSERVER,
  present,
  related,
  setDefined,
  userOf,
} from "./ecs.ts";
import { defineStream } from "./stream.ts";

export const dataLossPrevention = defineStream(
  "data_loss_prevention",
  {
    action: keyword({ req: true, doc: "e.g. block_upload" }),
    status: keyword({ doc: "e.g. blocked" }),
    data_loss_prevention_policies: array(idName()),
    // the sync page's example names the device by id and name
    device: idName(),
    user: user(),
    resource: object({
      address: keyword({ lower: true }),
      applied_rule: keyword({ lower: true }),
      id: keyword(),
    }),
  },
  (e) => {
    // ECS category `file`: the decision is about data (a file, a paste) leaving through an app. A block
    // (action block_*, or status blocked) is the user's action refused: denied, outcome failure.
    const blocked = lc(e.action).startsWith("block") || lc(e.status) === "blocked";
    const out: Json = {
      event: ecsEvent(
        "data_loss_prevention",
        ["file"],
        ["access", blocked ? "denied" : "allowed"],
        e.action,
        blocked ? "failure" : "success",
      ),
      observer: OBSERVER,
    };
    const domain = domainOf(e.resource?.address);
    if (e.resource) setDefined(out, "destination", compact({ address: present(e.resource.address), domain }));
    setDefined(out, "user", userOf(e.user));
    setDefined(out, "host", hostOf(e.device));
    const policies = (e.data_loss_prevention_policies ?? []).filter((p) => p !== null && p !== undefined);
    setDefined(
      out,
      "rule",
      compact({ id: distinct(policies.map((p) => p.id)), name: distinct(policies.map((p) => p.name)) }),
    );
    setDefined(out, "related", related([], [e.user?.email, e.user?.id], [domain]));
    return out;
  },
  { principal: true },
);
