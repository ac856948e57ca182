/**
 * Against a real secured cluster: OpenSearch with its security plugin, TLS with the stack's own CA, users and
 * roles (scripts/stack.sh with STACK_SECURITY=1, started here when not running; docs/SECURITY.md).
 * - setup as admin, then the worker as a user holding only the documented role
 *   (deploy/opensearch/security-roles.json): every record indexed, the queue drained, no error;
 * - TLS verification is on by default: the stack's CA given, it works; no CA, a wrong CA or a host name the
 *   certificate does not name fail, and the log says why;
 * - the users' passwords are never printed.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import {
  countDocs,
  produce,
  queueDepth,
  runCli,
  startCli,
  startWorker,
  waitFor,
} from "../helpers/processes.ts";
import {
  adminClient,
  cliEnv,
  documentedRoles,
  makeUser,
  type SecuredStack,
  securedStack,
} from "../helpers/secured-stack.ts";
import { awsClients, createBucketWithQueueNotification, uniqueName } from "../helpers/stack.ts";

const aws = awsClients();
const dir = mkdtempSync(join(tmpdir(), "tg-secured-"));
let stack: SecuredStack;
let admin: Client;
const prefixes: string[] = [];
const cleanups: (() => Promise<void>)[] = [];

before(() => {
  stack = securedStack();
  admin = adminClient(stack);
});

after(async () => {
  for (const c of cleanups) await c().catch(() => undefined);
  if (admin) {
    for (const p of prefixes) {
      await admin.indices.delete({ index: `${p}-*`, expand_wildcards: "all" }).catch(() => undefined);
      await admin.indices.deleteIndexTemplate({ name: `${p}*` }).catch(() => undefined);
      await admin.cluster.deleteComponentTemplate({ name: `${p}*` }).catch(() => undefined);
    }
    await admin.close();
  }
  aws.destroy();
  rmSync(dir, { recursive: true, force: true });
});

function newPrefix(name: string): string {
  const p = uniqueName(name);
  prefixes.push(p);
  return p;
}

/** Values that must never be printed: a password and the forms it could leak in. */
function leaks(text: string, secrets: string[], user: string): string[] {
  return secrets
    .flatMap((s) => [s, Buffer.from(`${user}:${s}`).toString("base64"), encodeURIComponent(s)])
    .filter((f) => text.includes(f));
}

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
  return { bucket, queueUrl: p.queueUrl, dlqUrl: p.dlqUrl, s };
}

/** A worker user: its own copy of the documented worker role for the prefix. */
async function workerUser(prefix: string) {
  const role = documentedRoles(prefix)["twingate_ingest_worker"];
  assert.ok(role, "the documented worker role exists");
  const u = await makeUser(admin, "tgw", role);
  cleanups.push(u.drop);
  return u;
}

async function setupAsAdmin(prefix: string) {
  await runCli(["setup", "--index-prefix", prefix], { ...cliEnv(stack, stack.admin), LOG_LEVEL: "warn" });
}

