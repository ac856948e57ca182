import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, describe, test } from "node:test";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { loadConfig } from "../../src/platform/config/index.ts";
import { createLogger } from "../../src/platform/logger.ts";
import {
  createOpenSearchClient,
  openSearchClientOptions,
  redactUrl,
} from "../../src/platform/opensearch/client.ts";
import {
  compareInstalled,
  dailyIndexDate,
  installedRevision,
  ismPolicyBody,
  managedObjects,
  TEMPLATE_REVISION,
} from "../../src/platform/opensearch/templates.ts";
import { checkTemplates, parseDays, pruneIndices, runSetup } from "../../src/tools/setup/setup.ts";

function captureLogger() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger("debug", sink), lines };
}

describe("OpenSearch client options", () => {
  test("nodes, no client retries, timeout, keep-alive", () => {
    const o = openSearchClientOptions(
      loadConfig({}, { OPENSEARCH_URL: "http://a:9200,http://b:9200", OPENSEARCH_TIMEOUT_MS: "5000" }),
    );
    assert.deepEqual(o.nodes, ["http://a:9200", "http://b:9200"]);
    assert.equal(o.maxRetries, 0);
    assert.equal(o.requestTimeout, 5000);
    assert.equal((o.agent as { keepAlive: boolean }).keepAlive, true);
    assert.equal(o.auth, undefined);
    assert.equal(o.compression, undefined);
  });

  test("basic auth needs both halves; the password is never logged", async () => {
    const { logger, lines } = captureLogger();
    const config = loadConfig({}, { OPENSEARCH_USERNAME: "admin", OPENSEARCH_PASSWORD: "s3cr3t-pw" });
    assert.deepEqual(openSearchClientOptions(config).auth, { username: "admin", password: "s3cr3t-pw" });
    const client = createOpenSearchClient(config, logger);
    await client.close();
    logger.flush();
    assert.ok(lines.length > 0);
    assert.ok(!lines.join("").includes("s3cr3t-pw"));
    assert.throws(() => openSearchClientOptions(loadConfig({}, { OPENSEARCH_USERNAME: "admin" })), /both/);
  });

  test("CA file and insecure TLS (with a loud warning)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ca-"));
    const ca = join(dir, "ca.pem");
    writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n");
    const { logger, lines } = captureLogger();
    const o = openSearchClientOptions(
      loadConfig({}, { OPENSEARCH_CA_FILE: ca, OPENSEARCH_TLS_INSECURE: "true" }),
      logger,
    );
    assert.ok(Buffer.isBuffer(o.ssl?.ca));
    assert.equal(o.ssl?.rejectUnauthorized, false);
    logger.flush();
    assert.match(lines.join(""), /TLS VERIFICATION OF OPENSEARCH IS DISABLED/);
    assert.throws(
      () => openSearchClientOptions(loadConfig({}, { OPENSEARCH_CA_FILE: join(dir, "missing.pem") })),
      /cannot read/,
    );
  });

  test("SigV4 uses the signer's connection, needs a region, excludes basic auth", () => {
    const o = openSearchClientOptions(
      loadConfig({}, { OPENSEARCH_AWS_SIGV4: "aoss", AWS_REGION: "eu-west-1" }),
    );
    assert.equal(typeof o.Connection, "function");
    assert.equal(o.auth, undefined);
    const saved = process.env["AWS_DEFAULT_REGION"];
    delete process.env["AWS_DEFAULT_REGION"];
    try {
      assert.throws(() => openSearchClientOptions(loadConfig({}, { OPENSEARCH_AWS_SIGV4: "es" })), /region/);
    } finally {
      if (saved !== undefined) process.env["AWS_DEFAULT_REGION"] = saved;
    }
    assert.throws(
      () =>
        openSearchClientOptions(
          loadConfig(
            {},
            {
              OPENSEARCH_AWS_SIGV4: "es",
              AWS_REGION: "eu-west-1",
              OPENSEARCH_USERNAME: "u",
              OPENSEARCH_PASSWORD: "p",
            },
          ),
        ),
      /exclusive/,
    );
  });

  test("URLs are logged without credentials", () => {
    assert.equal(redactUrl("https://u:p@host:9200/"), "https://host:9200");
  });
});

