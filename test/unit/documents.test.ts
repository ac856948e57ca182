import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  canonicalJson,
  documentId,
  indexName,
  parseTwingateKeyTime,
  quarantineIndexName,
  recordDocument,
  toIndexAction,
  toQuarantineAction,
} from "../../src/core/documents/index.ts";
import { type TwingateRecord, validateRecord } from "../../src/core/events/index.ts";
import type { Rejection } from "../../src/core/model.ts";

// biome-ignore lint/suspicious/noExplicitAny: tests edit JSON fixtures freely
type Doc = any;

const FIXTURES = join(import.meta.dirname, "..", "fixtures", "files");
const SEEDS = new Map<string, string>();
const seed = (t: string) => {
  if (!SEEDS.has(t)) SEEDS.set(t, readFileSync(join(FIXTURES, `${t}.json`), "utf8"));
  return JSON.parse(SEEDS.get(t)!);
};
const OPTS = { indexPrefix: "twingate", ingestedAt: "2025-07-27T10:00:00.000Z" };
const SRC = { bucket: "logs", key: "tg/2025-07-25T18:20:00+00:00.json", ordinal: 3, line: 4 };

function valid(value: unknown): TwingateRecord {
  const v = validateRecord(value);
  if (!v.ok) throw new Error(v.message);
  return v.record;
}

