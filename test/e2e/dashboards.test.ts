/**
 * The bundled dashboards against a real OpenSearch over producer data: the producer's files of the last
 * hour (a few records invalid, so quarantined, and one planted data-quality deviation), read by a backfill
 * into indices made by `setup`. Then, one test per saved object, the request Dashboards builds for it (its
 * query, the dashboards' time range, its aggregations as Dashboards writes them) must return buckets or hits
 * with values for every field it shows; and each index pattern's shipped field list must be what Dashboards
 * would read from `_field_caps`.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { Client } from "@opensearch-project/opensearch";
import { type Slot, slotsInRange } from "../../src/core/twingate.ts";
import { createLogger } from "../../src/platform/logger.ts";
import {
  type AggSpec,
  type FieldSpec,
  PATTERN_KEYS,
  type PatternKey,
  patternFields,
  patternTitle,
  SEARCHES,
  scriptedField,
  scriptOf,
  VISUALIZATIONS,
} from "../../src/tools/setup/dashboards-source.ts";
import { runSetup } from "../../src/tools/setup/setup.ts";
import { backfillBucket, FILES_PREFIX, produceFiles } from "../helpers/history.ts";
import {
  type AwsClients,
  awsClients,
  indexPrefixes,
  opensearchClient,
  stackAvailable,
  uniqueName,
} from "../helpers/stack.ts";

const silent = createLogger("silent");
type Json = Record<string, unknown>;

/** The bundled dashboards' time range (timeFrom now-24h, timeTo now), as Dashboards filters every panel. */
const TIME_RANGE = {
  range: { "@timestamp": { gte: "now-24h", lte: "now", format: "strict_date_optional_time" } },
};

/** Dashboards' placeholder bounding box for a geohash filtered by its collar before the map knows its bounds. */
const PLACEHOLDER_BOX = { top_left: { lat: 1, lon: 1 }, bottom_right: { lat: 0, lon: 0 } };

/** A field for an aggregation: a mapped one by name, a scripted one by its script (as Dashboards sends it). */
function fieldOrScript(pattern: PatternKey, field: string): Json {
  const scripted = scriptedField(pattern, field);
  return scripted ? { script: { source: scriptOf(scripted), lang: "painless" } } : { field };
}

/**
 * The aggregations Dashboards requests for a visualization: buckets nested in order, metrics inside; a
 * geohash as its agg type builds it (in a `filter_agg` with the placeholder box when filtered by its
 * collar, with a `geo_centroid` beside it).
 */
function aggsOf(pattern: PatternKey, aggs: AggSpec[]): Json {
  const metrics: Json = {};
  for (const a of aggs.filter((x) => x.schema === "metric" && x.type !== "count")) {
    metrics[a.id] = { [a.type]: fieldOrScript(pattern, String(a.params["field"])) };
  }
  let inner = metrics;
  for (const b of aggs.filter((x) => x.schema !== "metric").reverse()) {
    const p = b.params;
    let body: Json;
    if (b.type === "date_histogram")
      body = { date_histogram: { field: p["field"], fixed_interval: "1h", min_doc_count: 1 } };
    else if (b.type === "terms") {
      const orderBy = String(p["orderBy"]);
      const byCount = aggs.find((x) => x.id === orderBy)?.type === "count";
      body = {
        terms: {
          ...fieldOrScript(pattern, String(p["field"])),
          size: p["size"],
          order: { [byCount ? "_count" : orderBy]: p["order"] },
        },
      };
    } else if (b.type === "geohash_grid") {
      const sub = p["useGeocentroid"] ? { centroid: { geo_centroid: { field: p["field"] } } } : {};
      body = {
        geohash_grid: { field: p["field"], precision: p["precision"] },
        aggs: { ...sub, ...inner },
      };
      inner = {};
      if (p["isFilteredByCollar"] !== false) {
        body = {
          filter: { geo_bounding_box: { ignore_unmapped: true, [String(p["field"])]: PLACEHOLDER_BOX } },
          aggs: { [b.id]: body },
        };
        inner = { [`filter_agg`]: body };
        continue;
      }
    } else throw new Error(`no translation for ${b.type}`);
    inner = { [b.id]: Object.keys(inner).length ? { ...body, aggs: inner } : body };
  }
  return inner;
}