describe("templates", () => {
  const objs = managedObjects({ prefix: "tg", shards: 2, replicas: 0, refreshInterval: "5s" });

  test("an index template per stream and quarantine, composed of installed components, with an alias", () => {
    const components = new Set(objs.filter((o) => o.kind === "component_template").map((o) => o.name));
    const templates = objs.filter((o) => o.kind === "index_template");
    assert.deepEqual(
      templates.map((t) => t.name).sort(),
      [...EVENT_TYPES.map((t) => `tg-${t}`), "tg-quarantine"].sort(),
    );
    for (const t of templates) {
      for (const c of t.body["composed_of"] as string[]) assert.ok(components.has(c), `${t.name} uses ${c}`);
      assert.ok(
        objs.indexOf(t) >
          Math.max(...(t.body["composed_of"] as string[]).map((c) => objs.findIndex((o) => o.name === c))),
      );
    }
    for (const t of EVENT_TYPES) {
      const tpl = templates.find((x) => x.name === `tg-${t}`)!;
      assert.deepEqual(tpl.body["index_patterns"], [`tg-${t}-*`]);
      assert.deepEqual((tpl.body["template"] as { aliases: object }).aliases, { [`tg-${t}`]: {} });
    }
  });

  test("hashes are stable and follow the content", () => {
    const again = managedObjects({ prefix: "tg", shards: 2, replicas: 0, refreshInterval: "5s" });
    assert.deepEqual(
      again.map((o) => o.hash),
      objs.map((o) => o.hash),
    );
    const other = managedObjects({ prefix: "tg", shards: 3, replicas: 0, refreshInterval: "5s" });
    const changed = other.filter((o, i) => o.hash !== objs[i]!.hash).map((o) => o.name);
    assert.deepEqual(changed, ["tg-settings"]);
  });

  test("an installed object against this version's: current, outdated (older or same revision), newer", () => {
    const m = objs.find((o) => o.name === "tg-mappings-common")!;
    const meta = (hash: string, revision?: number) => ({
      _meta: { hash, ...(revision !== undefined ? { revision } : {}) },
    });
    assert.equal(compareInstalled(meta(m.hash), m), "current", "same content, installed before revisions");
    assert.equal(compareInstalled(meta(m.hash, TEMPLATE_REVISION + 5), m), "current");
    assert.equal(compareInstalled(meta("other"), m), "outdated", "no revision: older");
    assert.equal(compareInstalled(meta("other", TEMPLATE_REVISION - 1), m), "outdated");
    assert.equal(compareInstalled(meta("other", TEMPLATE_REVISION), m), "outdated", "same revision, edited");
    assert.equal(compareInstalled(meta("other", TEMPLATE_REVISION + 1), m), "newer");
    assert.equal(
      compareInstalled({ _meta: { hash: "other", revision: "9" } }, m),
      "outdated",
      "not a number",
    );
    assert.equal(installedRevision({}), 0);
  });

  test("daily index names and durations", () => {
    assert.deepEqual(dailyIndexDate("tg", "tg-audit_log-2025.07.25"), new Date("2025-07-25T00:00:00Z"));
    assert.deepEqual(dailyIndexDate("tg", "tg-quarantine-2024.02.29"), new Date("2024-02-29T00:00:00Z"));
    assert.equal(dailyIndexDate("tg", "tg-audit_log-2025.02.30"), null);
    assert.equal(dailyIndexDate("tg", "tg-audit_log-2025.07.25-reindexed"), null);
    assert.equal(dailyIndexDate("tg", "tgx-audit_log-2025.07.25"), null);
    assert.equal(dailyIndexDate("tg", "tg-other-2025.07.25"), null);
    assert.equal(parseDays("90d"), 90);
    assert.equal(parseDays("2w"), 14);
    assert.equal(parseDays("30"), 30);
    assert.throws(() => parseDays("3 months"));
    assert.throws(() => parseDays("0d"));
  });

  test("the ISM policy deletes only this prefix's daily indices", () => {
    const p = ismPolicyBody("tg", 30)["policy"] as {
      states: { name: string }[];
      ism_template: { index_patterns: string[] }[];
    };
    assert.deepEqual(
      p.ism_template[0]!.index_patterns.sort(),
      [...EVENT_TYPES, "quarantine"].map((s) => `tg-${s}-*`).sort(),
    );
    assert.match(JSON.stringify(p.states), /"min_index_age":"30d"/);
  });
});