describe("toIndexAction", () => {
  it("network_access: the vendor's event under twingate.network_access, @timestamp, ECS fields, ingest", () => {
    const a = toIndexAction(valid(seed("network_access")), SRC, OPTS);
    assert.equal(a.index, "twingate-network_access-2025.07.25");
    assert.equal(a.kind, "record");
    assert.equal(a.eventType, "network_access");
    const d = a.document as Doc;
    assert.deepEqual(Object.keys(d), [
      "@timestamp",
      "event_type",
      "twingate",
      "event",
      "observer",
      "source",
      "destination",
      "network",
      "user",
      "host",
      "rule",
      "related",
      "ingest",
    ]);
    assert.equal(d["@timestamp"], "2025-07-25T18:19:41.236597Z");
    assert.equal(d.event_type, "network_access");
    const v = d.twingate.network_access;
    assert.equal(v.version, "1");
    assert.equal(v.time, "2025-07-25T18:19:41.236597+00:00");
    assert.equal(v.relays[0].name, "relaybalancer+https://relays-prm.twingate.com");
    assert.deepEqual(d.event, {
      kind: "event",
      category: ["network"],
      type: ["connection", "end"],
      action: "closed_connection",
      outcome: "success",
      dataset: "twingate.network_access",
      module: "twingate",
    });
    assert.deepEqual(d.observer, { vendor: "Twingate", product: "Twingate" });
    assert.deepEqual(d.source, { ip: "1.2.3.4", geo: { location: { lat: 39.84, lon: -100.04 } } });
    assert.deepEqual(d.user, {
      id: "890123",
      email: "janedoe@twindemo.com",
      name: "janedoe@twindemo.com",
      domain: "twindemo.com",
    });
    assert.deepEqual(d.host, { id: "1234567" });
    assert.deepEqual(d.destination, {
      address: "argocd.eks.twindemo.int",
      domain: "argocd.eks.twindemo.int",
      ip: "10.11.12.13",
      port: 80,
    });
    assert.deepEqual(d.network, { transport: "tcp", bytes: 742 });
    assert.deepEqual(d.rule, { name: "argocd.eks.twindemo.int" });
    assert.deepEqual(d.related, {
      ip: ["1.2.3.4", "10.11.12.13"],
      user: ["janedoe@twindemo.com", "890123"],
      hosts: ["argocd.eks.twindemo.int"],
    });
    assert.deepEqual(d.ingest, {
      bucket: "logs",
      key: SRC.key,
      ordinal: 3,
      line: 4,
      ingested_at: OPTS.ingestedAt,
      // 2025-07-27T10:00:00Z minus the event's 2025-07-25T18:19:41.236597Z
      lag_ms: Date.parse(OPTS.ingestedAt) - Date.parse("2025-07-25T18:19:41.236Z"),
    });
    assert.equal(d.dns, undefined);
  });

  it("event.type and outcome follow the status; an unknown status is unknown", () => {
    const cases: [string, string[], string][] = [
      ["established_connection", ["connection", "start"], "success"],
      ["denied_access", ["connection", "denied"], "failure"],
      ["failed_to_connect", ["connection", "error"], "failure"],
      ["some_future_status", ["connection"], "unknown"],
    ];
    for (const [status, type, outcome] of cases) {
      const input = seed("network_access");
      input.event.status = status;
      const d = toIndexAction(valid(input), SRC, OPTS).document as Doc;
      assert.deepEqual([d.event.type, d.event.outcome, d.event.action], [type, outcome, status], status);
    }
  });

  it("a service account is the principal through user.*; an event with no principal carries a note", () => {
    const sa = seed("network_access");
    delete sa.event.user;
    sa.event.service_account = { id: "sa1", name: "ci-runner", key: "k", key_id: "kid" };
    const d = toIndexAction(valid(sa), SRC, OPTS).document as Doc;
    assert.deepEqual(d.user, { id: "sa1", name: "ci-runner" });
    assert.ok(d.related.user.includes("ci-runner"));
    assert.equal(d.ingest.deviations, undefined);
    const none = seed("network_access");
    delete none.event.user;
    const n = toIndexAction(valid(none), SRC, OPTS).document as Doc;
    assert.equal(n.user, undefined);
    assert.deepEqual(n.ingest.deviations, ["no_principal"]);
    assert.deepEqual(n.ingest.deviation_paths, ["user"]);
    // DNS events carry no principal in the vendor's examples: no note there
    const dns = toIndexAction(valid(seed("dns_filtering")), SRC, OPTS).document as Doc;
    assert.equal(dns.ingest.deviations, undefined);
  });

  it("a location with keys besides lat and lon: kept in the event, only lat and lon in the geo_point", () => {
    const input = seed("network_access");
    input.event.location = { lat: 39.84, lon: -100.04, accuracy_radius: 1000, city: "Lebanon" };
    const d = toIndexAction(valid(input), SRC, OPTS).document as Doc;
    assert.deepEqual(d.twingate.network_access.location, input.event.location);
    assert.deepEqual(d.source.geo, { location: { lat: 39.84, lon: -100.04 } });
    // the new keys are listed and searchable through the catch-all
    assert.deepEqual(d.twingate.flat, { event: { location: { accuracy_radius: 1000, city: "Lebanon" } } });
    assert.deepEqual(d.ingest.deviations, [
      "event.location.accuracy_radius:undeclared",
      "event.location.city:undeclared",
    ]);
  });

  it("keys of the record besides event_type and event are kept at twingate.envelope (a __proto__ one as data)", () => {
    const input = JSON.parse(
      `{"event_type":"audit_log","tenant":"acme","event":${JSON.stringify(seed("audit_log").event)},"__proto__":{"x":1},"source":"s3"}`,
    );
    const a = toIndexAction(valid(input), SRC, OPTS);
    const d = a.document as Doc;
    assert.deepEqual(d.twingate.envelope, JSON.parse('{"tenant":"acme","__proto__":{"x":1},"source":"s3"}'));
    assert.equal(Object.getPrototypeOf(d.twingate.envelope), Object.prototype);
    assert.deepEqual(d.twingate.flat, JSON.parse('{"tenant":"acme","__proto__":{"x":1},"source":"s3"}'));
    assert.equal(d.source, undefined, "not beside our own fields");
    assert.deepEqual(d.twingate.audit_log, { ...seed("audit_log").event, version: "1" });
    assert.deepEqual(Object.keys(d.twingate), ["audit_log", "flat", "envelope"]);
    assert.equal(a.id, documentId(input), "the id still covers them");
    const plain = toIndexAction(valid(seed("audit_log")), SRC, OPTS).document as Doc;
    assert.deepEqual(Object.keys(plain.twingate), ["audit_log"]);
  });

  it("empty resource.ip becomes null; no empty shells; the input is not mutated", () => {
    const input = seed("network_access");
    input.event.resource.ip = "";
    input.event.connection.protocol = "UDP";
    delete input.event.location;
    const record = valid(input);
    const before = JSON.stringify(record);
    const d = toIndexAction(record, { bucket: "b", key: "k", ordinal: 0 }, OPTS).document as Doc;
    assert.equal(JSON.stringify(record), before);
    assert.equal(d.twingate.network_access.resource.ip, null);
    assert.deepEqual(d.destination, {
      address: "argocd.eks.twindemo.int",
      domain: "argocd.eks.twindemo.int",
      port: 80,
    });
    assert.deepEqual(d.source, { ip: "1.2.3.4" });
    assert.deepEqual(d.network, { transport: "udp", bytes: 742 });
    assert.equal("line" in d.ingest, false);
  });

  it("dns_filtering: source.ip, host with hostname, dns.question; string reasons become {id}", () => {
    const input = seed("dns_filtering");
    input.event.reasons = ["threat:malware", { id: "c:x", name: "X" }];
    input.event.status = "blocked";
    const d = toIndexAction(valid(input), SRC, OPTS).document as Doc;
    assert.deepEqual(d.source, { ip: "12.34.56.78" });
    assert.deepEqual(d.host, {
      id: "RGV2aABCDEFGHIJKL=",
      name: "Jane's MacBook Pro",
      hostname: "jd-mbpro.local",
    });
    assert.deepEqual(d.dns, {
      type: "query",
      question: { name: "global.help-panel.docs.aws.a2z.com", registered_domain: "a2z.com" },
      reasons: ["threat:malware", "c:x"],
    });
    assert.deepEqual(d.rule, { name: ["threat:malware", "X"] });
    assert.deepEqual([d.event.type, d.event.outcome], [["protocol", "denied"], "failure"]);
    assert.deepEqual(d.twingate.dns_filtering.reasons, [{ id: "threat:malware" }, { id: "c:x", name: "X" }]);
    assert.deepEqual(d.network, { protocol: "dns" });
    assert.deepEqual(d.related.hosts, ["global.help-panel.docs.aws.a2z.com", "jd-mbpro.local"]);
  });

  it("audit_log: the actor is the principal; a user target is user.target; IAM targets are category iam", () => {
    const d = toIndexAction(valid(seed("audit_log")), SRC, OPTS).document as Doc;
    assert.deepEqual(d.user, {
      id: "VXNlabcdefghi=",
      email: "janedoe@twindemo.com",
      name: "Jane Doe",
      domain: "twindemo.com",
    });
    assert.deepEqual(d.event.category, ["iam"]);
    assert.deepEqual(d.event.type, ["creation"]);
    assert.deepEqual(d.twingate.audit_log.targets[0].allowedIpRanges, ["0.0.0.0/0", "::/0"]);
    const api = seed("audit_log");
    api.event.actor = { type: "API", id: "k", info: { name: "tf" } };
    api.event.action = "edit";
    api.event.targets = [
      {
        type: "user",
        id: "u2",
        name: "Sam Lee",
        email: "Sam.Lee@TwinDemo.com",
        isAdmin: true,
        before: { isAdmin: false },
      },
    ];
    const a = toIndexAction(valid(api), SRC, OPTS).document as Doc;
    assert.deepEqual(a.user, {
      id: "k",
      name: "tf",
      target: { id: "u2", email: "Sam.Lee@TwinDemo.com", name: "Sam Lee", domain: "twindemo.com" },
    });
    assert.deepEqual(a.event.type, ["change", "user"]);
    // `before` (any shape) is searchable through the catch-all, not listed as undeclared
    assert.deepEqual(a.twingate.flat, { event: { targets: { before: { isAdmin: false } } } });
    assert.equal(a.ingest.deviations, undefined);
    const resource = seed("audit_log");
    resource.event.targets = [
      { type: "resource", id: "r", name: "db", address: { type: "DNS", value: "DB.int" } },
    ];
    const r = toIndexAction(valid(resource), SRC, OPTS).document as Doc;
    assert.deepEqual(r.event.category, ["configuration"]);
    assert.deepEqual(r.related.hosts, ["db.int"]);
  });

  it("data_loss_prevention: user, host, destination, rule (the policies); a block is denied, a failure", () => {
    const a = toIndexAction(valid(seed("data_loss_prevention")), SRC, OPTS);
    assert.equal(a.index, "twingate-data_loss_prevention-2025.07.26");
    const d = a.document as Doc;
    assert.deepEqual(d.destination, { address: "chatgpt.com", domain: "chatgpt.com" });
    assert.deepEqual(d.host, { id: "1234567", name: "jd-mbpro" });
    assert.deepEqual(d.user, {
      id: "8901234",
      email: "janedoe@twindemo.com",
      name: "janedoe@twindemo.com",
      domain: "twindemo.com",
    });
    assert.deepEqual(d.rule, { id: ["RGF0YUxabcd123efghijklmn456"], name: ["DLP-AllActions-AllContent"] });
    assert.deepEqual(
      [d.event.category, d.event.type, d.event.outcome],
      [["file"], ["access", "denied"], "failure"],
    );
  });
});

