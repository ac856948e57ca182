/** The write-failure classification table (docs/RELIABILITY.md): record's fault, hold, or fail. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pino } from "pino";
import { NotABulkResponseError } from "../../src/core/sink/bulk-response.ts";
import { HoldLimitError, WriteHolds } from "../../src/core/sink/holds.ts";
import {
  type BulkItemResult,
  classifyItem,
  classifyRequestError,
  missingPermission,
} from "../../src/core/sink/write-failure.ts";
import { Metrics } from "../../src/platform/metrics.ts";

const item = (status: number, type?: string, reason = ""): BulkItemResult =>
  type === undefined ? { status } : { status, error: { type, reason } };
const http = (statusCode: number, message = `HTTP ${statusCode}`) =>
  Object.assign(new Error(message), { statusCode });

describe("classifyItem", () => {
  it("stored: 2xx created, 409 already there", () => {
    assert.deepEqual(classifyItem(item(201)), { kind: "stored", duplicate: false });
    assert.deepEqual(classifyItem(item(200)), { kind: "stored", duplicate: false });
    assert.deepEqual(classifyItem(item(409, "version_conflict_engine_exception")), {
      kind: "stored",
      duplicate: true,
    });
  });

  it("a delete (replay's) of a document already gone is done: a 404 stored; on a create or index it is not", () => {
    assert.deepEqual(classifyItem(item(404), "delete"), { kind: "stored", duplicate: true });
    assert.deepEqual(classifyItem(item(404, "index_not_found_exception"), "delete").kind, "stored");
    assert.equal(classifyItem(item(404)).kind, "hold");
    assert.equal(classifyItem(item(404), "index").kind, "hold");
    assert.equal(
      classifyItem(
        item(403, "cluster_block_exception", "blocked by: [FORBIDDEN/8/index write (api)]"),
        "delete",
      ).kind,
      "hold",
    );
  });

  it("the record's fault: mapping and parse refusals of the document", () => {
    for (const type of [
      "mapper_parsing_exception",
      "document_parsing_exception",
      "strict_dynamic_mapping_exception",
      "illegal_argument_exception",
      "x_content_parse_exception",
    ])
      assert.equal(classifyItem(item(400, type, "failed to parse field [x]")).kind, "record", type);
  });

  const holds: [BulkItemResult, string][] = [
    [
      item(
        403,
        "cluster_block_exception",
        "index [tw-network_access-2025.07.25] blocked by: [FORBIDDEN/8/index write (api)];",
      ),
      "index_block",
    ],
    [
      item(
        429,
        "cluster_block_exception",
        "index [x] blocked by: [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has read-only-allow-delete block];",
      ),
      "index_block",
    ],
    [
      item(403, "cluster_block_exception", "blocked by: [FORBIDDEN/6/cluster read-only (api)];"),
      "cluster_block",
    ],
    [
      item(
        403,
        "security_exception",
        "no permissions for [indices:data/write/bulk[s]] and User [name=ingest, backend_roles=[]]",
      ),
      "permission",
    ],
    [item(403, undefined), "permission"],
    [
      item(
        400,
        "validation_exception",
        "Validation Failed: 1: this action would add [2] total shards, but this cluster currently has [1000]/[1000] maximum shards open;",
      ),
      "shard_limit",
    ],
    [item(429, "es_rejected_execution_exception", "rejected execution"), "throttled"],
    [item(503, "unavailable_shards_exception", "primary shard is not active"), "shards_unavailable"],
    [item(503, "no_shard_available_action_exception", "No shard available"), "shards_unavailable"],
    [item(500, "node_disconnected_exception", "[node-1][127.0.0.1:9721] disconnected"), "node_unavailable"],
    [
      {
        status: 500,
        error: {
          type: "remote_transport_exception",
          reason: "[node-1][127.0.0.1:9721][indices:data/write/bulk[s][p]]",
          caused_by: { type: "node_closed_exception", reason: "node closed" },
        },
      },
      "node_unavailable",
    ],
    [item(503, "cluster_manager_not_discovered_exception", ""), "node_unavailable"],
    [item(503), "server_error"],
    [item(500), "server_error"],
    [item(400, "some_new_exception", "never seen"), "unknown"],
    [item(404, "index_not_found_exception", "no such index"), "unknown"],
    [item(400), "unknown"],
  ];
  for (const [it_, cause] of holds) {
    it(`hold (${cause}): ${it_.status} ${it_.error?.type ?? "(no type)"}`, () => {
      const v = classifyItem(it_);
      assert.equal(v.kind, "hold");
      assert.equal(v.kind === "hold" && v.cause, cause);
    });
  }
});

describe("classifyRequestError", () => {
  const cases: [unknown, string, string?][] = [
    [
      http(403, "HTTP 403: cluster_block_exception: blocked by: [FORBIDDEN/6/cluster read-only (api)];"),
      "hold",
      "cluster_block",
    ],
    [
      http(
        403,
        "HTTP 403: security_exception: no permissions for [indices:data/write/bulk] and User [name=u]",
      ),
      "hold",
      "permission",
    ],
    [http(401, "HTTP 401: Unauthorized"), "hold", "permission"],
    [http(503, "HTTP 503: cluster_manager_not_discovered_exception: null"), "hold", "node_unavailable"],
    [
      http(
        403,
        'HTTP 403: {"Message":"User: arn:aws:iam::1:user/x is not authorized to perform: es:ESHttpPost"}',
      ),
      "hold",
      "permission",
    ],
    [
      {
        meta: { statusCode: 403, body: { error: { type: "security_exception", reason: "no permissions" } } },
      },
      "hold",
      "permission",
    ],
    [
      http(
        400,
        "HTTP 400: validation_exception: this action would add [1] total shards, but this cluster currently has [1000]/[1000] maximum shards open",
      ),
      "hold",
      "shard_limit",
    ],
    [http(429), "hold", "throttled"],
    [http(408), "hold", "timeout"],
    [http(500), "hold", "server_error"],
    [http(502, "HTTP 502: <html>Bad Gateway</html>"), "hold", "server_error"],
    [http(503), "hold", "server_error"],
    [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9200"), { name: "ConnectionError" }),
      "hold",
      "unreachable",
    ],
    [new Error("socket hang up"), "hold", "unreachable"],
    [
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9200"), {
        name: "ConnectionError",
        meta: { statusCode: null },
      }),
      "hold",
      "unreachable",
    ],
    [Object.assign(new Error("Request timed out"), { name: "TimeoutError" }), "hold", "timeout"],
    [
      Object.assign(new Error("_bulk's answer sent nothing for 60000 ms: stalled"), {
        name: "BulkAnswerStalledError",
      }),
      "hold",
      "timeout",
    ],
    [new Error("something nobody foresaw"), "hold", "unknown"],
    [http(400, "HTTP 400: parse_exception: request body is required"), "fail"],
    [http(404, "HTTP 404: not found"), "fail"],
    [http(302), "fail"],
    [http(301), "fail"],
    [new NotABulkResponseError("_bulk answered something that is not a bulk response"), "fail"],
  ];
  for (const [err, kind, cause] of cases) {
    it(
      `${kind}${cause ? ` (${cause})` : ""}: ${(err as Error).message ?? JSON.stringify(err)}`.slice(0, 160),
      () => {
        const v = classifyRequestError(err);
        assert.equal(v.kind, kind);
        if (cause) assert.equal(v.kind === "hold" && v.cause, cause);
      },
    );
  }
});

describe("missingPermission", () => {
  it("names the action the security plugin says is missing", () => {
    assert.equal(
      missingPermission("no permissions for [indices:data/write/bulk[s]] and User [name=u]"),
      "indices:data/write/bulk[s]",
    );
    assert.equal(
      missingPermission("no permissions for [indices:data/write/bulk] and User [name=u]"),
      "indices:data/write/bulk",
    );
    assert.equal(missingPermission("HTTP 401: Unauthorized"), undefined);
  });
});

describe("WriteHolds", () => {
  it("reports the state (reason, metric) while any writer is held, logs once per change, gives up past the limit", () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "debug" }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const metrics = new Metrics();
    let t = 0;
    const holds = new WriteHolds(logger, metrics, 1000, () => t);
    const a = {};
    const b = {};
    holds.hold(
      a,
      "permission",
      "security_exception: no permissions for [indices:data/write/bulk] and User [name=u]",
    );
    holds.hold(
      b,
      "permission",
      "security_exception: no permissions for [indices:data/write/bulk] and User [name=u]",
    );
    t = 500;
    holds.hold(
      a,
      "permission",
      "security_exception: no permissions for [indices:data/write/bulk] and User [name=u]",
    );
    assert.match(holds.reason ?? "", /permission \(missing permission indices:data\/write\/bulk\)/);
    assert.equal(lines.filter((l) => l.level === 40).length, 1, "one warning for one state");
    holds.release(a);
    assert.notEqual(holds.reason, undefined, "b is still held");
    t = 1600;
    assert.throws(() => holds.hold(b, "permission", "again"), HoldLimitError);
    assert.equal(holds.reason, undefined);
    assert.ok(lines.some((l) => l.level === 50 && /hold limit/.test(l.msg)));
    assert.ok(
      !lines.some((l) => /resuming/.test(l.msg)),
      "a hold given up is not a resumption: nothing was written",
    );
    assert.ok(lines.some((l) => l.level === 40 && /given up or stopped, not written/.test(l.msg)));
  });

  it("says 'resuming' only when a held writer wrote; one stopped while held (shutdown) says it was not written", () => {
    const lines: { level: number; msg: string }[] = [];
    const logger = pino({ level: "info" }, { write: (l: string) => lines.push(JSON.parse(l)) });
    const holds = new WriteHolds(logger);
    const a = {};
    holds.hold(a, "unreachable", "connect ECONNREFUSED");
    holds.release(a, "abandoned");
    assert.deepEqual(lines.map((l) => /resuming|not written/.exec(l.msg)?.[0]).filter(Boolean), [
      "not written",
    ]);
    holds.hold(a, "unreachable", "connect ECONNREFUSED");
    holds.release(a);
    assert.equal(lines.at(-1)?.msg, "OpenSearch takes writes again; resuming");
  });
});
