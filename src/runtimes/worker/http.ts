import { createServer, type Server } from "node:http";
import type { Logger } from "../../platform/logger.ts";
import type { Metrics } from "../../platform/metrics.ts";
import { withDeadline } from "../../platform/util/deadline.ts";

/**
 * How long one readiness check may take before /readyz reports it as failed. A probe (Kubernetes' default
 * timeout is 1 s, often set to 3-5 s) must get an answer, a 503 when a dependency hangs, not a hang of
 * its own: the checks' own clients have much longer timeouts (OPENSEARCH_TIMEOUT_MS is 60 s by default,
 * meant for bulk requests), so this bound is separate from them.
 */
export const READY_CHECK_TIMEOUT_MS = 2_500;

interface HealthChecks {
  /** Liveness: the process is not wedged. */
  live: () => boolean;
  /**
   * Readiness: dependencies answer. Each check resolves to an error text or undefined; it is given up on
   * (and its signal aborted) after `readyTimeoutMs` (default READY_CHECK_TIMEOUT_MS).
   */
  ready: Record<string, (signal: AbortSignal) => Promise<string | undefined>>;
  readyTimeoutMs?: number;
}

/** /metrics (Prometheus text), /healthz (liveness) and /readyz (OpenSearch and SQS reachable). */
export async function startHttpServer(opts: {
  host: string;
  port: number;
  metrics: Metrics;
  health: HealthChecks;
  logger: Logger;
}): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const reply = (status: number, body: string, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return reply(405, "method not allowed\n");
    if (path === "/metrics") {
      opts.metrics.registry
        .metrics()
        .then((text) => reply(200, text, opts.metrics.registry.contentType))
        .catch((err: unknown) => reply(500, `${String(err)}\n`));
    } else if (path === "/healthz") {
      const ok = opts.health.live();
      reply(ok ? 200 : 503, ok ? "ok\n" : "receive loop stalled\n");
    } else if (path === "/readyz") {
      Promise.all(
        Object.entries(opts.health.ready).map(async ([name, check]) => {
          try {
            const ms = opts.health.readyTimeoutMs ?? READY_CHECK_TIMEOUT_MS;
            return [name, await withDeadline(`${name} check`, ms, undefined, check)] as const;
          } catch (err) {
            return [name, err instanceof Error ? err.message : String(err)] as const;
          }
        }),
      ).then((results) => {
        const failed = results.filter(([, e]) => e !== undefined);
        const body = results.map(([n, e]) => `${n}: ${e === undefined ? "ok" : `FAIL ${e}`}`).join("\n");
        reply(failed.length === 0 ? 200 : 503, `${body}\n`);
      });
    } else reply(404, "not found\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  opts.logger.info(
    { address: typeof addr === "object" ? addr : opts.port },
    "metrics and health server listening",
  );
  return server;
}
