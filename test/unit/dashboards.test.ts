import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { EVENT_TYPES, type EventType } from "../../src/core/model.ts";
import {
  AGGREGATABLE_TYPES,
  commonMappings,
  eventMappings,
  flattenMappings,
  mergeMappings,
  quarantineMappings,
} from "../../src/platform/opensearch/mappings.ts";
import { dashboardsRequest, importDashboards } from "../../src/tools/setup/dashboards-import.ts";
import {
  buildSavedObjects,
  type PatternKey,
  SEARCHES,
  toNdjson,
  VISUALIZATIONS,
} from "../../src/tools/setup/dashboards-source.ts";

const committed = readFileSync(new URL("../../dashboards/twingate.ndjson", import.meta.url), "utf8");

function fieldsOf(pattern: PatternKey): Map<string, string> {
  if (pattern === "quarantine") return flattenMappings(quarantineMappings());
  const types: EventType[] = pattern === "events" ? [...EVENT_TYPES] : [pattern];
  const out = new Map<string, string>();
  for (const t of types) {
    for (const [k, v] of flattenMappings(mergeMappings(commonMappings(), eventMappings(t)))) out.set(k, v);
  }
  return out;
}

describe("bundled dashboards", () => {
  test("the committed NDJSON is what dashboards/build.ts generates (run npm run dashboards:build)", () => {
    assert.equal(committed, toNdjson(buildSavedObjects("twingate")));
  });

  test("ids are unique and every reference resolves to an object of its type", () => {
    const objects = committed
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as ReturnType<typeof buildSavedObjects>[number]);
    const keys = new Set(objects.map((o) => `${o.type}/${o.id}`));
    assert.equal(keys.size, objects.length);
    for (const o of objects) {
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
        objects.some((o) => o.type === t),
        t,
      );
    }
    for (const t of EVENT_TYPES) {
      const ip = objects.find((o) => o.id === `twingate-ip-${t}`)!;
      assert.deepEqual(ip.attributes, { title: `twingate-${t}-*`, timeFieldName: "@timestamp" });
    }
  });

  test("every field a visualization aggregates on is mapped with an aggregatable type", () => {
    for (const v of VISUALIZATIONS) {
      const fields = fieldsOf(v.pattern);
      for (const a of v.aggs) {
        const f = a.params["field"];
        if (f === undefined) continue;
        const type = fields.get(String(f));
        assert.ok(type, `${v.id}: ${String(f)} is not mapped in ${v.pattern}`);
        assert.ok(AGGREGATABLE_TYPES.has(type), `${v.id}: ${String(f)} is ${type}`);
        if (a.type === "geohash_grid") assert.equal(type, "geo_point");
        if (a.type === "date_histogram") assert.match(type, /^date/);
        if (a.type === "sum" || a.type === "avg" || a.type === "max")
          assert.match(type, /long|integer|double/);
      }
    }
    for (const s of SEARCHES) {
      const fields = fieldsOf(s.pattern);
      for (const c of s.columns) assert.ok(fields.has(c), `${s.id}: column ${c} is not mapped`);
    }
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