describe("index names", () => {
  it("use the UTC day of the event, around midnight and across offsets", () => {
    const cases: [string, string][] = [
      ["2025-07-25T23:59:59.999999+00:00", "2025.07.25"],
      ["2025-07-26T00:00:00+00:00", "2025.07.26"],
      ["2025-07-26T01:30:00+02:00", "2025.07.25"],
      ["2025-07-25T20:00:00-05:00", "2025.07.26"],
      ["2025-12-31T23:30-01:00", "2026.01.01"],
      ["2024-02-29T12:00Z", "2024.02.29"],
    ];
    for (const [time, day] of cases) {
      assert.equal(indexName("tg", "audit_log", time), `tg-audit_log-${day}`, time);
      const r = seed("audit_log");
      r.event.time = time;
      assert.equal(toIndexAction(valid(r), SRC, { ...OPTS, indexPrefix: "tg" }).index, `tg-audit_log-${day}`);
    }
  });

  it("quarantine: by the file's slot when the key is a Twingate name, else by ingestion day", () => {
    assert.equal(
      quarantineIndexName("tg", "a/b/2025-07-25T23:55:00+00:00.json", OPTS.ingestedAt),
      "tg-quarantine-2025.07.25",
    );
    assert.equal(
      quarantineIndexName("tg", "2025-07-25T23:55:00+00:00.json.gz", OPTS.ingestedAt),
      "tg-quarantine-2025.07.25",
    );
    assert.equal(quarantineIndexName("tg", "other.json", OPTS.ingestedAt), "tg-quarantine-2025.07.27");
  });

  it("parseTwingateKeyTime reads Twingate file names only", () => {
    assert.equal(
      parseTwingateKeyTime("x/2025-07-25T18:20:00+00:00.json")?.toISOString(),
      "2025-07-25T18:20:00.000Z",
    );
    assert.equal(
      parseTwingateKeyTime("2025-07-25T18:20:00+0000.json.gz")?.toISOString(),
      "2025-07-25T18:20:00.000Z",
    );
    assert.equal(
      parseTwingateKeyTime("2025-07-25T18%3A20%3A00%2B00%3A00.json")?.toISOString(),
      "2025-07-25T18:20:00.000Z",
    );
    assert.equal(parseTwingateKeyTime("2025-07-25T18:20Z.json")?.toISOString(), "2025-07-25T18:20:00.000Z");
    // A "%" of the key's own (keys reach us decoded) does not hide the name.
    for (const k of ["logs/100%/2025-07-25T18:20:00+00:00.json", "50%off/2025-07-25T18%3A20%3A00Z.json"])
      assert.equal(parseTwingateKeyTime(k)?.toISOString(), "2025-07-25T18:20:00.000Z", k);
    for (const k of [
      "x/2025-07-25.json",
      "2025-07-25T18:20:00+00:00.txt",
      "notes.json",
      "2025-13-25T18:20:00Z.json",
    ]) {
      assert.equal(parseTwingateKeyTime(k), undefined, k);
    }
  });
});

