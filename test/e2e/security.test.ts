/**
 * Security promises of the worker against the real stack (docs/SECURITY.md):
 * - TLS to OpenSearch with a custom CA and basic auth, proven against a real TLS endpoint (an HTTPS proxy
 *   in front of the local OpenSearch, with a CA and certificates this test makes with openssl); a wrong CA
 *   or host name fails closed and says why; OPENSEARCH_TLS_INSECURE is loud.
 * - Secrets never appear in logs, errors or metrics (canary values, successful and failing runs).
 * - Least privilege: a recording proxy in front of moto sees only the IAM actions the docs list, and no
 *   GetObject outside the bucket allowlist.
 */
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import { encodeS3Key } from "../../src/core/notifications/index.ts";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.ts";
import { CLI, countDocs, produce, queueDepth, startWorker, waitFor } from "../helpers/processes.ts";
import {
  awsClients,
  createBucketWithQueueNotification,
  indexPrefixes,
  opensearchClient,
  stackEnv,
  uniqueName,
} from "../helpers/stack.ts";

const env = stackEnv();
const aws = awsClients(env);
const os = opensearchClient(env);
const dir = mkdtempSync(join(tmpdir(), "tg-security-"));

/** Unique secret-looking values: none may ever be printed, in any form. */
const CANARY = {
  password: `pw-canary-${uniqueName("x")}`,
  secretKey: `sk-canary-${uniqueName("x")}`,
  sessionToken: `st-canary-${uniqueName("x")}`,
  urlPassword: `url-canary-${uniqueName("x")}`,
};
const USER = "tg-ingest";
function leaks(text: string): string[] {
  const forms = Object.values(CANARY).flatMap((c) => [
    c,
    c.slice(0, 12) + c.slice(-8), // glued fragments would still be a leak of the distinctive part
    Buffer.from(`${USER}:${c}`).toString("base64"),
    Buffer.from(c).toString("base64"),
    encodeURIComponent(c),
  ]);
  return forms.filter((f) => text.includes(f) || text.includes(f.slice(-20)));
}

/**
 * Runs the CLI to completion and returns everything it printed. Asynchronous on purpose: the proxies it
 * talks to run in this process.
 */
async function runCli(args: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...extraEnv },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => {
    out += c;
  });
  child.stderr.on("data", (c: Buffer) => {
    out += c;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  const [code] = (await once(child, "exit")) as [number | null];
  clearTimeout(timer);
  return { code: code ?? -1, out };
}

function openssl(...args: string[]) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/** A CA and a certificate it signs for the given subjectAltName. */
function makeCa(name: string) {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  );
  return join(dir, `${name}.pem`);
}
function makeCert(name: string, ca: string, san: string) {
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
  );
  openssl(
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${ca}.pem`,
    "-CAkey",
    `${ca}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  );
  return { key: readFileSync(join(dir, `${name}.key`)), cert: readFileSync(join(dir, `${name}.pem`)) };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let caFile = "";
let otherCaFile = "";
let goodTls: FaultProxy;
let wrongHostTls: FaultProxy;
const proxies: FaultProxy[] = [];

/** The TLS endpoint's basic auth, as nginx's auth_basic would do it. */
function requireAuth(p: FaultProxy) {
  const expected = `Basic ${Buffer.from(`${USER}:${CANARY.password}`).toString("base64")}`;
  p.fault = (req) =>
    req.headers.authorization === expected
      ? undefined
      : {
          kind: "status",
          status: 401,
          headers: { "content-type": "application/json", "www-authenticate": 'Basic realm="opensearch"' },
          body: JSON.stringify({ error: "Unauthorized", status: 401 }),
        };
}