/** Just enough of OpenSearch's REST API, in memory, to run setup with and without the ISM plugin. */
class FakeOpenSearch {
  server: Server;
  ism = false;
  dataNodes = 1;
  components = new Map<string, unknown>();
  templates = new Map<string, unknown>();
  policies = new Map<string, { policy: unknown; seq: number }>();
  indices = new Set<string>();
  deleted: string[] = [];
  puts: string[] = [];
  /** Template GETs (paths), to count the requests a check costs. */
  templateGets: string[] = [];
  constructor() {
    this.server = createServer((req, res) => {
      void this.handle(req).then(([status, body]) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      });
    });
  }
  url() {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }
  async handle(req: IncomingMessage): Promise<[number, unknown]> {
    let text = "";
    for await (const c of req) text += c;
    const body = text ? JSON.parse(text) : undefined;
    const u = new URL(req.url ?? "/", "http://x");
    const parts = u.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const m = req.method;
    if (u.pathname === "/_cluster/health") return [200, { number_of_data_nodes: this.dataNodes }];
    if (u.pathname === "/_cat/plugins")
      return [200, this.ism ? [{ component: "opensearch-index-management" }] : []];
    if (parts[0] === "_component_template" || parts[0] === "_index_template") {
      const store = parts[0] === "_component_template" ? this.components : this.templates;
      const name = parts[1]!;
      if (m === "PUT") {
        this.puts.push(name);
        store.set(name, body);
        return [200, { acknowledged: true }];
      }
      this.templateGets.push(u.pathname);
      // as OpenSearch: a name or a wildcard pattern; nothing matching is a 404 (with an empty list)
      const glob = new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`);
      const found = [...store].filter(([n]) => glob.test(n));
      return parts[0] === "_component_template"
        ? [
            found.length ? 200 : 404,
            { component_templates: found.map(([n, t]) => ({ name: n, component_template: t })) },
          ]
        : [
            found.length ? 200 : 404,
            { index_templates: found.map(([n, t]) => ({ name: n, index_template: t })) },
          ];
    }
    if (parts[0] === "_plugins" && parts[1] === "_ism" && parts[2] === "policies") {
      const id = parts[3]!;
      const cur = this.policies.get(id);
      if (m === "PUT") {
        if (cur && Number(u.searchParams.get("if_seq_no")) !== cur.seq)
          return [409, { error: "version conflict" }];
        this.puts.push(id);
        this.policies.set(id, { policy: body.policy, seq: (cur?.seq ?? -1) + 1 });
        return [200, { _id: id }];
      }
      if (!cur) return [404, { error: "missing" }];
      return [200, { _id: id, _seq_no: cur.seq, _primary_term: 1, policy: cur.policy }];
    }
    if (parts[0] === "_cat" && parts[1] === "indices") {
      const prefix = parts[2]!.replace(/\*$/, "");
      return [
        200,
        [...this.indices].filter((i) => i.startsWith(prefix)).map((index) => ({ index, "docs.count": "3" })),
      ];
    }
    if (m === "DELETE" && parts.length === 1) {
      this.indices.delete(parts[0]!);
      this.deleted.push(parts[0]!);
      return [200, { acknowledged: true }];
    }
    return [400, { error: `unexpected ${m} ${u.pathname}` }];
  }
}

// Not under "templates": scripts/recipe-check.sh runs those after adding a stream, which changes the content
// (the recipe's last step raises the revision: docs/ARCHITECTURE.md).
describe("template revision", () => {
  test("one content per revision: a change raises TEMPLATE_REVISION", () => {
    // The digest of every object's hash but the settings component's (the operator's shard counts), per
    // revision. Changed the mappings? Raise TEMPLATE_REVISION in src/platform/opensearch/templates.ts and
    // add the new digest here: an older worker then never overwrites the new templates (docs/DEPLOY.md).
    const pinned: Record<number, string> = {
      1: "ea07b0f7feffa813",
    };
    const digest = createHash("sha256")
      .update(
        managedObjects({ prefix: "twingate", shards: 1, replicas: 0, refreshInterval: "5s" })
          .filter((o) => o.name !== "twingate-settings")
          .map((o) => `${o.name}:${o.hash}`)
          .join("\n"),
      )
      .digest("hex")
      .slice(0, 16);
    assert.equal(
      digest,
      pinned[TEMPLATE_REVISION],
      `the templates' content changed: raise TEMPLATE_REVISION (now ${TEMPLATE_REVISION}) and pin ${digest} for it`,
    );
    const objs = managedObjects({ prefix: "tg", shards: 2, replicas: 0, refreshInterval: "5s" });
    for (const o of objs)
      assert.deepEqual(o.body["_meta"], {
        managed_by: "twingate-ingest",
        hash: o.hash,
        revision: TEMPLATE_REVISION,
      });
  });
});

