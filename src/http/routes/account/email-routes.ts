import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { EmailChange } from "../../../core/users/email-change.js";
import { originOf } from "../../origin.js";
import { statusResponse, str } from "../../schemas.js";

/**
 * `POST /api/account/email {email}`: asks to change the signed-in user's
 * address (RST-08). Needs a recent re-authentication; answers 202
 * `{status:"verification_sent"}` whatever becomes of the new address.
 */
export async function emailRoutes(app: FastifyInstance, deps: { emailChange: EmailChange }): Promise<void> {
  app.post<{ Body: { email: string } }>(
    "/email",
    {
      config: { access: "user", token: false },
      schema: { body: { type: "object", additionalProperties: false, required: ["email"], properties: { email: str(1024) } }, response: { 202: statusResponse("verification_sent") } },
    },
    async (request, reply) => {
      const auth = request.auth;
      if (!auth) throw new GatehouseError("unauthenticated");
      await deps.emailChange.request(auth.user, auth.session, request.body.email, originOf(request));
      return reply.code(202).send({ status: "verification_sent" });
    },
  );
}
