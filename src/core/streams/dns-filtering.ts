/** `dns_filtering`: DNS queries seen by Twingate's DNS filtering (the vendor's DNS Filtering Logs Schema). */
import { device } from "./common.ts";
import { array, ip, keyword, object, reason } from "./declare.ts";
import { compact, hostOf, type Json, present, setDefined } from "./ecs.ts";
import { defineStream } from "./stream.ts";

export const dnsFiltering = defineStream(
  "dns_filtering",
  {
    domain: keyword({ req: true, doc: "the name queried" }),
    root: keyword({ doc: "its registrable domain" }),
    status: keyword({ req: true, doc: "default, blocked, allowed" }),
    device: device(),
    connection: object({ client_ip: ip(), protocol: keyword({ doc: "e.g. DNS-over-HTTPS" }) }),
    // Objects {id, name} in some sources, plain strings in others: kept as received but not parsed;
    // the document builder copies them, normalised, to dns.reasons (keywords: the id, or the string).
    reasons: array(reason({ doc: "why it was blocked or allowed: {id, name} objects or strings" })),
  },
  (e) => {
    const out: Json = {};
    setDefined(out, "source", compact({ ip: present(e.connection?.client_ip) }));
    setDefined(out, "host", hostOf(e.device));
    // One keyword per reason (its id, or the string itself) for "top reasons" aggregations.
    const reasons = (e.reasons ?? [])
      .map((r) => (typeof r === "string" ? r : (r?.id ?? r?.name)))
      .filter((r): r is string => typeof r === "string" && r !== "");
    setDefined(
      out,
      "dns",
      compact({
        question: compact({ name: e.domain, registered_domain: present(e.root) }),
        reasons: reasons.length > 0 ? reasons : undefined,
      }),
    );
    return out;
  },
);
