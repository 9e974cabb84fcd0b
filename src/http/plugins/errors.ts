import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import fp from "fastify-plugin";
import { isBrowserNavigation, sendErrorPage } from "../error-page.js";
import { setRefusalHeaders } from "../refusal-headers.js";
import { errorCodes, GatehouseError, isGatehouseError, type ErrorCode } from "../../core/errors.js";
import type { OutageMonitor } from "../../core/outage/outage-monitor.js";

declare module "fastify" {
  interface FastifyInstance {
    /** The database's outage episodes (src/core/outage): set when the app is built from a composed Gatehouse. */
    databaseOutage: OutageMonitor | null;
  }
}

/** Methods Gatehouse answers at all; anything else (TRACE, PROPFIND…) is 405. */
export const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_TYPE: "unsupported_media_type",
  FST_ERR_CTP_EMPTY_JSON_BODY: "invalid_json",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "invalid_request",
  FST_ERR_CTP_INVALID_JSON_BODY: "invalid_json",
  FST_ERR_VALIDATION: "invalid_request",
};

/** Sends the `{error, code}` body of docs/api.md for a registered code. */
export function sendError(reply: FastifyReply, err: GatehouseError): FastifyReply {
  setRefusalHeaders(reply, err);
  const body: { error: string; code: string; fields?: string[] } = { error: err.message, code: err.code };
  if (err.fields && err.fields.length > 0) body.fields = err.fields;
  return reply.code(err.status).type("application/json; charset=utf-8").send(body);
}

function validationFields(err: FastifyError): string[] {
  const fields = new Set<string>();
  for (const v of err.validation ?? []) {
    const params = v.params;
    const name =
      (typeof params.missingProperty === "string" && params.missingProperty) ||
      (typeof params.additionalProperty === "string" && params.additionalProperty) ||
      v.instancePath.replace(/^\//, "").split("/")[0] ||
      err.validationContext;
    if (name) fields.add(String(name).slice(0, 64));
  }
  return [...fields];
}

/** Maps any thrown error to the public shape; unknown errors become a logged, generic 500 (LOG-05). */
export function toPublicError(err: unknown, request: FastifyRequest): GatehouseError {
  if (isGatehouseError(err)) {
    // A 500 with a registered code (a stored secret the keys cannot open): the client gets the code, the operator the reason.
    if (err.status === 500) request.log.error({ code: err.code, reason: err.cause instanceof Error ? err.cause.message : undefined }, err.message);
    return err;
  }
  const fe = err as FastifyError;
  const mapped = typeof fe?.code === "string" ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped === "invalid_request" && fe.validation) return new GatehouseError(mapped, { fields: validationFields(fe) });
  if (mapped) return new GatehouseError(mapped);
  if (fe instanceof SyntaxError && fe.statusCode === 400) return new GatehouseError("invalid_json");
  if (typeof fe?.statusCode === "number" && fe.statusCode >= 400 && fe.statusCode < 500) {
    const byStatus = (Object.keys(errorCodes) as ErrorCode[]).find((c) => errorCodes[c].status === fe.statusCode);
    return new GatehouseError(byStatus ?? "invalid_request");
  }
  // The database unreachable is an outage, not a bug: 503 with Retry-After, logged once per episode (not per request).
  const outage = request.server.databaseOutage;
  if (outage?.absorb(err)) return new GatehouseError("unavailable", { retryAfter: outage.retryAfterSeconds });
  request.log.error({ err }, "unhandled error");
  return new GatehouseError("internal");
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (`/%`,
 * `/api/auth/me%`) or a path parameter over `maxParamLength`. These fail
 * before any hook runs, so the contract's headers (`X-Request-Id`,
 * `Cache-Control: no-store`, the security headers) are set here, and the
 * answer is the `{error, code}` body of docs/api.md (400 `invalid_request`),
 * never Fastify's own `FST_ERR_*` body.
 */
export function frameworkErrorHandler(browserHeaders: Readonly<Record<string, string>>) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    request.log.debug({ code: err.code }, "malformed request refused");
    reply.headers(browserHeaders).header("X-Request-Id", request.id).header("Cache-Control", "no-store");
    void sendError(reply, new GatehouseError("invalid_request"));
  };
}

