import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { LinkedIdentities, LinkedIdentityView } from "../../../core/oauth/linked-identities.js";
import { originOf } from "../../origin.js";
import { emptyBody, idParams, noContent } from "../../schemas.js";
import type { RequestAuth } from "../../types.js";

/** A linked identity as its owner sees it: the provider and the address it gave, never a subject or a token. */
export const identitySchema = {
  type: "object",
  additionalProperties: false,
  required: ["id", "provider", "providerName", "email", "createdAt", "lastUsedAt"],
  properties: {
    id: { type: "string" },
    provider: { type: "string" },
    providerName: { type: "string" },
    email: { type: ["string", "null"] },
    createdAt: { type: "string" },
    lastUsedAt: { type: ["string", "null"] },
  },
} as const;

const iso = (ms: number) => new Date(ms).toISOString();

/** The JSON form of a {@link LinkedIdentityView}. */
export function publicIdentity(i: LinkedIdentityView) {
  return { id: i.id, provider: i.provider, providerName: i.providerName, email: i.email, createdAt: iso(i.createdAt), lastUsedAt: i.lastUsedAt === null ? null : iso(i.lastUsedAt) };
}

function signedIn(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/account/identities`: the provider identities linked to the account.
 * Listing is open to a `read:account` token; unlinking needs the session and
 * a recent re-authentication, and never removes the last way to sign in.
 * Linking starts in the browser (`POST /api/auth/oauth/:provider/start`, `intent=link`).
 */
export async function identityRoutes(app: FastifyInstance, deps: { linkedIdentities: LinkedIdentities }): Promise<void> {
  const { linkedIdentities } = deps;

  app.get(
    "/identities",
    { config: { access: "user", token: "read:account" }, schema: { response: { 200: { type: "object", additionalProperties: false, required: ["identities"], properties: { identities: { type: "array", items: identitySchema } } } } } },
    async (request) => ({ identities: (await linkedIdentities.list(signedIn(request).user.id)).map(publicIdentity) }),
  );

  app.delete<{ Params: { id: string } }>("/identities/:id", { config: { access: "user", token: false }, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    await linkedIdentities.unlink(user, session, request.params.id, originOf(request));
    return reply.code(204).send();
  });
}
