/**
 * A missing permission or a password no longer valid, against the real security plugin (scripts/stack.sh with STACK_SECURITY=1): the cluster
 * cannot take writes now, the records are fine. The message is held (not deleted, nothing quarantined, not
 * dead-lettered), the log and `doctor` name the permission, and the running worker goes on by itself once the
 * role is restored (docs/SECURITY.md).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
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
  putRole,
  type SecuredStack,
  securedStack,
  setPassword,
} from "../helpers/secured-stack.ts";
import { awsClients, createBucketWithQueueNotification, uniqueName } from "../helpers/stack.ts";

const aws = awsClients();
const dir = mkdtempSync(join(tmpdir(), "tg-secured-perm-"));
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
  const q = await queueOnly(name);
  return { ...q, s: await filesInto(q.bucket, slots) };
}

/** A bucket notifying a queue (and its DLQ), no files yet. */
async function queueOnly(name: string) {
  const bucket = uniqueName(name);
  const p = await createBucketWithQueueNotification(
    { bucket, queue: bucket },
    { s3: aws.s3, sqs: aws.sqs, sns: aws.sns },
  );
  return { bucket, queueUrl: p.queueUrl, dlqUrl: p.dlqUrl };
}

/** The producer's files for `slots` 5-minute slots into the bucket (each notifies the queue). */
async function filesInto(bucket: string, slots = 2) {
  return produce([
    "--bucket",
    bucket,
    "--from",
    "2025-07-25T10:00:00Z",
    "--to",
    `2025-07-25T10:${String(slots * 5).padStart(2, "0")}:00Z`,
    "--rate",
    "0.2",
  ]);
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

describe("secured cluster: a permission missing", { timeout: 600_000 }, () => {
  it("one permission removed (indices:data/write/index): held, not quarantined, not dead-lettered; the error and doctor name it; restored, ingestion resumes by itself", async () => {
    const prefix = newPrefix("sec-perm");
    await setupAsAdmin(prefix);
    const user = await workerUser(prefix);
    const full = documentedRoles(prefix)["twingate_ingest_worker"]!;
    const REMOVED = "indices:data/write/index";
    const partial = structuredClone(full);
    for (const ip of partial.index_permissions) {
      ip.allowed_actions = ip.allowed_actions.filter((a) => a !== REMOVED);
    }
    await putRole(admin, user.role, partial);
    const { queueUrl, dlqUrl, s } = await queueWithFiles("sec-perm");
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: cliEnv(stack, user) });
    try {
      await waitFor(
        "the worker's log names the missing permission",
        async () => worker.logs(),
        (l) => l.includes(REMOVED),
        90_000,
      );
      // the outage goes on for a while: nothing written or quarantined, nothing deleted or dead-lettered
      const doctor = await startCli(["doctor", "--json", "--queue-url", queueUrl, "--index-prefix", prefix], {
        ...cliEnv(stack, user),
      }).done;
      assert.notEqual(doctor.code, 0, "doctor fails");
      const report = JSON.parse(doctor.stdout) as {
        checks: { name: string; status: string; detail: string }[];
      };
      const perm = report.checks.find((r) => r.name === "OpenSearch permissions");
      assert.equal(perm?.status, "fail", JSON.stringify(perm));
      assert.match(perm!.detail, /lacks indices:data\/write\/index on sec-perm-/);
      assert.equal(
        await countDocs(admin, `${prefix}-*`),
        0,
        "nothing indexed or quarantined during the outage",
      );
      const q = await queueDepth(aws.sqs, queueUrl);
      // every file's message is still there (the bucket's s3:TestEvent may be acknowledged: it names no object)
      assert.ok(q.visible + q.inFlight >= s.files.length, "no file's message deleted");
      const dlq = await queueDepth(aws.sqs, dlqUrl);
      assert.equal(dlq.visible + dlq.inFlight, 0, "nothing dead-lettered");
      // the role restored: the same worker goes on by itself
      await putRole(admin, user.role, full);
      await waitFor(
        "every record indexed after the role was restored, the queue drained",
        async () => ({
          docs: await countDocs(admin, `${prefix}-*`).catch(() => -1),
          q: await queueDepth(aws.sqs, queueUrl),
        }),
        (x) => x.docs >= s.valid && x.q.visible + x.q.inFlight === 0,
        180_000,
      );
      assert.equal(await countDocs(admin, `${prefix}-*`), s.valid, "exact count");
      assert.equal(await countDocs(admin, `${prefix}-quarantine-*`), 0, "no good record quarantined");
      const dlqAfter = await queueDepth(aws.sqs, dlqUrl);
      assert.equal(dlqAfter.visible + dlqAfter.inFlight, 0, "nothing dead-lettered");
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    const line = worker
      .logs()
      .split("\n")
      .find((l) => l.includes(REMOVED));
    assert.match(line ?? "", /"level":(40|50)/, "the missing permission is logged as a warning or an error");
    assert.deepEqual(leaks(worker.logs(), [user.password], user.username), []);
  });
  it("the worker's password no longer valid (rotated or expired, 401): held, not quarantined, not dead-lettered; the password back, ingestion resumes by itself", async () => {
    const prefix = newPrefix("sec-401");
    await setupAsAdmin(prefix);
    const user = await workerUser(prefix);
    const rotated = `${user.password}-rotated`;
    // A password wrong at start-up is a configuration error (the worker exits 2 naming the setting, #28);
    // here it goes wrong while the worker runs: started with it valid, rotated, then files arrive.
    const { bucket, queueUrl, dlqUrl } = await queueOnly("sec-401");
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: cliEnv(stack, user) });
    try {
      await waitFor(
        "the worker started",
        async () => worker.logs(),
        (l) => l.includes("worker started"),
        90_000,
      );
      await setPassword(admin, user.username, rotated);
      const s = await filesInto(bucket);
      await waitFor(
        "the worker's log says 401",
        async () => worker.logs(),
        (l) => /401/.test(l),
        90_000,
      );
      assert.equal(await countDocs(admin, `${prefix}-*`), 0, "nothing indexed or quarantined");
      const q = await queueDepth(aws.sqs, queueUrl);
      assert.ok(q.visible + q.inFlight >= s.files.length, "no file's message deleted");
      const dlq = await queueDepth(aws.sqs, dlqUrl);
      assert.equal(dlq.visible + dlq.inFlight, 0, "nothing dead-lettered");
      await setPassword(admin, user.username, user.password);
      await waitFor(
        "every record indexed once the password is valid again, the queue drained",
        async () => ({
          docs: await countDocs(admin, `${prefix}-*`).catch(() => -1),
          q: await queueDepth(aws.sqs, queueUrl),
        }),
        (x) => x.docs >= s.valid && x.q.visible + x.q.inFlight === 0,
        180_000,
      );
      assert.equal(await countDocs(admin, `${prefix}-*`), s.valid, "exact count");
      assert.equal(await countDocs(admin, `${prefix}-quarantine-*`), 0, "no good record quarantined");
      const dlqAfter = await queueDepth(aws.sqs, dlqUrl);
      assert.equal(dlqAfter.visible + dlqAfter.inFlight, 0, "nothing dead-lettered");
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    assert.deepEqual(leaks(worker.logs(), [user.password, rotated], user.username), []);
  });
});
