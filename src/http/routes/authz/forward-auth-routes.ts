import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Metrics } from "../../../core/metrics/metrics.js";
import type { AccessGate } from "../../../core/gateway/access-decision.js";
import type { AuditLog } from "../../../core/audit/audit-log.js";
import type { Clock } from "../../../core/clock.js";
import { createDenialSampler } from "../../../core/gateway/denial-sampler.js";
import type { RuleRateLimiter } from "../../../core/gateway/rule-rate-limiter.js";
import { createClientKey } from "../../../core/rate-limit/client-key.js";
import { createTrustedPeers } from "../../../gateway/network-set.js";
import type { Config } from "../../../config/config.js";
import type { SessionService } from "../../../core/sessions/session-service.js";
import type { StepUp } from "../../../core/sign-in/step-up.js";
import { errorCodes } from "../../../core/errors.js";
import { identityAudience } from "../../../core/identity/identity-audience.js";
import type { IdentityTokens } from "../../../core/identity/identity-tokens.js";
import { computeApiSecurityHeaders } from "../../plugins/security-headers.js";
import { acceptsHtml } from "../../accepts-html.js";
import { createPresentedSessionResolver } from "../../presented-session.js";
import { FORWARD_AUTH_PAGE_CSP, forwardAuthPage } from "./forward-auth-page.js";
import { originalRequest, type Flavour } from "./original-request.js";

/** What the forward-auth routes need. */
export interface ForwardAuthDeps {
  gate: AccessGate;
  sessions: SessionService;
  /** Which second factors a user can give (a one-factor session on a `two_factor` rule: step up, or enrol first). */
  stepUp: Pick<StepUp, "methodsOf">;
  audit: AuditLog;
  clock: Clock;
  config: Config;
  /** The rules' `rate_limit`s, counted in the same store as every other limit (shared with the reverse proxy: one budget). */
  ruleLimits: RuleRateLimiter;
  /** Counts the decisions (default: nothing). */
  metrics?: Metrics;
  /** IDENTITY_JWT=on: signs the identity JWT of an allowed request; null or absent: off. */
  identityTokens?: IdentityTokens | null;
}

const FORBIDDEN = JSON.stringify({ error: "You are not allowed to do this", code: "forbidden" });
const UNAUTHENTICATED = JSON.stringify({ error: "Authentication required", code: "unauthenticated" });
const MFA_REQUIRED = JSON.stringify({ error: errorCodes.mfa_required.message, code: "mfa_required" });
const RATE_LIMITED = JSON.stringify({ error: errorCodes.rate_limited.message, code: "rate_limited" });

function isBrowserNavigation(method: string, accept: string | undefined): boolean {
  const m = method.toUpperCase();
  return (m === "GET" || m === "HEAD") && acceptsHtml(accept);
}

/**
 * `GET /api/authz/forward-auth` (Traefik, Caddy) and `GET /api/authz/auth-request`
 * (nginx): Authelia's endpoints and headers (docs/api.md "Gateway"). Only a peer in
 * TRUSTED_PROXIES is answered; the original request comes from its headers,
 * is decided by the shared gate, and the answer is 200 with the four
 * `Remote-*` headers, 302/401 to sign in, 302/401 `mfa_required` to give a second
 * factor (a one-factor session on a `two_factor` rule), 429 with `Retry-After` over a rule's `rate_limit`
 * (403 with `Retry-After` on nginx's endpoint, which cannot relay a 429), or 403 (an HTML page when the client accepts
 * `text/html`, since Caddy and Traefik relay it to the browser as is; the
 * JSON error of docs/api.md otherwise). Nothing here is cached
 * beyond the session lookup's own 5-second cache (FWD-06); an error anywhere
 * propagates to the error handler and is never a 2xx (LOG-06). Fastify's own
 * per-request logs are off for these routes (they come with every asset of
 * every protected app); denials are audited, sampled per client and host.
 */
