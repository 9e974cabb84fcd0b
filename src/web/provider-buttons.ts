import { html, type SafeHtml } from "./html.js";
import { href, type PageContext } from "./page-context.js";

/** An enabled identity provider as a sign-in button shows it. */
export interface ProviderButton {
  id: string;
  name: string;
  /** GitHub cannot be asked for a fresh sign-in, so it never confirms a re-authentication. */
  freshSignIn: boolean;
}

/**
 * Where a provider sign-in starts: `/api/auth/oauth/<id>/start`, with
 * `?return=` when the page has one. On a proxied app host the round trip runs
 * on the portal (its callback and cookie belong to PUBLIC_URL), like passkeys.
 */
export function providerStartUrl(ctx: PageContext, id: string, returnTo: string): string {
  const path = `/api/auth/oauth/${encodeURIComponent(id)}/start${returnTo === "" ? "" : `?return=${encodeURIComponent(returnTo)}`}`;
  return ctx.portalUrl !== undefined ? `${ctx.portalUrl}${path}` : href(ctx, path);
}

/**
 * One link per enabled provider: "Sign in with <name>" (or "Sign up with
 * <name>"). The names come from configuration and are escaped like any text.
 */
export function providerButtons(ctx: PageContext, providers: readonly ProviderButton[], o: { verb: "Sign in" | "Sign up"; returnTo: string }): SafeHtml {
  if (providers.length === 0) return html``;
  return html`<div class="stack providers">${providers.map(
    (p) => html`<a class="button provider" href="${providerStartUrl(ctx, p.id, o.returnTo)}">${o.verb} with ${p.name}</a>`,
  )}</div>`;
}
