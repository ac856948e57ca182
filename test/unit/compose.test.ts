/**
 * docker-compose.yml and the Dockerfile cannot run here (no Docker), so their wiring is checked statically:
 * environment names are the config module's (and values pass its schemas), endpoints point at the right
 * service and port, the worker's metrics port agrees everywhere, names agree across services, and the
 * image versions agree with the Docker-less stack (scripts/stack.sh).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { SETTINGS } from "../../src/platform/config/settings.ts";

const read = (rel: string) => readFileSync(new URL(`../../${rel}`, import.meta.url), "utf8");

interface Service {
  image?: string;
  build?: unknown;
  command?: string | string[];
  entrypoint?: string | string[];
  environment?: Record<string, string | number | boolean> | string[];
  ports?: (string | number)[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }> | string[];
}

const compose = parse(read("docker-compose.yml"), { merge: true }) as { services: Record<string, Service> };
const services = compose.services;
const dockerfile = read("Dockerfile");
const stackScript = read("scripts/stack.sh");

const settingByEnv = new Map(Object.values(SETTINGS).map((s) => [s.env, s]));
const OURS = ["setup", "worker", "producer"] as const;

function env(name: string): Record<string, string> {
  const e = services[name]?.environment ?? {};
  if (Array.isArray(e)) {
    return Object.fromEntries(
      e.map((kv) => {
        const i = kv.indexOf("=");
        return i < 0 ? [kv, ""] : [kv.slice(0, i), kv.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, String(v)]));
}

/** Container ports a service publishes ("127.0.0.1:9200:9200", "9200:9200", "9200"). */
function containerPorts(name: string): number[] {
  return (services[name]?.ports ?? []).map((p) => Number(String(p).split(":").at(-1)!.split("/")[0]));
}

function words(v: string | string[] | undefined): string {
  return Array.isArray(v) ? v.join(" ") : (v ?? "");
}

/** The value after `--flag` in a command line. */
function flag(commandLine: string, name: string): string | undefined {
  const m = new RegExp(`--${name}[= ]+(\\S+)`).exec(commandLine);
  return m?.[1];
}

