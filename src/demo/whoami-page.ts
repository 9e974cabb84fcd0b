/** The identity headers the demo shows, in display order. */
export const SHOWN_HEADERS = ["remote-user", "remote-email", "remote-name", "remote-groups"] as const;

import { escapeHtml } from "../web/html.js";

/** The identity headers a request carried, each as a string ("" when absent). */
export function identityOf(headers: Record<string, string | string[] | undefined>): Record<(typeof SHOWN_HEADERS)[number], string> {
  const pick = (name: string): string => {
    const v = headers[name];
    return Array.isArray(v) ? v.join(", ") : (v ?? "");
  };
  return {
    "remote-user": pick("remote-user"),
    "remote-email": pick("remote-email"),
    "remote-name": pick("remote-name"),
    "remote-groups": pick("remote-groups"),
  };
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d0d7de;padding:.4rem .6rem;text-align:left}
th{background:#f6f8fa;font-weight:600}code{background:#f6f8fa;padding:.1rem .3rem;border-radius:4px}
.note{color:#57606a;font-size:.9rem}nav a{margin-right:1rem}`;

/** The demo's HTML page: what the app behind Gatehouse was told about the visitor. */
export function whoamiPage(title: string, intro: string, headers: Record<string, string | string[] | undefined>, portalPrefix: string): string {
  const identity = identityOf(headers);
  const rows = SHOWN_HEADERS.map((name) => {
    const label = name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
    const value = identity[name];
    return `<tr><th><code>${escapeHtml(label)}</code></th><td>${value === "" ? '<span class="note">(empty)</span>' : escapeHtml(value)}</td></tr>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse demo</title><style>${STYLE}</style></head>
<body><main>
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(intro)}</p>
<table>${rows}</table>
<p class="note">This page is a tiny app running behind Gatehouse. It trusts these headers because only Gatehouse can reach it:
Gatehouse removes any copy a browser sends and adds its own, after checking the access rules.</p>
<nav><a href="/demo/">whoami</a><a href="/demo/admin">admin-only page</a><a href="/demo/api/whoami">JSON</a><a href="${escapeHtml(portalPrefix)}/account">your account</a></nav>
</main></body></html>`;
}
