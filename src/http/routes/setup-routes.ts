import type { FastifyInstance } from "fastify";
import type { FirstSuperadmin } from "../../core/setup/first-superadmin.js";
import { GatehouseError } from "../../core/errors.js";
import { toPublicUser } from "../../core/users/user.js";
import { completeSignIn } from "../complete-sign-in.js";
import { originOf } from "../origin.js";
import { passwordField, str, userResponse } from "../schemas.js";
import type { Config } from "../../config/config.js";

/**
 * `/api/setup`: creating the first superadmin with the one-time link printed
 * at first start. Both routes answer 404 once a superadmin exists.
 */
export async function setupRoutes(app: FastifyInstance, deps: { firstSuperadmin: FirstSuperadmin; config: Config }): Promise<void> {
  const { firstSuperadmin, config } = deps;

  app.get("", { config: { access: "public" }, schema: { response: { 200: { type: "object", additionalProperties: false, required: ["setup"], properties: { setup: { type: "string", enum: ["open"] } } } } } }, async () => {
    if (!(await firstSuperadmin.open())) throw new GatehouseError("not_found");
    return { setup: "open" };
  });

  app.post<{ Body: { token: string; username: string; password: string; email?: string } }>(
    "",
    {
      config: { access: "public", rateLimit: "login", hashing: true },
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          required: ["token", "username", "password"],
          properties: { token: str(128), username: str(256), password: passwordField, email: str(1024) },
        },
        response: { 201: userResponse },
      },
    },
    async (request, reply) => {
      const { token, ...input } = request.body;
      const { user } = await completeSignIn(request, reply, config, (replacing) => firstSuperadmin.complete(token, input, originOf(request), replacing));
      return reply.code(201).send({ user: toPublicUser(user) });
    },
  );
}
