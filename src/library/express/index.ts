/**
 * `gatehouse/express`: protect a Node app (Express 5, Connect-style, plain
 * `node:http`) with a remote Gatehouse's forward-auth endpoint
 * (docs/express-middleware.md).
 */
import type { GatehouseRequestInfo, GatehouseUser } from "./gatehouse-middleware.js";

export {
  answerDenial,
  defaultOriginalRequest,
  gatehouseMiddleware,
  type Denial,
  type GatehouseMiddleware,
  type GatehouseMiddlewareOptions,
  type GatehouseRequest,
  type GatehouseRequestInfo,
  type GatehouseUser,
  type OriginalRequest,
} from "./gatehouse-middleware.js";
export { GATEHOUSE_COOKIE_NAMES } from "./gatehouse-cookies.js";
export { DEFAULT_CACHE_MAX_ENTRIES, DEFAULT_CACHE_TTL_MS, MAX_CACHE_TTL_MS } from "./positive-cache.js";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** Set by `gatehouseMiddleware`: the signed-in user (null on a `bypass` rule with nobody signed in). */
    interface Request {
      user?: GatehouseUser | null;
      gatehouse?: GatehouseRequestInfo;
    }
  }
}
