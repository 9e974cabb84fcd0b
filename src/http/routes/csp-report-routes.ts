import type { FastifyInstance } from "fastify";
import { escapeControl } from "../../core/audit/audit-log.js";
import { CSP_REPORT_PATH } from "../plugins/security-headers.js";
import { noContent } from "../schemas.js";

/** Largest report body read (browsers send well under 4 KiB per violation). */
const MAX_REPORT_BYTES = 16 * 1024;
/** Reports logged from one request at most (the Reporting API batches them). */
const MAX_REPORTS = 10;

/** One violation as it goes to the log: short, single-line, no query string or fragment. */
interface Violation {
  document: string;
  directive: string;
  blocked: string;
}

/** A URL without its query and fragment (they may carry tokens), truncated; other text truncated only. */
function clean(value: unknown, isUrl: boolean): string {
  if (typeof value !== "string") return "";
  const text = isUrl ? value.replace(/[?#].*$/s, "") : value;
  return escapeControl(text.slice(0, 200));
}

function violationOf(r: Record<string, unknown>): Violation {
  return {
    document: clean(r["document-uri"] ?? r.documentURL, true),
    directive: clean(r["effective-directive"] ?? r.effectiveDirective ?? r["violated-directive"], false),
    blocked: clean(r["blocked-uri"] ?? r.blockedURL, true),
  };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** The violations in a `report-uri` body (`{"csp-report": {...}}`) or a Reporting API batch (`[{type, body}]`). */
export function violationsIn(body: unknown): Violation[] {
  if (isRecord(body) && isRecord(body["csp-report"])) return [violationOf(body["csp-report"])];
  if (!Array.isArray(body)) return [];
  return body
    .slice(0, MAX_REPORTS)
    .filter((r): r is Record<string, unknown> => isRecord(r) && r.type === "csp-violation" && isRecord(r.body))
    .map((r) => violationOf(r.body as Record<string, unknown>));
}

/**
 * `POST /api/csp-report`: where browsers report Content-Security-Policy
 * violations of Gatehouse's pages (HDR-02). Each becomes one warning in the
 * log (page, directive, blocked URL — without query strings); the answer is
 * always 204. Rate-limited like every `/api/` route.
 */
export async function cspReportRoutes(app: FastifyInstance): Promise<void> {
  for (const type of ["application/csp-report", "application/reports+json"]) {
    app.addContentTypeParser(type, { parseAs: "string", bodyLimit: MAX_REPORT_BYTES }, (_request, body, done) => {
      try {
        done(null, JSON.parse(body as string));
      } catch {
        done(null, null);
      }
    });
  }
  app.post(CSP_REPORT_PATH, {
      bodyLimit: MAX_REPORT_BYTES,
      config: { access: "public", session: "none", csrf: false },
      schema: {
        summary: "Report a Content-Security-Policy violation (browsers)",
        // Documents the two report formats; any body is accepted (and ignored when it is not a report), so nothing is validated.
        consumes: ["application/csp-report", "application/reports+json"],
        body: { description: "A `report-uri` body (`{\"csp-report\": {…}}`) or a Reporting API batch (`[{type: \"csp-violation\", body}]`)." },
        response: { 204: noContent },
      },
    }, async (request, reply) => {
    for (const violation of violationsIn(request.body)) request.log.warn({ csp: violation }, "content security policy violation reported");
    return reply.code(204).send();
  });
}
