import { acceptsHtml } from "./accepts-html.js";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { GatehouseError } from "../core/errors.js";
import { escapeHtml } from "../web/html.js";
import { setRefusalHeaders } from "./refusal-headers.js";

const TITLES: Partial<Record<string, string>> = {
  not_found: "Page not found",
  forbidden: "Not allowed",
  csrf: "Request refused",
  payload_too_large: "Upload too large",
  rate_limited: "Too many requests",
  bad_gateway: "The app is not answering",
  unavailable: "Temporarily unavailable",
};

/** A person's browser loading a page (GET/HEAD accepting HTML), as opposed to an API client or a script. */
export function isBrowserNavigation(request: FastifyRequest): boolean {
  return (request.method === "GET" || request.method === "HEAD") && acceptsHtml(request.headers.accept);
}

/**
 * The page a person in a browser gets instead of a JSON error: an unknown
 * page (404), or a request the gateway refuses (403 by the rules, 413, 502,
 * 503…): the status and message of docs/api.md, a way back, and Gatehouse's
 * stylesheet (under the request's base path, or `base`: the library plugin's
 * prefix on a host app's route).
 */
export function sendErrorPage(request: FastifyRequest, reply: FastifyReply, err: GatehouseError, base: string = request.basePath): FastifyReply {
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
  setRefusalHeaders(reply, err);
  return reply.code(err.status).header("Cache-Control", "no-store").type("text/html; charset=utf-8").send(body);
}
