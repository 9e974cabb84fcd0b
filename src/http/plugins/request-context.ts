import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";
import { GatehouseError } from "../../core/errors.js";

const FORBIDDEN_QUERY_KEYS = ["__proto__", "constructor", "prototype"];

/**
 * Per-request basics: the `X-Request-Id` response header, `Cache-Control:
 * no-store` on every API response (SESS-13), and refusal of
 * prototype-pollution keys in the query string (INP-03).
 */
export const requestContextPlugin = fp(
  async (app: FastifyInstance) => {
    // A synchronous hook: no promise per request.
    app.addHook("onRequest", (request, reply, done) => {
      reply.header("X-Request-Id", request.id);
      if (request.url.startsWith("/api/")) reply.header("Cache-Control", "no-store");
      const query = request.query;
      if (typeof query === "object" && query !== null) {
        for (const key of Object.keys(query)) {
          if (FORBIDDEN_QUERY_KEYS.some((k) => key.includes(k))) return done(new GatehouseError("invalid_request"));
        }
      }
      done();
    });
  },
  { name: "request-context" },
);