describe("toIndexAction's serialiser", () => {
  const records = (): Doc[] => [
    ...["network_access", "dns_filtering", "audit_log", "data_loss_prevention"].map(seed),
    ...["variants.ndjson", "seed.ndjson"].flatMap((f) =>
      readFileSync(join(FIXTURES, f), "utf8")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l))
        .filter((r) => validateRecord(r).ok),
    ),
  ];
  /** The action's bytes against the definition: JSON.stringify(recordDocument(...)) and documentId. */
  const check = (r: Doc, what: string) => {
    const record = valid(r);
    const a = toIndexAction(record, SRC, OPTS);
    assert.equal(a.json?.join(""), JSON.stringify(recordDocument(record, SRC, OPTS)), what);
    assert.deepEqual(a.document, recordDocument(record, SRC, OPTS), what);
    assert.equal(a.id, documentId(record), what);
  };

  it("writes exactly the defined document and id for the fixtures and variants", () => {
    const all = records();
    assert.ok(all.length >= 8, `${all.length} records`);
    for (const [i, r] of all.entries()) check(r, `record ${i} (${r.event_type})`);
  });

  it("and for the shapes it does not splice: version not first or a string, rewrites, other key orders", () => {
    for (const [i, r] of records().entries()) {
      const { version, ...rest } = r.event;
      check({ ...r, event: { ...rest, version } }, `${i}: version last`);
      check({ ...r, event: { ...r.event, version: String(version) } }, `${i}: version a string`);
      check({ ...r, event: { version: 12, ...rest } }, `${i}: version 12`);
      check({ event: r.event, event_type: r.event_type }, `${i}: event first`);
    }
    const empty = seed("network_access");
    empty.event.resource.ip = "";
    empty.event.relays = [{ ip: "", name: "r", port: 1 }];
    check(empty, "empty resource and relay IPs (become null)");
    const d = toIndexAction(valid(empty), SRC, OPTS).document as Doc;
    const v = d.twingate.network_access;
    assert.deepEqual([v.resource.ip, v.relays[0].ip], [null, null]);
    const reasons = seed("dns_filtering");
    reasons.event.reasons = ["malware", { id: "x", name: "y" }];
    check(reasons, "string DNS reasons (become {id})");
  });

  it("writes `ingest` as JSON.stringify does for any bucket, key, line and ingestion time", () => {
    const record = valid(seed("network_access"));
    const sources = [
      { bucket: "", key: "/tmp/local file.json", ordinal: 0 }, // a local file: no bucket, no line
      { bucket: "b", key: 'say "hi"\\\n\u0001 \u2028 café 🙂 \ud800.json', ordinal: 2 ** 40, line: 1 },
    ];
    for (const src of sources)
      for (const ingestedAt of [OPTS.ingestedAt, "not a time", "2025-07-25T18:20:00.123456Z"]) {
        const opts = { ...OPTS, ingestedAt };
        const a = toIndexAction(record, src, opts);
        const what = `${JSON.stringify(src)} ${ingestedAt}`;
        assert.equal(a.json?.join(""), JSON.stringify(recordDocument(record, src, opts)), what);
      }
  });
});