export async function forwardAuthRoutes(app: FastifyInstance, deps: ForwardAuthDeps): Promise<void> {
  const trusted = createTrustedPeers(deps.config.trustedProxies);
  const sampler = createDenialSampler({ clock: deps.clock });
  // Denials are sampled per client (an IPv6 network, not each of its addresses); the audit row keeps the address.
  const clientKey = createClientKey(deps.config.protection.ipv6PrefixLength);

  const audit = (request: FastifyRequest, what: string, key: string, details: Record<string, string | number>, userId: string | null = null) => {
    const { record, suppressed } = sampler.sample(key);
    if (!record) return;
    const ua = request.headers["user-agent"];
    deps.audit
      .record({
        type: "suspicious_activity",
        userId: userId ?? request.auth?.user.id ?? null,
        ip: request.ip,
        userAgent: typeof ua === "string" ? ua.slice(0, 512) : "",
        requestId: request.id,
        details: { what, ...details, ...(suppressed > 0 ? { suppressedSinceLast: suppressed } : {}) },
      })
      .catch((err: unknown) => request.log.error({ err }, "recording a forward-auth denial failed"));
  };

  const tokens = deps.identityTokens ?? null;
  const ruleLimits = deps.ruleLimits;

  // The portal's host-only cookie, else the cross-subdomain SSO cookie: the reverse proxy's own reading.
  const presentedSession = createPresentedSessionResolver(deps);

  // The browser headers of every other response, on the answers a proxy may relay to the browser (not on an allow).
  const browserHeaders = computeApiSecurityHeaders(deps.config.secure);
  const portal = new URL(deps.config.publicUrl).origin;
  const deny = (reply: FastifyReply) => reply.code(403).headers(browserHeaders).header("content-type", "application/json; charset=utf-8").send(FORBIDDEN);
  // A person's browser gets a page (the proxy relays it as is), an API client the JSON error.
  const page = (reply: FastifyReply, status: 401 | 403 | 429, html: string) =>
    reply.code(status).headers(browserHeaders).header("content-security-policy", FORWARD_AUTH_PAGE_CSP).header("content-type", "text/html; charset=utf-8").send(html);

  const handler = (flavour: Flavour) => async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header("cache-control", "no-store");
    const peer = request.socket.remoteAddress ?? "";
    if (!trusted(peer)) {
      audit(request, "forward_auth_untrusted_peer", `peer:${peer}`, { flavour });
      return deny(reply);
    }
    const original = originalRequest(request, flavour);
    if (original === null) {
      audit(request, "forward_auth_missing_headers", `missing:${peer}`, { flavour });
      return deny(reply);
    }
    const signedIn = (await presentedSession(request)).valid;
    const decision = deps.gate.decide(original, signedIn);
    deps.metrics?.decision("forward_auth", decision.kind === "invalid" ? "none" : decision.policy, decision.kind);
    switch (decision.kind) {
      case "allow": {
        if (decision.rateLimits !== undefined) {
          const ua = request.headers["user-agent"];
          const refused = await ruleLimits.check(decision.rateLimits, { ip: original.ip, userId: decision.user?.id ?? null, userAgent: typeof ua === "string" ? ua : "", requestId: request.id });
          if (refused !== null) {
            reply.headers(browserHeaders).header("retry-after", String(refused.retryAfter));
            // nginx's auth_request treats any answer but 2xx, 401 and 403 as an error (500): its endpoint answers 403 with
            // Retry-After (a 403 by the rules never has one), which the shipped nginx snippets turn into a 429 (docs/gateway.md).
            const status = flavour === "auth-request" ? 403 : 429;
            if (acceptsHtml(request.headers.accept)) return page(reply, status, forwardAuthPage("rate_limited", portal));
            return reply.code(status).header("content-type", "application/json; charset=utf-8").send(RATE_LIMITED);
          }
        }
        const h = decision.headers;
        reply.header("Remote-User", h["Remote-User"]).header("Remote-Email", h["Remote-Email"]).header("Remote-Name", h["Remote-Name"]).header("Remote-Groups", h["Remote-Groups"]);
        if (tokens !== null) {
          // IDENTITY_JWT=on: the signed identity for the app's host; present and empty for an anonymous request (a proxy
          // copying the header then overwrites any client copy with nothing).
          const audience = identityAudience(original.host, original.proto);
          const jwt = signedIn !== null && decision.user !== null && audience !== null ? await tokens.mint(signedIn, audience) : "";
          reply.header(deps.config.identityJwt.header, jwt);
        }
        return reply.code(200).send();
      }
      case "unauthenticated":
        reply.headers(browserHeaders).header("location", decision.loginUrl);
        if (flavour === "forward-auth" && isBrowserNavigation(original.method, request.headers.accept)) return reply.code(302).send();
        if (acceptsHtml(request.headers.accept)) return page(reply, 401, forwardAuthPage("unauthenticated", portal, decision.loginUrl));
        return reply.code(401).header("content-type", "application/json; charset=utf-8").send(UNAUTHENTICATED);
      case "step_up_required": {
        // A one-factor session on a `two_factor` rule: like a sign-in, but to the second-factor page
        // (or, for a user with no second factor, to the page that enrols one), returning to the same URL.
        const enrol = (await deps.stepUp.methodsOf(decision.user.id)).length === 0;
        const location = enrol ? decision.enrolUrl : decision.secondFactorUrl;
        reply.headers(browserHeaders).header("location", location);
        if (flavour === "forward-auth" && isBrowserNavigation(original.method, request.headers.accept)) return reply.code(302).send();
        if (acceptsHtml(request.headers.accept)) return page(reply, 401, forwardAuthPage(enrol ? "mfa_enrolment_required" : "mfa_required", portal, location));
        return reply.code(401).header("content-type", "application/json; charset=utf-8").send(MFA_REQUIRED);
      }
      case "forbidden":
        audit(request, "forward_auth_denied", `denied:${decision.user.id}:${original.host.slice(0, 253)}`, { host: original.host.slice(0, 253), method: original.method.slice(0, 20) }, decision.user.id);
        if (acceptsHtml(request.headers.accept)) return page(reply, 403, forwardAuthPage("forbidden", portal));
        return deny(reply);
      case "invalid":
        audit(request, "forward_auth_invalid", `invalid:${clientKey(request.ip)}`, { reason: decision.reason, host: original.host.slice(0, 253) });
        if (acceptsHtml(request.headers.accept)) return page(reply, 403, forwardAuthPage("forbidden", portal));
        return deny(reply);
    }
  };

  // Per-request logs off (warn and above only): a proxy asks once per asset of every protected page.
  const options = { config: { access: "public" as const, rateLimit: false as const }, logLevel: "warn" as const };
  app.get("/api/authz/forward-auth", options, handler("forward-auth"));
  app.get("/api/authz/auth-request", options, handler("auth-request"));
}
