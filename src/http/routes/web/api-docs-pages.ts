import type { FastifyInstance } from "fastify";
import { apiOperations } from "../../openapi/api-operations.js";
import { apiDocsBody, apiDocsPage, type ApiTag } from "../../../web/api-docs-page.js";
import type { SafeHtml } from "../../../web/html.js";
import { pageContext, sendPage } from "./page.js";

/**
 * `GET /api/docs`: the API reference page, rendered on the server from the
 * OpenAPI document (GET /api/openapi.json) the first time it is asked for.
 * Public like the document. A page, not a JSON route: it lives with the
 * pages (HTML errors, the page CSP with its nonce).
 */
export async function apiDocsPages(app: FastifyInstance): Promise<void> {
  let built: { body: SafeHtml; tags: ApiTag[] } | null = null;
  app.get("/api/docs", { config: { access: "public" } }, async (request, reply) => {
    if (built === null) {
      const doc = app.swagger() as { info: { title: string; version: string }; tags?: ApiTag[] };
      const tags = (doc.tags ?? []).map((t) => ({ name: t.name, description: t.description }));
      built = { body: apiDocsBody(tags, apiOperations(doc), doc.info.title, doc.info.version), tags };
    }
    return sendPage(reply, apiDocsPage(pageContext(request, reply), built.body, built.tags));
  });
}