describe("document ids", () => {
  it("are stable across layouts, whitespace, gzip and sources (the same parsed record, the same id)", () => {
    const text = JSON.stringify(seed("network_access"));
    const a = valid(JSON.parse(text));
    // Pretty-printed, indented with tabs, padded: another layout of the same record.
    for (const other of [
      JSON.stringify(JSON.parse(text), null, 4),
      JSON.stringify(JSON.parse(text), null, "\t"),
    ]) {
      assert.notEqual(other, text);
      assert.equal(documentId(valid(JSON.parse(` \r\n${other}\n `))), documentId(a));
    }
    const b = valid(JSON.parse(JSON.stringify(JSON.parse(text), null, 2)));
    const ia = toIndexAction(a, SRC, OPTS);
    const ib = toIndexAction(
      b,
      { bucket: "other", key: "k", ordinal: 99 },
      { ...OPTS, ingestedAt: "2030-01-01T00:00:00Z" },
    );
    assert.equal(ia.id, ib.id);
    assert.match(ia.id, /^[A-Za-z0-9_-]{24}$/);
    // The same object processed again gives the same id (idempotency).
    assert.equal(documentId(a), documentId(a));
  });

  it("are sha256 (base64url, 24 chars) of JSON.stringify of the parsed record", () => {
    for (const t of ["network_access", "dns_filtering", "audit_log", "data_loss_prevention"]) {
      const r = valid(seed(t));
      const expected = createHash("sha256").update(JSON.stringify(r)).digest("base64url").slice(0, 24);
      assert.equal(documentId(r), expected, t);
    }
  });

  it("may change when the vendor reorders keys (allowed: Twingate writes a fixed key order)", () => {
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(reverseKeys)
        : v !== null && typeof v === "object"
          ? Object.fromEntries(
              Object.entries(v)
                .reverse()
                .map(([k, x]) => [k, reverseKeys(x)]),
            )
          : v;
    const reordered = valid(reverseKeys(seed("network_access")));
    // Same content, other key order: not required to collide, and with JSON.stringify it does not.
    assert.deepEqual(reordered, seed("network_access"));
    assert.notEqual(documentId(reordered), documentId(valid(seed("network_access"))));
  });

  it("differ for any change of content (fields, event_type, version type)", () => {
    const base = seed("network_access");
    const variants = [
      (r: Doc) => (r.event.connection.bytes_received += 1),
      (r: Doc) => (r.event.time = "2025-07-25T18:19:41.236598+00:00"),
      (r: Doc) => (r.event.version = "1"),
      (r: Doc) => (r.event.extra = null),
      (r: Doc) => (r.event.relays = []),
    ];
    const ids = new Set([documentId(valid(base))]);
    for (const v of variants) {
      const r = seed("network_access");
      v(r);
      ids.add(documentId(valid(r)));
    }
    assert.equal(ids.size, variants.length + 1);
  });

  it("canonical JSON sorts keys recursively and equals JSON for equal values (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const c = canonicalJson(v);
        assert.deepEqual(JSON.parse(c), JSON.parse(JSON.stringify(v)));
        assert.equal(canonicalJson(JSON.parse(c)), c);
      }),
    );
  });

  it("no collisions among many distinct records (property)", () => {
    const ids = new Map<string, string>();
    fc.assert(
      fc.property(fc.nat(), fc.string(), fc.integer({ min: 0, max: 65535 }), (bytes, email, port) => {
        const r = seed("network_access");
        r.event.connection.bytes_received = bytes;
        r.event.user.email = email;
        r.event.resource.port = port;
        const canon = JSON.stringify(r);
        const id = documentId(valid(r));
        const prev = ids.get(id);
        if (prev !== undefined) assert.equal(prev, canon);
        ids.set(id, canon);
      }),
      { numRuns: 400 },
    );
  });
});

