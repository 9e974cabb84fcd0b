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


/** What the page says: a refusal, a sign-in to do, a second factor to give, one to enrol first, or a rule's rate limit reached. */
export type ForwardAuthPageKind = "forbidden" | "unauthenticated" | "mfa_required" | "mfa_enrolment_required" | "rate_limited";

const TEXTS: Record<ForwardAuthPageKind, { title: string; text: string; label: string }> = {
  forbidden: { title: "Not allowed", text: "You are not allowed to do this. Your account does not have access to this page.", label: "Your account" },
  unauthenticated: { title: "Sign-in required", text: "Authentication required. Sign in, then try again.", label: "Sign in" },
  mfa_required: { title: "Second factor required", text: "This page needs a second factor. Confirm it is you, then try again.", label: "Confirm it is you" },
  mfa_enrolment_required: { title: "Second factor required", text: "This page needs a second factor, and your account has none yet. Set one up, then try again.", label: "Set up a second factor" },
  rate_limited: { title: "Too many requests", text: "Too many requests; try again later. Wait a moment, then reload this page.", label: "" },
};

/**
 * The HTML a person gets when forward-auth refuses a page of a protected app
 * (403, or 401 for a request that cannot be redirected, e.g. a form POST):
 * a front proxy (Caddy, Traefik) relays Gatehouse's refusal to the browser
 * as it is. The page is on the app's origin, so everything it needs is
 * inline or absolute: links lead to the portal (`portal`, PUBLIC_URL);
 * `link` is the sign-in, second-factor or enrolment page when there is one;
 * the rate-limit page has no link (waiting is the only way on).
 */
export function forwardAuthPage(kind: ForwardAuthPageKind, portal: string, link?: string): string {
  const { title, text, label } = TEXTS[kind];
  const target = kind === "forbidden" ? `${portal}/account` : (link ?? `${portal}/login`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Gatehouse</title><style>${STYLE}</style></head>
<body><main data-error="${kind}">
<h1>${title}</h1>
<p>${text}</p>
${label === "" ? "" : `<p><a href="${escapeHtml(target)}">${label}</a></p>\n`}</main></body></html>
`;
}
