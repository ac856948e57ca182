/**
 * Doctor's OpenSearch permission check, against a fake security plugin that refuses what the user's role
 * lacks the way the real one does (HTTP 403, "no permissions for [X] and User [...]"). The real plugin is in
 * test/e2e/secured.test.ts.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  ClockProbe,
  checkOpenSearchPermissions,
  type DoctorDeps,
  type DoctorOptions,
  missingPermission,
  PERMISSION_PROBES,
} from "../../src/tools/doctor/index.ts";

const OPTS: DoctorOptions = {
  keyPrefix: "",
  keyPattern: ".*",
  bucketAllowlist: [],
  indexPrefix: "tg",
  maxRecordBytes: 1 << 20,
  maxFileBytes: 1 << 30,
};

interface Req {
  method: string;
  path: string;
  body?: unknown;
  bulkBody?: unknown[];
  querystring?: Record<string, string>;
}

/** The action a request is, as the security plugin names it (only the probes' requests). */
function action(r: Req): string {
  if (r.path === "/") return "cluster:monitor/main";
  if (r.path === "/_cluster/health") return "cluster:monitor/health";
  if (r.path.startsWith("/_index_template/")) return "indices:admin/index_template/get";
  if (r.path.startsWith("/_component_template/")) return "cluster:admin/component_template/get";
  if (r.path === "/_bulk") return "indices:data/write/bulk";
  if (r.path.endsWith("/_doc")) return "indices:data/write/index";
  if (r.method === "PUT") return "indices:admin/create";
  throw new Error(`unexpected ${r.method} ${r.path}`);
}

function fakeCluster(f: { lacks?: string[]; plugin?: boolean; status401?: boolean } = {}) {
  const seen: Req[] = [];
  const client = {
    transport: {
      request: async (r: Req) => {
        seen.push(r);
        if (r.path === "/_plugins/_security/authinfo") {
          if (f.status401) return { statusCode: 401, body: "Unauthorized" };
          if (f.plugin === false)
            return { statusCode: 400, body: { error: "no handler found for uri", status: 400 } };
          return {
            statusCode: 200,
            body: { user_name: "tg-worker", roles: ["tg_worker"], backend_roles: [] },
          };
        }
        const a = action(r);
        if (f.lacks?.includes(a)) {
          const reason = `no permissions for [${a}] and User [name=tg-worker, backend_roles=[], requestedTenant=null]`;
          return { statusCode: 403, body: { error: { type: "security_exception", reason }, status: 403 } };
        }
        // allowed: each probe then fails as built to (no pipeline, 0 shards, no such template) or answers
        if (r.path.endsWith("/_doc") || r.path === "/_bulk") {
          assert.equal(
            r.querystring?.["pipeline"],
            "twingate-doctor-probe-no-such-pipeline",
            "never a real write",
          );
          return { statusCode: 400, body: { error: { reason: "pipeline with id [...] does not exist" } } };
        }
        if (r.method === "PUT") {
          assert.deepEqual(r.body, { settings: { "index.number_of_shards": 0 } }, "never a real index");
          return { statusCode: 400, body: { error: { reason: "must be >= 1" } } };
        }
        if (r.path.includes("_template/")) return { statusCode: 404, body: {} };
        return { statusCode: 200, body: {} };
      },
    },
  };
  const deps: DoctorDeps = {
    s3: {} as DoctorDeps["s3"],
    sqs: {} as DoctorDeps["sqs"],
    sns: {} as DoctorDeps["sns"],
    opensearch: client as unknown as DoctorDeps["opensearch"],
    clock: new ClockProbe(),
    credentials: async () => ({ accessKeyId: "AKIAEXAMPLEKEY1234" }),
  };
  return { ctx: { deps, opts: OPTS }, seen };
}

describe("doctor: OpenSearch permissions", () => {
  test("every probed permission held: pass, naming the user and its roles", async () => {
    const { ctx, seen } = fakeCluster();
    const r = await checkOpenSearchPermissions(ctx);
    assert.equal(r.status, "pass", r.detail);
    assert.match(r.detail, /tg-worker.*tg_worker/);
    assert.equal(seen.length, 1 + PERMISSION_PROBES.length);
    for (const q of seen.slice(1)) {
      if (q.path !== "/" && !q.path.startsWith("/_cluster")) assert.match(q.path, /tg-doctor-probe|_bulk/);
    }
  });

  test("one permission missing: fail naming it, on the prefix's indices for an index permission", async () => {
    const { ctx } = fakeCluster({ lacks: ["indices:data/write/index"] });
    const r = await checkOpenSearchPermissions(ctx);
    assert.equal(r.status, "fail");
    assert.match(r.detail, /lacks indices:data\/write\/index on tg-\*/);
    assert.deepEqual(r.data?.["missing"], ["indices:data/write/index"]);
    assert.match(r.hint ?? "", /security-roles\.json/);
  });

  test("several missing, cluster and index: all named", async () => {
    const { ctx } = fakeCluster({ lacks: ["cluster:monitor/health", "indices:admin/create"] });
    const r = await checkOpenSearchPermissions(ctx);
    assert.equal(r.status, "fail");
    assert.deepEqual(r.data?.["missing"], ["cluster:monitor/health", "indices:admin/create"]);
  });

  test("no security plugin: skipped; rejected credentials: fail with a credentials hint", async () => {
    assert.equal((await checkOpenSearchPermissions(fakeCluster({ plugin: false }).ctx)).status, "skip");
    const r = await checkOpenSearchPermissions(fakeCluster({ status401: true }).ctx);
    assert.equal(r.status, "fail");
    assert.match(r.hint ?? "", /OPENSEARCH_PASSWORD/);
  });

  test("missingPermission reads the plugin's message", () => {
    assert.equal(
      missingPermission({
        error: { reason: "no permissions for [indices:data/write/bulk[s]] and User [name=x]" },
      }),
      "indices:data/write/bulk[s",
    );
    assert.equal(missingPermission("nothing"), undefined);
  });
});
