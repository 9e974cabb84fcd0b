import type { UploadRule } from "../uploads/upload-rule.js";
import type { Role } from "../users/user.js";
import type { HeaderTemplate } from "../vault/header-template.js";

/** What a matching rule requires (Authelia's policy names). */
export type Policy = "bypass" | "one_factor" | "two_factor" | "deny";

/** A host pattern: an exact host name, or `*.example.com` (any subdomain, never the apex). */
export type DomainPattern = { exact: string } | { suffix: string };

/** Who a rule is about: a username, or a role (a higher role counts too). */
export type Subject = { kind: "user"; username: string } | { kind: "group"; role: Role };

/** A set of client networks (built from CIDRs by the rules loader). */
export interface NetworkSet {
  /** True when `ip` (IPv4, IPv6 or IPv4-mapped IPv6) lies in one of the networks. */
  contains(ip: string): boolean;
}

/**
 * A compiled `resources` pattern: a test on the canonical path plus query.
 * The loader builds it on a linear-time engine (RE2 semantics, docs/adr/0007),
 * so one test costs time proportional to the input, whatever the pattern;
 * the core only sees this interface, never the engine.
 */
export interface PathPattern {
  /** True when the pattern matches somewhere in `pathAndQuery` (unanchored, like `RegExp.prototype.test`). */
  test(pathAndQuery: string): boolean;
  /** The pattern as written in the rules file. */
  readonly source: string;
}

/** A rule's `resources` entry (see {@link PathPattern}). */
export type ResourcePattern = PathPattern;

/**
 * One limit of a rule's `rate_limit` (Gatehouse extension): at most `limit`
 * requests per fixed window of `windowMs`, counted per signed-in user
 * (`per: "user"`; an anonymous request on a bypass rule counts per client IP)
 * or per client IP (`per: "ip"`; an IPv6 client by its network, see
 * `createClientKey`).
 */
export interface RuleRateLimit {
  per: "user" | "ip";
  /** Requests allowed per window, 1–1,000,000. */
  limit: number;
  /** The window, 1 s to 1 day. */
  windowMs: number;
}

/**
 * One access rule. Every present condition must hold for the rule to match;
 * a missing condition (null) matches anything.
 */
export interface AccessRule {
  domains: readonly DomainPattern[];
  resources: readonly ResourcePattern[] | null;
  /** Upper-case method names. */
  methods: ReadonlySet<string> | null;
  networks: NetworkSet | null;
  /** Any of them matches; null = everyone. */
  subjects: readonly Subject[] | null;
  policy: Policy;
  /** Largest request body this rule lets through to an upstream, bytes (Gatehouse extension `body_limit`); absent = the global limit. */
  maxBodyBytes?: number;
  /** Rate limits counted on the requests this rule allows (Gatehouse extension `rate_limit`); absent = none. */
  rateLimits?: readonly RuleRateLimit[];
  /**
   * A stable identity of the rule, from its position and content (the rules
   * loader hashes both): the key of its rate-limit counters, so an unchanged
   * rule keeps counting across a reload and across instances, and a changed
   * or moved one starts afresh. Absent = `origin` is used.
   */
  id?: string;
  /** The upload guard of this rule (Gatehouse extension `uploads`, reverse-proxy mode): every file of a request is checked before the app gets it. */
  uploads?: UploadRule;
  /** Where the rule was written (`rule 2, line 9`), for logs; never shown to clients. */
  origin: string;
}

/**
 * A header the reverse proxy sets on requests to an upstream (`inject_headers`,
 * docs/secrets.md): replacing any client copy, with the template rendered from
 * the vault. Reverse-proxy mode only; never sent to a forward-auth proxy.
 */
export interface InjectedHeader {
  /** Lower-case header name. */
  header: string;
  template: HeaderTemplate;
  /** Only requests whose canonical path and query match one of these; null = every request to the upstream. */
  resources: readonly ResourcePattern[] | null;
}

/** One reverse-proxy target. */
export interface Upstream {
  domain: DomainPattern;
  url: URL;
  /** Headers injected into allowed requests to this upstream; absent = none. */
  injectHeaders?: readonly InjectedHeader[];
}

/** A whole, validated rule set: swapped atomically on reload. */
export interface AccessRules {
  defaultPolicy: Policy;
  /** In order: the first match wins. */
  rules: readonly AccessRule[];
  /** Reverse-proxy targets per host pattern, in file order. */
  upstreams: readonly Upstream[];
}

/** The rules in force when no `GATEHOUSE_CONFIG` is given: deny everything. */
export const DEFAULT_ACCESS_RULES: AccessRules = Object.freeze({ defaultPolicy: "deny", rules: [], upstreams: [] });

/** True when the canonical host name (no port) matches the pattern. */
export function domainMatches(pattern: DomainPattern, hostname: string): boolean {
  if ("exact" in pattern) return hostname === pattern.exact;
  return hostname.length > pattern.suffix.length && hostname.endsWith(pattern.suffix);
}
