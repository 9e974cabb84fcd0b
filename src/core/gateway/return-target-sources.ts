import type { AccessRules, DomainPattern } from "./access-rules.js";

/** What CSP can spell as a host: letters, digits, dots and hyphens (no `_`, no IPv6 literal). */
const CSP_HOST = /^[a-z0-9-]+(?:\.[a-z0-9-]+)*$/;

function hostSource(scheme: string, pattern: DomainPattern): string | null {
  if ("exact" in pattern) return CSP_HOST.test(pattern.exact) ? `${scheme}//${pattern.exact}:*` : null;
  const parent = pattern.suffix.slice(1);
  return CSP_HOST.test(parent) ? `${scheme}//*.${parent}:*` : null;
}

/** The origins a sign-in may return to, as CSP sources: the portal's, and the protected hosts'. */
export interface ReturnTargetSources {
  /** The portal's origin (PUBLIC_URL), e.g. `https://auth.example.com`. */
  portal: string;
  /** `https://app.example.com:*`, `https://*.example.com:*`, … in rules-file order, no duplicates. */
  hosts: readonly string[];
}

/**
 * The origins a post-login redirect may lead to, as CSP source expressions
 * for the sign-in pages' `form-action` (a browser checks that directive
 * against every redirect that follows a form submission): the portal's own
 * origin, and every host a rule or an upstream names, with the portal's
 * scheme and any port — exactly the absolute targets {@link safeReturnUrl}
 * accepts (see docs/adr/0006-form-action-lists-protected-origins.md).
 * `*.example.com` stays `*.example.com` (subdomains, not the apex, in both).
 * A name CSP cannot spell (an underscore) is left out: a return there is
 * still validated, but the browser will refuse the redirect.
 */
export function returnTargetSources(portal: URL, rules: AccessRules): ReturnTargetSources {
  const scheme = portal.protocol;
  const out = new Set<string>();
  const patterns = [...rules.rules.flatMap((r) => r.domains), ...rules.upstreams.map((u) => u.domain)];
  for (const pattern of patterns) {
    const source = hostSource(scheme, pattern);
    if (source !== null) out.add(source);
  }
  return Object.freeze({ portal: portal.origin, hosts: Object.freeze([...out]) });
}