/** Some path through every bucket level reaches a leaf whose metrics all have values. */
function hasData(result: Json, aggs: AggSpec[]): boolean {
  const buckets = aggs.filter((x) => x.schema !== "metric");
  const metrics = aggs.filter((x) => x.schema === "metric" && x.type !== "count");
  const walk = (node: Json, level: number): boolean => {
    if (level === buckets.length) {
      return (
        metrics.every((m) => (node[m.id] as { value: unknown } | undefined)?.value != null) &&
        Number(node["doc_count"] ?? 1) > 0
      );
    }
    const id = buckets[level]!.id;
    const here = (node[id] ?? (node["filter_agg"] as Json | undefined)?.[id]) as
      | { buckets: Json[] }
      | undefined;
    return (here?.buckets ?? []).some((b) => walk(b, level + 1));
  };
  return walk(result, 0);
}

/** The values at a dotted path of a document's _source (through arrays of objects). */
function valuesAt(source: unknown, path: string): unknown[] {
  let nodes: unknown[] = [source];
  for (const part of path.split(".")) {
    nodes = nodes
      .flatMap((n) => (Array.isArray(n) ? n : [n]))
      .map((n) => (n && typeof n === "object" ? (n as Json)[part] : undefined))
      .filter((v) => v !== undefined && v !== null);
  }
  return nodes.flatMap((n) => (Array.isArray(n) ? n : [n]));
}

function queryOf(query: string): Json {
  const must = query ? [{ query_string: { query, analyze_wildcard: true } }] : [];
  return { bool: { must, filter: [TIME_RANGE] } };
}