describe("docker-compose.yml", () => {
  test("has the services of the pipeline", () => {
    for (const name of ["opensearch", "opensearch-dashboards", "moto", "setup", "worker", "producer"]) {
      assert.ok(services[name], `service ${name} is missing`);
    }
    for (const name of OURS) assert.ok(services[name]!.build, `${name} is built from the repo's Dockerfile`);
  });

  test("our services use only known setting names (or standard AWS_* ones), with valid values", () => {
    for (const name of OURS) {
      for (const [key, value] of Object.entries(env(name))) {
        const setting = settingByEnv.get(key);
        if (!setting) {
          assert.match(
            key,
            /^AWS_[A-Z_]+$/,
            `${name}: ${key} is not a setting of src/platform/config/settings.ts`,
          );
          continue;
        }
        const parsed = setting.schema.safeParse(value);
        assert.ok(parsed.success, `${name}: ${key}=${value} fails its schema: ${parsed.error?.message}`);
      }
    }
  });

  test("OpenSearch is configured for a single node without security, and OPENSEARCH_URL points at it", () => {
    const os = env("opensearch");
    assert.equal(os["discovery.type"], "single-node");
    assert.equal(os["DISABLE_SECURITY_PLUGIN"], "true");
    assert.equal(os["DISABLE_INSTALL_DEMO_CONFIG"], "true");
    assert.equal(env("opensearch-dashboards")["DISABLE_SECURITY_DASHBOARDS_PLUGIN"], "true");
    const osPorts = containerPorts("opensearch");
    assert.ok(osPorts.includes(9200), "OpenSearch's HTTP port is published");
    for (const name of ["setup", "worker"]) {
      const url = new URL(env(name)["OPENSEARCH_URL"] ?? "");
      assert.equal(url.hostname, "opensearch", `${name}: OPENSEARCH_URL host`);
      assert.ok(osPorts.includes(Number(url.port)), `${name}: OPENSEARCH_URL port ${url.port}`);
    }
    const hosts = JSON.parse(env("opensearch-dashboards")["OPENSEARCH_HOSTS"] ?? "[]") as string[];
    assert.deepEqual(
      hosts.map((h) => new URL(h).host),
      ["opensearch:9200"],
    );
  });

  test("the S3/SQS/SNS endpoints and the queue URL point at the emulator's port", () => {
    const motoPorts = containerPorts("moto");
    const motoPort = Number(env("moto")["MOTO_PORT"]);
    assert.ok(motoPorts.includes(motoPort), `moto listens on ${motoPort} and publishes it`);
    const motoArgs = words(services["moto"]!.command).split(/\s+/);
    assert.equal(motoArgs[motoArgs.indexOf("-p") + 1], String(motoPort), "moto_server -p");
    for (const name of OURS) {
      const e = env(name);
      for (const key of ["S3_ENDPOINT", "SQS_ENDPOINT", "SNS_ENDPOINT"]) {
        const url = new URL(e[key] ?? "");
        assert.equal(url.hostname, "moto", `${name}: ${key} host`);
        assert.equal(Number(url.port), motoPort, `${name}: ${key} port`);
      }
    }
    const queueUrl = new URL(env("worker")["SQS_QUEUE_URL"] ?? "");
    assert.equal(queueUrl.host, `moto:${motoPort}`);
  });

  test("bucket and queue names agree between setup, producer and worker", () => {
    const setupCmd = words(services["setup"]!.command);
    const producerCmd = words(services["producer"]!.command);
    const bucket = flag(setupCmd, "bucket");
    assert.ok(bucket, "setup creates a bucket");
    assert.equal(flag(producerCmd, "bucket"), bucket);
    assert.deepEqual(env("worker")["BUCKET_ALLOWLIST"]?.split(","), [bucket]);
    const queue = flag(setupCmd, "queue");
    assert.ok(queue && /--setup\b/.test(setupCmd), "setup provisions the queue");
    assert.equal(new URL(env("worker")["SQS_QUEUE_URL"]!).pathname.split("/").at(-1), queue);
  });

  test("the worker's METRICS_PORT is the published port and the one its healthcheck probes", () => {
    const e = env("worker");
    const port = Number(e["METRICS_PORT"]);
    assert.ok(port > 0);
    assert.equal(e["METRICS_HOST"], "0.0.0.0", "reachable from outside the container");
    assert.ok(containerPorts("worker").includes(port));
    const probe = words(services["worker"]!.healthcheck?.test);
    assert.match(probe, new RegExp(`:${port}/healthz`));
    assert.equal(
      services["worker"]!.command && words(services["worker"]!.command),
      "worker",
      "the worker service runs the worker command",
    );
  });

  test("ordering: setup waits for healthy services; worker and producer wait for setup", () => {
    const deps = (name: string) => services[name]!.depends_on as Record<string, { condition: string }>;
    for (const dep of ["opensearch", "moto"]) assert.equal(deps("setup")[dep]?.condition, "service_healthy");
    for (const name of ["worker", "producer"]) {
      assert.equal(deps(name)["setup"]?.condition, "service_completed_successfully");
    }
  });

  test("image versions agree with the Docker-less stack", () => {
    const osVersion = /OPENSEARCH_VERSION="([^"]+)"/.exec(stackScript)?.[1];
    const motoVersion = /MOTO_VERSION="([^"]+)"/.exec(stackScript)?.[1];
    assert.ok(osVersion && motoVersion);
    assert.equal(services["opensearch"]!.image, `opensearchproject/opensearch:${osVersion}`);
    assert.equal(
      services["opensearch-dashboards"]!.image,
      `opensearchproject/opensearch-dashboards:${osVersion}`,
    );
    assert.equal(services["moto"]!.image, `motoserver/moto:${motoVersion}`);
  });
});

describe("Dockerfile", () => {
  test("multi-stage build, production dependencies only, unprivileged user", () => {
    const stages = dockerfile.match(/^FROM\s+\S+/gm) ?? [];
    assert.ok(stages.length >= 2, "multi-stage");
    for (const s of stages) assert.match(s, /node:24-(slim|alpine)/);
    const final = dockerfile.slice(dockerfile.lastIndexOf("\nFROM "));
    assert.match(final, /npm ci --omit=dev/);
    assert.match(final, /^USER node$/m);
    assert.match(final, /COPY --from=build \/app\/dist/);
  });

  test("the image's metrics port is exposed, bound beyond loopback and probed by its healthcheck", () => {
    const port = /METRICS_PORT=(\d+)/.exec(dockerfile)?.[1];
    assert.ok(port);
    assert.ok(settingByEnv.has("METRICS_PORT") && settingByEnv.has("METRICS_HOST"));
    assert.match(dockerfile, /METRICS_HOST=0\.0\.0\.0/);
    assert.match(dockerfile, new RegExp(`^EXPOSE ${port}$`, "m"));
    assert.match(dockerfile, /HEALTHCHECK[\s\S]*\/healthz/);
  });
});
