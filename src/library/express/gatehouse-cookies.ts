/** The cookies Gatehouse reads on forward-auth: its session cookie (https and http names) and its cross-subdomain SSO cookie. */
export const GATEHOUSE_COOKIE_NAMES: readonly string[] = ["__Host-gatehouse_session", "__Secure-gatehouse_session", "gatehouse_session"];

/**
 * The part of a `Cookie` header that belongs to Gatehouse: only the cookies
 * named in `names`, in their order (a duplicated name is kept, so Gatehouse
 * sees it and refuses it as it does any tossed cookie). Empty when there is none.
 * The app's own cookies are never sent to Gatehouse.
 */
export function gatehouseCookies(header: string | string[] | undefined, names: readonly string[] = GATEHOUSE_COOKIE_NAMES): string {
  const text = Array.isArray(header) ? header.join("; ") : (header ?? "");
  if (text.length === 0) return "";
  const kept: string[] = [];
  for (const part of text.split(";")) {
    const eq = part.indexOf("=");
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim();
    if (names.includes(name)) kept.push(`${name}=${part.slice(eq + 1).trim()}`);
  }
  return kept.join("; ");
}

/**
 * The `Cookie` header without Gatehouse's cookies (the app's own, in their
 * order), or null when nothing else is left. Gatehouse's cookies are not meant
 * for the app, as in reverse-proxy mode.
 */
export function withoutGatehouseCookies(header: string, names: readonly string[] = GATEHOUSE_COOKIE_NAMES): string | null {
  const kept = header.split(";").filter((part) => {
    const eq = part.indexOf("=");
    return part.trim() !== "" && !(eq !== -1 && names.includes(part.slice(0, eq).trim()));
  });
  return kept.length === 0 ? null : kept.map((p) => p.trim()).join("; ");
}
