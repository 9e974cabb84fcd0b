import { createHash } from "node:crypto";
import { escapeHtml } from "../../../web/html.js";

/** The one inline style of the page: it is shown on the app's origin, where Gatehouse's stylesheet cannot be loaded. */
const STYLE =
  "body{font:16px/1.5 system-ui,sans-serif;color:#1f2933;background:#f5f7fa;margin:0}" +
  "main{max-width:32rem;margin:4rem auto;padding:2rem;background:#fff;border:1px solid #d9e2ec;border-radius:8px}" +
  "h1{font-size:1.5rem;margin:0 0 .5rem}a{color:#1d4ed8}";

/** Its hash, the only thing the page's CSP lets in. */
const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLE).digest("base64")}'`;

/** The page CSP: nothing but that style, never framed, no forms. */
export const FORWARD_AUTH_PAGE_CSP = `default-src 'none'; style-src ${STYLE_HASH}; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`;


/**
 * The HTML a person gets when forward-auth refuses a page of a protected app
 * (403, or 401 for a request that cannot be redirected, e.g. a form POST):
 * a front proxy (Caddy, Traefik) relays Gatehouse's refusal to the browser
 * as it is. The page is on the app's origin, so everything it needs is
 * inline or absolute: links lead to the portal (`portal`, PUBLIC_URL).
 */
export function forwardAuthPage(kind: "forbidden" | "unauthenticated", portal: string, loginUrl?: string): string {
  const forbidden = kind === "forbidden";
  const title = forbidden ? "Not allowed" : "Sign-in required";
  const text = forbidden ? "You are not allowed to do this. Your account does not have access to this page." : "Authentication required. Sign in, then try again.";
  const link = forbidden ? `${portal}/account` : (loginUrl ?? `${portal}/login`);
  const label = forbidden ? "Your account" : "Sign in";
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title><style>${STYLE}</style></head>
<body><main data-error="${kind}">
<h1>${title}</h1>
<p>${text}</p>
<p><a href="${escapeHtml(link)}">${label}</a></p>
</main></body></html>
`;
}
