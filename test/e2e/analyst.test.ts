/**
 * What the analyst meets (issue #27): the vendor's four sample records and a file of varied ones, as
 * Twingate files in moto's S3, indexed by a real worker with the project's templates, then searched the way
 * a SIEM analyst does: ECS fields (event.kind/category/type/action/outcome/dataset, observer, source,
 * destination, network, user, host, dns, rule, related), identities case-blind both ways, an audit target
 * by e-mail, a service account as the principal through user.*, the vendor's own fields under
 * twingate.<stream>, and a field no declaration names: found through the catch-all, listed on its document,
 * counted on /metrics and named by `doctor` as first seen.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { countDocs, startCli, startWorker, waitFor } from "../helpers/processes.ts";
import {
  createBucketWithQueueNotification,
  freePort,
  indexPrefixes,
  uniqueName,
  useStack,
} from "../helpers/stack.ts";

const { aws, os } = useStack();

// the four sample records of the vendor's "Syncing Data to AWS S3" page, as it prints them
const SAMPLES = readFileSync(new URL("../fixtures/files/vendor-samples.ndjson", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.trim() !== "");

const T = "2025-07-25T18:21:00.123456+00:00";
const VARIED = [
  {
    event_type: "network_access",
    event: {
      version: 1,
      time: T,
      status: "denied_access",
      connection: {
        client_ip: "2001:db8::7",
        protocol: "TCP",
        error_message: "denied by policy",
        tunnel_path: "tp-42",
      },
      resource: {
        address: "DB.TwinDemo.int",
        applied_rule: "*.twindemo.int",
        id: "r1",
        ip: "10.20.0.5",
        port: 5432,
      },
      relays: [
        { ip: "2001:db8::100", name: "relay-a", port: 30501 },
        { ip: "198.51.100.7", name: "relay-b", port: 30502 },
      ],
      device: { id: "d1" },
      user: { id: "u-jane", email: "Jane.Doe+ops@TwinDemo.com" },
      location: { lat: 48.85, lon: 2.35 },
    },
  },
  {
    event_type: "network_access",
    event: {
      version: 1,
      time: T,
      status: "established_connection",
      connection: { client_ip: "203.0.113.9", protocol: "udp", bytes_received: 10, bytes_transferred: 20 },
      resource: { address: "10.30.0.0/16", id: "r2", ip: "10.30.1.2", port: 53 },
      relays: [],
      service_account: { id: "sa-1", name: "ci-runner", key: "k", key_id: "kid" },
    },
  },
  {
    event_type: "network_access",
    event: { version: 1, time: T, status: "closed_connection", connection: { client_ip: "203.0.113.10" } },
  },
  {
    event_type: "dns_filtering",
    event: {
      version: 1,
      time: T,
      domain: "WWW.Facebook.COM",
      root: "Facebook.COM",
      status: "blocked",
      device: {
        id: "d2",
        name: "Sam's Laptop",
        model: { hostname: "Sam-Laptop.Local", local_name: null, serial_number: "S1" },
      },
      connection: { client_ip: "203.0.113.11", protocol: "DNS-over-HTTPS" },
      reasons: [{ id: "category:social-networks", name: "Social Networks" }],
    },
  },
  {
    event_type: "audit_log",
    event: {
      version: "1",
      time: "2025-07-25T18:21Z",
      action: "edit",
      actor: { type: "User", id: "u-admin", info: { email: "Admin@TwinDemo.com", name: "Ada Admin" } },
      targets: [
        {
          version: "1.0",
          type: "user",
          id: "u-sam",
          name: "Sam Lee",
          email: "Sam.Lee@TwinDemo.com",
          isAdmin: true,
          before: { isAdmin: false, role: "member" },
        },
      ],
    },
  },
  {
    event_type: "data_loss_prevention",
    event: {
      version: 1,
      time: T,
      action: "block_upload",
      status: "blocked",
      data_loss_prevention_policies: [{ id: "p1", name: "No uploads" }],
      device: { id: "d3", name: "pat-mbp" },
      user: { id: "u-pat", email: "Pat@TwinDemo.com" },
      resource: { address: "ChatGPT.com", applied_rule: "*chatgpt.com", id: "r3" },
    },
  },
];

describe("the analyst's searches", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();
  it("ECS fields, case-blind identities, audit targets, service accounts and new vendor fields are all findable", async () => {
    const bucket = uniqueName("tg-analyst");
    const prefix = newPrefix("analyst");
    const { queueUrl } = await createBucketWithQueueNotification(
      { bucket, queue: bucket },
      { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
    );
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "tg/2025-07-25T18:20:00+00:00.json",
        Body: `${SAMPLES.join("\n")}\n`,
      }),
    );
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: "tg/2025-07-25T18:25:00+00:00.json",
        Body: `${VARIED.map((r) => JSON.stringify(r)).join("\n")}\n`,
      }),
    );
    const metricsPort = await freePort();
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args: ["--metrics-port", String(metricsPort)],
      env: { BUCKET_ALLOWLIST: bucket, AUTO_SETUP: "true" },
    });
    const all = `${prefix}-*`;
    const count = (query: Record<string, unknown>) => countDocs(os, all, query);
    const term = (field: string, value: unknown) => count({ term: { [field]: value } });
    try {
      const total = SAMPLES.length + VARIED.length;
      assert.equal(SAMPLES.length, 4, "the vendor's page has four sample records");
      await waitFor(
        "every record indexed",
        () => countDocs(os, all),
        (n) => n >= total,
        180_000,
      );
      assert.equal(await countDocs(os, all), total);
      assert.equal(await countDocs(os, `${prefix}-quarantine-*`), 0, "nothing quarantined");

      // ECS event metadata
      assert.equal(await term("event.kind", "event"), total);
      assert.equal(await term("event.module", "twingate"), total);
      assert.equal(await term("observer.vendor", "Twingate"), total);
      assert.equal(await term("event.dataset", "twingate.network_access"), 4);
      assert.equal(await term("event.dataset", "twingate.dns_filtering"), 2);
      assert.equal(await term("event.dataset", "twingate.audit_log"), 2);
      assert.equal(await term("event.dataset", "twingate.data_loss_prevention"), 2);
      assert.equal(await term("event.category", "network"), 6);
      assert.equal(await term("event.category", "iam"), 2);
      assert.equal(await term("event.category", "file"), 2);
      assert.equal(
        await term("event.type", "denied"),
        4,
        "a denied connection, a blocked query, two DLP blocks",
      );
      assert.equal(await term("event.type", "start"), 1);
      assert.equal(await term("event.type", "end"), 2);
      assert.equal(await term("event.type", "change"), 1);
      assert.equal(await term("event.type", "creation"), 1);
      assert.equal(await term("event.action", "denied_access"), 1);
      assert.equal(await term("event.outcome", "failure"), 4);
      assert.equal(await term("event.outcome", "success"), total - 4);

      // source, destination, network, host, dns, rule
      assert.equal(await term("source.ip", "1.2.3.4"), 1);
      assert.equal(await term("source.ip", "2001:db8::/32"), 1, "CIDR over IPv6");
      assert.equal(await count({ exists: { field: "source.geo.location" } }), 2);
      assert.equal(await term("destination.ip", "10.0.0.0/8"), 3);
      assert.equal(await term("destination.port", 5432), 1);
      assert.equal(await term("destination.domain", "db.twindemo.int"), 1);
      assert.equal(
        await term("destination.address", "chatgpt.com"),
        2,
        "case-blind: ChatGPT.com and chatgpt.com",
      );
      assert.equal(await term("network.transport", "tcp"), 2, "lowercased from TCP");
      assert.equal(await term("network.protocol", "dns"), 2);
      assert.equal(await term("host.hostname", "SAM-LAPTOP.local"), 1, "host names are case-blind");
      assert.equal(await term("rule.name", "No uploads"), 1);
      assert.equal(await term("rule.name", "Social Networks"), 1);

      // identities, both ways
      for (const spelling of [
        "jane.doe+ops@twindemo.com",
        "JANE.DOE+OPS@TWINDEMO.COM",
        "Jane.Doe+ops@TwinDemo.com",
      ]) {
        assert.equal(await term("user.email", spelling), 1, `user.email ${spelling}`);
        assert.equal(
          await term("twingate.network_access.user.email", spelling),
          1,
          `vendor field ${spelling}`,
        );
        assert.equal(await term("related.user", spelling), 1, `related.user ${spelling}`);
      }
      assert.equal(await term("user.email", "janedoe@twindemo.com"), 3, "the samples' Jane in three streams");
      assert.equal(await term("user.domain", "TWINDEMO.COM"), 6);
      for (const spelling of ["www.facebook.com", "WWW.FACEBOOK.COM"]) {
        assert.equal(await term("dns.question.name", spelling), 1, spelling);
        assert.equal(await term("twingate.dns_filtering.domain", spelling), 1, spelling);
        assert.equal(await term("related.hosts", spelling), 1, spelling);
      }

      // who made sam.lee an admin: the audit target by e-mail, and the actor
      assert.equal(await term("user.target.email", "sam.lee@twindemo.com"), 1);
      assert.equal(await term("twingate.audit_log.targets.email", "SAM.LEE@twindemo.com"), 1);
      assert.equal(await term("twingate.audit_log.targets.isAdmin", true), 1);
      const bySam = await os.search({
        index: all,
        body: { query: { term: { "user.target.email": "sam.lee@twindemo.com" } } },
      } as never);
      const samHit = (
        bySam.body as { hits: { hits: { _source: Record<string, Record<string, unknown>> }[] } }
      ).hits.hits[0]!._source;
      assert.equal(samHit["user"]!["email"], "Admin@TwinDemo.com", "the actor, spelled as sent");
      // a shape-varying target field, searchable through the catch-all
      assert.equal(await term("twingate.flat.event.targets.before.role", "member"), 1);
      assert.equal(
        await term("twingate.audit_log.targets.permission", "read only"),
        1,
        "the sample's API key",
      );

      // a service account as the principal; an event with none carries a note
      assert.equal(await term("user.name", "ci-runner"), 1);
      assert.equal(await term("user.id", "sa-1"), 1);
      assert.equal(await count({ exists: { field: "twingate.network_access.service_account" } }), 1);
      assert.equal(await term("ingest.deviations", "no_principal"), 1);

      // the vendor's own fields stay searchable in their namespace
      assert.equal(await term("twingate.network_access.status", "denied_access"), 1);
      assert.equal(await term("twingate.network_access.relays.ip", "2001:db8::100"), 1);
      assert.equal(await term("twingate.network_access.resource.address", "db.twindemo.int"), 1);

      // a field no declaration names: found, listed, counted, named by doctor
      assert.equal(await term("twingate.flat.event.connection.tunnel_path", "tp-42"), 1);
      assert.equal(await term("ingest.deviations", "event.connection.tunnel_path:undeclared"), 1);
      const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      assert.match(
        metrics,
        /twingate_ingest_deviations_total\{[^}]*path="event\.connection\.tunnel_path"[^}]*action="undeclared"[^}]*\} 1/,
      );
      const doctor = await startCli(
        ["doctor", "--json", "--index-prefix", prefix, "--queue-url", queueUrl, "--bucket", bucket],
        { BUCKET_ALLOWLIST: bucket },
      ).done;
      const report = JSON.parse(doctor.stdout) as {
        checks: { name: string; status: string; detail: string; data?: Record<string, unknown> }[];
      };
      const dq = report.checks.find((c) => c.name === "Data quality");
      assert.ok(dq, doctor.stdout);
      assert.equal(dq.status, "warn", dq.detail);
      const fresh = (dq.data?.["fresh"] ?? []) as string[];
      assert.ok(fresh.includes("event.connection.tunnel_path"), dq.detail);
    } finally {
      await worker.stop();
    }
  });
});
