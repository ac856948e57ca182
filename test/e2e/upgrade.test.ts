/**
 * The upgrade to the ECS layout (issue #27 item 7), end to end: indices and documents exactly as main wrote
 * them before (test/fixtures/upgrade/old-layout.json, made by that commit's code: the vendor's event at
 * `event.*`, its mappings without the normalizer), then today's `setup` (which names them),
 * `setup --upgrade-indices` (in place, same ids), a re-read of the old files (nothing new: every record
 * already there) and a new file. Nothing is counted twice; the old documents answer today's searches.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { countDocs, startCli } from "../helpers/processes.ts";
import { indexPrefixes, opensearchClient, stackEnv } from "../helpers/stack.ts";

const env = stackEnv();
const os = opensearchClient(env);
const dir = mkdtempSync(join(tmpdir(), "tg-upgrade-"));
after(async () => {
  await os.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  mappings: Record<string, Record<string, unknown>>;
  records: Record<string, unknown>[];
  docs: { index: string; id: string; doc: Record<string, unknown> }[];
}
const OLD = JSON.parse(
  readFileSync(new URL("../fixtures/upgrade/old-layout.json", import.meta.url), "utf8"),
) as Fixture;

async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return startCli(args).done;
}

describe("upgrading a cluster written by the layout before ECS", { timeout: 600_000 }, () => {
  const newPrefix = indexPrefixes();
  it("setup names the old indices; --upgrade-indices brings them over in place; a re-read adds nothing", async () => {
    const prefix = newPrefix("upg");
    const indexOf = (i: string) => i.replace(/^P-/, `${prefix}-`);
    // the cluster as the old main left it: its indices (created by its templates) and documents
    for (const index of new Set(OLD.docs.map((d) => indexOf(d.index)))) {
      const stream = index.slice(prefix.length + 1).replace(/-\d{4}\.\d{2}$/, "");
      await os.indices.create({
        index,
        body: { settings: { number_of_replicas: 0 }, mappings: OLD.mappings[stream]! },
      } as never);
    }
    const body = OLD.docs.flatMap((d) => [{ create: { _index: indexOf(d.index), _id: d.id } }, d.doc]);
    const res = await os.bulk({ body, refresh: "true" } as never);
    assert.equal((res.body as { errors: boolean }).errors, false);
    const total = OLD.docs.length;

    // setup installs today's templates and says which indices hold the old layout
    const setup = await cli(["setup", "--json", "--index-prefix", prefix]);
    assert.equal(setup.code, 0, setup.stderr);
    const report = JSON.parse(setup.stdout) as { warnings: string[]; upgrades: { pending: number }[] };
    assert.equal(
      report.upgrades.reduce((n, u) => n + u.pending, 0),
      total,
    );
    assert.ok(
      report.warnings.some((w) => w.includes("--upgrade-indices")),
      report.warnings.join("\n"),
    );

    const upgrade = await cli(["setup", "--upgrade-indices", "--json", "--index-prefix", prefix]);
    assert.equal(upgrade.code, 0, upgrade.stderr);
    const done = JSON.parse(upgrade.stdout) as { upgrades: { rewritten: number; skipped: number }[] };
    assert.equal(
      done.upgrades.reduce((n, u) => n + u.rewritten, 0),
      total,
    );
    assert.equal(
      done.upgrades.reduce((n, u) => n + u.skipped, 0),
      0,
    );

    const all = `${prefix}-*`;
    const term = (field: string, value: unknown) => countDocs(os, all, { term: { [field]: value } });
    assert.equal(await countDocs(os, all), total, "no document added");
    assert.equal(await term("event.kind", "event"), total, "every document in today's layout");
    assert.equal(await term("event.dataset", "twingate.network_access"), 3);
    assert.equal(await term("event.outcome", "failure"), 1, "the DLP block");
    assert.equal(await term("twingate.network_access.status", "closed_connection"), 3);
    // new fields are case-blind in the old indices too (a field both layouts have keeps its old definition)
    assert.equal(await term("related.user", "jane.doe+ops@twindemo.com"), 1);
    assert.equal(await term("twingate.network_access.user.email", "JANE.DOE+OPS@twindemo.com"), 1);
    // what the old documents carried is kept: the set-aside value, the deviations, the record's other keys
    const setAside = await os.search({
      index: all,
      body: { query: { term: { "ingest.deviations": "event.resource.ip:set_aside" } } },
    } as never);
    const hits = (setAside.body as { hits: { hits: { _source: Record<string, Record<string, unknown>> }[] } })
      .hits.hits;
    assert.equal(hits.length, 1);
    assert.deepEqual(hits[0]!._source["set_aside"], { "event.resource.ip": "intranet.local" });
    assert.deepEqual(hits[0]!._source["twingate"]!["envelope"], { tenant: "acme" });
    assert.equal(hits[0]!._source["ingest"]!["ingested_at"], "2025-07-25T18:30:00.000Z");

    // a second run has nothing to do
    const again = await cli(["setup", "--upgrade-indices", "--json", "--index-prefix", prefix]);
    const second = JSON.parse(again.stdout) as { upgrades: { pending: number; rewritten: number }[] };
    assert.equal(
      second.upgrades.reduce((n, u) => n + u.pending + u.rewritten, 0),
      0,
    );

    // a re-read of the old file finds every record already there; a new file adds its own
    writeFileSync(
      join(dir, "2025-07-25T18:20:00+00:00.json"),
      `${OLD.records.map((r) => JSON.stringify(r)).join("\n")}\n`,
    );
    const reread = await cli(["backfill", "--json", "--dir", dir, "--index-prefix", prefix]);
    assert.equal(reread.code, 0, reread.stderr);
    const summary = JSON.parse(reread.stdout) as { run: { duplicates: number } };
    assert.equal(summary.run.duplicates, total, "every record already there, under its old id");
    assert.equal(await countDocs(os, all), total, "no event counted twice");
    const fresh = {
      ...OLD.records[0]!,
      event: { ...(OLD.records[0]!["event"] as object), time: "2025-07-25T18:26:00.1+00:00" },
    };
    writeFileSync(join(dir, "2025-07-25T18:25:00+00:00.json"), `${JSON.stringify(fresh)}\n`);
    const next = await cli(["backfill", "--json", "--dir", dir, "--index-prefix", prefix]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(await countDocs(os, all), total + 1);
    assert.equal(await term("event.kind", "event"), total + 1);
  });
});
