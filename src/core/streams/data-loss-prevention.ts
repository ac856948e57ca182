/** `data_loss_prevention`: app-control and DLP decisions (only the sync page's example is public). */
import { idName, user } from "./common.ts";
import { array, keyword, object } from "./declare.ts";
import { domainOf, lc } from "./ecs.ts";
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
  (e, w) => {
    // ECS category `file`: the decision is about data (a file, a paste) leaving through an app. A block
    // (action block_*, or status blocked) is the user's action refused: denied, outcome failure.
    const blocked = lc(e.action).startsWith("block") || lc(e.status) === "blocked";
    w.event(
      "data_loss_prevention",
      ["file"],
      ["access", blocked ? "denied" : "allowed"],
      e.action,
      blocked ? "failure" : "success",
    );
    const domain = domainOf(e.resource?.address);
    if (e.resource) w.obj("destination").str("address", e.resource.address).str("domain", domain).end();
    w.user(e.user);
    w.host(e.device);
    const policies = e.data_loss_prevention_policies ?? [];
    w.obj("rule")
      .strs(
        "id",
        policies.map((p) => p?.id),
      )
      .strs(
        "name",
        policies.map((p) => p?.name),
      )
      .end();
    w.related([], [e.user?.email, e.user?.id], [domain]);
  },
  { principal: true },
);
