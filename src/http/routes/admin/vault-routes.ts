import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { Session } from "../../../core/sessions/session.js";
import type { Vault, VaultSecretInfo } from "../../../core/vault/vault.js";
import { MAX_SECRET_BYTES, SECRET_NAME } from "../../../core/vault/vault-names.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent } from "../../schemas.js";
import type { RequestAuth } from "../../types.js";

/** `:name` of a vault secret (a bad name is 400 before anything is looked up). */
export const secretNameParams = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: { name: { type: "string", pattern: SECRET_NAME.source } },
} as const;

/** A secret's value: write-only (checked further by the vault: visible ASCII, no CR/LF/NUL). */
export const secretValueBody = {
  type: "object",
  additionalProperties: false,
  required: ["value"],
  properties: { value: { type: "string", minLength: 1, maxLength: MAX_SECRET_BYTES, description: "The value; never shown again (only its prefix)." } },
} as const;

/** What a vault secret is shown as: never its value. */
const secretSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "prefix", "createdAt", "updatedAt", "updatedBy"],
  properties: {
    name: { type: "string" },
    prefix: { type: ["string", "null"], description: "The first 4 characters of a value of 16 or more characters; else null." },
    createdAt: { type: "string" },
    updatedAt: { type: "string" },
    updatedBy: { type: ["string", "null"] },
  },
} as const;

const secretResponse = { type: "object", additionalProperties: false, required: ["secret"], properties: { secret: secretSchema } } as const;

const iso = (ms: number) => new Date(ms).toISOString();

function publicSecret(s: VaultSecretInfo) {
  return { name: s.name, prefix: s.prefix, createdAt: iso(s.createdAt), updatedAt: iso(s.updatedAt), updatedBy: s.updatedBy };
}

function signedIn(request: FastifyRequest): RequestAuth {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

/**
 * `/api/admin/secrets`: the vault's operator secrets (docs/secrets.md).
 * Superadmins only, with a session (API tokens are refused); a change needs a
 * recent re-authentication. No answer ever holds a value.
 */
export async function vaultRoutes(app: FastifyInstance, deps: { vault: Vault; requireRecentAuth(session: Session): void }): Promise<void> {
  const { vault } = deps;
  const superadmin = { access: "superadmin", token: false } as const;

  app.get(
    "/secrets",
    {
      config: superadmin,
      schema: { response: { 200: { type: "object", additionalProperties: false, required: ["secrets"], properties: { secrets: { type: "array", items: secretSchema } } } } },
    },
    async () => ({ secrets: (await vault.list()).map(publicSecret) }),
  );

  app.get<{ Params: { name: string } }>(
    "/secrets/:name",
    { config: superadmin, schema: { params: secretNameParams, response: { 200: secretResponse } } },
    async (request) => ({ secret: publicSecret(await vault.show(request.params.name)) }),
  );

  app.put<{ Params: { name: string }; Body: { value: string } }>(
    "/secrets/:name",
    { config: superadmin, schema: { params: secretNameParams, body: secretValueBody, response: { 200: secretResponse, 201: secretResponse } } },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      deps.requireRecentAuth(session);
      const { secret, created } = await vault.set(request.params.name, request.body.value, { userId: user.id, origin: originOf(request) });
      return reply.code(created ? 201 : 200).send({ secret: publicSecret(secret) });
    },
  );

  app.delete<{ Params: { name: string } }>(
    "/secrets/:name",
    { config: superadmin, schema: { params: secretNameParams, body: emptyBody, response: { 204: noContent } } },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      deps.requireRecentAuth(session);
      await vault.remove(request.params.name, { userId: user.id, origin: originOf(request) });
      return reply.code(204).send();
    },
  );
}
