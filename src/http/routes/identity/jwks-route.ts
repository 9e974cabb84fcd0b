import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import type { IdentityTokens } from "../../../core/identity/identity-tokens.js";

/** A published public key: the public parameters only (a private `d` is refused by the schema too). */
const jwkSchema = {
  type: "object",
  additionalProperties: false,
  required: ["kty", "crv", "x", "kid", "alg", "use"],
  properties: {
    kty: { type: "string" },
    crv: { type: "string" },
    x: { type: "string" },
    y: { type: "string" },
    kid: { type: "string" },
    alg: { type: "string", enum: ["ES256", "EdDSA"] },
    use: { type: "string", enum: ["sig"] },
  },
} as const;

const jwksResponse = { type: "object", additionalProperties: false, required: ["keys"], properties: { keys: { type: "array", items: jwkSchema } } } as const;

/**
 * `GET /.well-known/jwks.json` (docs/identity-jwt.md): the public keys that
 * verify the identity JWT, the active one and those retired within their
 * grace period. Public and sessionless, never rate limited (every app's
 * verifier fetches it), cacheable for 5 minutes; with IDENTITY_JWT off, 404.
 */
export async function jwksRoute(app: FastifyInstance, deps: { identityTokens: IdentityTokens | null }): Promise<void> {
  app.get(
    "/.well-known/jwks.json",
    { config: { access: "public", session: "none", rateLimit: false, grantsNothing: true }, logLevel: "warn", schema: { summary: "The identity JWT's public keys (JWKS)", response: { 200: jwksResponse } } },
    async (_request, reply) => {
      if (deps.identityTokens === null) throw new GatehouseError("not_found");
      const set = await deps.identityTokens.jwks();
      return reply.header("cache-control", "public, max-age=300").type("application/json; charset=utf-8").send(set);
    },
  );
}
