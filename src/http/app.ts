import { randomUUID } from "node:crypto";
import cookie from "@fastify/cookie";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { deriveKey } from "../core/crypto/derive-key.js";
import { createTrustedPeers } from "../gateway/network-set.js";
import { createClientKey } from "../core/rate-limit/client-key.js";
import { accessLogPlugin } from "../logging/access-log.js";
import { lazyChildLoggerFactory } from "../logging/lazy-child-logger.js";
import { GatehouseLogController } from "../logging/log-controller.js";
import { addMethodNotAllowedRoutes, clientErrorAnswer, errorsPlugin, frameworkErrorHandler } from "./plugins/errors.js";
import { csrfPlugin } from "./plugins/csrf.js";
import { jsonBodyPlugin } from "./plugins/json-body.js";
import { banFastPathPlugin, routeLimitsPlugin } from "./plugins/rate-limit.js";
import { requestContextPlugin } from "./plugins/request-context.js";
import { computeApiSecurityHeaders, securityHeadersPlugin } from "./plugins/security-headers.js";
import { accessRefusalPlugin, sessionPlugin } from "./plugins/session.js";
import { sessionCookieName } from "./plugins/session-cookie.js";
import { accountRoutes } from "./routes/account/account-routes.js";
import { tokenRoutes } from "./routes/account/token-routes.js";
import { adminRoutes } from "./routes/admin/admin-routes.js";
import { authRoutes } from "./routes/auth/auth-routes.js";
import { mailRoutes } from "./routes/auth/mail-routes.js";
import { emailRoutes } from "./routes/account/email-routes.js";
import { healthRoutes } from "./routes/health.js";
import { cspReportRoutes } from "./routes/csp-report-routes.js";
import { setupRoutes } from "./routes/setup-routes.js";
import { forwardAuthRoutes } from "./routes/authz/forward-auth-routes.js";
import { settingsRoutes } from "./routes/admin/settings-routes.js";
import { invitationRoutes } from "./routes/admin/invitation-routes.js";
import { backupRoutes } from "./routes/admin/backup-routes.js";
import { webRoutes } from "./routes/web/web-routes.js";
import { createProxyRouting, FORWARD_ROUTE } from "./proxy/proxy-routing.js";
import { proxyBasePathPlugin, reverseProxyPlugin } from "./proxy/reverse-proxy-plugin.js";
import type { AppDeps, RouteEntry } from "./types.js";

/**
 * Builds the Fastify app from its dependencies. Never listens: `main.ts`
 * does, and tests use `app.inject()`.
 */
export async function buildApp(deps: AppDeps, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const { config } = deps;
  // Host-aware routing of reverse-proxy mode and the demo (src/http/proxy): decided before Fastify routes a request.
  const proxyRouting = createProxyRouting({ gate: deps.gate, publicUrl: config.publicUrl, upstreamUrl: config.upstreamUrl, pathPrefix: config.proxy.pathPrefix, loopbackRedirect: config.env !== "production" });
  // The hardening headers of every API answer, errors included (also on the errors Fastify and Node raise before any hook).
  const browserHeaders = computeApiSecurityHeaders(config.secure);
  const app = Fastify({
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
  });

  const routes = new Map<string, Set<string>>();
  const table: RouteEntry[] = [];
  app.addHook("onRoute", (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      methods.add(m);
      if (m !== "HEAD") table.push({ method: m, url: route.url, access: route.config?.access, token: route.config?.token });
    }
    routes.set(route.url, methods);
  });

  // Where Gatehouse's own paths live for this request: "" at the root, or the reserved prefix on a proxied host (src/http/proxy).
  app.decorateRequest("basePath", "");
  await app.register(proxyBasePathPlugin, { routing: proxyRouting });
  await app.register(errorsPlugin, { browserHeaders, ...(deps.databaseOutage ? { databaseOutage: deps.databaseOutage } : {}) });
  if (config.accessLog) await app.register(accessLogPlugin);
  await app.register(requestContextPlugin);
  await app.register(securityHeadersPlugin, { secure: config.secure, proxiedRoute: FORWARD_ROUTE, formTargets: () => deps.gate.returnTargetSources() });
  await app.register(banFastPathPlugin, { bans: deps.bans });
  await app.register(jsonBodyPlugin);
  await app.register(cookie, { hook: false });
  await app.register(csrfPlugin, {
    publicOrigin: config.publicUrl,
    cookieName: sessionCookieName(config),
    csrfKey: deriveKey(config.secretKey, "csrf"),
  });
  await app.register(sessionPlugin, { sessions: deps.sessions, tokens: deps.tokens, config });
  await app.register(routeLimitsPlugin, { store: deps.limiter, bans: deps.bans, limits: config.protection.routes, clock: deps.clock, clientKey: createClientKey(config.protection.ipv6PrefixLength) });
  await app.register(accessRefusalPlugin, { config });

  await app.register(healthRoutes, deps);
  await app.register(cspReportRoutes);
  await app.register(authRoutes, { ...deps, prefix: "/api/auth" });
  if (deps.passwordReset && deps.emailVerification) {
    await app.register(mailRoutes, { ...deps, passwordReset: deps.passwordReset, emailVerification: deps.emailVerification, prefix: "/api/auth" });
  }
  await app.register(accountRoutes, { ...deps, prefix: "/api/account" });
  if (deps.emailChange) await app.register(emailRoutes, { emailChange: deps.emailChange, prefix: "/api/account" });
  await app.register(tokenRoutes, { tokens: deps.tokens, prefix: "/api/account" });
  await app.register(adminRoutes, { admin: deps.admin, prefix: "/api/admin" });
  await app.register(backupRoutes, { backups: deps.backups, accounts: deps.accounts, sessions: deps.sessions, audit: deps.audit, clock: deps.clock, prefix: "/api/admin" });
  await app.register(settingsRoutes, { settings: deps.settings, accounts: deps.accounts, prefix: "/api/admin" });
  await app.register(invitationRoutes, { invitations: deps.invitations, adminAccounts: deps.adminAccounts, accounts: deps.accounts, clock: deps.clock, prefix: "/api/admin" });
  await app.register(setupRoutes, { firstSuperadmin: deps.firstSuperadmin, config, prefix: "/api/setup" });
  await app.register(forwardAuthRoutes, { gate: deps.gate, sessions: deps.sessions, audit: deps.audit, clock: deps.clock, config });
  await app.register(webRoutes, deps);

  await app.register(reverseProxyPlugin, { deps, routing: proxyRouting });

  app.decorate("routeTable", [...table]);
  addMethodNotAllowedRoutes(app, routes);
  return app;
}
