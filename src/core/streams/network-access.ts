/** `network_access`: ZTNA connections (the vendor's Network Events Schema; its page calls the stream `network`). */
import { device, idName, user } from "./common.ts";
import { array, count, degrees, ip, keyword, object, port, text } from "./declare.ts";
import { compact, hostOf, type Json, present, setDefined, userOf } from "./ecs.ts";
import { defineStream } from "./stream.ts";

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
      address: keyword({ doc: "the resource's address as configured (a DNS name, an IP, a CIDR)" }),
      applied_rule: keyword({ doc: "the resource definition that matched (may be a wildcard)" }),
      id: keyword(),
      ip: ip({ doc: "the resolved address; empty when resolution failed" }),
      port: port(),
    }),
    relays: array(object({ ip: ip(), name: keyword(), port: port() }), { doc: "empty for peer-to-peer" }),
    device: device(),
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
  (e) => {
    const out: Json = {};
    // Only a whole point (a GeoIP miss sends nulls; a value set aside is gone): a geo_point without
    // both would be refused.
    const l = e.location;
    const loc =
      l && typeof l.lat === "number" && typeof l.lon === "number" ? { lat: l.lat, lon: l.lon } : undefined;
    setDefined(
      out,
      "source",
      compact({
        ip: present(e.connection?.client_ip),
        geo: loc ? { location: loc } : undefined,
      }),
    );
    setDefined(out, "user", userOf(e.user));
    setDefined(out, "host", hostOf(e.device));
    if (e.resource) {
      setDefined(
        out,
        "destination",
        compact({
          address: present(e.resource.address),
          ip: present(e.resource.ip),
          port: e.resource.port ?? undefined,
        }),
      );
    }
    const transport = present(e.connection?.protocol);
    if (transport) out["network"] = { transport: transport.toLowerCase() };
    return out;
  },
);
