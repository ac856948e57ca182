/** The doctor's pure parts and the checks that need no AWS: clock skew, credential sources, dashboards, the runner. */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type Check,
  ClockProbe,
  checkClock,
  checkCredentials,
  checkDashboards,
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