const CLIENT_ERROR_REASONS = { invalid_request: "Bad Request", request_timeout: "Request Timeout", headers_too_large: "Request Header Fields Too Large" } as const;

/** The registered code for an error of Node's HTTP parser: headers over the limit 431, a request too slow to arrive 408, anything else 400. */
function clientErrorCode(parserCode: string | undefined): keyof typeof CLIENT_ERROR_REASONS {
  if (parserCode === "HPE_HEADER_OVERFLOW") return "headers_too_large";
  if (parserCode === "ERR_HTTP_REQUEST_TIMEOUT" || parserCode === "ERR_HTTP_HEADERS_TIMEOUT") return "request_timeout";
  return "invalid_request";
}

/**
 * The raw answer to a request Node's HTTP parser refused (malformed request
 * line, headers over the size limit, a request that timed out): no request
 * object exists, so the same `{error, code}` body and headers are written to
 * the socket by hand, with a fresh request id.
 */
export function clientErrorAnswer(browserHeaders: Readonly<Record<string, string>>, requestId: string, parserCode?: string): string {
  const code = clientErrorCode(parserCode);
  const { status, message } = errorCodes[code];
  const body = JSON.stringify({ error: message, code });
  const headers = { ...browserHeaders, "Cache-Control": "no-store", "X-Request-Id": requestId, "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(body)), Connection: "close" };
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${CLIENT_ERROR_REASONS[code]}\r\n${lines.join("")}\r\n${body}`;
}

/**
 * The one error handler, the 404/405 handler (unless `notFound: false`) and a JSON client-error answer.
 * `browserHeaders` go on every error that does not carry them yet (the
 * forward-auth routes set them only on the answers a proxy may relay).
 */
export const errorsPlugin = fp(
  async (app: FastifyInstance, opts: { browserHeaders: Readonly<Record<string, string>>; databaseOutage?: OutageMonitor; notFound?: boolean }) => {
    app.decorate("databaseOutage", opts.databaseOutage ?? null);
    app.addHook("onClose", (_instance, done) => {
      opts.databaseOutage?.stop();
      done();
    });
    const guard = Object.keys(opts.browserHeaders)[0] ?? "";
    // An error is never cacheable, whichever step raised it (a ban or a bad URL fails before the route's headers are set).
    const hardened = (reply: FastifyReply) => (reply.hasHeader(guard) ? reply : reply.headers(opts.browserHeaders)).header("Cache-Control", "no-store");
    app.setErrorHandler((err, request, reply) => sendError(hardened(reply), toPublicError(err, request)));
    // The library plugin mounted at the host's root leaves the host's unknown paths to the host.
    if (opts.notFound === false) return;
    app.setNotFoundHandler((request, reply) => {
      hardened(reply);
      const err = new GatehouseError(KNOWN_METHODS.has(request.method) ? "not_found" : "method_not_allowed");
      // A person following a dead link gets a page with a way back; API clients keep the JSON error.
      if (isBrowserNavigation(request) && !request.url.startsWith(`${request.basePath}/api/`)) return sendErrorPage(request, reply, err);
      return sendError(reply, err);
    });
  },
  { name: "errors" },
);

/**
 * After all routes are registered: every known path answers the methods it
 * does not implement with 405 and an `Allow` header (e.g. `GET /api/auth/logout`).
 */
export function addMethodNotAllowedRoutes(app: FastifyInstance, routes: Map<string, Set<string>>): void {
  for (const [url, methods] of routes) {
    const allowed = [...methods].sort().join(", ");
    const missing = [...KNOWN_METHODS].filter((m) => !methods.has(m) && !(m === "HEAD" && methods.has("GET")));
    if (missing.length === 0) continue;
    app.route({
      method: missing,
      url,
      config: { access: "public" },
      // Thrown, so the error handler gives it the browser headers (these fillers live outside the pipeline's contexts).
      handler: async (_request, reply) => {
        reply.header("Allow", allowed);
        throw new GatehouseError("method_not_allowed");
      },
    });
  }
}
