import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { Client } from "@opensearch-project/opensearch";
import { NotABulkResponseError, readBulkResponse } from "../../src/core/sink/bulk-response.ts";
import { BulkAnswerStalledError, openSearchBulkTransport } from "../../src/core/sink/opensearch-transport.ts";
import { httpStatusOf } from "../../src/core/sink/write-failure.ts";

const created = (n: number) =>
  `{"errors":false,"items":[${Array.from({ length: n }, () => '{"create":{"status":201}}').join(",")}]}`;

describe("readBulkResponse", () => {
  it("counts the items of an answer without failures instead of parsing them", () => {
    const ok = (created: number, duplicates = 0) => ({ errors: duplicates > 0, created, duplicates });
    assert.deepEqual(readBulkResponse(Buffer.from(created(2000))), ok(2000));
    assert.deepEqual(readBulkResponse(Buffer.from(`${created(3)}\r\n`)), ok(3));
    assert.deepEqual(readBulkResponse(Buffer.from('{"errors":false,"items":[]}')), ok(0));
    // index operations (replay) answer 200 or 201
    assert.deepEqual(
      readBulkResponse(
        Buffer.from('{"errors":false,"items":[{"index":{"status":200}},{"index":{"status":201}}]}'),
      ),
      ok(2),
    );
  });

  it("counts an answer whose failures are all 409s (already there: a redelivery, a backfill) the same way", () => {
    const conflict = (id: string) =>
      `{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"[${id}]: version conflict, document already exists (current version [1]) \\"status\\":500"}}}`;
    const all = `{"errors":true,"items":[${["a", "b", "c"].map(conflict).join(",")}]}`;
    assert.deepEqual(readBulkResponse(Buffer.from(all)), { errors: true, created: 0, duplicates: 3 });
    const mixed = `{"errors":true,"items":[{"create":{"status":201}},${conflict("x")},{"create":{"status":201}}]}`;
    assert.deepEqual(readBulkResponse(Buffer.from(mixed)), { errors: true, created: 2, duplicates: 1 });
  });

  it("parses every other answer whole: other failures, another layout, flags that disagree", () => {
    const failed =
      '{"errors":true,"items":[{"create":{"status":409,"error":{"type":"version_conflict_engine_exception","reason":"\\"errors\\":false"}}},{"create":{"status":429,"error":{"type":"es_rejected_execution_exception","reason":"queue"}}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(failed)), JSON.parse(failed));
    const mapping =
      '{"errors":true,"items":[{"create":{"status":400,"error":{"type":"mapper_parsing_exception","reason":"x"}}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(mapping)), JSON.parse(mapping));
    const disagree = '{"errors":true,"items":[{"create":{"status":201}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(disagree)), JSON.parse(disagree));
    const pretty = JSON.stringify(JSON.parse(created(2)), null, 2);
    assert.deepEqual(readBulkResponse(Buffer.from(pretty)), JSON.parse(pretty));
    const odd = '{"errors":false,"items":[{"create":{"status":201}},{"create":{"status":500}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(odd)), JSON.parse(odd));
    const missing = '{"errors":false,"items":[{"create":{}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(missing)), JSON.parse(missing));
  });

  it("refuses what is not a bulk answer", () => {
    for (const body of ["<html>bad gateway</html>", "", '{"items":{}}', "null", '{"errors":false}'])
      assert.throws(() => readBulkResponse(Buffer.from(body)), NotABulkResponseError, JSON.stringify(body));
  });

  it("counts only item-level statuses: a nested error object is parsed whole, a key must start where keys do", () => {
    const nested =
      '{"errors":true,"items":[{"create":{"status":409,"error":{"type":"t","reason":"r","caused_by":{"status":201}}}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(nested)), JSON.parse(nested));
    const oddKey = '{"errors":false,"items":[{"create":{"x\\"status":201,"status":201}}]}';
    assert.deepEqual(readBulkResponse(Buffer.from(oddKey)), JSON.parse(oddKey));
  });
});

