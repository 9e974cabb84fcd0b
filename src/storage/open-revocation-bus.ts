import type { FastifyBaseLogger } from "fastify";
import type { Redis } from "ioredis";
import type { RevocationBus } from "../core/sessions/revocation-bus.js";
import type { OpenDatabase } from "./sql/open-database.js";

/** Which channel carries revocations between instances. */
export type RevocationBusKind = "redis" | "postgres";

/** Where revocations travel, chosen by {@link openRevocationBus}. */
export interface OpenRevocationBus {
  kind: RevocationBusKind;
  bus: RevocationBus;
}

/** What {@link openRevocationBus} chooses from. */
export interface RevocationBusChoice {
  /** The shared Redis connection (`REDIS_URL`), or null. */
  redis: Redis | null;
  redisPrefix?: string;
  database: OpenDatabase;
  /** `DATABASE_URL` (used for PostgreSQL's listening connection). */
  databaseUrl: string | null;
  /** This instance's random id (names the subscriber connection). */
  instanceId: string;
  logger: FastifyBaseLogger;
}

/**
 * The revocation bus of this deployment: Redis pub/sub with `REDIS_URL`,
 * else PostgreSQL `LISTEN`/`NOTIFY` on PostgreSQL, else none (SQLite: one
 * instance, nothing to tell). Modules are loaded only for the chosen one.
 */
export async function openRevocationBus(choice: RevocationBusChoice): Promise<OpenRevocationBus | null> {
  const { logger } = choice;
  const name = `gatehouse-revocations-${choice.instanceId}`;
  const onDisconnect = () => logger.warn("revocation bus disconnected: other instances' revocations reach this one's session cache only by its re-read interval until it is back");
  if (choice.redis !== null) {
    const { openRedisRevocationBus } = await import("./redis/redis-revocation-bus.js");
    const bus = await openRedisRevocationBus(choice.redis, {
      ...(choice.redisPrefix !== undefined ? { prefix: choice.redisPrefix } : {}),
      connectionName: name,
      onDisconnect,
      onError: (err) => logger.debug({ err }, "revocation bus (Redis) connection error"),
    });
    return { kind: "redis", bus };
  }
  if (choice.database.dialect === "postgres" && choice.databaseUrl !== null) {
    const { openPgRevocationBus } = await import("./sql/pg-revocation-bus.js");
    const bus = await openPgRevocationBus({
      db: choice.database.db,
      url: choice.databaseUrl,
      applicationName: name,
      onDisconnect,
      onError: (err) => logger.debug({ err }, "revocation bus (PostgreSQL LISTEN) connection error"),
    });
    return { kind: "postgres", bus };
  }
  return null;
}
