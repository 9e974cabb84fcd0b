/**
 * `gatehouse/fastify`: Gatehouse embedded in a Fastify app (docs/library.md).
 * @packageDocumentation
 */
export { gatehouse, type GatehouseDecorator } from "./gatehouse-plugin.js";
export type { GatehouseOptions } from "./plugin-options.js";
export { GatehouseOptionsError } from "./plugin-options.js";
export type { GatehouseUser, GatehouseSession } from "./gatehouse-user.js";
export type { GatehouseGuard } from "./host-guards.js";
export type { Access } from "../../http/types.js";
export { GatehouseError, isGatehouseError } from "../../core/errors.js";
export { ConfigError } from "../../config/load-config.js";
