import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatehouseError } from "../../core/errors.js";

const TITLES: Partial<Record<string, string>> = {
  forbidden: "Not allowed",
  csrf: "Request refused",
  payload_too_large: "Upload too large",
  rate_limited: "Too many requests",
  bad_gateway: "The app is not answering",
  unavailable: "Temporarily unavailable",
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The page a person in a browser gets when the gateway refuses a request
 * (403 by the rules, 413, 502, 503…): the status and message of API.md, a
 * way back, and Gatehouse's stylesheet (under the request's base path).
 */
export function sendRefusalPage(request: FastifyRequest, reply: FastifyReply, err: GatehouseError): FastifyReply {
  const base = request.basePath;
  const title = TITLES[err.code] ?? "Request refused";
  const signedIn = request.auth !== null;
  const link = signedIn ? `${base}/account` : `${base}/login`;
  const body = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title><link rel="stylesheet" href="${escapeHtml(`${base}/assets/gatehouse.css`)}"></head>
<body><main id="main" class="narrow"><div class="card" data-error="${escapeHtml(err.code)}">
<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(err.message)}.</p>
${err.status >= 500 ? `<p class="muted">Reference: <code>${escapeHtml(request.id)}</code></p>` : ""}
<p><a href="${escapeHtml(link)}">${signedIn ? "Your account" : "Sign in"}</a></p>
</div></main></body></html>
`;
  if (err.retryAfter !== undefined) reply.header("Retry-After", String(Math.max(1, Math.ceil(err.retryAfter))));
  return reply.code(err.status).header("Cache-Control", "no-store").type("text/html; charset=utf-8").send(body);
}
