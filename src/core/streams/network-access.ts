/** `network_access`: ZTNA connections (the vendor's Network Events Schema; its page calls the stream `network`). */
import { idName, user } from "./common.ts";
import { array, count, degrees, ip, keyword, object, port, text } from "./declare.ts";
import { domainOf, type Outcome } from "./ecs.ts";
import { defineStream } from "./stream.ts";

/** ECS event.type and outcome by the connection's status (others: connection, unknown). */
const BY_STATUS: Readonly<Record<string, readonly [readonly string[], Outcome]>> = {
  established_connection: [["connection", "start"], "success"],
  closed_connection: [["connection", "end"], "success"],
  denied_access: [["connection", "denied"], "failure"],
  failed_to_connect: [["connection", "error"], "failure"],
};

const OTHER = [["connection"], "unknown"] as const;
const NETWORK = ["network"] as const;

export const networkAccess = defineStream(
  "network_access",
  {
    status: keyword({
      req: true,
      doc: "established_connection, closed_connection, denied_access, failed_to_connect",
    }),
    connection: object(
      {
        client_ip: ip({ req: true, doc: "the client's public address" }),
        protocol: keyword({ doc: "tcp, udp, icmp" }),
        bytes_received: count(),
        bytes_transferred: count(),
        error_message: text({ doc: "for denied and failed connections" }),
      },
      { req: true },
    ),
    connector: idName(),
    remote_network: idName(),
    resource: object({
      address: keyword({
        lower: true,
        doc: "the resource's address as configured (a DNS name, an IP, a CIDR)",
      }),
      applied_rule: keyword({ lower: true, doc: "the resource definition that matched (may be a wildcard)" }),
      id: keyword(),
      ip: ip({ doc: "the resolved address; empty when resolution failed" }),
      port: port(),
    }),
    relays: array(object({ ip: ip(), name: keyword(), port: port() }), { doc: "empty for peer-to-peer" }),
    // the vendor's network events name the device by its id alone
    device: object({ id: keyword() }),
    user: user(),
    service_account: object({
      id: keyword(),
      name: keyword({ map: "keyword_text" }),
      key: keyword(),
      key_id: keyword(),
    }),
    // The vendor's object as sent, not a geo_point: a geo_point refuses any key but lat and lon, so a key
    // Twingate adds there would get every such record refused. `source.geo.location` is the geo_point.
    location: object({ lat: degrees(90), lon: degrees(180) }),
  },
  (e, w) => {
    const known =
      (typeof e.status === "string" && Object.hasOwn(BY_STATUS, e.status) && BY_STATUS[e.status]) || OTHER;
    w.event("network_access", NETWORK, known[0], e.status, known[1]);
    const c = e.connection;
    w.obj("source").str("ip", c?.client_ip);
    // Only a whole point (a GeoIP miss sends nulls; a value set aside is gone): a geo_point without
    // both would be refused.
    const l = e.location;
    if (l && typeof l.lat === "number" && typeof l.lon === "number") {
      w.obj("geo").obj("location").num("lat", l.lat).num("lon", l.lon).end();
      w.end();
    }
    w.end();
    const r = e.resource;
    const domain = domainOf(r?.address);
    if (r)
      w.obj("destination")
        .str("address", r.address)
        .str("domain", domain)
        .str("ip", r.ip)
        .num("port", r.port)
        .end();
    w.obj("network").lower("transport", c?.protocol);
    if (typeof c?.bytes_received === "number" || typeof c?.bytes_transferred === "number")
      w.num("bytes", (c?.bytes_received ?? 0) + (c?.bytes_transferred ?? 0));
    w.end();
    // The principal: the user, or the service account (then user.id and user.name are the account's; an
    // analyst tells them apart by `twingate.network_access.service_account` existing).
    const sa = e.service_account;
    if (!w.user(e.user) && sa) w.obj("user").str("id", sa.id).str("name", sa.name).end();
    w.host(e.device);
    w.obj("rule").str("name", r?.applied_rule).end();
    const ips: unknown[] = [c?.client_ip, r?.ip];
    for (const x of e.relays ?? []) ips.push(x?.ip);
    w.related(ips, [e.user?.email, e.user?.id, sa?.name, sa?.id], [domain]);
  },
  { principal: true },
);
