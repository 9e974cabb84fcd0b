import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger, FastifyHttpOptions } from "fastify";
import type { Server } from "node:http";
import type { Config } from "../config/config.js";
import { createTrustedPeers } from "../gateway/network-set.js";
import { lazyChildLoggerFactory } from "../logging/lazy-child-logger.js";
import { GatehouseLogController } from "../logging/log-controller.js";
import { clientErrorAnswer, frameworkErrorHandler } from "./plugins/errors.js";
import { computeApiSecurityHeaders } from "./plugins/security-headers.js";
import type { ProxyRouting } from "./proxy/proxy-routing.js";

/**
 * The options Gatehouse's Fastify server is created with (`buildApp`; the
 * bench's ladder builds a server with exactly these, docs/performance.md).
 */
export function gatehouseServerOptions(config: Config, proxyRouting: ProxyRouting, logger: FastifyBaseLogger): FastifyHttpOptions<Server> {
  // The hardening headers of every API answer, errors included (also on the errors Fastify and Node raise before any hook).
  const browserHeaders = computeApiSecurityHeaders(config.secure);
  return {
    rewriteUrl: (req) => proxyRouting.rewriteUrl(req),
    loggerInstance: logger,
    // One cheap access-log line per request instead of Fastify's two, and request loggers made only when used (docs/performance.md).
    logController: new GatehouseLogController(),
    childLoggerFactory: lazyChildLoggerFactory,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: config.bodyLimit,
    // The same CIDR check as Fastify's list form, remembered per peer: `request.ip` re-resolves on every read.
    trustProxy: config.trustedProxies.length > 0 ? createTrustedPeers(config.trustedProxies) : false,
    return503OnClosing: true,
    // A request (headers and body) must arrive within 30 s: slow-body attacks time out (INP-04).
    requestTimeout: 30_000,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: true, allErrors: false } },
    // A URL the router cannot decode, a parameter over maxParamLength: the one error contract, not Fastify's FST_ERR_* body.
    frameworkErrors: frameworkErrorHandler(browserHeaders),
    // What Node's parser refuses (malformed request line, oversized headers, timeouts): the same body and headers, by hand.
    clientErrorHandler: (err, socket) => {
      if (socket.writable) socket.end(clientErrorAnswer(browserHeaders, randomUUID(), (err as NodeJS.ErrnoException).code));
      else socket.destroy();
    },
  };
}
