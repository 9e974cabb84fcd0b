import type { ValidSession } from "../sessions/session-service.js";
import type { AccessDecision, AccessGate, AccessRequest } from "./access-decision.js";
import { DEFAULT_ACCESS_RULES, domainMatches, type AccessRules } from "./access-rules.js";
import { canonicalHost, canonicalTarget } from "./canonical-request.js";
import { ANONYMOUS_HEADERS, identityHeaders } from "./identity-headers.js";
import { matchRules } from "./rule-matcher.js";
import { returnTargetSources, type ReturnTargetSources } from "./return-target-sources.js";
import { safeReturnUrl } from "./safe-return-url.js";

/** What the gate needs to know besides the rules. */
export interface AccessGateOptions {
  /** The portal's origin (PUBLIC_URL), e.g. `https://auth.example.com`. */
  publicUrl: string;
  /** The rules to start with (default: deny everything). */
  rules?: AccessRules;
}

/**
 * Builds the gateway's decision point (Authelia's access-control model):
 * canonicalize host and path, refuse anything ambiguous, match the rules in
 * order, then map the policy and the user onto a decision.
 */
export function createAccessGate(options: AccessGateOptions): AccessGate {
  const portal = new URL(options.publicUrl);
  const portalHost = canonicalHost(portal.host, portal.protocol.slice(0, -1));
  let current: AccessRules = options.rules ?? DEFAULT_ACCESS_RULES;

  /** Named by a rule or an upstream (any port). */
  const ruleHost = (hostname: string): boolean =>
    current.rules.some((rule) => rule.domains.some((d) => domainMatches(d, hostname))) || current.upstreams.some((u) => domainMatches(u.domain, hostname));
  /** The portal's own host (exact port), or a rule's. */
  const protectedName = (hostname: string, port: string): boolean =>
    (portalHost !== null && hostname === portalHost.hostname && port === portalHost.port) || ruleHost(hostname);
  const returnPolicy = { portal, isProtectedHost: ruleHost };
  // Recomputed once per rule set (start, SIGHUP reload), from the same rules the validator reads.
  let sources: { rules: AccessRules; list: ReturnTargetSources } | null = null;

  const gate: AccessGate = {
    decide(request: AccessRequest, signedIn: ValidSession | null): AccessDecision {
      const user = signedIn?.user ?? null;
      const target = canonicalTarget(request.host, request.proto, request.uri);
      if (!target.ok) return { kind: "invalid", reason: target.reason };
      const method = request.method.toUpperCase();
      if (!/^[A-Z]{1,20}$/.test(method)) return { kind: "invalid", reason: "malformed method" };
      if (!protectedName(target.hostname, target.port)) return { kind: "invalid", reason: "unknown host" };
      const resource = target.query === "" ? target.path : `${target.path}?${target.query}`;
      const { policy, rule } = matchRules(current, { hostname: target.hostname, resource, method, ip: request.ip }, user);
      // Headers of this host's upstream whose `resources` match the canonical path (the same input as the rules).
      const injections = current.upstreams.find((u) => domainMatches(u.domain, target.hostname))?.injectHeaders?.filter((h) => h.resources === null || h.resources.some((r) => r.test(resource)));
      const limit = {
        ...(rule?.maxBodyBytes === undefined ? {} : { maxBodyBytes: rule.maxBodyBytes }),
        ...(rule?.rateLimits === undefined || rule.rateLimits.length === 0 ? {} : { rateLimits: { rule: rule.id ?? rule.origin, origin: rule.origin, limits: rule.rateLimits } }),
        ...(rule?.uploads === undefined ? {} : { uploads: { rule: rule.uploads, origin: rule.origin } }),
        ...(injections !== undefined && injections.length > 0 ? { inject: injections } : {}),
      };
      if (policy === "bypass") return { kind: "allow", policy, user, headers: user === null ? { ...ANONYMOUS_HEADERS } : identityHeaders(user), ...limit };
      const host = target.port === "" ? target.hostname : `${target.hostname}:${target.port}`;
      const original = `${request.proto}://${host}${request.uri}`;
      if (signedIn === null || user === null) return { kind: "unauthenticated", policy, loginUrl: gate.loginUrl(original) };
      if (user.blocked || (policy !== "one_factor" && policy !== "two_factor")) return { kind: "forbidden", policy, user };
      // two_factor (Authelia's meaning): a second factor proved in this session. Only the server sets `aal`
      // (from the methods its own flows checked); a one-factor session is sent to step up, never let through.
      if (policy === "two_factor" && signedIn.session.aal !== "aal2") {
        return { kind: "step_up_required", policy, user, secondFactorUrl: gate.secondFactorUrl(original), enrolUrl: gate.enrolUrl(original) };
      }
      return { kind: "allow", policy, user, headers: identityHeaders(user), ...limit };
    },
    safeReturnUrl: (raw) => safeReturnUrl(raw, returnPolicy),
    loginUrl(returnTo) {
      return `${portal.origin}/login?return=${encodeURIComponent(safeReturnUrl(returnTo, returnPolicy))}`;
    },
    secondFactorUrl(returnTo) {
      return `${portal.origin}/login/second-factor?return=${encodeURIComponent(safeReturnUrl(returnTo, returnPolicy))}`;
    },
    enrolUrl(returnTo) {
      return `${portal.origin}/account/mfa?return=${encodeURIComponent(safeReturnUrl(returnTo, returnPolicy))}`;
    },
    isProtectedHost(host) {
      const c = canonicalHost(host, portal.protocol.slice(0, -1));
      return c !== null && protectedName(c.hostname, c.port);
    },
    upstreamFor(host) {
      const c = canonicalHost(host, portal.protocol.slice(0, -1));
      if (c === null) return null;
      const found = current.upstreams.find((u) => domainMatches(u.domain, c.hostname));
      return found ? new URL(found.url.href) : null;
    },
    returnTargetSources() {
      if (sources === null || sources.rules !== current) sources = { rules: current, list: returnTargetSources(portal, current) };
      return sources.list;
    },
    rules: () => current,
    replaceRules(rules) {
      current = rules;
    },
  };
  return gate;
}
