/**
 * Loaded (`--import`) into every end-to-end test file's process by scripts/run-tests.mjs: when the file's
 * tests are done, the shared OpenSearch node (OPENSEARCH_URL) must hold no index, alias, index template or
 * component template under a name the file made with `uniqueName` (test/helpers/stack.ts registers each one
 * here). One left behind fails the file, named, with the objects: tests share a long-lived node, and what
 * they leave fills it up to its shard limit. The runner also compares the whole node before and after the
 * run (names made otherwise). A file whose process is still alive two minutes after its last test and hook
 * (something it opened and never closed) fails, named with what holds it, instead of holding the run.
 */
import { spawnSync } from "node:child_process";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

/** How long a test file's process may stay alive after its last test and hook (see the end of this file). */
const LINGER_MS = 120_000;

const KEY = Symbol.for("twingate-ingest.e2e.names");

/** The names registered by this process (test/helpers/stack.ts adds to the same set). */
export function registeredNames() {
  globalThis[KEY] ??= new Set();
  return globalThis[KEY];
}

/** Every index (with hidden and closed ones), alias, index template and component template of the node. */
export async function listObjects(url) {
  const get = async (path) => {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(15_000) });
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
    return res.json();
  };
  const [indices, aliases, indexTemplates, componentTemplates] = await Promise.all([
    get("/_cat/indices?format=json&h=index&expand_wildcards=all"),
    get("/_cat/aliases?format=json&h=alias"),
    get("/_index_template"),
    get("/_component_template"),
  ]);
  return {
    indices: indices.map((x) => x.index),
    aliases: [...new Set(aliases.map((x) => x.alias))],
    "index templates": (indexTemplates.index_templates ?? []).map((x) => x.name),
    "component templates": (componentTemplates.component_templates ?? []).map((x) => x.name),
  };
}

/** What this process's names left on the node: [kind, names][] (empty when nothing), or an error message. */
function leftovers(url, made) {
  // Synchronously, in a process of its own: an async request from a beforeExit handler races node:test's
  // own end of the file (a file with a stalled socket never ended).
  const res = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--list", url], {
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, NODE_TEST_CONTEXT: "" },
  });
  if (res.status !== 0) return `${res.error?.message ?? ""}${res.stderr}`.trim() || `exit ${res.status}`;
  const objects = JSON.parse(res.stdout);
  const mine = (name) => made.some((n) => name === n || name.startsWith(n));
  return Object.entries(objects)
    .map(([kind, list]) => [kind, list.filter(mine)])
    .filter(([, list]) => list.length > 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2] === "--list") {
  process.stdout.write(JSON.stringify(await listObjects(process.argv[3])));
} else if (process.env.NODE_TEST_CONTEXT) {
  const url = process.env.OPENSEARCH_URL;
  const names = registeredNames();
  let checked = false;
  const check = () => {
    if (checked || names.size === 0 || !url) return;
    checked = true;
    const left = leftovers(url, [...names]);
    if (typeof left === "string") {
      process.stderr.write(`[leak check] could not list ${url}'s objects (${left}): not checked\n`);
      return;
    }
    if (left.length === 0) return;
    const file = process.argv[1] ?? "this test file";
    process.stderr.write(
      `[leak check] ${file} left behind on ${url}: ${left.map(([kind, list]) => `${kind}: ${list.join(", ")}`).join("; ")} (delete them in an after hook: test/helpers/stack.ts dropPrefix / indexPrefixes)\n`,
    );
    process.exitCode = 1;
  };
  process.on("beforeExit", check);
  // A file whose process outlives its tests (a socket, server, timer or child left open) would hold the
  // runner, and CI, until its hard limit: after the last hook, LINGER_MS more, then a named failure.
  after(() => {
    setTimeout(() => {
      process.stderr.write(
        `[leak check] ${process.argv[1] ?? "this test file"} still running ${LINGER_MS / 1000} s after its tests ended, held by: ${process.getActiveResourcesInfo().join(", ")} (close what the tests opened in an after hook)\n`,
      );
      check();
      process.exit(1);
    }, LINGER_MS).unref();
  });
}
