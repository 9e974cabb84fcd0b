import { Migrator, sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createSqlStores } from "../../src/storage/sql/create-sql-stores.js";
import { migrateToLatest } from "../../src/storage/sql/migrate.js";
import { migrations } from "../../src/storage/sql/migrations/index.js";
import { openDatabase, type DatabaseLocation, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import pg from "pg";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { newUser } from "../helpers/conformance.js";

const ALL_MIGRATIONS = Object.keys(migrations).sort();

function locationOf(backend: Backend): DatabaseLocation {
  return {
    databaseUrl: backend.env.DATABASE_URL ?? null,
    dataDir: backend.env.GATEHOUSE_DATA_DIR!,
    ...(backend.schema ? { schema: backend.schema } : {}),
  };
}

async function appliedMigrations(database: OpenDatabase): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
  return result.rows.map((r) => r.name);
}

/** Tracks what each test opened so afterEach closes and cleans up even when it fails. */
function resources() {
  const backends: Backend[] = [];
  const databases: OpenDatabase[] = [];
  return {
    async backend(name: Backend["name"]) {
      const b = await createBackend(name);
      backends.push(b);
      return b;
    },
    track(db: OpenDatabase) {
      databases.push(db);
      return db;
    },
    async release() {
      for (const db of databases.splice(0)) await db.close().catch(() => undefined);
      for (const b of backends.splice(0)) await b.cleanup();
    },
  };
}

describe.each(backendNames())("migrations (%s)", (backendName) => {
  const res = resources();
  afterEach(async () => res.release());

  it("a fresh database gets every migration, recorded once", async () => {
    const backend = await res.backend(backendName);
    const database = res.track(await openDatabase(locationOf(backend)));
    expect(database.dialect).toBe(backendName);
    expect(await appliedMigrations(database)).toEqual(ALL_MIGRATIONS);
    expect(await database.ping()).toBe(true);
  });

  it("opening the same database again runs nothing and keeps the data", async () => {
    const backend = await res.backend(backendName);
    const first = await openDatabase(locationOf(backend));
    const user = newUser("persisted");
    await first.db
      .insertInto("users")
      .values({
        id: user.id,
        username: user.username,
        username_normalized: user.usernameNormalized,
        email: null,
        email_normalized: null,
        email_verified: 0,
        password_hash: user.passwordHash,
        role: "user",
        blocked: 0,
        created_at: user.createdAt,
        updated_at: user.createdAt,
        last_login_at: null,
      })
      .execute();
    await first.close();

    const second = res.track(await openDatabase(locationOf(backend)));
    expect(await migrateToLatest(second.db, backend.schema)).toEqual([]);
    expect(await appliedMigrations(second)).toEqual(ALL_MIGRATIONS);
    const rows = await second.db.selectFrom("users").select("username").where("id", "=", user.id).execute();
    expect(rows).toEqual([{ username: "persisted" }]);
  });

  it("0008 gives sessions signed in before it aal1 and amr pwd, and its down migration removes what it added", async () => {
    const backend = await res.backend(backendName);
    const database = res.track(await openDatabase(locationOf(backend)));
    const migrator = new Migrator({ db: database.db, provider: { getMigrations: async () => migrations }, ...(backend.schema ? { migrationTableSchema: backend.schema } : {}) });
    const down = await migrator.migrateTo("0007_user_secrets");
    expect(down.error).toBeUndefined();
    const user = newUser("before0008");
    await database.db
      .insertInto("users")
      .values({ id: user.id, username: user.username, username_normalized: user.usernameNormalized, email: null, email_normalized: null, email_verified: 0, password_hash: user.passwordHash, role: "user", blocked: 0, created_at: user.createdAt, updated_at: user.createdAt, last_login_at: null })
      .execute();
    const old = { id: "7b2a3c4d-0000-4000-8000-000000000007", token_hash: "a".repeat(64), user_id: user.id, created_at: 1, last_seen_at: 1, expires_at: 2, remember: 0, ip: "203.0.113.1", user_agent: "old", reauth_at: null };
    // The pre-0008 shape: no aal, no amr column.
    await sql`insert into sessions (id, token_hash, user_id, created_at, last_seen_at, expires_at, remember, ip, user_agent, reauth_at) values (${old.id}, ${old.token_hash}, ${old.user_id}, ${old.created_at}, ${old.last_seen_at}, ${old.expires_at}, ${old.remember}, ${old.ip}, ${old.user_agent}, ${old.reauth_at})`.execute(database.db);
    expect((await migrateToLatest(database.db, backend.schema))[0]).toBe("0008_sign_in_assurance");
    const found = await createSqlStores(database.db).sessions.findWithUser(old.token_hash);
    expect(found?.session).toMatchObject({ id: old.id, aal: "aal1", amr: ["pwd"] });
  });
});

describe.runIf(backendNames().includes("postgres"))("migrations on PostgreSQL", () => {
  const res = resources();
  afterEach(async () => res.release());

  it("two concurrent openDatabase calls on one fresh schema both succeed and migrate once", async () => {
    const backend = await res.backend("postgres");
    const results = await Promise.allSettled([openDatabase(locationOf(backend)), openDatabase(locationOf(backend))]);
    for (const r of results) if (r.status === "fulfilled") res.track(r.value);
    expect(results.map((r) => (r.status === "fulfilled" ? "ok" : String(r.reason)))).toEqual(["ok", "ok"]);
    const [a, b] = results.map((r) => (r as PromiseFulfilledResult<OpenDatabase>).value);
    expect(await appliedMigrations(a!)).toEqual(ALL_MIGRATIONS);
    expect(await b!.ping()).toBe(true);
  });

  it("a fresh schema migrates while another schema of the same database is already migrated", async () => {
    // Kysely's Migrator, without `migrationTableSchema`, looks for kysely_migration in *any* schema.
    const existing = await res.backend("postgres");
    res.track(await openDatabase(locationOf(existing)));
    const fresh = await res.backend("postgres");
    const database = res.track(await openDatabase(locationOf(fresh)));
    expect(await appliedMigrations(database)).toEqual(ALL_MIGRATIONS);
    const tables = await sql<{ table_name: string }>`
      select table_name from information_schema.tables where table_schema = ${fresh.schema!} order by table_name`.execute(database.db);
    expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(["audit_events", "sessions", "users"]));
  });
});

describe.runIf(backendNames().includes("postgres"))("migrations beside another schema's DDL (PostgreSQL)", () => {
  const res = resources();
  afterEach(async () => res.release());

  it("a schema migrates while another schema of the same database creates, alters and drops tables at that moment", async () => {
    // Kysely's own introspector reads every schema's columns and resolves each by
    // name; a table changing in a neighbouring schema made it fail mid-query
    // ("column … of relation … does not exist") and the start-up with it.
    const neighbour = await res.backend("postgres");
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    let stop = false;
    let churned = 0;
    const churn = (async () => {
      while (!stop) {
        await client.query(`create table ${neighbour.schema}.t (id serial primary key, user_id text)`);
        await client.query(`create index t_user_idx on ${neighbour.schema}.t (user_id)`);
        await client.query(`alter table ${neighbour.schema}.t drop column user_id`);
        await client.query(`drop table ${neighbour.schema}.t`);
        churned++;
      }
    })();
    try {
      for (let round = 0; round < 6; round++) {
        const fresh = await res.backend("postgres");
        const database = res.track(await openDatabase(locationOf(fresh)));
        expect(await appliedMigrations(database)).toEqual(ALL_MIGRATIONS);
      }
    } finally {
      stop = true;
      await churn;
      await client.end();
    }
    expect(churned).toBeGreaterThan(0);
  });
});
