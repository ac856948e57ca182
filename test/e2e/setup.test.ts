/**
 * Against a real OpenSearch (OPENSEARCH_URL; skipped without it): setup is idempotent, documents of every
 * stream index with no mapping error, geo/ip/microsecond behaviour. (The bundled dashboards' requests over
 * producer data: test/e2e/dashboards.test.ts.)
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import { createOpenSearchClient } from "../../src/platform/opensearch/client.ts";
import { checkTemplates, runSetup } from "../../src/tools/setup/setup.ts";

const URL_ = process.env["OPENSEARCH_URL"];
const prefix = `e2e-setup-${process.pid}-${Date.now().toString(36)}`;
const silent = createLogger("silent");
type Doc = Record<string, unknown>;

/** Documents in the builder's shape (see src/core/documents), varied across every status, actor and target kind. */
function documents(): { index: string; doc: Doc }[] {
  const out: { index: string; doc: Doc }[] = [];
  const ingest = (i: number, ts: string) => {
    const ingestedAt = new Date(Date.parse(ts) + 300_000 + i * 1000).toISOString();
    return {
      bucket: "tg-bucket",
      key: "2025-07-25T18:20:00+00:00.json",
      ordinal: i,
      line: i + 1,
      ingested_at: ingestedAt,
      lag_ms: Date.parse(ingestedAt) - Date.parse(ts),
      // one record of each stream came with a deviation (docs/DATA-QUALITY.md), for the data-quality panels
      ...(i === 1 ? { deviations: ["event.version:defaulted"], deviation_paths: ["event.version"] } : {}),
    };
  };
  const day = (ts: string) => ts.slice(0, 10).replaceAll("-", ".");
  const statuses = ["established_connection", "closed_connection", "denied_access", "failed_to_connect"];
  for (let i = 0; i < 8; i++) {
    const ts = `2025-07-25T18:1${i}:41.23659${i}Z`;
    const status = statuses[i % 4]!;
    const bad = status === "denied_access" || status === "failed_to_connect";
    const user = i % 3 === 2 ? undefined : { id: `89012${i % 2}`, email: `user${i % 2}@twindemo.com` };
    out.push({
      index: `${prefix}-network_access-${day(ts)}`,
      doc: {
        "@timestamp": ts,
        event_type: "network_access",
        event: {
          version: "1",
          time: ts.replace("Z", "+00:00"),
          status,
          connection: {
            client_ip: i % 2 ? "1.2.3.4" : "5.6.7.8",
            protocol: i % 2 ? "tcp" : "udp",
            ...(bad
              ? { error_message: "access denied by policy" }
              : { bytes_received: 338 + i, bytes_transferred: 404 + i }),
          },
          connector: { id: `12345${i % 2}`, name: i % 2 ? "faithful-pigeon" : "brave-otter" },
          remote_network: { id: "789012", name: i % 2 ? "aws-us-east-1-dev" : "gcp-eu-west" },
          resource: {
            address: i % 2 ? "argocd.eks.twindemo.int" : "*.db.twindemo.int",
            applied_rule: "argocd.eks.twindemo.int",
            id: "1234567",
            ip: status === "failed_to_connect" ? null : `10.11.12.${i}`,
            port: 80,
          },
          relays:
            i % 2
              ? [{ ip: "1.2.3.4", name: "relaybalancer+https://relays-prm.twingate.com", port: 30501 }]
              : [],
          device: { id: `dev-${i % 3}` },
          ...(user
            ? { user }
            : {
                service_account: {
                  name: "ci",
                  id: "sa-1",
                  key: "k",
                  key_id: "kid",
                  extra_field_from_vendor: { a: 1 },
                },
              }),
          // A key the vendor may add to location: the record must still index.
          location:
            i % 2
              ? { lat: 39.84, lon: -100.04, ...(i === 1 ? { accuracy_radius: 1000, city: "Lebanon" } : {}) }
              : { lat: 48.85, lon: 2.35 },
        },
        source: {
          ip: i % 2 ? "1.2.3.4" : "5.6.7.8",
          geo: { location: i % 2 ? { lat: 39.84, lon: -100.04 } : { lat: 48.85, lon: 2.35 } },
        },
        ...(user ? { user } : {}),
        host: { id: `dev-${i % 3}` },
        destination: {
          address: i % 2 ? "argocd.eks.twindemo.int" : "*.db.twindemo.int",
          ...(status === "failed_to_connect" ? {} : { ip: `10.11.12.${i}` }),
          port: 80,
        },
        network: { transport: i % 2 ? "tcp" : "udp" },
        ingest: ingest(i, ts),
      },
    });
  }
  const dnsStatus = ["default", "blocked", "allowed", "blocked"];
  for (let i = 0; i < 8; i++) {
    const ts = `2025-07-25T18:2${i}:37.77455${i}Z`;
    const status = dnsStatus[i % 4]!;
    // Both forms the vendor is known to send: {id, name} objects and plain strings.
    const reasons =
      status !== "blocked"
        ? []
        : i % 2
          ? [{ id: "category:social-networks", name: "Social Networks" }]
          : ["malware"];
    const device = {
      id: `RGV2${i % 2}`,
      name: i % 2 ? "Jane's MacBook Pro" : "build-box",
      model: i % 2 ? { hostname: "jd-mbpro.local", local_name: "MacBook Pro", serial_number: "XYZ" } : null,
    };
    out.push({
      index: `${prefix}-dns_filtering-${day(ts)}`,
      doc: {
        "@timestamp": ts,
        event_type: "dns_filtering",
        event: {
          version: "1",
          time: ts,
          domain: i % 2 ? "www.facebook.com" : "evil.example.net",
          root: i % 2 ? "facebook.com" : "example.net",
          device,
          connection: { client_ip: "12.34.56.78", protocol: "DNS-over-HTTPS" },
          status,
          reasons,
        },
        source: { ip: "12.34.56.78" },
        host: {
          id: device.id,
          name: device.name,
          ...(device.model ? { hostname: device.model.hostname } : {}),
        },
        dns: {
          question: {
            name: i % 2 ? "www.facebook.com" : "evil.example.net",
            registered_domain: i % 2 ? "facebook.com" : "example.net",
          },
          // derived by the document builder: the reason's id, or the string itself
          reasons: reasons.map((r) => (typeof r === "string" ? r : r.id)),
        },
        network: { transport: "dns-over-https" },
        ingest: ingest(i, ts),
      },
    });
  }
  const actors = [
    { type: "User", id: "VXNlabc=", info: { email: "janedoe@twindemo.com", name: "Jane Doe" } },
    { type: "API", id: "QVBJ", info: { name: "terraform" } },
    { type: "Twingate Support", id: "sup", info: null },
  ];
  const targets = [
    {
      version: "1.0",
      type: "PublicAPIKey",
      name: "TerraformKey",
      id: "UHVi",
      permission: "read only",
      allowedIpRanges: ["0.0.0.0/0", "::/0"],
    },
    {
      version: "1.0",
      type: "resource",
      name: "argocd",
      id: "UmVz",
      address: { type: "DNS", value: "argocd.int" },
      isActive: true,
    },
    {
      version: "1.0",
      type: "user",
      name: "Bob",
      id: "VXNy",
      email: "bob@twindemo.com",
      isAdmin: false,
      address: "a string this time",
    },
  ];
  const actions = ["create", "edit", "delete"];
  for (let i = 0; i < 6; i++) {
    const ts = `2025-07-25T18:24:0${i}.97917${i}Z`;
    const actor = actors[i % 3]!;
    out.push({
      index: `${prefix}-audit_log-${day(ts)}`,
      doc: {
        "@timestamp": ts,
        event_type: "audit_log",
        event: { version: "1", time: ts, action: actions[i % 3], targets: [targets[i % 3]], actor },
        ...(actor.type === "User"
          ? { user: { id: actor.id, email: actor.info!.email, name: actor.info!.name } }
          : {}),
        ingest: ingest(i, ts),
      },
    });
  }
  for (let i = 0; i < 4; i++) {
    const ts = `2025-07-26T00:43:2${i}.10451${i}Z`;
    out.push({
      index: `${prefix}-data_loss_prevention-${day(ts)}`,
      doc: {
        "@timestamp": ts,
        event_type: "data_loss_prevention",
        event: {
          version: "1",
          time: ts,
          action: i % 2 ? "block_upload" : "block_download",
          status: "blocked",
          data_loss_prevention_policies: [
            { id: "RGF0", name: i % 2 ? "DLP-AllActions-AllContent" : "DLP-PII" },
          ],
          device: { id: "1234567", name: "jd-mbpro" },
          user: { id: "8901234", email: "janedoe@twindemo.com" },
          resource: { address: "chatgpt.com", applied_rule: "*chatgpt.com", id: "123456" },
        },
        user: { id: "8901234", email: "janedoe@twindemo.com" },
        host: { id: "1234567", name: "jd-mbpro" },
        destination: { address: "chatgpt.com" },
        ingest: ingest(i, ts),
      },
    });
  }
  for (let i = 0; i < 3; i++) {
    const ts = `2025-07-25T18:25:0${i}.000Z`;
    out.push({
      index: `${prefix}-quarantine-2025.07.25`,
      doc: {
        "@timestamp": ts,
        ...(i ? { event_type: "network_access" } : {}),
        quarantine: {
          reason: i ? "schema_invalid" : "invalid_json",
          message: i ? "event.connection.client_ip: Invalid IP address" : "Unexpected token",
          ...(i ? { path: "event.connection.client_ip" } : {}),
          raw: `{"event_type":"network_access","event":{"x":"${"y".repeat(40_000)}"}}`,
          raw_truncated: false,
        },
        ingest: {
          bucket: "tg-bucket",
          key: "2025-07-25T18:20:00+00:00.json",
          ordinal: 100 + i,
          ingested_at: ts,
        },
      },
    });
  }
  return out;
}

