import { ProviderError } from "../core/oauth/identity-provider.js";
import type { OutboundFetch } from "./outbound-fetch.js";

/** The normalised form of a URL string used for allow-list comparison (null when it does not parse). */
export function normalisedHref(url: string): string | null {
  try {
    return new URL(url).href;
  } catch {
    return null;
  }
}

/**
 * Wraps an {@link OutboundFetch} so it only calls URLs in `allowed()` (exact,
 * normalised match, query included); any other URL fails with
 * {@link ProviderError} `unavailable` before a connection is made. `allowed` is
 * read on every call, so a client can widen it once discovery is done.
 */
export function allowOnly(fetch: OutboundFetch, allowed: () => ReadonlySet<string>): OutboundFetch {
  return async (url, init) => {
    const href = normalisedHref(url);
    if (href === null || !allowed().has(href)) {
      throw new ProviderError("unavailable", "outbound call refused: not one of the provider's configured endpoints");
    }
    return fetch(url, init);
  };
}
