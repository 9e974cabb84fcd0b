/**
 * Return-URL validation (REDIR-01, FWD-05): a post-login target is either a
 * same-origin path on the portal or an absolute URL on the portal's host or
 * a protected host, with the portal's scheme. Anything else becomes `/`.
 */

/** Where a return URL may lead. */
export interface ReturnUrlPolicy {
  /** The portal's own origin (PUBLIC_URL). */
  portal: URL;
  /** True when a canonical host name (lower-case, no port) is protected by the rules. */
  isProtectedHost(hostname: string): boolean;
}

/** DEL, C1 controls, Unicode whitespace and invisible separators, and backslashes. */
const UNSAFE_EXTRA = /[\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff\\]/;

/** True when the text holds a control character (NUL to space included), whitespace or a backslash. */
function unsafe(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) <= 0x20) return true;
  return UNSAFE_EXTRA.test(text);
}

/** Percent-encodings of a slash, a backslash, a control character or a space (only refused in the path). */
const ENCODED_UNSAFE = /%(?:2f|5c|[01][0-9a-f]|7f|20)/i;

/**
 * The safe form of a requested return target, or `/`. `raw` is the value as
 * received, decoded once (by the query-string parser).
 */
export function safeReturnUrl(raw: string | null | undefined, policy: ReturnUrlPolicy): string {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > 4096 || unsafe(raw)) return "/";
  if (raw.startsWith("/")) return safePath(raw, policy.portal);
  return safeAbsolute(raw, policy);
}

function pathPart(target: string): string {
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

function safePath(raw: string, portal: URL): string {
  if (raw.startsWith("//")) return "/";
  if (ENCODED_UNSAFE.test(pathPart(raw))) return "/";
  let url: URL;
  try {
    url = new URL(raw, portal.origin);
  } catch {
    return "/";
  }
  if (url.origin !== portal.origin || !url.pathname.startsWith("/") || url.pathname.startsWith("//")) return "/";
  return `${url.pathname}${url.search}${url.hash}`;
}

function safeAbsolute(raw: string, policy: ReturnUrlPolicy): string {
  const scheme = policy.portal.protocol; // "https:" or "http:"
  const prefix = `${scheme}//`;
  if (raw.slice(0, prefix.length).toLowerCase() !== prefix) return "/";
  const rest = raw.slice(prefix.length);
  if (rest.startsWith("/")) return "/";
  const authority = rest.slice(0, rest.search(/[/?#]|$/));
  if (authority.includes("@") || authority.includes("%") || authority.length === 0) return "/";
  if (ENCODED_UNSAFE.test(pathPart(rest.slice(authority.length)))) return "/";
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "/";
  }
  if (url.protocol !== scheme || url.username !== "" || url.password !== "") return "/";
  if (url.host === policy.portal.host) return url.href;
  const hostname = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
  return policy.isProtectedHost(hostname) ? url.href : "/";
}