describe("toQuarantineAction", () => {
  const rejection: Rejection = {
    reason: "schema_invalid",
    message: "event.connection.client_ip: invalid IP address",
    path: "event.connection.client_ip",
    raw: '{"event_type":"network_access"}',
    eventType: "network_access",
    ordinal: 7,
    line: 8,
  };

  it("builds the quarantine document", () => {
    const a = toQuarantineAction(rejection, { bucket: "logs", key: SRC.key }, OPTS);
    assert.equal(a.kind, "quarantine");
    assert.equal(a.reason, "schema_invalid");
    assert.equal(a.eventType, "network_access");
    assert.equal(a.index, "twingate-quarantine-2025.07.25");
    assert.deepEqual(a.document, {
      "@timestamp": OPTS.ingestedAt,
      event_type: "network_access",
      quarantine: {
        reason: "schema_invalid",
        message: rejection.message,
        path: rejection.path,
        raw: rejection.raw,
        raw_truncated: false,
      },
      ingest: { bucket: "logs", key: SRC.key, ordinal: 7, line: 8, ingested_at: OPTS.ingestedAt },
    });
  });

  it("ids are the same on reprocessing and differ by file, ordinal and reason", () => {
    const src = { bucket: "logs", key: SRC.key };
    const a = toQuarantineAction(rejection, src, OPTS);
    const again = toQuarantineAction(rejection, src, { ...OPTS, ingestedAt: "2031-01-01T00:00:00Z" });
    assert.equal(a.id, again.id);
    assert.equal(a.index, again.index);
    const others = [
      toQuarantineAction({ ...rejection, ordinal: 8 }, src, OPTS).id,
      toQuarantineAction({ ...rejection, reason: "invalid_json" }, src, OPTS).id,
      toQuarantineAction(rejection, { ...src, key: "tg/2025-07-25T18:25:00+00:00.json" }, OPTS).id,
      toQuarantineAction(rejection, { ...src, bucket: "b2" }, OPTS).id,
    ];
    assert.equal(new Set([a.id, ...others]).size, 5);
  });

  it("bounds raw and says when it was cut; omits unknown event_type and path", () => {
    const long: Rejection = { reason: "invalid_json", message: "bad", raw: "y".repeat(40_000), ordinal: 0 };
    const d = toQuarantineAction(long, { bucket: "", key: "/tmp/x.json" }, OPTS).document as Doc;
    assert.equal(d.quarantine.raw.length, 16 * 1024);
    assert.equal(d.quarantine.raw_truncated, true);
    assert.equal("event_type" in d, false);
    assert.equal("path" in d.quarantine, false);
    const cut = toQuarantineAction({ ...long, raw: "y", rawTruncated: true }, { bucket: "", key: "k" }, OPTS);
    assert.equal((cut.document as Doc)["quarantine"].raw_truncated, true);
  });
});

