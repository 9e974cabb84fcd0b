import type { FastifyInstance } from "fastify";
import fp from "fastify-plugin";

const QUIET: ReadonlySet<string> = new Set(["warn", "error", "fatal", "silent"]);

function pathOnly(url: string): string {
  const q = url.indexOf("?");
  return (q === -1 ? url : url.slice(0, q)).slice(0, 512);
}

/**
 * One access-log line per request, at info, when the response is sent:
 * `{reqId, method, path, statusCode, ms, ip}` and the message "request".
 * It replaces Fastify's two built-in lines per request (Fastify is built with
 * `disableRequestLogging`). The line is built from those fields only — the
 * query string dropped, no headers, no body — so it needs no redaction, and is
 * written through a child logger without the redaction pass (which would cost
 * more than the session check itself; see docs/performance.md).
 */
export const accessLogPlugin = fp(
  async (app: FastifyInstance) => {
    const log = app.log.child({}, { redact: { paths: [] } });
    app.addHook("onResponse", (request, reply, done) => {
      // A route that lowers its own logging (`logLevel: "warn"`, e.g. forward-auth) gets no access line either.
      if (QUIET.has(request.routeOptions.logLevel)) return done();
      log.info(
        {
          reqId: request.id,
          method: request.method,
          path: pathOnly(request.originalUrl ?? request.url),
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          ip: request.ip,
        },
        "request",
      );
      done();
    });
  },
  { name: "access-log" },
);