before(async () => {
  caFile = makeCa("ca");
  otherCaFile = makeCa("other-ca");
  const good = makeCert("opensearch", "ca", "IP:127.0.0.1,DNS:localhost");
  const wrong = makeCert("wrong-host", "ca", "DNS:wrong.example");
  goodTls = await startFaultProxy(env.opensearchUrl, { tls: good });
  wrongHostTls = await startFaultProxy(env.opensearchUrl, { tls: wrong });
  requireAuth(goodTls);
  requireAuth(wrongHostTls);
  proxies.push(goodTls, wrongHostTls);
});

after(async () => {
  for (const p of proxies) await p.close();
  aws.destroy();
  await os.close();
  rmSync(dir, { recursive: true, force: true });
});

const AWS_CANARIES = { AWS_SECRET_ACCESS_KEY: CANARY.secretKey, AWS_SESSION_TOKEN: CANARY.sessionToken };
const WORKER_IAM = new Set([
  "sqs:ReceiveMessage",
  "sqs:DeleteMessage",
  "sqs:ChangeMessageVisibility",
  "sqs:GetQueueAttributes",
  "s3:GetObject",
]);
const BACKFILL_IAM = new Set(["s3:ListBucket", "s3:GetObject"]);

async function queueWithFiles(name: string, slots = 2) {
  const bucket = uniqueName(name);
  const p = await createBucketWithQueueNotification(
    { bucket, queue: bucket },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  const s = await produce([
    "--bucket",
    bucket,
    "--from",
    "2025-07-25T10:00:00Z",
    "--to",
    `2025-07-25T10:${String(slots * 5).padStart(2, "0")}:00Z`,
    "--rate",
    "0.2",
  ]);
  return { bucket, queueUrl: p.queueUrl, s };
}

describe("security", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();
  it("TLS with a custom CA and basic auth: ingests; only the documented IAM actions; no GetObject outside the allowlist; no secret in logs or metrics", async (t) => {
    const { bucket, queueUrl, s } = await queueWithFiles("sec-tls");
    const foreign = await queueWithFiles("sec-foreign", 1);
    // A notification naming a bucket that exists and has files, but is not allowlisted.
    await aws.sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({
          Records: [
            {
              eventSource: "aws:s3",
              eventName: "ObjectCreated:Put",
              eventTime: new Date().toISOString(),
              awsRegion: "us-east-1",
              s3: {
                bucket: { name: foreign.bucket, arn: `arn:aws:s3:::${foreign.bucket}` },
                object: { key: encodeS3Key(foreign.s.files[0]!.key), size: 1 },
              },
            },
          ],
        }),
      }),
    );
    const s3p = await startFaultProxy(env.s3Endpoint);
    const sqsp = await startFaultProxy(env.sqsEndpoint);
    proxies.push(s3p, sqsp);
    const prefix = newPrefix("sec");
    const metricsPort = await freePort();
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      args: ["--metrics-port", String(metricsPort)],
      env: {
        OPENSEARCH_URL: goodTls.url,
        OPENSEARCH_CA_FILE: caFile,
        OPENSEARCH_USERNAME: USER,
        OPENSEARCH_PASSWORD: CANARY.password,
        S3_ENDPOINT: s3p.url,
        SQS_ENDPOINT: sqsp.url,
        BUCKET_ALLOWLIST: bucket,
        LOG_LEVEL: "debug",
        ...AWS_CANARIES,
      },
    });
    let metrics = "";
    try {
      await waitFor(
        "every record indexed through TLS, the queue drained",
        async () => ({
          docs: await countDocs(os, `${prefix}-*`).catch(() => -1),
          q: await queueDepth(aws.sqs, queueUrl),
        }),
        (x) => x.docs >= s.valid && x.q.visible + x.q.inFlight === 0,
        90_000,
      );
      assert.equal(await countDocs(os, `${prefix}-*`), s.valid, "exact count over TLS");
      metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
      metrics += await (await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).text();
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    const actions = new Set([...s3p.requests, ...sqsp.requests].map((r) => r.action));
    t.diagnostic(`worker actions: ${[...actions].sort().join(", ")}`);
    for (const a of actions) assert.ok(WORKER_IAM.has(a), `${a} is one of the documented IAM actions`);
    const buckets = new Set(s3p.requests.filter((r) => r.action === "s3:GetObject").map((r) => r.bucket));
    assert.deepEqual([...buckets], [bucket], "GetObject only on the allowlisted bucket");
    assert.ok(
      goodTls.requests.some((r) => r.url.startsWith("/_bulk")),
      "bulk requests went through TLS",
    );
    assert.deepEqual(leaks(worker.logs() + metrics), [], "no secret in logs or metrics");

    // Backfill of the same bucket through the recording proxy: ListBucket and GetObject only.
    s3p.requests.length = 0;
    const bf = await runCli(
      [
        "backfill",
        "--bucket",
        bucket,
        "--from",
        "2025-07-25",
        "--to",
        "2025-07-26",
        "--index-prefix",
        prefix,
        "--checkpoint",
        join(dir, "bf.json"),
      ],
      {
        OPENSEARCH_URL: goodTls.url,
        OPENSEARCH_CA_FILE: caFile,
        OPENSEARCH_USERNAME: USER,
        OPENSEARCH_PASSWORD: CANARY.password,
        S3_ENDPOINT: s3p.url,
        LOG_LEVEL: "debug",
        ...AWS_CANARIES,
      },
    );
    assert.equal(bf.code, 0, bf.out.slice(-3000));
    const bfActions = new Set(s3p.requests.map((r) => r.action));
    t.diagnostic(`backfill actions: ${[...bfActions].sort().join(", ")}`);
    for (const a of bfActions)
      assert.ok(BACKFILL_IAM.has(a), `${a} is one of backfill's documented IAM actions`);
    assert.deepEqual(leaks(bf.out), [], "no secret in backfill output");
    assert.equal(await countDocs(os, `${prefix}-*`), s.valid, "backfill after the worker: still exact");
  });

  it("fails closed with a clear message: wrong CA, wrong host name, rejected credentials; no secret printed", async (t) => {
    const base = {
      OPENSEARCH_USERNAME: USER,
      OPENSEARCH_PASSWORD: CANARY.password,
      OPENSEARCH_TIMEOUT_MS: "3000",
      // The stuck message is released at once on stop instead of after the 30 s default.
      SHUTDOWN_TIMEOUT_MS: "500",
      ...AWS_CANARIES,
    };
    const cases = [
      {
        name: "wrong CA",
        env: { OPENSEARCH_URL: goodTls.url, OPENSEARCH_CA_FILE: otherCaFile },
        says: /certificate|self[- ]signed|unable to verify|local issuer/i,
        setting: /OPENSEARCH_CA_FILE/,
      },
      {
        name: "no CA given (system trust store)",
        env: { OPENSEARCH_URL: goodTls.url.replace("https://", `https://${USER}:${CANARY.urlPassword}@`) },
        says: /certificate|self[- ]signed|unable to verify|local issuer/i,
        setting: /OPENSEARCH_CA_FILE/,
      },
      {
        name: "wrong host name",
        env: { OPENSEARCH_URL: wrongHostTls.url, OPENSEARCH_CA_FILE: caFile },
        says: /altnames|hostname|does not match|names/i,
        setting: /OPENSEARCH_URL/,
      },
      {
        name: "credentials rejected",
        env: {
          OPENSEARCH_URL: goodTls.url,
          OPENSEARCH_CA_FILE: caFile,
          OPENSEARCH_PASSWORD: `${CANARY.password}-wrong`,
        },
        says: /401|unauthori[sz]ed|authentication/i,
        setting: /OPENSEARCH_PASSWORD/,
      },
    ];
    for (const c of cases) {
      // A queue per case: every failed receive counts towards maxReceiveCount.
      const { queueUrl, s } = await queueWithFiles("sec-closed", 1);
      const prefix = newPrefix("secf");
      const worker = startWorker({
        queueUrl,
        indexPrefix: prefix,
        args: ["--visibility-timeout", "10"],
        env: { ...base, ...c.env },
      });
      try {
        // what no wait can fix fails fast at start-up (#28): exit 2, one line naming the setting and why
        await waitFor(
          `${c.name}: the worker exits`,
          async () => worker.child.exitCode,
          (code) => code !== null,
          60_000,
        );
        assert.equal(
          worker.child.exitCode,
          2,
          `${c.name}: a configuration error: ${worker.logs().slice(-600)}`,
        );
        const q = await queueDepth(aws.sqs, queueUrl);
        // (the bucket's s3:TestEvent is there too: no worker ran to acknowledge it)
        assert.ok(q.visible + q.inFlight >= s.files.length, `${c.name}: no message deleted`);
        assert.equal(await countDocs(os, `${prefix}-*`), 0, `${c.name}: nothing written`);
      } finally {
        await worker.stop();
      }
      const logs = worker.logs();
      assert.match(logs, c.says, `${c.name}: it says why: ${logs.slice(-600)}`);
      assert.match(logs, c.setting, `${c.name}: it names the setting: ${logs.slice(-600)}`);
      t.diagnostic(`${c.name}: ${logs.trim().split("\n").at(-1)}`);
      assert.deepEqual(leaks(logs), [], `${c.name}: no secret in the logs`);
      assert.doesNotMatch(logs, /"level":30.*"msg":"object ingested"/, `${c.name}: nothing ingested`);
    }
  });

  it("OPENSEARCH_TLS_INSECURE is the only way around verification, and it is loud", async () => {
    const { queueUrl, s } = await queueWithFiles("sec-insecure", 1);
    const prefix = newPrefix("seci");
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: {
        OPENSEARCH_URL: wrongHostTls.url,
        OPENSEARCH_TLS_INSECURE: "true",
        OPENSEARCH_USERNAME: USER,
        OPENSEARCH_PASSWORD: CANARY.password,
        ...AWS_CANARIES,
      },
    });
    try {
      await waitFor(
        "indexed",
        () => countDocs(os, `${prefix}-*`).catch(() => -1),
        (n) => n >= s.valid,
        60_000,
      );
    } finally {
      await worker.stop();
    }
    assert.match(worker.logs(), /"level":40.*TLS VERIFICATION OF OPENSEARCH IS DISABLED/);
    assert.deepEqual(leaks(worker.logs()), []);
  });

  it("bad settings: the error names the setting, never a secret's value", async () => {
    const runs = [
      {
        env: { OPENSEARCH_URL: "not a url", OPENSEARCH_PASSWORD: CANARY.password, OPENSEARCH_USERNAME: USER },
        names: /OPENSEARCH_URL/,
      },
      {
        env: { OPENSEARCH_PASSWORD: CANARY.password, OPENSEARCH_USERNAME: "" },
        names: /OPENSEARCH_USERNAME/,
      },
      {
        env: {
          OPENSEARCH_URL: `http://${USER}:${CANARY.urlPassword}@127.0.0.1:1`,
          OPENSEARCH_TIMEOUT_MS: "12",
        },
        names: /OPENSEARCH_TIMEOUT_MS/,
      },
      {
        env: {
          OPENSEARCH_CA_FILE: join(dir, "missing.pem"),
          OPENSEARCH_PASSWORD: CANARY.password,
          OPENSEARCH_USERNAME: USER,
        },
        names: /OPENSEARCH_CA_FILE/,
      },
    ];
    for (const r of runs) {
      const res = await runCli(
        ["worker", "--queue-url", `${env.sqsEndpoint}/000000000000/none`, "--metrics-port", "0"],
        {
          ...AWS_CANARIES,
          ...r.env,
        },
      );
      assert.notEqual(res.code, 0, `a bad setting fails: ${res.out.slice(-500)}`);
      assert.match(res.out, r.names, "the error names the setting");
      assert.deepEqual(leaks(res.out), [], `no secret in: ${res.out.slice(-500)}`);
    }
  });
});
