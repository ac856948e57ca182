/**
 * No index without the templates (issue #28): a worker started on an empty cluster installs them before
 * its first write (AUTO_SETUP, the default); templates deleted while it runs are installed again before
 * the next period's index is born; with AUTO_SETUP off it refuses to start (exit 2, naming `setup`), and
 * templates deleted under it hold the new index's writes (/readyz says why) until `setup` runs.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Client } from "@opensearch-project/opensearch";
import { countDocs, produce, runCli, startCli, startWorker, waitFor } from "../helpers/processes.ts";
import { dropPrefix, freePort, indexPrefixes, uniqueName, useStack } from "../helpers/stack.ts";

const { os } = useStack();

/** The mapped type of `field` in each index matching the pattern: {index: type | undefined}. */
async function fieldTypes(client: Client, pattern: string, field: string): Promise<Record<string, string>> {
  const res = await client.transport.request({
    method: "GET",
    path: `/${pattern}/_mapping/field/${field}`,
  });
  const out: Record<string, string> = {};
  for (const [index, m] of Object.entries(
    res.body as Record<string, { mappings: Record<string, unknown> }>,
  )) {
    const f = m.mappings[field] as { mapping?: Record<string, { type?: string }> } | undefined;
    const leaf = field.split(".").at(-1)!;
    out[index] = f?.mapping?.[leaf]?.type ?? "unmapped";
  }
  return out;
}

async function deleteTemplates(prefix: string): Promise<void> {
  await os.indices.deleteIndexTemplate({ name: `${prefix}*` });
  await os.cluster.deleteComponentTemplate({ name: `${prefix}*` });
}

const window = (from: string, to: string) => ["--from", from, "--to", to, "--rate", "0.1"];

describe("no index without the templates", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();

  it("a worker on an empty cluster installs them before its first write; deleted while it runs: installed again before the next index", async () => {
    const bucket = uniqueName("tg-guard");
    const prefix = newPrefix("guard1");
    const first = await produce([
      "--bucket",
      bucket,
      "--setup",
      "--queue",
      bucket,
      ...window("2025-07-25T10:00:00Z", "2025-07-25T10:15:00Z"),
    ]);
    const queueUrl = first.queue_url!;
    const worker = startWorker({ queueUrl, indexPrefix: prefix, env: { BUCKET_ALLOWLIST: bucket } });
    try {
      await waitFor(
        "July's network_access documents",
        () => countDocs(os, `${prefix}-network_access-*`),
        (n) => n === first.by_event_type["network_access"],
      );
      assert.deepEqual(await fieldTypes(os, `${prefix}-network_access-*`, "source.ip"), {
        [`${prefix}-network_access-2025.07`]: "ip",
      });
      // Someone deletes the templates while the worker runs; the next period's index is born after.
      await deleteTemplates(prefix);
      const second = await produce([
        "--bucket",
        bucket,
        ...window("2025-08-02T10:00:00Z", "2025-08-02T10:10:00Z"),
      ]);
      await waitFor(
        "August's network_access documents",
        () => countDocs(os, `${prefix}-network_access-2025.08`),
        (n) => n === second.by_event_type["network_access"],
      );
      assert.deepEqual(await fieldTypes(os, `${prefix}-network_access-2025.08`, "source.ip"), {
        [`${prefix}-network_access-2025.08`]: "ip",
      });
    } finally {
      assert.equal(await worker.stop(), 0);
    }
    assert.doesNotMatch(worker.logs(), /dynamic mappings/);
  });

  it("AUTO_SETUP=false: refuses to start without them (exit 2, naming setup); deleted while running: the new index waits for setup", async () => {
    const bucket = uniqueName("tg-guard-off");
    const prefix = newPrefix("guard2");
    const first = await produce([
      "--bucket",
      bucket,
      "--setup",
      "--queue",
      bucket,
      ...window("2025-07-25T10:00:00Z", "2025-07-25T10:10:00Z"),
    ]);
    const queueUrl = first.queue_url!;
    const refused = await startCli(["worker", "--queue-url", queueUrl, "--index-prefix", prefix], {
      AUTO_SETUP: "false",
      METRICS_PORT: "0",
    }).done;
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /twingate-ingest setup/);
    assert.doesNotMatch(refused.stderr, /\n\s+at /, "no stack trace");
    assert.equal(await countDocs(os, `${prefix}-*`), 0, "nothing written");
    // a bucket of BUCKET_ALLOWLIST that does not exist: exit 2 naming it, before any template is installed
    const typo = await startCli(["worker", "--queue-url", queueUrl, "--index-prefix", prefix], {
      BUCKET_ALLOWLIST: `${bucket}-typo`,
      METRICS_PORT: "0",
    }).done;
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(typo.stderr, new RegExp(`the bucket ${bucket}-typo does not exist .*BUCKET_ALLOWLIST`));
    assert.doesNotMatch(typo.stderr, /\n\s+at /, "no stack trace");
    assert.equal((await os.indices.existsIndexTemplate({ name: `${prefix}-audit_log` })).body, false);

    await runCli(["setup", "--index-prefix", prefix]);
    const port = await freePort();
    const worker = startWorker({
      queueUrl,
      indexPrefix: prefix,
      env: { BUCKET_ALLOWLIST: bucket, AUTO_SETUP: "false" },
      args: ["--metrics-port", String(port)],
    });
    try {
      await waitFor(
        "July's documents",
        () => countDocs(os, `${prefix}-network_access-*`),
        (n) => n === first.by_event_type["network_access"],
      );
      await deleteTemplates(prefix);
      const second = await produce([
        "--bucket",
        bucket,
        ...window("2025-08-02T10:00:00Z", "2025-08-02T10:05:00Z"),
      ]);
      const readyz = await waitFor(
        "/readyz naming setup",
        async () => {
          const r = await fetch(`http://127.0.0.1:${port}/readyz`);
          return { status: r.status, body: await r.text() };
        },
        (r) => r.status === 503 && /twingate-ingest setup/.test(r.body),
      );
      assert.match(readyz.body, /templates/);
      const indices = await os.cat
        .indices({ index: `${prefix}-*-2025.08`, format: "json" } as never)
        .catch(() => ({ body: [] }));
      assert.deepEqual(indices.body, [], "no August index born without the templates");
      await runCli(["setup", "--index-prefix", prefix]);
      await waitFor(
        "August's documents once setup ran",
        () => countDocs(os, `${prefix}-network_access-2025.08`),
        (n) => n === second.by_event_type["network_access"],
      );
      assert.deepEqual(await fieldTypes(os, `${prefix}-network_access-2025.08`, "source.ip"), {
        [`${prefix}-network_access-2025.08`]: "ip",
      });
    } finally {
      assert.equal(await worker.stop(), 0);
      await dropPrefix(os, prefix);
    }
  });
});
