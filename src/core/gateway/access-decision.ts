import type { ValidSession } from "../sessions/session-service.js";
import type { User } from "../users/user.js";
import type { UploadRule } from "../uploads/upload-rule.js";
import type { AccessRules, InjectedHeader, Policy, RuleRateLimit } from "./access-rules.js";
import type { ReturnTargetSources } from "./return-target-sources.js";

/**
 * The original request a gateway decision is about: what the reverse proxy
 * received, or what a trusted front proxy reported through `X-Forwarded-*` /
 * `X-Original-*` (forward-auth). `uri` is the raw path and query exactly as
 * received; the gateway canonicalizes it before matching.
 */
export interface AccessRequest {
  method: string;
  /** `https` or `http`. */
  proto: string;
  /** Raw Host as received (may carry a port or a trailing dot). */
  host: string;
  /** Raw request target: path plus optional query, not yet decoded. */
  uri: string;
  /** The client address (already resolved through TRUSTED_PROXIES). */
  ip: string;
}

/** The identity headers handed to a protected app; always all four, empty when unknown. */
export interface IdentityHeaders {
  "Remote-User": string;
  "Remote-Email": string;
  "Remote-Name": string;
  /** Comma-separated roles, the user's own and every lower one. */
  "Remote-Groups": string;
}

/** Names of every identity header, lower-cased: stripped from every client request before forwarding. */
export const IDENTITY_HEADER_NAMES = ["remote-user", "remote-email", "remote-name", "remote-groups"] as const;

/** The rate limits of the rule that allowed a request: its stable id (the counters' key), where it is written, and its limits. */
export interface MatchedRateLimits {
  rule: string;
  origin: string;
  limits: readonly RuleRateLimit[];
}

/**
 * What the access rules say about one request.
 * - `allow`: forward, with `headers` (empty values for an anonymous request on a bypass rule).
 * - `unauthenticated`: a sign-in is needed; `loginUrl` is the portal's login page with a validated return URL.
 * - `step_up_required`: signed in with one factor, and the rule is `two_factor` (Authelia's meaning: a second
 *   factor proved in this session, `aal2`). `secondFactorUrl` is the portal's second-factor page and `enrolUrl`
 *   its enrolment page, both returning to the validated original URL; the caller picks one by whether the user
 *   has a second factor to give.
 * - `forbidden`: signed in, but no rule lets this user through.
 * - `invalid`: the host or path is ambiguous (encoded slash, dot-segments in disguise, NUL, …) and is refused outright.
 */
export type AccessDecision =
  | {
      kind: "allow";
      /** The policy of the rule that decided (for the metrics; every variant but `invalid` names it). */
      policy: Policy;
      user: User | null;
      headers: IdentityHeaders;
      /** Largest request body the matching rule lets through to the upstream (bytes); absent = the global `PROXY_BODY_LIMIT`. */
      maxBodyBytes?: number;
      /** The matching rule's rate limits, to count before the request goes on (see `createRuleRateLimiter`); absent = none. */
      rateLimits?: MatchedRateLimits;
      /** The matching rule's upload guard (`uploads`), with where the rule was written (for the audit); absent = bodies pass unchecked. */
      uploads?: { rule: UploadRule; origin: string };
      /** Headers of the host's upstream to inject into this request (`inject_headers` whose `resources` match); absent = none. */
      inject?: readonly InjectedHeader[];
    }
  | { kind: "unauthenticated"; policy: Policy; loginUrl: string }
  | { kind: "step_up_required"; policy: Policy; user: User; secondFactorUrl: string; enrolUrl: string }
  | { kind: "forbidden"; policy: Policy; user: User }
  | { kind: "invalid"; reason: string };

/**
 * The gateway's decision point, shared by forward-auth, the reverse proxy and
 * the re-checks of open WebSockets.
 */
export interface AccessGate {
  /**
   * Decides one request against the rules in force, for the request's
   * resolved session (its user, and how it signed in: `aal`, `amr`), or null
   * when none is presented. Never throws: an ambiguous host or path, or a
   * host no rule protects, is `invalid`.
   */
  decide(request: AccessRequest, signedIn: ValidSession | null): AccessDecision;
  /**
   * A safe post-login target for a requested one (REDIR-01): a same-origin
   * path on the portal, or an absolute URL with the portal's scheme whose host
   * is the portal's or a protected host of the rules; anything else is `/`.
   */
  safeReturnUrl(raw: string | null | undefined): string;
  /** The portal's login page, returning to `returnTo` once validated with {@link AccessGate.safeReturnUrl}. */
  loginUrl(returnTo: string): string;
  /** The portal's second-factor page (step-up), returning to `returnTo` once validated. */
  secondFactorUrl(returnTo: string): string;
  /** The portal's page to enrol a second factor, returning to `returnTo` once validated. */
  enrolUrl(returnTo: string): string;
  /**
   * The origins {@link AccessGate.safeReturnUrl} accepts for an absolute
   * target, as CSP source expressions (`https://app.example.com:*`,
   * `https://*.example.com:*`, the portal's origin): the sign-in page's
   * `form-action`. Follows the rules in force (a reload returns a new object).
   */
  returnTargetSources(): ReturnTargetSources;
  /** True when a host (raw, any case, maybe with a port or trailing dot) is the portal's or named by a rule or upstream. */
  isProtectedHost(host: string): boolean;
  /** The upstream the rules file assigns to a host, or null (the caller falls back to `UPSTREAM_URL`). */
  upstreamFor(host: string): URL | null;
  /** The rules in force. */
  rules(): AccessRules;
  /** Swaps in a new, already validated rule set atomically: decisions in flight finish on the old one. */
  replaceRules(rules: AccessRules): void;
}
