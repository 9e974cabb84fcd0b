import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Selectable } from "kysely";
import { afterEach, beforeEach, expect } from "vitest";
import { createManualClock, type ManualClock } from "../../src/core/clock.js";
import { cryptoRandom } from "../../src/core/random.js";
import { defaultSessionLifetimes, type SessionLifetimes } from "../../src/core/sessions/session.js";
import { createSessionCache } from "../../src/core/sessions/session-cache.js";
import { createSessionService, type SessionService, type SessionServiceDeps } from "../../src/core/sessions/session-service.js";
import { createSqlStores, type Stores } from "../../src/storage/sql/create-sql-stores.js";
import type { SessionsTable } from "../../src/storage/sql/database.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const origin = { ip: "203.0.113.9", userAgent: "vitest" };

/** A real SQLite database in a temp dir, its stores, a manual clock, a user and a session service. */
export interface SessionFixture {
  database: OpenDatabase;
  stores: Stores;
  clock: ManualClock;
  /** The id of user "alice". */
  alice: string;
  /** A session service with the default lifetimes and a fresh cache. */
  svc: SessionService;
  service(lifetimes?: Partial<SessionLifetimes>, deps?: Partial<SessionServiceDeps>): SessionService;
  addUser(name: string): Promise<string>;
  /** The raw sessions row, or undefined. */
  row(id: string): Promise<Selectable<SessionsTable> | undefined>;
  rowCount(userId: string): Promise<number>;
}

/** Registers beforeEach/afterEach hooks and returns the fixture they fill. */
export function useSessionFixture(): SessionFixture {
  let dir = "";
  const fx = {
    service(lifetimes = {}, deps = {}) {
      return createSessionService({
        store: fx.stores.sessions,
        cache: createSessionCache(),
        clock: fx.clock,
        random: cryptoRandom,
        lifetimes: { ...defaultSessionLifetimes, ...lifetimes },
        ...deps,
      });
    },
    async addUser(name) {
      const id = randomUUID();
      const result = await fx.stores.users.insert({
        id, username: name, usernameNormalized: name, email: null, emailNormalized: null, passwordHash: "x", role: "user", createdAt: fx.clock.now(),
      });
      expect(result.ok).toBe(true);
      return id;
    },
    row: (id) => fx.database.db.selectFrom("sessions").selectAll().where("id", "=", id).executeTakeFirst(),
    async rowCount(userId) {
      return (await fx.database.db.selectFrom("sessions").select("id").where("user_id", "=", userId).execute()).length;
    },
  } as SessionFixture;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-sessions-"));
    fx.database = await openDatabase({ databaseUrl: null, dataDir: dir });
    fx.stores = createSqlStores(fx.database.db);
    fx.clock = createManualClock();
    fx.alice = await fx.addUser("alice");
    fx.svc = fx.service();
  });
  afterEach(async () => {
    await fx.database?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return fx;
}
