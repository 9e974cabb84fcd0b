/** Who passkeys are made for: the WebAuthn relying party of a deployment. */
export interface RelyingParty {
  /** The RP ID: PUBLIC_URL's host, or COOKIE_DOMAIN when single sign-on spans its subdomains. */
  id: string;
  /** The only origin a ceremony may come from: PUBLIC_URL's origin. */
  origin: string;
  /** The name an authenticator shows. */
  name: string;
}

/**
 * The relying party of a deployment. With single sign-on across subdomains
 * (`cookieDomain`, already checked to be PUBLIC_URL's host or a parent of
 * it), passkeys are scoped to that parent domain, so one made on the sign-in
 * host also works for a sign-in page served from a sibling; otherwise to
 * PUBLIC_URL's host alone.
 */
export function relyingPartyOf(publicUrl: string, cookieDomain: string | null): RelyingParty {
  const url = new URL(publicUrl);
  return { id: cookieDomain ?? url.hostname, origin: url.origin, name: "Gatehouse" };
}
