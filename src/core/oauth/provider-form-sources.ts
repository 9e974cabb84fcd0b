import type { ProviderSettings } from "./identity-provider.js";

/**
 * The CSP sources of the enabled providers' sign-in pages, for the pages'
 * `form-action`: a provider button's form (sign-in, link, re-authentication)
 * is answered with a 303 to the provider's authorization endpoint, and
 * Chromium checks `form-action` on every redirect after a submission. The
 * origin is GitHub's configured authorization endpoint's, and for OpenID
 * Connect (Google included) the issuer's, where providers serve it; one
 * whose discovery names an authorization endpoint on another origin is not
 * covered.
 */
export function providerFormSources(providers: readonly ProviderSettings[]): string[] {
  const sources = new Set<string>();
  for (const p of providers) {
    if (!p.enabled) continue;
    const url = p.type === "github" && p.github !== null ? p.github.authorizationEndpoint : p.issuer;
    try {
      sources.add(new URL(url).origin);
    } catch {
      // The settings were validated at start; an unparsable URL lists nothing.
    }
  }
  return [...sources];
}
