import { identityRoutes } from "./routes/account/identity-routes.js";
import { useSsoSeal } from "./plugins/session-cookie.js";
import cookie from "@fastify/cookie";
import swagger from "@fastify/swagger";
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import { accessLogPlugin } from "../logging/access-log.js";
import { addMethodNotAllowedRoutes, errorsPlugin } from "./plugins/errors.js";
import { jsonBodyPlugin } from "./plugins/json-body.js";
import { providerFormSources } from "../core/oauth/provider-form-sources.js";
import { computeApiSecurityHeaders, computeHtmlSecurityHeaders } from "./plugins/security-headers.js";
import { createPipelineSteps, type PipelineSteps } from "./pipeline/pipeline-steps.js";
import { CONTEXTS } from "./pipeline/route-needs.js";
import { usePipeline, type PipelineEntry } from "./pipeline/use-pipeline.js";
import { accountRoutes } from "./routes/account/account-routes.js";
import { tokenRoutes } from "./routes/account/token-routes.js";
import { totpRoutes } from "./routes/account/totp-routes.js";
import { recoveryCodeRoutes } from "./routes/account/recovery-code-routes.js";
import { adminRoutes } from "./routes/admin/admin-routes.js";
import { authRoutes } from "./routes/auth/auth-routes.js";
import { mailRoutes } from "./routes/auth/mail-routes.js";
import { webauthnRoutes } from "./routes/auth/webauthn-routes.js";
import { passkeyRoutes } from "./routes/account/passkey-routes.js";
import { emailRoutes } from "./routes/account/email-routes.js";
import { healthRoutes } from "./routes/health.js";
import { jwksRoute } from "./routes/identity/jwks-route.js";
import { countRequests, metricsRoutes } from "./metrics/metrics-routes.js";
import { cspReportRoutes } from "./routes/csp-report-routes.js";
import { setupRoutes } from "./routes/setup-routes.js";
import { forwardAuthRoutes } from "./routes/authz/forward-auth-routes.js";
import { settingsRoutes } from "./routes/admin/settings-routes.js";
import { invitationRoutes } from "./routes/admin/invitation-routes.js";
import { backupRoutes } from "./routes/admin/backup-routes.js";
import { userImportRoutes } from "./routes/admin/user-import-routes.js";
import { vaultRoutes } from "./routes/admin/vault-routes.js";
import { keyRoutes } from "./routes/account/key-routes.js";
import { webRoutes } from "./routes/web/web-routes.js";
import { createProxyRouting } from "./proxy/proxy-routing.js";
import { reverseProxyPlugin } from "./proxy/reverse-proxy-plugin.js";
import { gatehouseServerOptions } from "./server-options.js";
import { errorBodySchema, openapiOptions } from "./openapi/openapi-options.js";
import { openapiRoutes } from "./openapi/openapi-routes.js";
import type { AppDeps, RouteEntry } from "./types.js";

/** Where and how Gatehouse's own routes are registered: at the server's root, or in the library plugin's context. */
export interface GatehouseRoutesOptions {
  /** The forward-auth endpoints (`/api/authz/*`): the server's, not the library plugin's. */
  forwardAuth: boolean;
  /**
   * The 404 handler of Gatehouse's contexts: the server's root always has
   * one; the library plugin sets it only under a non-empty prefix (at the
   * host's root it would answer the host's own unknown paths).
   */
  notFound: boolean;
  /** The library plugin's prefix ("" for the server): the OpenAPI description lists the API's paths under it. */
  basePath: string;
}

/**
 * Registers Gatehouse's API and pages onto `instance` with the steps they
 * share (error handler, request id, ban check, JSON-only bodies, security
 * headers): the server's root (`buildApp`), or the encapsulated context of
 * the library plugin (`src/library/fastify`), where none of it reaches the
 * host's own routes. `request.basePath` and `request.auth` are decorated by
 * the caller.
 */
