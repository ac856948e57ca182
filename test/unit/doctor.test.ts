/** The doctor's pure parts and the checks that need no AWS: clock skew, credential sources, dashboards, the runner. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { EVENT_TYPES } from "../../src/core/model.ts";
import {
  type Check,
  ClockProbe,
  checkClock,
  checkCredentials,
  checkDashboards,
  checkDeviations,
  checkOpenSearch,
  type DoctorDeps,
  type DoctorOptions,
  describeCredentialSource,
  formatResult,
  runDoctor,
  worstSkewSeconds,
} from "../../src/tools/doctor/index.ts";
import { buildSavedObjects } from "../../src/tools/setup/dashboards-source.ts";

const NOW = Date.parse("2026-01-01T12:00:00Z");
const opts: DoctorOptions = {
  keyPrefix: "",
  keyPattern: ".*",
  bucketAllowlist: [],
  indexPrefix: "tg",
  maxRecordBytes: 1 << 20,
  maxFileBytes: 1 << 30,
};
function deps(over: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    s3: {} as DoctorDeps["s3"],
    sqs: {} as DoctorDeps["sqs"],
    sns: {} as DoctorDeps["sns"],
    opensearch: {} as DoctorDeps["opensearch"],
    clock: new ClockProbe(() => NOW),
    credentials: async () => ({ accessKeyId: "AKIAEXAMPLEKEY1234" }),
    now: () => NOW,
    ...over,
  };
}
const ctx = (d: DoctorDeps, o: Partial<DoctorOptions> = {}) => ({ deps: d, opts: { ...opts, ...o } });

describe("clock", () => {
  test("skew from Date headers, one second of rounding forgiven, sign says which side is ahead", () => {
    assert.equal(worstSkewSeconds([]), undefined);
    assert.deepEqual(worstSkewSeconds([{ source: "S3", serverMs: NOW - 800, localMs: NOW }]), {
      source: "S3",
      skew: 0,
    });
    const w = worstSkewSeconds([
      { source: "S3", serverMs: NOW - 2000, localMs: NOW },
      { source: "SQS", serverMs: NOW + 90_000, localMs: NOW },
    ]);
    assert.deepEqual(w, { source: "SQS", skew: -90 });
  });

  test("the check warns beyond 60 s and passes within", async () => {
    const d = deps();
    d.clock.record("S3", new Date(NOW - 5_000).toUTCString());
    assert.equal((await checkClock(ctx(d))).status, "pass");
    d.clock.record("OpenSearch", new Date(NOW - 120_000).toUTCString());
    const r = await checkClock(ctx(d));
    assert.equal(r.status, "warn");
    assert.match(r.detail, /119 s ahead of OpenSearch/);
    d.clock.record("x", "not a date");
    assert.equal(d.clock.samples.length, 2);
  });

  test("no sample: skipped", async () => {
    assert.equal((await checkClock(ctx(deps()))).status, "skip");
  });
});

describe("credentials", () => {
  test("the SDK's $source names the provider", () => {
    assert.match(describeCredentialSource({ CREDENTIALS_ENV_VARS: "g" }), /environment variables/);
    assert.match(describeCredentialSource({ CREDENTIALS_STS_ASSUME_ROLE_WEB_ID: "k" }), /web identity/);
    assert.match(describeCredentialSource({ CREDENTIALS_HTTP: "z" }), /ECS task role/);
    assert.match(describeCredentialSource({ CREDENTIALS_IMDS: "0" }), /instance/);
    assert.equal(describeCredentialSource(undefined), "the SDK's default chain");
  });

  test("the key is masked; expired and unresolved credentials fail", async () => {
    const ok = await checkCredentials(ctx(deps()));
    assert.equal(ok.status, "pass");
    assert.match(ok.detail, /AKIA…1234/);
    assert.doesNotMatch(ok.detail, /EXAMPLEKEY/);
    const expired = await checkCredentials(
      ctx(
        deps({
          credentials: async () => ({ accessKeyId: "ASIAXXXXXXXX", expiration: new Date(NOW - 60_000) }),
        }),
      ),
    );
    assert.equal(expired.status, "fail");
    const none = await checkCredentials(
      ctx(
        deps({
          credentials: async () => {
            throw new Error("Could not load credentials from any providers");
          },
        }),
      ),
    );
    assert.equal(none.status, "fail");
    assert.match(none.detail, /Could not load credentials/);
  });
});

describe("dashboards", () => {
  const expected = buildSavedObjects("tg").filter(
    (o) => o.type === "dashboard" || o.type === "index-pattern",
  );
  const fakeFetch =
    (objects: { type: string; id: string }[], status = 200): typeof fetch =>
    async () =>
      new Response(JSON.stringify({ saved_objects: objects }), {
        status,
        headers: { date: new Date(NOW).toUTCString() },
      });

  test("skipped without --dashboards-url", async () => {
    assert.equal((await checkDashboards(ctx(deps()))).status, "skip");
  });

  test("all saved objects present: pass; one missing: fail naming it", async () => {
    const d = deps({ fetch: fakeFetch(expected) });
    const r = await checkDashboards(ctx(d, { dashboardsUrl: "http://dash:5601" }));
    assert.equal(r.status, "pass", r.detail);
    assert.equal(d.clock.samples.length, 1);
    const gone = expected[0]!;
    const r2 = await checkDashboards(
      ctx(deps({ fetch: fakeFetch(expected.slice(1)) }), { dashboardsUrl: "http://dash:5601/" }),
    );
    assert.equal(r2.status, "fail");
    assert.match(r2.detail, new RegExp(`${gone.type}/${gone.id}`));
  });

  test("HTTP 401: fail with a credentials hint", async () => {
    const r = await checkDashboards(ctx(deps({ fetch: fakeFetch([], 401) }), { dashboardsUrl: "http://d" }));
    assert.equal(r.status, "fail");
    assert.match(r.hint ?? "", /credentials/);
  });
});

describe("runner", () => {
  test("a throwing check is a failure; warnings and skips keep ok", async () => {
    const warn: Check = async () => ({ name: "w", status: "warn", detail: "meh", hint: "do x" });
    const skip: Check = async () => ({ name: "s", status: "skip", detail: "n/a" });
    const boom: Check = async () => {
      throw new Error("kaput");
    };
    const fine = await runDoctor(deps(), opts, [warn, skip]);
    assert.equal(fine.ok, true);
    assert.deepEqual(fine.counts, { pass: 0, warn: 1, fail: 0, skip: 1 });
    assert.equal(formatResult(fine.checks[0]!), "WARN  w: meh\n      → do x");
    const bad = await runDoctor(deps(), opts, [warn, boom]);
    assert.equal(bad.ok, false);
    assert.equal(bad.checks[1]!.status, "fail");
    assert.match(bad.checks[1]!.detail, /kaput/);
  });
});

describe("data quality (deviation paths)", () => {
  /** A cluster that is up and answers the deviation aggregation with `buckets` (or fails it). */
  function cluster(buckets: unknown[] | Error) {
    const searched: { path: string; body: unknown }[] = [];
    const opensearch = {
      transport: {
        request: async (req: { path: string; body?: unknown }) => {
          if (req.path === "/") return { body: { version: { number: "2.19.6" } }, headers: {} };
          if (req.path === "/_cluster/health") return { body: { status: "green", number_of_data_nodes: 1 } };
          searched.push({ path: req.path, body: req.body });
          if (buckets instanceof Error) throw buckets;
          return { body: { aggregations: { paths: { buckets } } } };
        },
      },
    } as unknown as DoctorDeps["opensearch"];
    return { opensearch, searched };
  }
  const hour = 3600_000;

  test("a path first seen in the last 24 h is a warning naming it; older ones are listed; none is a pass", async () => {
    const { opensearch, searched } = cluster([
      { key: "event.resource.port", doc_count: 120, first: { value: NOW - 30 * 24 * hour } },
      { key: "event.connection.client_ip", doc_count: 3, first: { value: NOW - 2 * hour } },
    ]);
    const c = ctx(deps({ opensearch }));
    await checkOpenSearch(c);
    const r = await checkDeviations(c);
    assert.equal(r.status, "warn");
    assert.match(r.detail, /new deviation path\(s\) in the last 24 h: event\.connection\.client_ip \(3\)/);
    assert.doesNotMatch(r.detail.split(";")[0]!, /event\.resource\.port/);
    assert.deepEqual(r.data?.["fresh"], ["event.connection.client_ip"]);
    // Only the stream indices, never the quarantine's, and missing indices are no error.
    assert.equal(searched.length, 1);
    assert.match(
      searched[0]!.path,
      // the four streams' indices (and any stream added after them), never the quarantine's
      new RegExp(
        `^/tg-network_access-\\*,tg-dns_filtering-\\*,tg-audit_log-\\*,tg-data_loss_prevention-\\*${EVENT_TYPES.slice(
          4,
        )
          .map((t) => `,tg-${t}-\\*`)
          .join("")}/_search$`,
      ),
    );

    const old = cluster([{ key: "event.resource.port", doc_count: 120, first: { value: NOW - 48 * hour } }]);
    const c2 = ctx(deps({ opensearch: old.opensearch }));
    await checkOpenSearch(c2);
    const r2 = await checkDeviations(c2);
    assert.equal(r2.status, "pass");
    assert.match(
      r2.detail,
      /1 deviation path\(s\), none new in the last 24 h: event\.resource\.port \(120\)/,
    );

    const none = cluster([]);
    const c3 = ctx(deps({ opensearch: none.opensearch }));
    await checkOpenSearch(c3);
    assert.deepEqual(
      { ...(await checkDeviations(c3)), data: undefined },
      { name: "Data quality", status: "pass", detail: "no document carries a deviation", data: undefined },
    );
  });

  test("skipped when OpenSearch was not reached or the aggregation fails (an old mapping, no field)", async () => {
    assert.equal((await checkDeviations(ctx(deps()))).status, "skip");
    const failing = cluster(new Error("search_phase_execution_exception"));
    const c = ctx(deps({ opensearch: failing.opensearch }));
    await checkOpenSearch(c);
    const r = await checkDeviations(c);
    assert.equal(r.status, "skip");
    assert.match(r.detail, /search_phase_execution_exception/);
  });
});
