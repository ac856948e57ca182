import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { EVENT_TYPES } from "../../src/core/model.ts";
import { AGGREGATABLE_TYPES, flattenMappings } from "../../src/platform/opensearch/mappings.ts";
import { dashboardsRequest, importDashboards } from "../../src/tools/setup/dashboards-import.ts";
import {
  buildSavedObjects,
  type FieldSpec,
  PATTERN_KEYS,
  type PatternKey,
  patternFields,
  patternMappings,
  SCRIPTED_FIELDS,
  SEARCHES,
  scriptedField,
  toNdjson,
  VISUALIZATIONS,
} from "../../src/tools/setup/dashboards-source.ts";

const committed = readFileSync(new URL("../../dashboards/twingate.ndjson", import.meta.url), "utf8");
const objects = () =>
  committed
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as ReturnType<typeof buildSavedObjects>[number]);

/** Every mapped path of the indices a pattern matches, with its OpenSearch type (the streams' union). */
function fieldsOf(pattern: PatternKey): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of patternMappings(pattern)) for (const [k, v] of flattenMappings(m)) out.set(k, v);
  return out;
}

/** The mapped fields a field of a pattern reads: itself, or a scripted field's sources. */
function sourcesOf(pattern: PatternKey, field: string): string[] {
  return scriptedField(pattern, field)?.sources ?? [field];
}