export async function registerGatehouse(instance: FastifyInstance, deps: AppDeps, steps: PipelineSteps, pipeline: PipelineEntry[], opts: GatehouseRoutesOptions): Promise<void> {
  const { config } = deps;
  // The hardening headers of every API answer, errors included (also on the errors Fastify and Node raise before any hook).
  const browserHeaders = computeApiSecurityHeaders(config.secure);
  // A provider button's form (sign-in, link, re-authentication) is answered with a 303 to the provider: Chromium
  // checks form-action on that redirect too, so the providers' sign-in origins are listed (docs/adr/0006).
  instance.decorate("htmlSecurityHeaders", computeHtmlSecurityHeaders(config.secure, () => deps.gate.returnTargetSources(), providerFormSources(deps.providers.enabled())));
  // The OpenAPI document (GET /api/openapi.json) is built from the routes' schemas: the collector registers before them.
  instance.addSchema(errorBodySchema);
  await instance.register(swagger, openapiOptions(config, pipeline, opts.basePath));
  await instance.register(errorsPlugin, { browserHeaders, notFound: opts.notFound, ...(deps.databaseOutage ? { databaseOutage: deps.databaseOutage } : {}) });
  if (config.accessLog) await instance.register(accessLogPlugin);
  // Prometheus (METRICS=on): every answered request, by route pattern and status.
  if (deps.metricsEndpoint) countRequests(instance, deps.metricsEndpoint.exporter);
  instance.addHook("onRequest", steps.stampRequestId);
  instance.addHook("onRequest", steps.checkBan);
  await instance.register(jsonBodyPlugin);

  await instance.register(async function jsonApi(api) {
    usePipeline(api, CONTEXTS.api, steps, pipeline);
    // Cookie serialization (`Set-Cookie`) where routes set cookies; the session token is parsed by hand (session-cookie.ts).
    await api.register(cookie, { hook: false });
    await api.register(healthRoutes, deps);
    await api.register(jwksRoute, { identityTokens: deps.identityTokens ?? null });
    if (deps.metricsEndpoint && config.metrics.port === null) await api.register(metricsRoutes, deps.metricsEndpoint);
    await api.register(cspReportRoutes);
    await api.register(openapiRoutes);
    await api.register(authRoutes, { ...deps, prefix: "/api/auth" });
    if (deps.passwordReset && deps.emailVerification) {
      await api.register(mailRoutes, { ...deps, passwordReset: deps.passwordReset, emailVerification: deps.emailVerification, prefix: "/api/auth" });
    }
    if (deps.passkeys) await api.register(webauthnRoutes, { passkeys: deps.passkeys, config, prefix: "/api/auth/webauthn" });
    await api.register(accountRoutes, { ...deps, prefix: "/api/account" });
    if (deps.passkeys) await api.register(passkeyRoutes, { passkeys: deps.passkeys, prefix: "/api/account/mfa" });
    if (deps.emailChange) await api.register(emailRoutes, { emailChange: deps.emailChange, prefix: "/api/account" });
    await api.register(tokenRoutes, { tokens: deps.tokens, prefix: "/api/account" });
    await api.register(identityRoutes, { linkedIdentities: deps.linkedIdentities, prefix: "/api/account" });
    await api.register(totpRoutes, { totp: deps.totp, accounts: deps.accounts, secondFactors: deps.secondFactors, prefix: "/api/account" });
    if (deps.recoveryCodes) await api.register(recoveryCodeRoutes, { recoveryCodes: deps.recoveryCodes, prefix: "/api/account" });
    await api.register(adminRoutes, {
      admin: deps.admin,
      resetSecondFactors: deps.resetSecondFactors,
      requireRecentAuth: (session) => deps.accounts.requireRecentAuth(session),
      prefix: "/api/admin",
    });
    await api.register(backupRoutes, { backups: deps.backups, accounts: deps.accounts, sessions: deps.sessions, audit: deps.audit, clock: deps.clock, prefix: "/api/admin" });
    await api.register(userImportRoutes, { userImport: deps.userImport, accounts: deps.accounts, prefix: "/api/admin" });
    await api.register(settingsRoutes, { settings: deps.settings, accounts: deps.accounts, prefix: "/api/admin" });
    await api.register(invitationRoutes, { invitations: deps.invitations, adminAccounts: deps.adminAccounts, accounts: deps.accounts, clock: deps.clock, prefix: "/api/admin" });
    if (deps.vault) {
      const requireRecentAuth = (session: Parameters<typeof deps.accounts.requireRecentAuth>[0]) => deps.accounts.requireRecentAuth(session);
      await api.register(vaultRoutes, { vault: deps.vault, requireRecentAuth, prefix: "/api/admin" });
      await api.register(keyRoutes, { vault: deps.vault, requireRecentAuth, prefix: "/api/account" });
    }
    await api.register(setupRoutes, { firstSuperadmin: deps.firstSuperadmin, config, prefix: "/api/setup" });
  });
  if (opts.forwardAuth) {
    await instance.register(async function authz(context) {
      usePipeline(context, CONTEXTS.authz, steps, pipeline);
      await context.register(forwardAuthRoutes, { gate: deps.gate, sessions: deps.sessions, stepUp: deps.stepUp, audit: deps.audit, clock: deps.clock, config, ruleLimits: deps.ruleLimits, identityTokens: deps.identityTokens ?? null, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
    });
  }
  await instance.register(async function pages(context) {
    usePipeline(context, CONTEXTS.pages, steps, pipeline);
    await context.register(cookie, { hook: false });
    await context.register(webRoutes, deps);
  });
}

/**
 * Builds the Fastify app from its dependencies. Never listens: `main.ts`
 * does, and tests use `app.inject()`.
 */
export async function buildApp(deps: AppDeps, logger: FastifyBaseLogger): Promise<FastifyInstance> {
  const { config } = deps;
  useSsoSeal(config, deps.secretBox);
  // Host-aware routing of reverse-proxy mode and the demo (src/http/proxy): decided before Fastify routes a request.
  const proxyRouting = createProxyRouting({ gate: deps.gate, publicUrl: config.publicUrl, upstreamUrl: config.upstreamUrl, pathPrefix: config.proxy.pathPrefix, loopbackRedirect: config.env !== "production" });
  const app = Fastify(gatehouseServerOptions(config, proxyRouting, logger));

  const routes = new Map<string, Set<string>>();
  const table: RouteEntry[] = [];
  app.addHook("onRoute", (route) => {
    const methods = routes.get(route.url) ?? new Set<string>();
    for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
      methods.add(m);
      if (m !== "HEAD") table.push({ method: m, url: route.url, access: route.config?.access, token: route.config?.token, schema: route.schema });
    }
    routes.set(route.url, methods);
  });

  // Where Gatehouse's own paths live for this request: "" at the root, or the reserved prefix on a proxied host
  // (src/http/proxy). Read from the router's mark on the raw request when asked, not copied by a hook.
  app.decorateRequest("basePath", {
    getter(this: { raw: Parameters<typeof proxyRouting.basePathOf>[0] }) {
      return proxyRouting.basePathOf(this.raw);
    },
  });
  app.decorateRequest("auth", null);

  // The request pipeline (docs/architecture.md, "The request pipeline"): two steps for every request at the root,
  // then four encapsulated contexts whose routes each get exactly the steps they declare they need.
  const steps = createPipelineSteps(deps);
  const pipeline: PipelineEntry[] = [];
  await registerGatehouse(app, deps, steps, pipeline, { forwardAuth: true, notFound: true, basePath: "" });
  await app.register(reverseProxyPlugin, { deps, routing: proxyRouting, usePipeline: (context: FastifyInstance) => usePipeline(context, CONTEXTS.proxy, steps, pipeline) });

  app.decorate("routeTable", [...table]);
  app.decorate("routePipeline", pipeline.slice());
  addMethodNotAllowedRoutes(app, routes);
  return app;
}
