import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import { TOKEN_SCOPES, type ApiToken } from "../../../core/tokens/api-token.js";
import { MAX_TOKEN_NAME } from "../../../core/tokens/api-token-service.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent, pagedResponse, pagination, paginationQuery, idParams } from "../../schemas.js";
import type { AppDeps, RequestAuth } from "../../types.js";


/** A token as clients see it: never the secret, never its hash. */
const tokenSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "name", "scopes", "prefix", "createdAt", "expiresAt", "lastUsedAt"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    scopes: { type: "array", items: { type: "string" } },
    prefix: { type: "string" },
    createdAt: { type: "string" },
    expiresAt: { type: "string" },
    lastUsedAt: { type: ["string", "null"] },
  },
} as const;

const createBody = {
  type: "object",
  additionalProperties: false,
  required: ["name", "scopes"],
  properties: {
    name: { type: "string", minLength: 1, maxLength: MAX_TOKEN_NAME },
    scopes: { type: "array", minItems: 1, maxItems: TOKEN_SCOPES.length, uniqueItems: true, items: { type: "string", enum: [...TOKEN_SCOPES] } },
    // 1 to 365, checked by the service (400 naming the field).
    expiresInDays: { type: "integer" },
  },
} as const;

const iso = (ms: number) => new Date(ms).toISOString();

function publicToken(t: ApiToken) {
  return {
    id: t.id,
    name: t.name,
    scopes: t.scopes,
    prefix: t.prefix,
    createdAt: iso(t.createdAt),
    expiresAt: iso(t.expiresAt),
    lastUsedAt: t.lastUsedAt === null ? null : iso(t.lastUsedAt),
  };
}

function signedIn(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/account/tokens`: the user's personal API tokens. Listing is open to a
 * `read:account` token; creating and revoking need the session (a token never
 * mints or revokes tokens), and creating needs a recent re-authentication.
 */
export async function tokenRoutes(app: FastifyInstance, deps: Pick<AppDeps, "tokens">): Promise<void> {
  const { tokens } = deps;

  app.get<{ Querystring: { limit?: string; page?: string } }>(
    "/tokens",
    {
      config: { access: "user", token: "read:account" },
      schema: {
        querystring: paginationQuery,
        response: { 200: pagedResponse("tokens", tokenSchema) },
      },
    },
    async (request) => {
      const { user } = signedIn(request);
      const { limit, offset, page } = pagination(request.query);
      return { tokens: (await tokens.list(user, limit, offset)).map(publicToken), page, limit };
    },
  );

  app.get<{ Params: { id: string } }>(
    "/tokens/:id",
    {
      config: { access: "user", token: "read:account" },
      schema: { params: idParams, response: { 200: { type: "object", additionalProperties: false, properties: { token: tokenSchema } } } },
    },
    async (request) => {
      const found = await tokens.get(signedIn(request).user, request.params.id);
      if (!found) throw new GatehouseError("not_found");
      return { token: publicToken(found) };
    },
  );

  app.post<{ Body: { name: string; scopes: string[]; expiresInDays?: number } }>(
    "/tokens",
    {
      // Per user (RATE_LIMIT_TOKEN_CREATE, default 5/hour), shared with the account page's form.
      config: { access: "user", token: false, rateLimit: "tokenCreate" },
      schema: {
        body: createBody,
        response: {
          201: {
            type: "object",
            additionalProperties: false,
            required: ["token", "secret"],
            properties: { token: tokenSchema, secret: { type: "string" } },
          },
        },
      },
    },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      const issued = await tokens.create(user, session, request.body, originOf(request));
      reply.header("Cache-Control", "no-store");
      return reply.code(201).send({ token: publicToken(issued.token), secret: issued.secret });
    },
  );

  app.delete<{ Params: { id: string } }>(
    "/tokens/:id",
    { config: { access: "user", token: false }, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } },
    async (request, reply) => {
      if (!(await tokens.revoke(signedIn(request).user, request.params.id, originOf(request)))) throw new GatehouseError("not_found");
      return reply.code(204).send();
    },
  );
}