describe("openSearchBulkTransport (over HTTP, the real client)", () => {
  /** A server answering each request with the next of `answers`; returns the bodies it received. */
  async function withServer(
    answers: { status: number; body: Buffer | string; headers?: Record<string, string> }[],
    run: (client: Client, received: string[]) => Promise<void>,
  ): Promise<void> {
    const received: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        received.push(`${req.method} ${req.url}\n${Buffer.concat(chunks).toString()}`);
        const a = answers.shift() ?? { status: 500, body: "no more answers" };
        res.writeHead(a.status, { "content-type": "application/json", ...a.headers });
        res.end(a.body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = new Client({
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      maxRetries: 0,
    });
    try {
      await run(client, received);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  }
  const body = Buffer.from('{"create":{"_index":"i","_id":"a"}}\n{"n":1}\n');
  /** The error a call that must fail rejects with. */
  const failure = (p: Promise<unknown>) =>
    p.then(
      () => assert.fail("resolved"),
      (e: unknown) => e,
    );

  it("sends the bytes as they are, with filter_path, and reads the answer", async () => {
    await withServer(
      [
        { status: 200, body: created(1) },
        { status: 200, body: gzipSync(created(1)), headers: { "content-encoding": "gzip" } },
      ],
      async (client, received) => {
        const t = openSearchBulkTransport(client);
        assert.deepEqual(await t(body), { errors: false, created: 1, duplicates: 0 });
        assert.deepEqual(await t(body), { errors: false, created: 1, duplicates: 0 }, "gzip answer");
        assert.match(received[0]!, /^POST \/_bulk\?filter_path=errors%2Citems/);
        assert.ok(received[0]!.endsWith(body.toString()));
      },
    );
  });

  it("turns a whole-request failure into an error carrying its HTTP status and OpenSearch's reason", async () => {
    const reject = {
      error: {
        type: "es_rejected_execution_exception",
        reason: "rejected execution of coordinating operation",
      },
      status: 429,
    };
    await withServer(
      [
        { status: 429, body: JSON.stringify(reject) },
        { status: 502, body: "<html>Bad Gateway</html>", headers: { "content-type": "text/html" } },
      ],
      async (client) => {
        const t = openSearchBulkTransport(client);
        const e1 = await failure(t(body));
        assert.equal(httpStatusOf(e1), 429);
        assert.match((e1 as Error).message, /HTTP 429: es_rejected_execution_exception: rejected execution/);
        const e2 = await failure(t(body));
        assert.equal(httpStatusOf(e2), 502);
        assert.match((e2 as Error).message, /HTTP 502: <html>Bad Gateway/);
      },
    );
  });

  it("a redirect keeps its status, and a 200 that is not a bulk answer says so (both refused by the sink)", async () => {
    await withServer(
      [
        { status: 302, body: "", headers: { location: "/login" } },
        { status: 200, body: "<html>sign in</html>", headers: { "content-type": "text/html" } },
      ],
      async (client) => {
        const t = openSearchBulkTransport(client);
        const e1 = await failure(t(body));
        assert.equal(httpStatusOf(e1), 302);
        await assert.rejects(t(body), NotABulkResponseError);
      },
    );
  });

  it("an answer whose body stalls after its head fails (the client's timeout ends at the head), as does an abort mid-body", async () => {
    const sockets = new Set<Socket>();
    const server = createServer((_req, res) => {
      sockets.add(res.socket!);
      res.writeHead(200, { "content-type": "application/json" });
      res.write('{"errors":false,"items":[{"create":{"status":201}}'); // ...and nothing more
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = new Client({
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      maxRetries: 0,
      requestTimeout: 300,
    });
    try {
      // By default the body gets the client's request timeout between bytes.
      const e1 = await failure(openSearchBulkTransport(client)(body));
      assert.ok(e1 instanceof BulkAnswerStalledError, String(e1));
      assert.match((e1 as Error).message, /sent nothing for 300 ms/);
      const e2 = await failure(openSearchBulkTransport(client, { answerIdleMs: 50 })(body));
      assert.match((e2 as Error).message, /sent nothing for 50 ms/);
      // Aborted while the body is coming (shutdown): ends with the signal's reason, not the idle limit.
      const ac = new AbortController();
      const patient = openSearchBulkTransport(client, { answerIdleMs: 600_000 });
      server.once("request", () => setTimeout(() => ac.abort(new Error("shutting down")), 50));
      const e3 = await failure(patient(body, ac.signal));
      assert.equal((e3 as Error).message, "shutting down");
    } finally {
      for (const s of sockets) s.destroy();
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });

  it("a gzip answer cut mid-way fails instead of waiting forever, and an aborted signal sends nothing", async () => {
    const gz = gzipSync(created(5000));
    const server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-encoding": "gzip" });
      res.write(gz.subarray(0, gz.length >> 1), () => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const client = new Client({
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      maxRetries: 0,
    });
    try {
      const t = openSearchBulkTransport(client);
      await assert.rejects(t(body));
      let requests = 0;
      server.on("request", () => requests++);
      await assert.rejects(t(body, AbortSignal.abort()), { name: "AbortError" });
      assert.equal(requests, 0);
    } finally {
      await client.close();
      await new Promise((r) => server.close(r));
    }
  });
});
