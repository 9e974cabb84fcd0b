/** The request headers the cross-site rule looks at, lower-case names. */
export interface CrossSiteHeaders {
  secFetchSite?: string | undefined;
  origin?: string | undefined;
  referer?: string | undefined;
  xRequestedWith?: string | undefined;
  /** True when an `X-CSRF-Token` header was presented and verified. */
  validCsrfToken: boolean;
}

/**
 * The cross-site request rule of docs/api.md and CSRF-01/02, as a pure decision:
 * `Sec-Fetch-Site` decides when present (`same-origin`/`none` pass); else an
 * `Origin` must equal the public origin exactly; else the `Referer`'s origin
 * must; with none of them, `X-Requested-With: XMLHttpRequest` or a valid
 * `X-CSRF-Token` is required.
 */
export function isSameOriginRequest(headers: CrossSiteHeaders, publicOrigin: string): boolean {
  const site = headers.secFetchSite;
  if (site !== undefined) return site === "same-origin" || site === "none";
  if (headers.origin !== undefined) return headers.origin === publicOrigin;
  if (headers.referer !== undefined) return originOf(headers.referer) === publicOrigin;
  return headers.xRequestedWith === "XMLHttpRequest" || headers.validCsrfToken;
}

function originOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    return parsed.origin === "null" ? null : parsed.origin;
  } catch {
    return null;
  }
}
