import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { Session } from "../../../core/sessions/session.js";
import type { UserKeyInfo, Vault } from "../../../core/vault/vault.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent } from "../../schemas.js";
import type { RequestAuth } from "../../types.js";
import { secretNameParams, secretValueBody } from "../admin/vault-routes.js";

/** One of the user's key names: whether a key is stored and its prefix; never the value. */
const keySchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "allowed", "stored", "prefix", "updatedAt"],
  properties: {
    name: { type: "string" },
    allowed: { type: "boolean", description: "False for a stored key no rule uses any more (it can only be deleted)." },
    stored: { type: "boolean" },
    prefix: { type: ["string", "null"] },
    updatedAt: { type: ["string", "null"] },
  },
} as const;

const keyResponse = { type: "object", additionalProperties: false, required: ["secret"], properties: { secret: keySchema } } as const;

function publicKey(k: UserKeyInfo) {
  return { name: k.name, allowed: k.allowed, stored: k.stored, prefix: k.prefix, updatedAt: k.updatedAt === null ? null : new Date(k.updatedAt).toISOString() };
}

function signedIn(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/account/secrets`: the user's own keys ("bring your own key",
 * docs/secrets.md), injected only into the user's own requests to the routes
 * the operator names. Session only (tokens refused); storing a key needs a
 * recent re-authentication (a stolen session cannot swap in its own key to
 * watch the user's traffic). Names are those the rules refer to.
 */
export async function keyRoutes(app: FastifyInstance, deps: { vault: Vault; requireRecentAuth(session: Session): void }): Promise<void> {
  const { vault } = deps;
  const own = { access: "user", token: false } as const;

  app.get(
    "/secrets",
    { config: own, schema: { response: { 200: { type: "object", additionalProperties: false, required: ["secrets"], properties: { secrets: { type: "array", items: keySchema } } } } } },
    async (request) => ({ secrets: (await vault.listOwn(signedIn(request).user.id)).map(publicKey) }),
  );

  app.get<{ Params: { name: string } }>("/secrets/:name", { config: own, schema: { params: secretNameParams, response: { 200: keyResponse } } }, async (request) => {
    const found = (await vault.listOwn(signedIn(request).user.id)).find((k) => k.name === request.params.name);
    if (!found) throw new GatehouseError("not_found");
    return { secret: publicKey(found) };
  });

  app.put<{ Params: { name: string }; Body: { value: string } }>(
    "/secrets/:name",
    { config: own, schema: { params: secretNameParams, body: secretValueBody, response: { 200: keyResponse, 201: keyResponse } } },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      deps.requireRecentAuth(session);
      const { key, created } = await vault.setOwn(user.id, request.params.name, request.body.value, originOf(request));
      return reply.code(created ? 201 : 200).send({ secret: publicKey(key) });
    },
  );

  app.delete<{ Params: { name: string } }>("/secrets/:name", { config: own, schema: { params: secretNameParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    await vault.removeOwn(signedIn(request).user.id, request.params.name, originOf(request));
    return reply.code(204).send();
  });
}
