/**
 * An HTTP-aware, fault-injecting reverse proxy on loopback, for end-to-end tests that put it in front
 * of the shared stack (OpenSearch, or moto's S3/SQS) without touching the stack itself.
 *
 * Every request is recorded (method, path, the AWS action it stands for) and passed to `fault`, which
 * the test can change at any time; it decides what happens to that one request:
 *   - undefined            forwarded untouched
 *   - status               answered by the proxy (e.g. 429, 500, 503 with an AWS-style body), not forwarded
 *   - reset                connection reset before anything is forwarded
 *   - delay                forwarded after `ms`
 *   - lostResponse         forwarded (it takes effect upstream), then the connection is reset: the answer is lost
 *   - cut                  forwarded; the response head and the first `afterBytes` of its body are sent,
 *                          then the connection is closed (or reset): a body cut in the middle
 *   - stall                forwarded; the response head and the first `afterBytes` of its body are sent,
 *                          then nothing, on a connection that stays open (until the client gives up)
 *   - slow                 forwarded; the response body trickles in `chunkBytes` pieces every `everyMs`
 *   - rewrite              forwarded; the buffered response may be replaced (e.g. some bulk items -> 429)
 *   - hang                 no answer ever: the connection stays open until the client gives up (or the proxy
 *                          closes); with `forward` the request still reaches upstream and takes effect
 */
import {
  type ClientRequest,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Socket } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingMessage["headers"];
  body: Buffer;
  /** e.g. "sqs:ReceiveMessage", "s3:GetObject", "es:POST /_bulk" */
  action: string;
  /** For S3 (path style): the bucket addressed. */
  bucket?: string;
  at: number;
}

export type Fault =
  | { kind: "status"; status: number; body?: string; headers?: Record<string, string> }
  | { kind: "reset" }
  | { kind: "delay"; ms: number }
  | { kind: "lostResponse" }
  | { kind: "hang"; forward?: boolean }
  | { kind: "cut"; afterBytes: number; reset?: boolean }
  | { kind: "stall"; afterBytes: number }
  | { kind: "slow"; chunkBytes: number; everyMs: number }
  | {
      kind: "rewrite";
      fn: (
        status: number,
        body: Buffer,
        req: RecordedRequest,
      ) => { status: number; body: Buffer } | undefined;
    };

export interface FaultProxy {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** Decides the fate of each request; replace it at will. */
  fault: (req: RecordedRequest) => Fault | undefined;
  /** Counts of injected faults by kind. */
  injected: Record<string, number>;
  close: () => Promise<void>;
}

/** The AWS/OpenSearch action a request stands for, as IAM names it where it has a name. */
export function actionOf(method: string, url: string, headers: IncomingMessage["headers"], body: Buffer) {
  const target = headers["x-amz-target"];
  if (typeof target === "string" && target.includes(".")) {
    const [svc, op] = target.split(".") as [string, string];
    return { action: `${svc.startsWith("AmazonSQS") ? "sqs" : svc.toLowerCase()}:${op}` };
  }
  const ct = String(headers["content-type"] ?? "");
  if (ct.includes("x-www-form-urlencoded")) {
    const a = new URLSearchParams(body.toString("utf8")).get("Action");
    if (a) return { action: `sqs:${a}` };
  }
  const u = new URL(url, "http://x");
  const parts = u.pathname.split("/").filter(Boolean);
  if (parts[0]?.startsWith("_") || parts[1]?.startsWith("_")) return { action: `es:${method} ${u.pathname}` };
  // S3, path style: /bucket or /bucket/key
  const bucket = parts[0] ? decodeURIComponent(parts[0]) : undefined;
  const hasKey = parts.length > 1;
  let op: string;
  if (method === "GET" && hasKey) op = "GetObject";
  else if (method === "HEAD" && hasKey)
    op = "GetObject"; // HeadObject is authorised by s3:GetObject
  else if ((method === "GET" || method === "HEAD") && bucket) op = "ListBucket";
  else if (method === "PUT" && hasKey) op = "PutObject";
  else if (method === "DELETE" && hasKey) op = "DeleteObject";
  else op = `${method} ${u.pathname}`;
  return { action: `s3:${op}`, ...(bucket ? { bucket } : {}) };
}

