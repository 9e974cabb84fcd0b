import type { FastifyInstance, FastifyRequest } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { PasskeySummary, Passkeys } from "../../../core/mfa/webauthn/passkeys.js";
import type { ValidSession } from "../../../core/sessions/session-service.js";
import { originOf } from "../../origin.js";
import { emptyBody, noContent, str, idParams } from "../../schemas.js";
import { webauthnOptionsResponse, webauthnResponseField } from "../auth/webauthn-routes.js";

const passkeyItem = {
  type: "object",
  additionalProperties: false,
  required: ["id", "name", "createdAt", "lastUsedAt", "backedUp", "deviceType"],
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    createdAt: { type: "string" },
    lastUsedAt: { type: ["string", "null"] },
    backedUp: { type: "boolean" },
    deviceType: { type: "string" },
  },
} as const;


const nameField = { type: "string", minLength: 1, maxLength: 100 } as const;

function signedIn(request: FastifyRequest): ValidSession {
  if (!request.auth) throw new GatehouseError("unauthenticated");
  return request.auth;
}

const view = (p: PasskeySummary) => ({
  id: p.id,
  name: p.name,
  createdAt: new Date(p.createdAt).toISOString(),
  lastUsedAt: p.lastUsedAt === null ? null : new Date(p.lastUsedAt).toISOString(),
  backedUp: p.backedUp,
  deviceType: p.deviceType,
});

/** `/api/account/mfa/webauthn`: the signed-in user's passkeys (list, register, rename, remove). */
export async function passkeyRoutes(app: FastifyInstance, deps: { passkeys: Passkeys }): Promise<void> {
  const { passkeys } = deps;

  app.get(
    "/webauthn",
    { config: { access: "user", token: "read:account" }, schema: { response: { 200: { type: "object", additionalProperties: false, required: ["passkeys"], properties: { passkeys: { type: "array", items: passkeyItem } } } } } },
    async (request) => ({ passkeys: (await passkeys.list(signedIn(request).user.id)).map(view) }),
  );

  app.post("/webauthn/options", { config: { access: "user" }, schema: { body: emptyBody, response: { 200: webauthnOptionsResponse } } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    reply.header("Cache-Control", "no-store");
    return { options: await passkeys.registrationOptions(user, session) };
  });

  app.post<{ Body: { response: Record<string, unknown>; name?: string } }>(
    "/webauthn/register",
    {
      config: { access: "user" },
      schema: {
        body: { type: "object", additionalProperties: false, required: ["response"], properties: { response: webauthnResponseField, name: str(100) } },
        response: { 201: { type: "object", additionalProperties: false, required: ["passkey"], properties: { passkey: passkeyItem } } },
      },
    },
    async (request, reply) => {
      const { user, session } = signedIn(request);
      const created = await passkeys.register(user, session, request.body.response, request.body.name, originOf(request));
      return reply.code(201).send({ passkey: view(created) });
    },
  );

  app.patch<{ Params: { id: string }; Body: { name: string } }>(
    "/webauthn/:id",
    {
      config: { access: "user" },
      schema: {
        params: idParams,
        body: { type: "object", additionalProperties: false, required: ["name"], properties: { name: nameField } },
        response: { 200: { type: "object", additionalProperties: false, required: ["passkey"], properties: { passkey: passkeyItem } } },
      },
    },
    async (request) => ({ passkey: view(await passkeys.rename(signedIn(request).user, request.params.id, request.body.name)) }),
  );

  app.delete<{ Params: { id: string } }>("/webauthn/:id", { config: { access: "user" }, schema: { params: idParams, body: emptyBody, response: { 204: noContent } } }, async (request, reply) => {
    const { user, session } = signedIn(request);
    await passkeys.remove(user, session, request.params.id, originOf(request));
    return reply.code(204).send();
  });
}