describe("secured cluster (security plugin, TLS)", { timeout: 600_000 }, () => {
  it("setup as admin, the worker as the least-privilege user: every record indexed, the queue drained, no error, no password printed", async () => {
    const prefix = newPrefix("sec-ok");
    await setupAsAdmin(prefix);
    const user = await workerUser(prefix);
    const { bucket, queueUrl, s } = await queueWithFiles("sec-ok");
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: { ...cliEnv(stack, user), LOG_LEVEL: "debug" },
    });
    try {
      await waitFor(
        "every record indexed over TLS as the worker user, the queue drained",
        async () => ({
          docs: await countDocs(admin, `${prefix}-*`).catch(() => -1),
          q: await queueDepth(aws.sqs, queueUrl),
        }),
        (x) => x.docs >= s.valid && x.q.visible + x.q.inFlight === 0,
        120_000,
      );
      assert.equal(await countDocs(admin, `${prefix}-*`), s.valid, "exact count");
      assert.equal(await countDocs(admin, `${prefix}-quarantine-*`), 0, "nothing quarantined");
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    const logs = worker.logs();
    assert.doesNotMatch(logs, /"level":(50|60)/, "no error logged");
    assert.doesNotMatch(logs, /no permissions|security_exception/, "no permission was missing");
    assert.deepEqual(leaks(logs, [user.password, stack.admin.password], user.username), []);

    // gaps and replay as a user with only the documented replay role
    const replayRole = documentedRoles(prefix)["twingate_ingest_replay"];
    assert.ok(replayRole, "the documented replay role exists");
    const ru = await makeUser(admin, "tgr", replayRole);
    cleanups.push(ru.drop);
    const asReplay = { ...cliEnv(stack, ru), LOG_LEVEL: "info" };
    const gaps = await startCli(
      [
        "gaps",
        "--bucket",
        bucket,
        "--from",
        "2025-07-25",
        "--to",
        "2025-07-26",
        "--index-prefix",
        prefix,
        "--json",
      ],
      asReplay,
    ).done;
    assert.equal(gaps.code, 0, gaps.stderr.slice(-2000));
    const replay = await startCli(["replay", "--index-prefix", prefix, "--since", "7d", "--json"], asReplay)
      .done;
    assert.equal(replay.code, 0, replay.stderr.slice(-2000));
    for (const out of [gaps.stdout + gaps.stderr, replay.stdout + replay.stderr]) {
      assert.doesNotMatch(out, /no permissions|security_exception/);
      assert.deepEqual(leaks(out, [ru.password, stack.admin.password], ru.username), []);
    }
  });

  it("TLS verification is on by default: no CA, a wrong CA or a host name the certificate does not name fail with a clear message", async () => {
    // a CA that did not sign the node's certificate
    execFileSync(
      "openssl",
      ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other-ca"].concat([
        "-keyout",
        join(dir, "other.key"),
        "-out",
        join(dir, "other.pem"),
      ]),
      { stdio: "ignore" },
    );
    // the node by a name its certificate lacks: IPv6 loopback, forwarded to the node (SAN: 127.0.0.1, localhost)
    const port = Number(new URL(stack.url).port);
    const proxy: Server = createServer((c) => {
      const up = connect(port, "127.0.0.1");
      c.pipe(up).pipe(c);
      c.on("error", () => up.destroy());
      up.on("error", () => c.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "::1", () => r()));
    const v6 = `https://[::1]:${(proxy.address() as { port: number }).port}`;
    const prefix = newPrefix("sec-tls");
    const user = { username: stack.admin.username, password: stack.admin.password };
    const cases = [
      {
        name: "no CA given (system trust store)",
        env: { OPENSEARCH_CA_FILE: "" },
        says: /certificate|unable to verify|self[- ]signed|local issuer/i,
      },
      {
        name: "wrong CA",
        env: { OPENSEARCH_CA_FILE: join(dir, "other.pem") },
        says: /certificate|unable to verify|self[- ]signed|local issuer/i,
      },
      {
        name: "wrong host name",
        env: { OPENSEARCH_URL: v6 },
        says: /altnames|hostname|does not match|not in the cert/i,
      },
    ];
    try {
      const { queueUrl, s } = await queueWithFiles("sec-tls", 1);
      for (const c of cases) {
        const env: NodeJS.ProcessEnv = { ...cliEnv(stack, user), ...c.env };
        if (env["OPENSEARCH_CA_FILE"] === "") delete env["OPENSEARCH_CA_FILE"];
        const worker = startWorker({
          queueUrl,
          indexPrefix: prefix,
          args: ["--visibility-timeout", "10"],
          env: { ...env, OPENSEARCH_TIMEOUT_MS: "3000", SHUTDOWN_TIMEOUT_MS: "500" },
        });
        try {
          await waitFor(
            `${c.name}: the failure is logged`,
            async () => worker.logs(),
            (l) => c.says.test(l),
            60_000,
          );
        } finally {
          await worker.stop();
        }
        const line = worker
          .logs()
          .split("\n")
          .find((l) => c.says.test(l));
        assert.ok(line, `${c.name}: a log line says why`);
        const q = await queueDepth(aws.sqs, queueUrl);
        // every file's message is still there (the bucket's s3:TestEvent may be acknowledged: it names no object)
        assert.ok(q.visible + q.inFlight >= s.files.length, `${c.name}: no file's message deleted`);
        assert.equal(await countDocs(admin, `${prefix}-*`), 0, `${c.name}: nothing written`);
        assert.deepEqual(
          leaks(worker.logs(), [stack.admin.password], user.username),
          [],
          `${c.name}: no password`,
        );
      }
      // doctor says the same, and names the setting to fix
      const r = await startCli(["doctor", "--json", "--queue-url", queueUrl], {
        ...cliEnv(stack, user),
        OPENSEARCH_CA_FILE: join(dir, "other.pem"),
      }).done;
      const doc = r.stdout + r.stderr;
      assert.notEqual(r.code, 0, "doctor fails");
      assert.match(doc, /OPENSEARCH_CA_FILE/);
      assert.ok(!doc.includes(stack.admin.password));
    } finally {
      proxy.close();
    }
    assert.ok(readFileSync(stack.caFile, "utf8").includes("BEGIN CERTIFICATE"));
  });
});
