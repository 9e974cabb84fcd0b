import type { FastifyInstance } from "fastify";

/** The OpenAPI document's own answer: any JSON object (it is sent as prebuilt text, never re-serialized). */
const documentResponse = { type: "object", additionalProperties: true, description: "An OpenAPI 3.1 document." } as const;

/**
 * `GET /api/openapi.json`: the OpenAPI 3.1 description of the JSON API,
 * built by `@fastify/swagger` from the routes' schemas on the first call
 * and kept as text. Public: it describes the routes, it grants nothing, and
 * holds no secret (test/integration/openapi.test.ts).
 */
export async function openapiRoutes(app: FastifyInstance): Promise<void> {
  let text: string | null = null;
  app.get(
    "/api/openapi.json",
    { config: { access: "public", session: "none" }, schema: { summary: "This API description (OpenAPI 3.1)", response: { 200: documentResponse } } },
    async (_request, reply) => {
      text ??= JSON.stringify(app.swagger());
      return reply.type("application/json; charset=utf-8").send(text);
    },
  );
}
