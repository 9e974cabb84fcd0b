import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { migrations } from "../../src/storage/sql/migrations/index.js";
import { PG_URL } from "../helpers/backends.js";
import { GOOD_PASSWORD, RELAXED_LIMITS, sessionCookieFrom } from "../helpers/harness.js";
import { captureLogger } from "../helpers/log-capture.js";
import { gatehouse, serve } from "../helpers/run-gatehouse.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const ROLES_SQL = join(ROOT, "docs", "sql", "postgres-roles.sql");
const MIGRATIONS = Object.keys(migrations).sort();

/** The PostgreSQL suites always run on CI; this one has no SQLite variant (roles are PostgreSQL's). */
if (process.env.GATEHOUSE_TEST_PG === "off" && process.env.CI === "true") throw new Error("GATEHOUSE_TEST_PG=off is not allowed with CI=true");

/** The shipped roles script applied with unique names: an owner role, a runtime role and their schema. */
interface Roles {
  owner: string;
  app: string;
  schema: string;
  /** The test server's URL with `user=` set to the role (trust authentication: the role still applies). */
  ownerUrl: string;
  appUrl: string;
  cleanup(): Promise<void>;
}

const urlAs = (role: string): string => {
  const url = new URL(PG_URL);
  url.username = role;
  url.password = "";
  return url.toString();
};

