import type { onRequestHookHandler } from "fastify";
import { GatehouseError } from "../../core/errors.js";

const FORBIDDEN_QUERY_KEYS = ["__proto__", "constructor", "prototype"];

/** Refuses a query string carrying a prototype-pollution key (INP-03) with 400 `invalid_request`. */
export const refuseQueryKeys: onRequestHookHandler = function refuseQueryKeys(request, _reply, done) {
  const query = request.query;
  if (typeof query === "object" && query !== null) {
    for (const key of Object.keys(query)) {
      if (FORBIDDEN_QUERY_KEYS.some((k) => key.includes(k))) return done(new GatehouseError("invalid_request"));
    }
  }
  done();
};