describe("bundled dashboards over producer data", {
  skip: !stackAvailable() && "needs the local stack (npm test)",
}, () => {
  const prefixes = indexPrefixes();
  let os: Client;
  let aws: AwsClients;
  let prefix: string;

  before(async () => {
    os = opensearchClient();
    aws = awsClients();
    prefix = prefixes("e2e-dashboards");
    await runSetup(os, { indexPrefix: prefix }, silent);
    const bucket = uniqueName("e2e-dashboards");
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // the last hour (inside the dashboards' now-24h), whole slots only
    const now = Date.now();
    const slots: Slot[] = slotsInRange(now - 3_600_000, now - 300_000);
    const produced = await produceFiles(aws.s3, bucket, slots, {
      seed: 27,
      eventsPerFile: 25,
      invalid: 0.04,
    });
    assert.ok(produced.faults["invalid"]! > 0, "some records are quarantined");
    // A record the reader normalises (a numeric port sent as text): an indexed event with a deviation.
    const last = slots.at(-1)!;
    const time = new Date(last.startMs + 1000).toISOString().replace("Z", "+00:00");
    const planted = {
      event_type: "network_access",
      event: {
        version: 1,
        time,
        connection: { client_ip: "203.0.113.7", protocol: "tcp", bytes_received: 10, bytes_transferred: 20 },
        resource: {
          address: "wiki.twindemo.int",
          applied_rule: "wiki.twindemo.int",
          id: "1",
          ip: "10.0.0.9",
          port: "443",
        },
        status: "closed_connection",
        user: { id: "1", email: "planted@twindemo.com" },
        device: { id: "d1" },
        connector: { id: "c1", name: "planted-connector" },
        remote_network: { id: "r1", name: "planted-network" },
        relays: [],
        location: { lat: 51.5, lon: -0.12 },
      },
    };
    const key = `${FILES_PREFIX}${new Date(last.startMs + 60_000).toISOString().replace(".000Z", "+00:00")}.json`;
    await aws.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: gzipSync(`${JSON.stringify(planted)}\n`) }),
    );
    const summary = await backfillBucket(os, aws.s3, bucket, prefix, {
      fromMs: slots[0]!.startMs,
      toMs: now,
    });
    assert.equal(summary.total.records, produced.records + 1);
    await os.indices.refresh({ index: `${prefix}-*` });
  });
  after(() => {
    aws?.destroy();
  });

  for (const v of VISUALIZATIONS) {
    test(`visualization ${v.id}: its request returns buckets with values`, async () => {
      const res = await os.search({
        index: patternTitle(prefix, v.pattern),
        body: {
          size: 0,
          query: queryOf(v.query) as never,
          // the generic aggregation tree is checked by OpenSearch itself, not by the client's types
          aggs: aggsOf(v.pattern, v.aggs) as never,
        },
      });
      assert.ok((res.body.hits.total as { value: number }).value > 0, `${v.id}: no documents`);
      assert.ok(
        hasData(res.body.aggregations as Json, v.aggs),
        `${v.id}: empty aggregations ${JSON.stringify(res.body.aggregations).slice(0, 2000)}`,
      );
    });
  }

  for (const s of SEARCHES) {
    test(`saved search ${s.id}: finds documents, and each column has values among them`, async () => {
      const scripted = s.columns.filter((c) => scriptedField(s.pattern, c));
      const res = await os.search({
        index: patternTitle(prefix, s.pattern),
        body: {
          size: 200,
          query: queryOf(s.query) as never,
          sort: [{ "@timestamp": { order: "desc" } }],
          script_fields: Object.fromEntries(
            scripted.map((c) => [c, { script: fieldOrScript(s.pattern, c)["script"] }]),
          ) as never,
          _source: true,
        },
      });
      const hits = res.body.hits.hits as { _source: Json; fields?: Record<string, unknown[]> }[];
      assert.ok(hits.length > 0, `${s.id}: no documents`);
      for (const c of s.columns) {
        const found = hits.some((h) =>
          scripted.includes(c)
            ? (h.fields?.[c] ?? []).some((x) => x != null)
            : valuesAt(h._source, c).length > 0,
        );
        assert.ok(found, `${s.id}: no document shows ${c}`);
      }
    });
  }

  test("the actor column shows e-mails and names, and an id only for an actor without either", async () => {
    const res = await os.search({
      index: patternTitle(prefix, "audit_log"),
      body: {
        size: 0,
        aggs: {
          actor: { terms: { ...fieldOrScript("audit_log", "audit_actor"), size: 100 } as never },
          ids: { terms: { field: "twingate.audit_log.actor.id", size: 100 } as never },
        },
      },
    });
    const aggs = res.body.aggregations as Record<string, { buckets: { key: string }[] }>;
    const actors = aggs["actor"]!.buckets.map((b) => b.key);
    assert.ok(
      actors.some((a) => a.includes("@")),
      `an e-mail among ${actors.join(", ")}`,
    );
    const ids = new Set(aggs["ids"]!.buckets.map((b) => b.key));
    const shownIds = actors.filter((a) => ids.has(a));
    const withoutInfo = await os.search({
      index: patternTitle(prefix, "audit_log"),
      body: {
        size: 0,
        query: {
          bool: {
            must_not: [
              { exists: { field: "twingate.audit_log.actor.info.email" } },
              { exists: { field: "twingate.audit_log.actor.info.name" } },
            ],
          },
        },
        aggs: { ids: { terms: { field: "twingate.audit_log.actor.id", size: 100 } as never } },
      },
    });
    const bare = (withoutInfo.body.aggregations as Record<string, { buckets: { key: string }[] }>)[
      "ids"
    ]!.buckets.map((b) => b.key);
    assert.deepEqual(shownIds.sort(), bare.sort());
  });

  for (const key of PATTERN_KEYS) {
    test(`index pattern ${key}: its shipped field list is what Dashboards would read from _field_caps`, async () => {
      const res = await os.fieldCaps({ index: patternTitle(prefix, key), fields: "*" });
      const caps = res.body.fields as Record<
        string,
        Record<string, { searchable: boolean; aggregatable: boolean }>
      >;
      const live = new Map<string, { type: string; searchable: boolean; aggregatable: boolean }>();
      for (const [name, byType] of Object.entries(caps)) {
        const types = Object.keys(byType).filter((t) => t !== "object" && t !== "nested");
        // 2.x also lists a flat_object as `name.` (3.x does not): the same field
        if (name.startsWith("_") || types.length === 0 || (name.endsWith(".") && types[0] === "flat_object"))
          continue;
        assert.equal(types.length, 1, `${key}: ${name} has types ${types.join(", ")}`);
        const c = byType[types[0]!]!;
        live.set(name, { type: types[0]!, searchable: c.searchable, aggregatable: c.aggregatable });
      }
      const shipped = new Map(
        patternFields(key)
          .filter((f: FieldSpec) => !f.scripted && !f.name.startsWith("_"))
          .map((f) => [
            f.name,
            { type: f.esTypes![0]!, searchable: f.searchable, aggregatable: f.aggregatable },
          ]),
      );
      assert.deepEqual(
        [...shipped].sort(([a], [b]) => a.localeCompare(b)),
        [...live].sort(([a], [b]) => a.localeCompare(b)),
      );
    });
  }
});