async function superuser<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Runs docs/sql/postgres-roles.sql through psql, exactly as an operator would, with unique names. */
async function provision(tag: string): Promise<Roles> {
  const id = `${process.pid}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const owner = `gh_owner_${tag}_${id}`;
  const app = `gh_app_${tag}_${id}`;
  const schema = `gh_roles_${tag}_${id}`;
  const cleanup = () =>
    superuser(async (c) => {
      // The pools are closed; a connection the server still holds would block DROP ROLE.
      await c.query(`select pg_terminate_backend(pid) from pg_stat_activity where usename in ($1, $2)`, [owner, app]);
      await c.query(`drop schema if exists ${schema} cascade`);
      for (const role of [app, owner]) {
        const exists = await c.query(`select 1 from pg_roles where rolname = $1`, [role]);
        if (exists.rowCount === 0) continue;
        await c.query(`drop owned by ${role}`);
        await c.query(`drop role ${role}`);
      }
    });
  try {
    await run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", `owner=${owner}`, "-v", `app=${app}`, "-v", `schema=${schema}`, "-v", `owner_password=${randomBytes(12).toString("hex")}`, "-v", `app_password=${randomBytes(12).toString("hex")}`, "-f", ROLES_SQL, PG_URL]);
  } catch (err) {
    await cleanup();
    throw err;
  }
  if (process.env.GATEHOUSE_PG_MARKER) appendFileSync(process.env.GATEHOUSE_PG_MARKER, `${schema}\n`);
  return { owner, app, schema, ownerUrl: urlAs(owner), appUrl: urlAs(app), cleanup };
}

/** Runs `fn` on a connection as `url`'s role. */
async function as<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** The SQLSTATE a statement fails with (null when it succeeds). */
async function refusal(url: string, statement: string): Promise<{ code: string | null; message: string }> {
  return as(url, async (c) => {
    try {
      await c.query(statement);
      return { code: null, message: "" };
    } catch (err) {
      return { code: (err as { code?: string }).code ?? "?", message: (err as Error).message };
    }
  });
}

const dataDirs: string[] = [];
function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-roles-"));
  dataDirs.push(dir);
  return dir;
}

function env(extra: Record<string, string>): Record<string, string> {
  return { NODE_ENV: "test", SECRET_KEY: randomBytes(32).toString("hex"), LOG_LEVEL: "warn", GATEHOUSE_DATA_DIR: dataDir(), REGISTRATION: "open", MFA_REQUIRED: "off", ...RELAXED_LIMITS, ...extra };
}

async function start(extra: Record<string, string>): Promise<Gatehouse & { publicUrl: string }> {
  const config = loadConfig(env(extra));
  const gh = await createGatehouse({ config, logger: captureLogger("warn").logger });
  await gh.app.ready();
  return Object.assign(gh, { publicUrl: config.publicUrl });
}

/** Registers, reads /me, signs out and in again: every kind of row write a session needs. */
async function registerAndSignIn(gh: Gatehouse & { publicUrl: string }, username: string): Promise<void> {
  const origin = gh.publicUrl;
  const json = { "content-type": "application/json", origin };
  const reg = await gh.app.inject({ method: "POST", url: "/api/auth/register", headers: json, payload: JSON.stringify({ username, password: GOOD_PASSWORD }) });
  expect(reg.statusCode, reg.body).toBe(201);
  const cookie = sessionCookieFrom(reg)!;
  const me = await gh.app.inject({ method: "GET", url: "/api/auth/me", headers: { cookie } });
  expect(me.json().user.username).toBe(username);
  const out = await gh.app.inject({ method: "POST", url: "/api/auth/logout", headers: { origin, cookie } });
  expect(out.statusCode).toBeLessThan(300);
  const login = await gh.app.inject({ method: "POST", url: "/api/auth/login", headers: json, payload: JSON.stringify({ username, password: GOOD_PASSWORD }) });
  expect(login.statusCode, login.body).toBe(200);
  expect(sessionCookieFrom(login)).not.toBeNull();
}

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe("least-privilege database roles: gatehouse migrate as the owner, the server as the runtime role (postgres)", () => {
  let roles: Roles;
  beforeAll(async () => {
    roles = await provision("cli");
  });
  afterAll(async () => roles?.cleanup());

  it("the roles script makes two plain login roles and a schema the owner owns, where the runtime role may not create", async () => {
    const info = await superuser(async (c) => {
      const r = await c.query<{ rolname: string; rolsuper: boolean; rolcreaterole: boolean; rolcreatedb: boolean; rolcanlogin: boolean }>(
        `select rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin from pg_roles where rolname in ($1, $2) order by rolname`,
        [roles.app, roles.owner],
      );
      const s = await c.query<{ owner: string; app_create: boolean; app_usage: boolean }>(
        `select pg_get_userbyid(nspowner) as owner, has_schema_privilege($2, nspname, 'CREATE') as app_create, has_schema_privilege($2, nspname, 'USAGE') as app_usage from pg_namespace where nspname = $1`,
        [roles.schema, roles.app],
      );
      return { roles: r.rows, schema: s.rows[0] };
    });
    expect(info.roles).toEqual([
      { rolname: roles.app, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true },
      { rolname: roles.owner, rolsuper: false, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true },
    ]);
    expect(info.schema).toEqual({ owner: roles.owner, app_create: false, app_usage: true });
  });

  it("the script refuses to run without the passwords (no role gets a placeholder one)", async () => {
    const failed = await run("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", `owner=${roles.owner}_x`, "-v", `app=${roles.app}_x`, "-v", `schema=${roles.schema}_x`, "-f", ROLES_SQL, PG_URL]).then(
      () => null,
      (err: { code?: number; stderr?: string }) => err,
    );
    expect(failed?.code).toBe(3);
    expect(failed?.stderr).toContain("owner_password");
    const created = await superuser((c) => c.query(`select 1 from pg_roles where rolname in ($1, $2)`, [`${roles.owner}_x`, `${roles.app}_x`]));
    expect(created.rowCount).toBe(0);
  });

  it("attack: a start as the runtime role with pending migrations stops with what to do, not a stack trace", async () => {
    await expect(start({ DATABASE_URL: roles.appUrl })).rejects.toThrow(
      /pending migration\(s\).*DATABASE_URL's role may not change the schema: run "gatehouse migrate" with the owner role \(DATABASE_MIGRATION_URL/,
    );
    // The real process: one line on stderr, exit status 1, no stack.
    const failed = await serve(env({ DATABASE_URL: roles.appUrl, PORT: "0" }), dataDir()).then(
      () => null,
      (err: { code?: number; output?: string }) => err,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.output).toMatch(/gatehouse: failed to start: the database has \d+ pending migration\(s\) \(0001_init, .*run "gatehouse migrate" with the owner role/);
    expect(failed?.output).not.toMatch(/\n\s+at /);
    // Nothing was created by the attempt.
    const tables = await superuser((c) => c.query(`select 1 from pg_tables where schemaname = $1`, [roles.schema]));
    expect(tables.rowCount).toBe(0);
  });

  it("gatehouse migrate connects with DATABASE_MIGRATION_URL and applies every migration as the owner", async () => {
    const r = await gatehouse(["migrate"], env({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: roles.ownerUrl }), dataDir());
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`schema ${roles.schema}: applied ${MIGRATIONS.length} migration(s): ${MIGRATIONS.join(", ")}`);
    const again = await gatehouse(["migrate"], env({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: roles.ownerUrl }), dataDir());
    expect(again.stdout).toContain("up to date, nothing to apply");

    const tables = await superuser((c) =>
      c.query<{ tablename: string; tableowner: string; rows: boolean; truncate: boolean }>(
        `select tablename, tableowner,
                has_table_privilege($2, format('%I.%I', schemaname, tablename), 'SELECT, INSERT, UPDATE, DELETE') as rows,
                has_table_privilege($2, format('%I.%I', schemaname, tablename), 'TRUNCATE') as truncate
         from pg_tables where schemaname = $1`,
        [roles.schema, roles.app],
      ),
    );
    expect(tables.rows.map((t) => t.tablename)).toContain("users");
    // Every table, including those of later migrations, is the owner's, with row privileges for the runtime role (default privileges).
    for (const t of tables.rows) expect(t, t.tablename).toMatchObject({ tableowner: roles.owner, rows: true, truncate: false });
  });

  it("gatehouse migrate as the runtime role alone is refused with the reason", async () => {
    // Roll one migration back (as the owner) so there is something to apply.
    await as(roles.ownerUrl, (c) => c.query(`delete from kysely_migration where name = $1`, [MIGRATIONS.at(-1)]));
    const r = await gatehouse(["migrate"], env({ DATABASE_URL: roles.appUrl }), dataDir());
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot migrate the database .*DATABASE_URL: the role may not change schema ".*" \(.*\); migrations need the role that owns it/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    await as(roles.ownerUrl, (c) => c.query(`insert into kysely_migration (name, timestamp) values ($1, $2)`, [MIGRATIONS.at(-1), new Date().toISOString()]));
  });

  it("Gatehouse runs as the runtime role: registration, sign-in, sign-out (with and without DATABASE_MIGRATION_URL)", async () => {
    const runtimeOnly = await start({ DATABASE_URL: roles.appUrl });
    try {
      await registerAndSignIn(runtimeOnly, "rolesalice");
      expect(await runtimeOnly.database.ping()).toBe(true);
      const who = await sql<{ u: string }>`select current_user as u`.execute(runtimeOnly.database.db);
      expect(who.rows[0]?.u).toBe(roles.app);
    } finally {
      await runtimeOnly.close();
    }
    const both = await start({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: roles.ownerUrl });
    try {
      await registerAndSignIn(both, "rolesbob");
    } finally {
      await both.close();
    }
  });

  it("attack: the runtime role cannot change the schema, empty tables wholesale or create roles (permission denied)", async () => {
    const refused = [
      "DROP TABLE users",
      "ALTER TABLE users ADD COLUMN x text",
      "CREATE TABLE x (id int)",
      `CREATE TABLE ${roles.schema}.x (id int)`,
      "CREATE INDEX users_x ON users (username)",
      "TRUNCATE users",
      "DROP TABLE kysely_migration",
      `DROP SCHEMA ${roles.schema} CASCADE`,
      "CREATE SCHEMA x",
      "CREATE ROLE x",
      `ALTER ROLE ${roles.app} SUPERUSER`,
    ];
    for (const statement of refused) {
      const r = await refusal(roles.appUrl, statement);
      // 42501 insufficient_privilege: "permission denied for …", "must be owner of …", "permission denied to create role".
      expect(r.code, `${statement}: ${r.message}`).toBe("42501");
    }
    // The data and the schema are untouched.
    const users = await as(roles.appUrl, (c) => c.query<{ n: string }>("select count(*) as n from users"));
    expect(Number(users.rows[0]!.n)).toBeGreaterThanOrEqual(2);
    const columns = await superuser((c) => c.query(`select 1 from information_schema.columns where table_schema = $1 and table_name = 'users' and column_name = 'x'`, [roles.schema]));
    expect(columns.rowCount).toBe(0);
  });
});

describe("least-privilege database roles: a start with DATABASE_MIGRATION_URL migrates as the owner first (postgres)", () => {
  let roles: Roles;
  let other: Roles;
  beforeAll(async () => {
    roles = await provision("start");
    other = await provision("other");
  });
  afterAll(async () => {
    await roles?.cleanup();
    await other?.cleanup();
  });

  it("two URLs that reach different schemas stop the start instead of serving an unmigrated one", async () => {
    // `other`'s owner migrates `other`'s schema; DATABASE_URL's role sees its own, still empty.
    await expect(start({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: other.ownerUrl })).rejects.toThrow(
      /DATABASE_URL sees \d+ pending migration\(s\) in schema ".*" although DATABASE_MIGRATION_URL applied them: both URLs must reach the same database and schema/,
    );
  });

  it("migrates over the owner's connection, then serves over the runtime role's", async () => {
    const gh = await start({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: roles.ownerUrl });
    try {
      await registerAndSignIn(gh, "startcarol");
    } finally {
      await gh.close();
    }
    const owners = await superuser((c) => c.query<{ tableowner: string }>(`select distinct tableowner from pg_tables where schemaname = $1`, [roles.schema]));
    expect(owners.rows).toEqual([{ tableowner: roles.owner }]);
  });

  it("DATABASE_MIGRATION_URL is refused without a PostgreSQL DATABASE_URL, and must be postgres:// itself", () => {
    expect(() => loadConfig(env({ DATABASE_MIGRATION_URL: roles.ownerUrl }))).toThrow(/DATABASE_MIGRATION_URL needs DATABASE_URL to be a postgres:\/\/ URL/);
    expect(() => loadConfig(env({ DATABASE_URL: roles.appUrl, DATABASE_MIGRATION_URL: "sqlite:/tmp/x.db" }))).toThrow(/DATABASE_MIGRATION_URL must be a postgres:\/\/ URL/);
  });
});