describe("setup against OpenSearch", {
  skip: URL_ ? false : "OPENSEARCH_URL is not set",
}, () => {
  let client: Client;
  before(async () => {
    client = createOpenSearchClient(loadConfig({}, { OPENSEARCH_URL: URL_ ?? "" }));
  });
  after(async () => {
    if (!client) return;
    await client.indices.delete({ index: `${prefix}-*` }, { ignore: [404] });
    for (const t of [...EVENT_TYPES, "quarantine"])
      await client.transport.request(
        { method: "DELETE", path: `/_index_template/${prefix}-${t}` },
        { ignore: [404] },
      );
    const comps = await client.transport.request(
      { method: "GET", path: `/_component_template/${prefix}-*` },
      { ignore: [404] },
    );
    for (const c of (comps.body as { component_templates?: { name: string }[] }).component_templates ?? []) {
      await client.transport.request({ method: "DELETE", path: `/_component_template/${c.name}` });
    }
    await client.close();
  });

  test("setup installs everything, and a second run changes nothing", async () => {
    assert.ok((await checkTemplates(client, prefix)).missing.length > 0);
    const first = await runSetup(client, { indexPrefix: prefix }, silent);
    assert.ok(first.changed >= 12);
    assert.deepEqual(await checkTemplates(client, prefix), { missing: [], outdated: [], newer: [] });
    const second = await runSetup(client, { indexPrefix: prefix }, silent);
    assert.equal(second.changed, 0, JSON.stringify(second.actions.filter((a) => a.result !== "unchanged")));
  });

  test("documents of every stream index without mapping errors; aliases point at the daily indices", async () => {
    const docs = documents();
    const body = docs.flatMap(({ index, doc }) => [{ create: { _index: index } }, doc]);
    const res = await client.bulk({ body, refresh: "true" });
    const errors = (res.body.items as Record<string, { error?: unknown }>[])
      .map((i) => Object.values(i)[0]!.error)
      .filter(Boolean);
    assert.deepEqual(errors, []);
    for (const t of EVENT_TYPES) {
      const n = await client.count({ index: `${prefix}-${t}` });
      assert.equal(
        n.body.count,
        docs.filter((d) => d.doc["event_type"] === t && !d.index.includes("quarantine")).length,
        t,
      );
    }
    const mapping = await client.indices.getMapping({ index: `${prefix}-audit_log-*` });
    type Props = { properties: Record<string, Props> };
    const props = Object.values(mapping.body as Record<string, { mappings: Props }>)[0]!.mappings;
    const targets = props.properties["twingate"]!.properties["audit_log"]!.properties["targets"]!.properties;
    // the declared target fields are mapped (the vendor's, under twingate.audit_log); anything else stays
    // out of the mapping (kept in _source, searchable through twingate.flat)
    assert.deepEqual(Object.keys(targets).sort(), [
      "activeState",
      "address",
      "allowedIpRanges",
      "before",
      "email",
      "id",
      "isActive",
      "isAdmin",
      "isTrusted",
      "location",
      "name",
      "permission",
      "protocols",
      "remoteNetwork",
      "role",
      "serialNumber",
      "state",
      "type",
      "user",
      "version",
    ]);
    assert.equal((targets["email"] as unknown as { normalizer?: string }).normalizer, "twingate_lowercase");
  });

  test("geo_point, ip and microsecond timestamps behave", async () => {
    const geo = await client.search({
      index: `${prefix}-network_access`,
      body: {
        query: { geo_distance: { distance: "50km", "source.geo.location": { lat: 39.8, lon: -100 } } },
      },
    });
    assert.equal((geo.body.hits.total as { value: number }).value, 4);
    const cidr = await client.search({
      index: `${prefix}-network_access`,
      body: {
        query: {
          bool: {
            filter: [{ term: { "destination.ip": "10.11.12.0/29" } }, { term: { "source.ip": "1.2.3.4" } }],
          },
        },
      },
    });
    assert.deepEqual(
      cidr.body.hits.hits.map((h) => (h._source as { destination: { ip: string } }).destination.ip).sort(),
      // odd i have source 1.2.3.4; i=3 and i=7 failed to connect, so have no destination ip
      ["10.11.12.1", "10.11.12.5"],
    );
    const ts = await client.search({
      index: `${prefix}-network_access`,
      body: {
        query: {
          range: { "@timestamp": { gt: "2025-07-25T18:13:41.236592Z", lt: "2025-07-25T18:13:41.236594Z" } },
        },
        docvalue_fields: [{ field: "@timestamp", format: "strict_date_optional_time_nanos" }],
        _source: false,
      },
    });
    assert.equal(ts.body.hits.hits.length, 1);
    const fields = ts.body.hits.hits[0]?.fields as Record<string, string[]> | undefined;
    assert.equal(fields?.["@timestamp"]?.[0], "2025-07-25T18:13:41.236593Z");
  });
});
