/** `dns_filtering`: DNS queries seen by Twingate's DNS filtering (the vendor's DNS Filtering Logs Schema). */
import { device, user } from "./common.ts";
import { array, ip, keyword, object, reason } from "./declare.ts";
import { lc } from "./ecs.ts";
import { defineStream } from "./stream.ts";

/** ECS `network` of every DNS event. */
const NETWORK_DNS = JSON.stringify({ protocol: "dns" });

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
  (e, w) => {
    // A block is the user's query refused: denied, outcome failure (as a denied connection); default and
    // allowed answered: allowed, success; another status: unknown.
    const status = lc(e.status);
    const blocked = status === "blocked";
    const known = blocked || status === "allowed" || status === "default";
    w.event(
      "dns_filtering",
      ["network"],
      known ? ["protocol", blocked ? "denied" : "allowed"] : ["protocol"],
      e.status,
      known ? (blocked ? "failure" : "success") : "unknown",
    );
    const clientIp = e.connection?.client_ip;
    w.obj("source").str("ip", clientIp).end();
    w.json("network", NETWORK_DNS);
    w.user(e.user);
    w.host(e.device);
    // One keyword per reason (its id, or the string itself) for "top reasons" aggregations; names as rules.
    const reasons = (e.reasons ?? []).map((r) => (typeof r === "string" ? r : (r?.id ?? r?.name)));
    const names = (e.reasons ?? []).map((r) => (typeof r === "string" ? r : (r?.name ?? r?.id)));
    w.obj("dns").str("type", "query");
    w.obj("question").str("name", e.domain).str("registered_domain", e.root).end();
    w.strs("reasons", reasons, false).end();
    w.obj("rule").strs("name", names, false).end();
    w.related([clientIp], [e.user?.email, e.user?.id], [lc(e.domain), e.device?.model?.hostname]);
  },
);
