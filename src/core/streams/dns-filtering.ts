/** `dns_filtering`: DNS queries seen by Twingate's DNS filtering (the vendor's DNS Filtering Logs Schema). */
import { device, user } from "./common.ts";
import { array, ip, keyword, object, reason } from "./declare.ts";
import {
  compact,
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

export const dnsFiltering = defineStream(
  "dns_filtering",
  {
    domain: keyword({ req: true, lower: true, doc: "the name queried" }),
    root: keyword({ lower: true, doc: "its registrable domain" }),
    status: keyword({ req: true, doc: "default, blocked, allowed" }),
    device: device(),
    user: user(),
    connection: object({ client_ip: ip(), protocol: keyword({ doc: "e.g. DNS-over-HTTPS" }) }),
    // Objects {id, name} in some sources, plain strings in others: kept as received but not parsed;
    // the document builder copies them, normalised, to dns.reasons (keywords: the id, or the string).
    reasons: array(reason({ doc: "why it was blocked or allowed: {id, name} objects or strings" })),
  },
  (e) => {
    // A block is the user's query refused: denied, outcome failure (as a denied connection); default and
    // allowed answered: allowed, success; another status: unknown.
    const status = lc(e.status);
    const blocked = status === "blocked";
    const known = blocked || status === "allowed" || status === "default";
    const out: Json = {
      event: ecsEvent(
        "dns_filtering",
        ["network"],
        known ? ["protocol", blocked ? "denied" : "allowed"] : ["protocol"],
        e.status,
        known ? (blocked ? "failure" : "success") : "unknown",
      ),
      observer: OBSERVER,
    };
    const clientIp = present(e.connection?.client_ip);
    setDefined(out, "source", compact({ ip: clientIp }));
    out["network"] = { protocol: "dns" };
    setDefined(out, "user", userOf(e.user));
    setDefined(out, "host", hostOf(e.device));
    // One keyword per reason (its id, or the string itself) for "top reasons" aggregations; names as rules.
    const reasons = (e.reasons ?? [])
      .map((r) => (typeof r === "string" ? r : (r?.id ?? r?.name)))
      .filter((r): r is string => typeof r === "string" && r !== "");
    const names = (e.reasons ?? [])
      .map((r) => (typeof r === "string" ? r : (r?.name ?? r?.id)))
      .filter((r): r is string => typeof r === "string" && r !== "");
    setDefined(
      out,
      "dns",
      compact({
        type: "query",
        question: compact({ name: present(e.domain), registered_domain: present(e.root) }),
        reasons: reasons.length > 0 ? reasons : undefined,
      }),
    );
    if (names.length > 0) out["rule"] = { name: names };
    setDefined(
      out,
      "related",
      related(
        [clientIp],
        [e.user?.email, e.user?.id],
        [lc(e.domain) || undefined, e.device?.model?.hostname],
      ),
    );
    return out;
  },
);