describe("bundled dashboards", () => {
  test("the committed NDJSON is what dashboards/build.ts generates (run npm run dashboards:build)", () => {
    assert.equal(committed, toNdjson(buildSavedObjects("twingate")));
  });

  test("ids are unique and every reference resolves to an object of its type", () => {
    const all = objects();
    const keys = new Set(all.map((o) => `${o.type}/${o.id}`));
    assert.equal(keys.size, all.length);
    for (const o of all) {
      for (const r of o.references) assert.ok(keys.has(`${r.type}/${r.id}`), `${o.id} -> ${r.type}/${r.id}`);
      if (o.type === "dashboard") {
        const panels = JSON.parse(String(o.attributes["panelsJSON"])) as { panelRefName: string }[];
        const names = new Set(o.references.map((r) => r.name));
        for (const p of panels) assert.ok(names.has(p.panelRefName), `${o.id} panel ${p.panelRefName}`);
      }
      if (o.type === "visualization" || o.type === "search") {
        const meta = o.attributes["kibanaSavedObjectMeta"] as { searchSourceJSON: string };
        const ss = JSON.parse(meta.searchSourceJSON) as { indexRefName: string };
        assert.ok(o.references.some((r) => r.name === ss.indexRefName && r.type === "index-pattern"));
      }
      if (o.type === "visualization") JSON.parse(String(o.attributes["visState"]));
    }
    for (const t of ["index-pattern", "visualization", "search", "dashboard"]) {
      assert.ok(
        all.some((o) => o.type === t),
        t,
      );
    }
    for (const t of EVENT_TYPES) {
      const ip = all.find((o) => o.id === `twingate-ip-${t}`)!;
      assert.equal(ip.attributes["title"], `twingate-${t}-*`);
      assert.equal(ip.attributes["timeFieldName"], "@timestamp");
    }
  });

  test("every field a visualization aggregates on is mapped with an aggregatable type", () => {
    for (const v of VISUALIZATIONS) {
      const fields = fieldsOf(v.pattern);
      for (const a of v.aggs) {
        const f = a.params["field"];
        if (f === undefined) continue;
        for (const source of sourcesOf(v.pattern, String(f))) {
          const type = fields.get(source);
          assert.ok(type, `${v.id}: ${source} is not mapped in ${v.pattern}`);
          assert.ok(AGGREGATABLE_TYPES.has(type), `${v.id}: ${source} is ${type}`);
          if (a.type === "geohash_grid") assert.equal(type, "geo_point");
          if (a.type === "date_histogram") assert.match(type, /^date/);
          if (a.type === "sum" || a.type === "avg" || a.type === "max")
            assert.match(type, /long|integer|double/);
        }
      }
    }
    for (const s of SEARCHES) {
      const fields = fieldsOf(s.pattern);
      for (const c of s.columns) {
        for (const source of sourcesOf(s.pattern, c))
          assert.ok(fields.has(source), `${s.id}: column ${c} reads ${source}, which is not mapped`);
      }
    }
    for (const f of SCRIPTED_FIELDS) {
      const fields = fieldsOf(f.pattern);
      assert.ok(!fields.has(f.name), `scripted field ${f.name} hides a mapped field`);
      for (const source of f.sources) assert.equal(fields.get(source), "keyword", `${f.name}: ${source}`);
    }
  });

  test("every terms bucket and every metric but the count has its own label (legends, headers)", () => {
    for (const v of VISUALIZATIONS) {
      // (a time axis and a geohash grid are labelled well by Dashboards: "@timestamp per hour", "Geohash")
      const labels = v.aggs
        .filter((a) => a.type !== "count" && a.type !== "date_histogram" && a.type !== "geohash_grid")
        .map((a) => a.params["customLabel"] as string | undefined);
      for (const [i, l] of labels.entries()) assert.ok(l, `${v.id}: aggregation ${i + 1} has no label`);
      assert.equal(new Set(labels).size, labels.length, `${v.id}: two aggregations share a label`);
      const visState = JSON.parse(
        String(objects().find((o) => o.id === `twingate-${v.id}`)!.attributes["visState"]),
      ) as { params: { seriesParams?: { data: { label: string } }[] } };
      const series = (visState.params.seriesParams ?? []).map((p) => p.data.label);
      assert.equal(new Set(series).size, series.length, `${v.id}: series share a legend label`);
    }
  });

  test("the coordinate map draws from its first request, and opens where its panel says", () => {
    const maps = VISUALIZATIONS.filter((v) => v.type === "tile_map");
    assert.ok(maps.length > 0);
    for (const v of maps) {
      const geo = v.aggs.find((a) => a.type === "geohash_grid")!;
      // Dashboards' default (on) filters the first request by a placeholder box that holds no point
      assert.equal(geo.params["isFilteredByCollar"], false);
      assert.equal(typeof geo.params["precision"], "number");
      const saved = objects().find((o) => o.id === `twingate-${v.id}`)!;
      const visState = JSON.parse(String(saved.attributes["visState"])) as {
        params: { mapZoom: number; mapCenter: number[] };
      };
      const ui = JSON.parse(String(saved.attributes["uiStateJSON"])) as Record<string, unknown>;
      assert.deepEqual(ui, { mapZoom: visState.params.mapZoom, mapCenter: visState.params.mapCenter });
      const dashboards = objects().filter(
        (o) => o.type === "dashboard" && o.references.some((r) => r.id === saved.id),
      );
      assert.ok(dashboards.length > 0);
      for (const d of dashboards) {
        const ref = d.references.find((r) => r.id === saved.id)!;
        const panels = JSON.parse(String(d.attributes["panelsJSON"])) as {
          panelRefName: string;
          embeddableConfig: unknown;
        }[];
        assert.deepEqual(panels.find((p) => p.panelRefName === ref.name)!.embeddableConfig, ui);
      }
    }
  });

  test("each index pattern ships its field list, from the mappings, so Dashboards never refreshes it", () => {
    for (const key of PATTERN_KEYS) {
      const ip = objects().find((o) => o.id === `twingate-ip-${key}`)!;
      const fields = JSON.parse(String(ip.attributes["fields"])) as FieldSpec[];
      assert.deepEqual(fields, patternFields(key));
      // Dashboards refreshes (and saves) a list whose fields lack these flags
      for (const f of fields) {
        for (const flag of ["aggregatable", "searchable", "readFromDocValues"] as const)
          assert.equal(typeof f[flag], "boolean", `${key}: ${f.name}.${flag}`);
        assert.notEqual(f.type, "conflict", `${key}: ${f.name} is typed differently by two streams`);
      }
      const byName = new Map(fields.map((f) => [f.name, f]));
      assert.equal(byName.size, fields.length, `${key}: a field is listed twice`);
      for (const name of ["_id", "_index", "_source", "@timestamp"]) assert.ok(byName.has(name), name);
      // every mapped leaf is listed with its type, and only those (plus meta and scripted fields)
      for (const [path, type] of fieldsOf(key)) {
        if (type === "object") continue;
        assert.deepEqual(byName.get(path)?.esTypes, [type], `${key}: ${path}`);
      }
      for (const f of fields) {
        if (f.name.startsWith("_") || f.scripted) continue;
        assert.ok(fieldsOf(key).has(f.name), `${key}: ${f.name} is not mapped`);
      }
      // what the panels and searches use is there, and aggregatable where they aggregate
      for (const v of VISUALIZATIONS.filter((x) => x.pattern === key)) {
        for (const a of v.aggs) {
          const f = a.params["field"];
          if (f !== undefined)
            assert.equal(byName.get(String(f))?.aggregatable, true, `${v.id}: ${String(f)}`);
        }
      }
      for (const s of SEARCHES.filter((x) => x.pattern === key)) {
        for (const c of s.columns) assert.ok(byName.has(c), `${s.id}: ${c}`);
      }
    }
    const quarantine = new Map(patternFields("quarantine").map((f) => [f.name, f]));
    // stored, never indexed: neither searchable nor aggregatable
    assert.deepEqual(
      [quarantine.get("quarantine.raw")?.searchable, quarantine.get("quarantine.raw")?.aggregatable],
      [false, false],
    );
    assert.deepEqual(quarantine.get("quarantine.message.keyword")?.subType, {
      multi: { parent: "quarantine.message" },
    });
    assert.equal(quarantine.get("quarantine.message")?.aggregatable, false);
  });
});

