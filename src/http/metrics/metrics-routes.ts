import { createHash, timingSafeEqual } from "node:crypto";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import type { PrometheusMetrics } from "./prometheus-metrics.js";

/** What serving `/metrics` needs: the exporter and the bearer token, if one is required. */
export interface MetricsEndpoint {
  exporter: PrometheusMetrics;
  /** `METRICS_TOKEN`, or null when the listener itself is the guard. Never logged. */
  token: string | null;
}

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * True when `header` is `Bearer <token>`. Both sides are hashed first, so the
 * comparison takes the same time whatever was sent (its length included).
 */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const sent = typeof header === "string" && /^Bearer /i.test(header) ? header.slice(7).trim() : "";
  return timingSafeEqual(digest(sent), digest(token)) && sent.length > 0;
}

/** The `/metrics` handler: 401 without the token (when one is set), else the exposition text. */
function handler(endpoint: MetricsEndpoint) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    if (endpoint.token !== null && !bearerMatches(request.headers.authorization, endpoint.token)) {
      reply.header("WWW-Authenticate", 'Bearer realm="metrics"');
      throw new GatehouseError("unauthenticated");
    }
    reply.header("Cache-Control", "no-store").type(endpoint.exporter.contentType);
    return endpoint.exporter.render();
  };
}

/**
 * `GET /metrics` on the main listener (in the JSON API context): no session,
 * no route limit, and answerable while the ban store is down (the scraper must
 * see a Redis outage); guarded by `METRICS_TOKEN` in production.
 */
export async function metricsRoutes(app: FastifyInstance, endpoint: MetricsEndpoint): Promise<void> {
  app.get("/metrics", { config: { access: "public", session: "none", rateLimit: false, grantsNothing: true }, logLevel: "warn" }, handler(endpoint));
}

/**
 * Counts every answered request of `app` in the request histogram, by its
 * route pattern (`/api/account/sessions/:id`), never the raw URL: a request
 * that matched no route is `unmatched`, whatever its path.
 */
export function countRequests(app: FastifyInstance, exporter: PrometheusMetrics): void {
  app.addHook("onResponse", (request, reply, done) => {
    exporter.observeRequest(request.method, request.routeOptions.url ?? "unmatched", reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
}

/**
 * The separate listener of `METRICS_PORT`: serves `GET /metrics` and nothing
 * else (every other path is 404), with no access to the rest of the app.
 */
export async function buildMetricsServer(endpoint: MetricsEndpoint, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const app = Fastify({ loggerInstance: logger, return503OnClosing: true });
  app.setErrorHandler((err, _request, reply) => {
    const status = err instanceof GatehouseError ? err.status : 500;
    if (status >= 500) logger.error({ err }, "metrics listener failed");
    return reply.code(status).send({ error: status === 401 ? "Authentication required" : "Internal error", code: status === 401 ? "unauthenticated" : "internal" });
  });
  // Per-request logs off (warn and above only): a scraper asks every few seconds.
  app.get("/metrics", { logLevel: "warn" }, handler(endpoint));
  return app;
}
