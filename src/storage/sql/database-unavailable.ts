/** Socket-level error codes of a database that cannot be reached. */
const NETWORK_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "EPIPE", "ECONNABORTED"]);

/** SQLite result codes of a database file that cannot be used right now. */
const SQLITE_CODES = new Set(["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL", "SQLITE_READONLY", "SQLITE_NOMEM"]);

/** Messages of pg, pg-pool, better-sqlite3 and Kysely when the connection (not the query) failed. */
const MESSAGES = [
  /Connection terminated/i,
  /Cannot use a pool after calling end/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error/i,
  /driver has already been destroyed/i,
  /The database connection is not open/i,
  /Client was closed and is not queryable/i,
];

/**
 * True when an error thrown by a store means the database is unreachable
 * (PostgreSQL stopped, restarting, refusing connections, the network gone,
 * the pool closed; SQLite's file locked, unreadable or full) rather than a
 * fault of the query itself: those answer 503 `unavailable`, the rest stays
 * a logged 500. PostgreSQL SQLSTATE classes 08 (connection exception), 53
 * (insufficient resources), 57P01–57P03 (shutdown, cannot connect now) and
 * 3D000 (the database does not exist, e.g. dropped) count as unreachable.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") {
      if (NETWORK_CODES.has(code) || SQLITE_CODES.has(code.split("_").slice(0, 2).join("_"))) return true;
      if (/^08[0-9A-Z]{3}$/.test(code) || /^53[0-9A-Z]{3}$/.test(code) || ["57P01", "57P02", "57P03", "3D000"].includes(code)) return true;
    }
    const message = (e as { message?: unknown }).message;
    if (typeof message === "string" && MESSAGES.some((m) => m.test(message))) return true;
    if (e instanceof AggregateError && e.errors.some((inner) => isDatabaseUnavailable(inner))) return true;
  }
  return false;
}