describe("import through the Saved Objects API (emulated Dashboards)", () => {
  let server: Server;
  let seen:
    | { url: string; xsrf?: string; contentType?: string; authorization?: string; body: string }
    | undefined;
  before(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => {
        body += c;
      });
      req.on("end", () => {
        seen = {
          url: req.url ?? "",
          body,
          ...(typeof req.headers["osd-xsrf"] === "string" ? { xsrf: req.headers["osd-xsrf"] } : {}),
          ...(req.headers["content-type"] ? { contentType: req.headers["content-type"] } : {}),
          ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        };
        const u = new URL(req.url ?? "", "http://x");
        if (req.method !== "POST" || u.pathname !== "/base/api/saved_objects/_import") {
          res.writeHead(404).end('{"statusCode":404,"message":"Not Found"}');
          return;
        }
        if (!req.headers["osd-xsrf"]) {
          res.writeHead(400).end('{"statusCode":400,"message":"Request must contain a osd-xsrf header."}');
          return;
        }
        const boundary = /boundary=(.+)$/.exec(req.headers["content-type"] ?? "")?.[1];
        const part = boundary
          ? body.split(`--${boundary}`).find((p) => p.includes('name="file"'))
          : undefined;
        if (!part || u.searchParams.get("overwrite") !== "true") {
          res.writeHead(400).end('{"statusCode":400,"message":"bad request"}');
          return;
        }
        const lines = part
          .split("\r\n\r\n")[1]!
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l) as { type: string; id: string });
        const broken = lines.find((o) => o.type === "dashboard")!;
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({
            success: false,
            successCount: lines.length - 1,
            successResults: lines.filter((o) => o !== broken).map((o) => ({ type: o.type, id: o.id })),
            errors: [{ type: broken.type, id: broken.id, title: "x", error: { type: "missing_references" } }],
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  test("posts the NDJSON as multipart with osd-xsrf and overwrite, and reports each object", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/base`;
    const objects = buildSavedObjects("tg");
    const report = await importDashboards(url, toNdjson(objects), { username: "u", password: "p" });
    assert.equal(seen?.xsrf, "true");
    assert.match(seen?.contentType ?? "", /^multipart\/form-data; boundary=/);
    assert.equal(report.results.length, objects.length);
    assert.equal(report.success, false);
    assert.equal(report.successCount, objects.length - 1);
    const failed = report.results.filter((r) => r.result !== "ok");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.result, "missing_references");
    assert.equal(failed[0]!.type, "dashboard");
  });

  test("credentials in the URL become a Basic header, and no message or URL shows the password", async () => {
    const port = (server.address() as AddressInfo).port;
    const report = await importDashboards(
      `http://ad%40min:S3cret%21@127.0.0.1:${port}/base`,
      toNdjson(buildSavedObjects("tg")),
    );
    assert.equal(report.successCount, report.results.length - 1);
    assert.equal(seen?.authorization, `Basic ${Buffer.from("ad@min:S3cret!").toString("base64")}`);
    const err = await importDashboards(
      `http://admin:S3cretPW@127.0.0.1:${port}/elsewhere`,
      toNdjson(buildSavedObjects("tg")),
    ).then(
      () => assert.fail("resolved"),
      (e: Error) => e,
    );
    assert.match(err.message, /HTTP 404/);
    assert.doesNotMatch(`${err.message} ${err.stack}`, /S3cretPW/);
    const r = dashboardsRequest("https://u:p@dash.example/x", "api/status", {
      username: "me",
      password: "pw",
    });
    assert.equal(r.url.toString(), "https://dash.example/x/api/status");
    assert.equal(
      r.headers["authorization"],
      `Basic ${Buffer.from("me:pw").toString("base64")}`,
      "explicit ones win",
    );
  });

  test("an HTTP error is an error", async () => {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/elsewhere`;
    await assert.rejects(importDashboards(url, toNdjson(buildSavedObjects("tg"))), /HTTP 404/);
  });
});
