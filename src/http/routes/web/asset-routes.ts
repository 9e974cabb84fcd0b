import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../../core/errors.js";
import { ASSETS } from "../../../web/assets.js";

/**
 * `GET /assets/:name`: the stylesheet and scripts, from memory. A request
 * with the current `?v=` is cacheable for a year (immutable); otherwise for
 * five minutes, with an ETag for revalidation.
 */
export async function assetRoutes(app: FastifyInstance): Promise<void> {
  app.get<{ Params: { name: string }; Querystring: { v?: string } }>(
    "/assets/:name",
    { config: { access: "public", session: "none", rateLimit: false, grantsNothing: true } },
    async (request, reply) => {
      const asset = Object.hasOwn(request.params, "name") ? ASSETS.get(request.params.name) : undefined;
      if (asset === undefined) throw new GatehouseError("not_found");
      const etag = `"${asset.version}"`;
      const current = request.query.v === asset.version;
      reply
        .header("Content-Type", asset.contentType)
        .header("ETag", etag)
        .header("Cache-Control", current ? "public, max-age=31536000, immutable" : "public, max-age=300");
      if (request.headers["if-none-match"] === etag) return reply.code(304).send();
      return reply.send(asset.body);
    },
  );
}
