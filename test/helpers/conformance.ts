import { randomUUID } from "node:crypto";
import { hashToken } from "../../src/core/crypto/tokens.js";
import type { Session } from "../../src/core/sessions/session.js";
import type { NewUser } from "../../src/core/users/user-store.js";
import { createSqlStores, type Stores } from "../../src/storage/sql/create-sql-stores.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { createBackend, type Backend } from "./backends.js";

/** A migrated database on one backend with every SQL store over it. */
export interface StoreFixture {
  backend: Backend;
  database: OpenDatabase;
  stores: Stores;
  /** Closes the database, then drops the schema / removes the temp dir. */
  close(): Promise<void>;
}

/** Opens a fresh backend exactly the way the brief prescribes. */
export async function openStores(name: Backend["name"]): Promise<StoreFixture> {
  const backend = await createBackend(name);
  let database: OpenDatabase;
  try {
    database = await openDatabase({
      databaseUrl: backend.env.DATABASE_URL ?? null,
      dataDir: backend.env.GATEHOUSE_DATA_DIR!,
      ...(backend.schema ? { schema: backend.schema } : {}),
    });
  } catch (err) {
    await backend.cleanup();
    throw err;
  }
  return {
    backend,
    database,
    stores: createSqlStores(database.db),
    async close() {
      try {
        await database.close();
      } finally {
        await backend.cleanup();
      }
    },
  };
}

/** A new user row; `name` is used as display username, normalized username and email stem. */
export function newUser(name: string, overrides: Partial<NewUser> = {}): NewUser {
  return {
    id: randomUUID(),
    username: name,
    usernameNormalized: name.toLowerCase(),
    email: `${name}@Example.test`,
    emailNormalized: `${name.toLowerCase()}@example.test`,
    passwordHash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g",
    role: "user",
    createdAt: 1_767_225_600_000,
    ...overrides,
  };
}

/** A new session row for `userId`, created at `createdAt`. */
export function newSession(userId: string, createdAt: number, overrides: Partial<Session> = {}): Session {
  return {
    id: randomUUID(),
    tokenHash: hashToken(randomUUID()),
    userId,
    createdAt,
    lastSeenAt: createdAt,
    expiresAt: createdAt + 12 * 3_600_000,
    remember: false,
    ip: "203.0.113.7",
    userAgent: "conformance/1.0",
    reauthAt: createdAt,
    aal: "aal1",
    amr: ["pwd"],
    ...overrides,
  };
}
