import type { FastifyInstance } from "fastify";
import { GatehouseError } from "../../core/errors.js";
import type { AppDeps } from "../types.js";

/** `/healthz` (liveness) and `/readyz` (the database answers). */
export async function healthRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  app.get("/healthz", { config: { access: "public", session: "none", rateLimit: false, grantsNothing: true } }, async () => ({ status: "ok" }));
  app.get("/readyz", { config: { access: "public", session: "none", rateLimit: false, grantsNothing: true } }, async () => {
    if (!(await deps.ping())) throw new GatehouseError("not_ready");
    return { status: "ready" };
  });
}