describe("runSetup against an emulated cluster", () => {
  const fake = new FakeOpenSearch();
  const silent = createLogger("silent");
  before(() => new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", r)));
  after(() => new Promise<void>((r) => fake.server.close(() => r())));
  const client = () => createOpenSearchClient(loadConfig({}, { OPENSEARCH_URL: fake.url() }));

  test("with ISM: installs the policy once, updates it when the retention changes", async () => {
    fake.ism = true;
    const c = client();
    const first = await runSetup(c, { indexPrefix: "ism" }, silent);
    assert.equal(first.ism, true);
    assert.deepEqual(
      first.actions.find((a) => a.kind === "ism_policy"),
      {
        kind: "ism_policy",
        name: "ism-retention",
        result: "create",
        detail: "delete after 90d",
      },
    );
    assert.equal(first.warnings.length, 0);
    const second = await runSetup(c, { indexPrefix: "ism" }, silent);
    assert.equal(second.changed, 0);
    const third = await runSetup(c, { indexPrefix: "ism", retentionDays: 30 }, silent);
    assert.deepEqual(
      third.actions.filter((a) => a.result !== "unchanged").map((a) => [a.kind, a.result]),
      [["ism_policy", "update"]],
    );
    assert.match(JSON.stringify(fake.policies.get("ism-retention")?.policy), /"30d"/);
    await c.close();
  });

  test("without ISM: warns and offers pruning; dry run changes nothing; prune deletes only old daily indices", async () => {
    fake.ism = false;
    fake.dataNodes = 3;
    const c = client();
    fake.puts = [];
    const dry = await runSetup(c, { indexPrefix: "noism", dryRun: true }, silent);
    assert.equal(fake.puts.length, 0);
    assert.ok(dry.changed > 0);
    assert.equal(dry.replicas, 1);
    assert.match(dry.warnings.join("\n"), /--prune-older-than 90d/);
    assert.deepEqual(await checkTemplates(c, "noism"), {
      missing: managedObjects({ prefix: "noism", shards: 1, replicas: 0, refreshInterval: "5s" }).map(
        (o) => o.name,
      ),
      outdated: [],
      newer: [],
    });
    await runSetup(c, { indexPrefix: "noism" }, silent);
    assert.deepEqual(await checkTemplates(c, "noism"), { missing: [], outdated: [], newer: [] });
    // someone edits a mapping template by hand: reported as outdated, and setup puts it back
    fake.components.set("noism-mappings-audit_log", { template: {}, _meta: { hash: "0" } });
    assert.deepEqual(await checkTemplates(c, "noism"), {
      missing: [],
      outdated: ["noism-mappings-audit_log"],
      newer: [],
    });
    const fix = await runSetup(c, { indexPrefix: "noism" }, silent);
    assert.deepEqual(
      fix.actions.filter((a) => a.result !== "unchanged").map((a) => `${a.result} ${a.name}`),
      ["update noism-mappings-audit_log"],
    );

    for (const i of [
      "noism-network_access-2025.04.01",
      "noism-quarantine-2025.04.26",
      "noism-audit_log-2025.04.27",
      "noism-audit_log-2025.07.25",
      "noism-audit_log-keep",
      "noism-extra-2025.01.01",
    ]) {
      fake.indices.add(i);
    }
    const now = new Date("2025-07-26T12:00:00Z"); // 90 days before: 2025-04-27T12:00Z
    const planned = await pruneIndices(c, "noism", 90, { dryRun: true, now });
    assert.deepEqual(
      planned.map((a) => a.name),
      ["noism-network_access-2025.04.01", "noism-quarantine-2025.04.26"],
    );
    assert.deepEqual(fake.deleted, []);
    await runSetup(c, { indexPrefix: "noism", pruneOlderThanDays: 90, now }, silent);
    assert.deepEqual(fake.deleted, ["noism-network_access-2025.04.01", "noism-quarantine-2025.04.26"]);
    await c.close();
  });

  test("--prune-older-than reads week and month indices too, deleting only whole periods past the age", async () => {
    const c = client();
    for (const i of [
      "wk-network_access-2025.w16", // Apr 14-20: ended before Apr 27 12:00
      "wk-network_access-2025.w17", // Apr 21-27: ends Apr 28, after the cutoff
      "wk-quarantine-2025.03", // March
      "wk-audit_log-2025.04", // April: ends May 1
      "wk-audit_log-2025.w54",
    ]) {
      fake.indices.add(i);
    }
    const now = new Date("2025-07-26T12:00:00Z");
    const planned = await pruneIndices(c, "wk", 90, { dryRun: true, now });
    assert.deepEqual(
      planned.map((a) => a.name),
      ["wk-network_access-2025.w16", "wk-quarantine-2025.03"],
    );
    await c.close();
  });
});

describe("TemplateGuard: no index born without the templates", () => {
  const fake = new FakeOpenSearch();
  const silent = createLogger("silent");
  before(() => new Promise<void>((r) => fake.server.listen(0, "127.0.0.1", r)));
  after(() => new Promise<void>((r) => fake.server.close(() => r())));
  const client = () => createOpenSearchClient(loadConfig({}, { OPENSEARCH_URL: fake.url() }));
  const names = (prefix: string) =>
    managedObjects({ prefix, shards: 1, replicas: 0, refreshInterval: "5s" }).map((o) => o.name);

  test("AUTO_SETUP off: missing templates refuse the write, naming setup; the start-up check is a configuration error", async () => {
    const { TemplateGuard, TemplatesMissingError } = await import("../../src/tools/setup/guard.ts");
    const { startIndexGuard } = await import("../../src/runtimes/worker/startup.ts");
    const { ConfigError } = await import("../../src/platform/config/index.ts");
    const c = client();
    const guard = new TemplateGuard(c, { indexPrefix: "off", autoSetup: false }, silent);
    await assert.rejects(guard.ensure("off-network_access-2025.07"), (err: unknown) => {
      assert.ok(err instanceof TemplatesMissingError);
      assert.match(err.message, /twingate-ingest setup/);
      assert.match(err.message, /missing: off-settings/);
      return true;
    });
    assert.equal(guard.ready("off-network_access-2025.07"), false);
    fake.puts = [];
    await assert.rejects(
      startIndexGuard(c, { indexPrefix: "off", autoSetup: false }, silent),
      (err: unknown) => err instanceof ConfigError && /twingate-ingest setup/.test(err.message),
    );
    assert.deepEqual(fake.puts, [], "nothing installed without AUTO_SETUP");
    await c.close();
  });

  test("AUTO_SETUP on (the default): installs them before the first write; deleted while running: installed again before the next index", async () => {
    const { TemplateGuard } = await import("../../src/tools/setup/guard.ts");
    assert.equal(loadConfig({}, {}).autoSetup, true, "the default");
    const c = client();
    let now = 1_000_000;
    const guard = new TemplateGuard(
      c,
      { indexPrefix: "auto", autoSetup: true, recheckMs: 60_000, now: () => now },
      silent,
    );
    await guard.ensure("auto-network_access-2025.07");
    assert.deepEqual(await checkTemplates(c, "auto"), { missing: [], outdated: [], newer: [] });
    assert.equal(guard.ready("auto-network_access-2025.07"), true);
    assert.equal(guard.ready("auto-network_access-2025.08"), false, "a new index name is checked");
    // someone deletes every template while the process runs
    for (const n of names("auto")) {
      fake.components.delete(n);
      fake.templates.delete(n);
    }
    fake.puts = [];
    await guard.ensure("auto-network_access-2025.08");
    assert.deepEqual(await checkTemplates(c, "auto"), { missing: [], outdated: [], newer: [] });
    assert.ok(fake.puts.includes("auto-network_access"));
    // a known index is checked again once its answer is old
    now += 60_001;
    assert.equal(guard.ready("auto-network_access-2025.07"), false);
    await c.close();
  });

  test("a check is two wildcard GETs, whatever the number of templates", async () => {
    const { TemplateGuard } = await import("../../src/tools/setup/guard.ts");
    const c = client();
    await runSetup(c, { indexPrefix: "gets" }, silent);
    fake.templateGets = [];
    const guard = new TemplateGuard(c, { indexPrefix: "gets", autoSetup: false }, silent);
    await guard.ensure("gets-audit_log-2025.07");
    assert.deepEqual(fake.templateGets.sort(), ["/_component_template/gets-*", "/_index_template/gets-*"]);
    // another prefix starting the same way is not taken for ours
    await runSetup(c, { indexPrefix: "gets-other" }, silent);
    for (const n of names("gets")) {
      fake.components.delete(n);
      fake.templates.delete(n);
    }
    assert.deepEqual((await checkTemplates(c, "gets")).missing, names("gets"));
    await c.close();
  });

  test("rolling upgrade: a newer version's templates are written with, never overwritten; an older one's are replaced", async () => {
    const { TemplateGuard } = await import("../../src/tools/setup/guard.ts");
    const c = client();
    await runSetup(c, { indexPrefix: "roll" }, silent);
    // a newer version (a higher revision, other content) installs its templates
    const newer = (o: { template?: unknown }, revision: number) => ({
      ...o,
      _meta: { managed_by: "twingate-ingest", hash: `next-${revision}`, revision },
    });
    for (const n of names("roll")) {
      if (n === "roll-settings") continue;
      const store = fake.components.has(n) ? fake.components : fake.templates;
      store.set(n, newer(store.get(n) as object, TEMPLATE_REVISION + 1));
    }
    const { logger, lines } = captureLogger();
    fake.puts = [];
    const guard = new TemplateGuard(c, { indexPrefix: "roll", autoSetup: true }, logger);
    await guard.ensure("roll-network_access-2025.07");
    await guard.check();
    assert.deepEqual(fake.puts, [], "the older process installs nothing over the newer templates");
    assert.equal(guard.problem, undefined, "and writes with them");
    const warned = lines.filter((l) => /installed by a newer version/.test(l));
    assert.equal(warned.length, 1, "said once, not at every check");
    const state = await checkTemplates(c, "roll");
    assert.deepEqual(state.outdated, []);
    assert.equal(state.newer.length, names("roll").length - 1);
    const report = await runSetup(c, { indexPrefix: "roll" }, silent);
    assert.deepEqual(fake.puts, [], "setup neither");
    assert.ok(report.actions.filter((a) => a.result === "skip").length === names("roll").length - 1);
    assert.match(
      report.warnings.join("\n"),
      /installed by a newer version of twingate-ingest, left as they are/,
    );
    // an older version's template (a lower revision) is replaced by this one's
    fake.components.set("roll-mappings-dns_filtering", newer({ template: {} }, TEMPLATE_REVISION - 1));
    await guard.check();
    assert.deepEqual(fake.puts, ["roll-mappings-dns_filtering"]);
    await c.close();
  });

  test("installing met by a read-only cluster (403 cluster_block_exception): waited for, not a refusal", async () => {
    const { TemplateGuard, TemplatesMissingError } = await import("../../src/tools/setup/guard.ts");
    const c = client();
    const original = fake.handle.bind(fake);
    fake.handle = async (req) => {
      if (req.method !== "PUT") return original(req);
      for await (const _ of req) {
        // drained
      }
      return [
        403,
        {
          error: {
            type: "cluster_block_exception",
            reason: "blocked by: [FORBIDDEN/6/cluster read-only (api)];",
          },
        },
      ];
    };
    try {
      const guard = new TemplateGuard(c, { indexPrefix: "blocked", autoSetup: true }, silent);
      await assert.rejects(guard.ensure("blocked-audit_log-2025.07"), (err: unknown) => {
        assert.ok(!(err instanceof TemplatesMissingError), "a block is held like a write, not a refusal");
        return true;
      });
    } finally {
      fake.handle = original;
    }
    await c.close();
  });

  test("installing refused (403): the write is refused with a reason naming setup", async () => {
    const { TemplateGuard, TemplatesMissingError } = await import("../../src/tools/setup/guard.ts");
    const c = client();
    const original = fake.handle.bind(fake);
    fake.handle = async (req) => {
      if (req.method !== "PUT") return original(req);
      for await (const _ of req) {
        // drained
      }
      return [403, { error: { type: "security_exception", reason: "no permissions for [x]" } }];
    };
    try {
      const guard = new TemplateGuard(c, { indexPrefix: "denied", autoSetup: true }, silent);
      await assert.rejects(
        guard.ensure("denied-dns_filtering-2025.07"),
        (err: unknown) =>
          err instanceof TemplatesMissingError && /403.*twingate-ingest setup/.test(err.message),
      );
    } finally {
      fake.handle = original;
    }
    await c.close();
  });
});