/** `tls`: serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
export async function startFaultProxy(
  target: string,
  opts: { port?: number; tls?: { key: Buffer | string; cert: Buffer | string } } = {},
): Promise<FaultProxy> {
  const port = opts.port ?? 0;
  const up = new URL(target);
  const sockets = new Set<Socket>();
  // The proxy's own requests upstream: a client that goes away (its timeout) or the proxy's close ends them,
  // else an answer nobody reads holds its socket (and the test file's process) open for ever.
  const upstreams = new Set<ClientRequest>();
  let closed = false;
  const state: FaultProxy = {
    url: "",
    port: 0,
    requests: [],
    fault: () => undefined,
    injected: {},
    close: async () => {
      closed = true;
      for (const u of upstreams) u.destroy();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };

  const forward = (rec: RecordedRequest, res: ServerResponse, fault: Fault | undefined) => {
    if (closed || res.destroyed) return; // a delayed forward after its client or the proxy went away
    const headers = { ...rec.headers, host: up.host };
    const upstream = httpRequest(
      { host: up.hostname, port: up.port, method: rec.method, path: rec.url, headers, agent: false },
      (ures) => {
        ures.on("end", () => upstreams.delete(upstream));
        onUpstream(ures, rec, res, fault);
      },
    );
    upstreams.add(upstream);
    upstream.on("close", () => upstreams.delete(upstream));
    upstream.on("error", () => res.socket?.resetAndDestroy());
    // the client gone before the upstream answer was read to its end: nobody reads it now
    res.on("close", () => {
      if (upstreams.has(upstream)) upstream.destroy();
    });
    upstream.end(rec.body);
  };

  const onUpstream = (
    ures: IncomingMessage,
    rec: RecordedRequest,
    res: ServerResponse,
    fault: Fault | undefined,
  ) => {
    const sock = res.socket;
    if (fault?.kind === "hang") {
      ures.resume(); // taken effect upstream; the answer is swallowed and the client left waiting
      return;
    }
    if (fault?.kind === "lostResponse") {
      ures.resume();
      ures.on("end", () => sock?.resetAndDestroy());
      return;
    }
    if (fault?.kind === "rewrite") {
      const chunks: Buffer[] = [];
      ures.on("data", (c: Buffer) => chunks.push(c));
      ures.on("end", () => {
        const body = Buffer.concat(chunks);
        const out = fault.fn(ures.statusCode ?? 200, body, rec) ?? { status: ures.statusCode ?? 200, body };
        const h = { ...ures.headers };
        delete h["content-length"];
        delete h["transfer-encoding"];
        res.writeHead(out.status, { ...h, "content-length": String(out.body.length) });
        res.end(out.body);
      });
      return;
    }
    res.writeHead(ures.statusCode ?? 502, ures.headers);
    if (fault?.kind === "stall") {
      let sent = 0;
      ures.on("data", (c: Buffer) => {
        if (sent >= fault.afterBytes) return;
        res.write(c.subarray(0, fault.afterBytes - sent));
        sent += Math.min(c.length, fault.afterBytes - sent);
      });
      return; // never ended: the client's socket stays open with nothing more coming
    }
    if (fault?.kind === "cut") {
      let sent = 0;
      let done = false;
      ures.on("data", (c: Buffer) => {
        if (done) return;
        const room = fault.afterBytes - sent;
        if (c.length < room) {
          res.write(c);
          sent += c.length;
          return;
        }
        done = true;
        res.write(c.subarray(0, room), () => {
          if (fault.reset) sock?.resetAndDestroy();
          else sock?.destroy();
        });
        ures.destroy();
      });
      ures.on("end", () => {
        if (!done) res.end();
      });
      return;
    }
    if (fault?.kind === "slow") {
      const chunks: Buffer[] = [];
      ures.on("data", (c: Buffer) => chunks.push(c));
      ures.on("end", () => {
        const all = Buffer.concat(chunks);
        let off = 0;
        const tick = () => {
          if (res.destroyed) return;
          if (off >= all.length) return void res.end();
          res.write(all.subarray(off, off + fault.chunkBytes));
          off += fault.chunkBytes;
          setTimeout(tick, fault.everyMs);
        };
        tick();
      });
      return;
    }
    ures.pipe(res);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const method = req.method ?? "GET";
      const url = req.url ?? "/";
      const rec: RecordedRequest = {
        method,
        url,
        headers: req.headers,
        body,
        ...actionOf(method, url, req.headers, body),
        at: Date.now(),
      };
      state.requests.push(rec);
      if (state.requests.length > 200_000) state.requests.splice(0, 100_000);
      let fault: Fault | undefined;
      try {
        fault = state.fault(rec);
      } catch {
        fault = undefined;
      }
      if (fault) state.injected[fault.kind] = (state.injected[fault.kind] ?? 0) + 1;
      switch (fault?.kind) {
        case "status": {
          const b = fault.body ?? "";
          res.writeHead(fault.status, { "content-length": String(Buffer.byteLength(b)), ...fault.headers });
          res.end(b);
          return;
        }
        case "reset":
          req.socket.resetAndDestroy();
          return;
        case "delay":
          setTimeout(() => forward(rec, res, undefined), fault.ms);
          return;
        case "hang":
          if (fault.forward) forward(rec, res, fault);
          return;
        default:
          forward(rec, res, fault);
      }
    });
  };
  const server: Server = opts.tls ? createHttpsServer({ ...opts.tls }, handler) : createServer(handler);
  server.on("connection", (s) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => undefined);
  });
  server.on("clientError", (_err, s) => s.destroy());
  server.on("tlsClientError", () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const addr = server.address();
  state.port = typeof addr === "object" && addr ? addr.port : port;
  state.url = `${opts.tls ? "https" : "http"}://127.0.0.1:${state.port}`;
  return state;
}

/** AWS-style error answers, as the SDKs parse them. */
export const awsErrors = {
  sqsThrottled: (): Fault => ({
    kind: "status",
    status: 400,
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amzn-query-error": "ThrottlingException;Sender",
    },
    body: JSON.stringify({ __type: "com.amazonaws.sqs#ThrottlingException", message: "Rate exceeded" }),
  }),
  sqs500: (): Fault => ({
    kind: "status",
    status: 500,
    headers: { "content-type": "application/x-amz-json-1.0" },
    body: JSON.stringify({ __type: "com.amazonaws.sqs#InternalError", message: "injected" }),
  }),
  s3: (status: 500 | 503, code = status === 503 ? "SlowDown" : "InternalError"): Fault => ({
    kind: "status",
    status,
    headers: { "content-type": "application/xml" },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected</Message></Error>`,
  }),
  os429: (): Fault => ({
    kind: "status",
    status: 429,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      error: { type: "es_rejected_execution_exception", reason: "injected" },
      status: 429,
    }),
  }),
};

/** A bulk response with a share of its items turned into 429s (the rest as OpenSearch answered). */
export function partlyFailBulk(share: number, random: () => number = Math.random) {
  return (status: number, body: Buffer): { status: number; body: Buffer } | undefined => {
    if (status !== 200) return undefined;
    const parsed = JSON.parse(body.toString("utf8")) as {
      errors: boolean;
      items: Record<string, { status: number; error?: unknown }>[];
    };
    let changed = false;
    for (const item of parsed.items) {
      const op = Object.keys(item)[0]!;
      if (random() < share) {
        item[op] = {
          ...item[op]!,
          status: 429,
          error: { type: "es_rejected_execution_exception", reason: "injected: queue full" },
        };
        changed = true;
      }
    }
    if (!changed) return undefined;
    parsed.errors = true;
    return { status: 200, body: Buffer.from(JSON.stringify(parsed)) };
  };
}