describe("bounded placement (issue #18, case 3)", () => {
  const file = Date.parse("2025-07-25T18:20:00Z");
  const opts = { ...OPTS, fileTimeMs: file, maxTimeDeviationMs: 48 * 3_600_000 };
  const at = (time: string) => {
    const r = valid(seed("network_access")) as TwingateRecord & { event: { time: string } };
    return { ...r, event: { ...r.event, time } } as TwingateRecord;
  };

  it("a record near its file's time keeps its own day; a far one goes to the file's day, the deviation listed", () => {
    const near = toIndexAction(at("2025-07-24T01:00:00+00:00"), SRC, opts);
    assert.equal(near.index, "twingate-network_access-2025.07.24");
    assert.equal(((near.document as Doc)["ingest"] as Doc)["deviations"], undefined);
    const farRecord = at("1999-01-01T00:00:00+00:00");
    const far = toIndexAction(farRecord, SRC, opts);
    assert.equal(far.index, "twingate-network_access-2025.07.25");
    const d = far.document as Doc;
    assert.equal(d["@timestamp"], "1999-01-01T00:00:00Z", "@timestamp stays the event's time");
    assert.deepEqual((d["ingest"] as Doc)["deviations"], ["event_time_far_from_file_time"]);
    assert.equal((d["ingest"] as Doc)["file_time"], "2025-07-25T18:20:00.000Z");
    // The id hashes the record, not the index: the same as without placement.
    assert.equal(far.id, toIndexAction(farRecord, SRC, OPTS).id);
    assert.equal(toIndexAction(farRecord, SRC, OPTS).index, "twingate-network_access-1999.01.01");
    // The document builder and the serialised action agree.
    assert.deepEqual(recordDocument(farRecord, SRC, opts), far.document);
  });
});
