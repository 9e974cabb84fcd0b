import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import bcrypt from "bcryptjs";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { createSqlStores } from "../../src/storage/sql/create-sql-stores.js";
import { openDatabase, type OpenDatabase } from "../../src/storage/sql/open-database.js";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { newUser } from "../helpers/conformance.js";
import { gatehouse, type Run } from "../helpers/run-gatehouse.js";

/** A werkzeug `generate_password_hash(password, "pbkdf2:sha256:<iterations>")` string. */
function werkzeugHash(password: string, iterations = 1000): string {
  const salt = randomBytes(8).toString("hex");
  return `pbkdf2:sha256:${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, "sha256").toString("hex")}`;
}

const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value);
const csv = (rows: string[][]) => rows.map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";

describe.each(backendNames())("gatehouse import users (Gatehouse on %s)", (backendName) => {
  let backend: Backend;
  let dir: string;
  let env: Record<string, string>;
  const hashes: string[] = [];
  /** Every run: the output never holds a hash from a file. */
  const run = async (...args: string[]): Promise<Run> => {
    const r = await gatehouse(args, env, dir);
    for (const h of hashes) expect(`${r.stdout}${r.stderr}`).not.toContain(h);
    return r;
  };
  const file = (name: string, content: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };
  async function withDb<T>(fn: (database: OpenDatabase) => Promise<T>): Promise<T> {
    const config = loadConfig({ NODE_ENV: "test", ...env });
    const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
    try {
      return await fn(database);
    } finally {
      await database.close();
    }
  }
  const user = (name: string) => withDb((d) => d.db.selectFrom("users").selectAll().where("username_normalized", "=", name.toLowerCase()).executeTakeFirst());
  const userCount = () => withDb(async (d) => Number((await d.db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n));
  const auditEvents = () => withDb((d) => createSqlStores(d.db).audit.list({ type: "users_imported", limit: 20 }));

  beforeAll(async () => {
    backend = await createBackend(backendName);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-import-cli-"));
    env = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: randomBytes(32).toString("hex"), GATEHOUSE_DATA_DIR: join(dir, "data") };
    if (backend.schema) env.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}`;
    // One user already in Gatehouse: the import must not take their name or address.
    await withDb((d) => createSqlStores(d.db).users.insert(newUser("existing")));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend?.cleanup();
  });

  it("CSV: a dry run reports and changes nothing; --apply imports the importable rows with their hashes as they are, audited", { timeout: 180_000 }, async () => {
    const aliceHash = werkzeugHash("alice-old-password");
    const bobHash = bcrypt.hashSync("bob-old-password", 4);
    hashes.push(aliceHash, bobHash);
    const path = file(
      "users.csv",
      csv([
        ["id", "login", "mail", "pw", "group", "active", "confirmed"],
        ["1", "Alice", "alice@example.test", aliceHash, "staff", "1", "yes"],
        ["2", "bob", "bob@example.test", bobHash, "member", "0", "no"],
        ["3", "carol", "", "", "", "true", ""],
        ["4", "existing", "other@example.test", "", "member", "1", ""],
        ["5", "dave", "EXISTING@example.test", "", "member", "1", ""],
        ["6", "eve", "eve@example.test", "md5$abc$def", "member", "1", ""],
        ["7", "alice", "alice2@example.test", "", "member", "1", ""],
        ["8", "x", "not-an-address", "", "member", "1", ""],
      ]),
    );
    const args = ["import", "users", path, "--format", "csv", "--map", "username=login,email=mail,password_hash=pw,role=group,blocked=!active,email_verified=confirmed", "--roles", "staff=admin,member=user", "--default-role", "user"];
    const before = await userCount();
    const dry = await run(...args, "--json");
    expect(dry.code, dry.stderr).toBe(0);
    const summary = JSON.parse(dry.stdout);
    expect(summary).toMatchObject({ dry_run: true, rows: 8, importable: 3, imported: 0, skipped: 5, by_scheme: { "werkzeug-pbkdf2": 1, bcrypt: 1 }, without_password: 1, roles: { admin: 1, user: 2 }, blocked: 1 });
    expect(summary.problems).toEqual([
      { row: 4, field: "username", problem: "username_taken" },
      { row: 5, field: "email", problem: "email_taken" },
      { row: 6, field: "password_hash", problem: "unsupported_hash" },
      { row: 7, field: "username", problem: "duplicate_in_file" },
      { row: 8, field: "username", problem: "invalid_username" },
      { row: 8, field: "email", problem: "invalid_email" },
    ]);
    expect(await userCount()).toBe(before);
    expect(await auditEvents()).toHaveLength(0);

    const applied = await run(...args, "--apply");
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout).toContain("rows 8: importable 3, skipped 5, imported 3");
    expect(applied.stdout).toContain("row 6: password_hash unsupported_hash");
    expect(await userCount()).toBe(before + 3);
    expect(await user("alice")).toMatchObject({ username: "Alice", email: "alice@example.test", email_normalized: "alice@example.test", password_hash: aliceHash, role: "admin", blocked: 0, email_verified: 1, last_login_at: null });
    expect(await user("bob")).toMatchObject({ password_hash: bobHash, role: "user", blocked: 1, email_verified: 0 });
    expect(await user("carol")).toMatchObject({ email: null, password_hash: null, role: "user", blocked: 0 });
    expect(await user("eve")).toBeUndefined();
    const [event, ...more] = await auditEvents();
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ actorId: null, ip: "local", userAgent: "gatehouse-cli", details: { format: "csv", source: "file", rows: 8, imported: 3, skipped: 5, without_password: 1, admins: 1, blocked: 1 } });
    expect(event!.details.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(event)).not.toContain("alice");

    // Imported again: every row is now taken; nothing changes.
    const again = await run(...args, "--apply", "--json");
    expect(JSON.parse(again.stdout)).toMatchObject({ importable: 0, imported: 0, skipped: 8 });
    expect(await userCount()).toBe(before + 3);
  });

  it("JSON lines: role mapping, unmapped roles without a default are problems, unsupported and out-of-range hashes listed, the rest imported", { timeout: 180_000 }, async () => {
    const good = werkzeugHash("frank-password");
    const tooCostly = werkzeugHash("x", 1).replace("pbkdf2:sha256:1$", "pbkdf2:sha256:5000000$");
    hashes.push(good, tooCostly);
    const lines = [
      { user: "frank", email: "frank@example.test", hash: good, kind: "editor" },
      { user: "grace", email: "grace@example.test", hash: "plaintext-password", kind: "editor" },
      { user: "heidi", email: "heidi@example.test", hash: tooCostly, kind: "editor" },
      { user: "ivan", email: "ivan@example.test", hash: null, kind: "guest" },
      { user: "judy", email: "judy@example.test", kind: "admin" },
      { user: ["nested"], kind: "editor" },
    ];
    const path = file("users.jsonl", `${lines.map((l) => JSON.stringify(l)).join("\n")}\n\n`);
    const r = await run("import", "users", path, "--map", "username=user,email=email,password_hash=hash,role=kind", "--roles", "editor=admin", "--apply", "--json");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary).toMatchObject({ rows: 6, importable: 2, imported: 2, roles: { admin: 2 }, by_scheme: { "werkzeug-pbkdf2": 1 }, without_password: 1 });
    expect(summary.problems).toEqual([
      { row: 2, field: "password_hash", problem: "unsupported_hash" },
      { row: 3, field: "password_hash", problem: "parameters_out_of_range" },
      { row: 4, field: "role", problem: "unmapped_role" },
      { row: 6, field: "username", problem: "invalid_value" },
    ]);
    expect(await user("frank")).toMatchObject({ role: "admin", password_hash: good });
    expect(await user("judy")).toMatchObject({ role: "admin", password_hash: null });
    expect(await user("grace")).toBeUndefined();
  });

  it("a SQLite table (opened read-only; a reserved name such as user is quoted)", { timeout: 180_000 }, async () => {
    const source = join(dir, "app.db");
    const db = new SQLite(source);
    db.exec('create table "user" (id integer primary key, username text, email text, password_hash text, is_admin integer, active integer)');
    const hash = werkzeugHash("kim-password");
    hashes.push(hash);
    const insert = db.prepare('insert into "user" (username, email, password_hash, is_admin, active) values (?, ?, ?, ?, ?)');
    insert.run("kim", "kim@example.test", hash, 1, 1);
    insert.run("lee", "lee@example.test", null, 0, 0);
    db.close();
    const r = await run("import", "users", `sqlite:${source}`, "--table", "user", "--map", "username=username,email=email,password_hash=password_hash,role=is_admin,blocked=!active", "--roles", "1=admin,0=user", "--apply", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ rows: 2, imported: 2, roles: { admin: 1, user: 1 }, blocked: 1, problems: [] });
    expect(await user("kim")).toMatchObject({ role: "admin", blocked: 0, password_hash: hash });
    expect(await user("lee")).toMatchObject({ role: "user", blocked: 1 });
    const [event] = await auditEvents();
    expect(event?.details).toMatchObject({ format: "table", source: "sqlite", imported: 2 });

    const bad = await run("import", "users", `sqlite:${source}`, "--table", 'user"; drop table user; --', "--map", "username=username");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--table must be a table name");
    const missing = await run("import", "users", `sqlite:${source}`, "--table", "accounts", "--map", "username=username");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read the table");
  });

  it("a PostgreSQL table (schema-qualified, read in a read-only transaction)", { timeout: 180_000 }, async () => {
    const schema = `gh_import_src_${process.pid}_${backendName}`;
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${schema} cascade; create schema ${schema}`);
      await client.query(`create table ${schema}.accounts (id serial primary key, login text, mail text, pw text, is_active boolean, role text)`);
      const hash = bcrypt.hashSync("mia-password", 4);
      hashes.push(hash);
      await client.query(`insert into ${schema}.accounts (login, mail, pw, is_active, role) values ($1, $2, $3, true, 'superadmin'), ('noah', 'noah@example.test', null, false, 'user'), ('mia', 'mia@example.test', $3, true, 'user')`, ["olga", "olga@example.test", hash]);
      const r = await run("import", "users", PG_URL, "--format", "table", "--table", `${schema}.accounts`, "--map", "username=login,email=mail,password_hash=pw,role=role,blocked=!is_active", "--apply", "--json");
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      expect(summary).toMatchObject({ rows: 3, imported: 2, blocked: 1, by_scheme: { bcrypt: 1 }, problems: [{ row: 1, field: "role", problem: "forbidden_role" }] });
      expect(await user("olga")).toBeUndefined();
      expect(await user("mia")).toMatchObject({ role: "user", blocked: 0, password_hash: hash });
      expect(await user("noah")).toMatchObject({ blocked: 1 });
      expect((await auditEvents())[0]?.details).toMatchObject({ source: "postgres", format: "table" });
    } finally {
      await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
      await client.end();
    }
  });

  const malformed: Array<[string, string | Buffer, string]> = [
    ["quote.csv", 'login,mail\nzed1,"zed1@example.test\nzed2,zed2@example.test\n', "unterminated quoted field"],
    ["stray.csv", 'login,mail\nzed1,ab"c\n', "line 2: a quote inside an unquoted field"],
    ["fields.csv", "login,mail\nzed1,zed1@example.test,extra\n", "row 1: 3 fields, the header has 2"],
    ["column.csv", "name,mail\nzed1,zed1@example.test\n", "the column mapped to username is not in the source"],
    ["latin1.csv", Buffer.concat([Buffer.from("login,mail\nz"), Buffer.from([0xe9]), Buffer.from("d,zed@example.test\n")]), "not valid UTF-8"],
    ["broken.jsonl", '{"login":"zed1"}\n{"login": zed2}\n', "line 2: not valid JSON"],
    ["array.jsonl", '["zed1"]\n', "line 1: not a JSON object"],
    ["many.csv", `login\n${Array.from({ length: 100_001 }, (_, i) => `u${i}x`).join("\n")}\n`, "more than 100000 rows"],
  ];
  it.each(malformed)("a malformed file imports nothing and says what is wrong, with exit code 1: %s", { timeout: 180_000 }, async (name, content, reason) => {
    const before = await userCount();
    const audited = (await auditEvents()).length;
    const map = name.endsWith(".csv") && name !== "many.csv" ? "username=login,email=mail" : "username=login";
    const r = await run("import", "users", file(name, content), "--map", map, "--apply");
    expect(r.code, r.stdout).toBe(1);
    expect(r.stderr).toContain("import_invalid");
    expect(r.stderr).toContain(reason);
    expect(await userCount()).toBe(before);
    expect(await auditEvents()).toHaveLength(audited);
  });

  it("attack: import privilege smuggling — no superadmin by option, role or extra column; no sessions, tokens or second factors", { timeout: 180_000 }, async () => {
    const forbidden = [
      ["--default-role", "superadmin"],
      ["--roles", "boss=superadmin"],
      ["--map", "username=login,superadmin=is_root"],
    ];
    const path = file(
      "smuggle.jsonl",
      [
        { login: "pat", role: "superadmin", is_root: true, sessions: [{ token: "t" }], totp_secret: "JBSWY3DPEHPK3PXP", mfa: true, api_tokens: ["gh_x"], id: "00000000-0000-0000-0000-000000000001", blocked: false },
        { login: "quinn", role: "SuperAdmin", is_superadmin: 1 },
        { login: "ruth", role: "boss", password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g" },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n"),
    );
    for (const extra of forbidden) {
      const r = await run("import", "users", path, ...(extra[0] === "--map" ? extra : ["--map", "username=login,role=role", ...extra]), "--apply");
      expect(r.code, r.stderr).not.toBe(0);
      expect(await user("pat")).toBeUndefined();
    }
    const r = await run("import", "users", path, "--map", "username=login,role=role", "--roles", "boss=user", "--apply", "--json");
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout);
    expect(summary.problems).toEqual([
      { row: 1, field: "role", problem: "forbidden_role" },
      { row: 2, field: "role", problem: "forbidden_role" },
    ]);
    const ruth = await user("ruth");
    // The hash column was not mapped: it is not read, so ruth has no password.
    expect(ruth).toMatchObject({ role: "user", password_hash: null, blocked: 0 });
    await withDb(async (d) => {
      expect(await d.db.selectFrom("users").select("id").where("role", "=", "superadmin").execute()).toHaveLength(0);
      expect(await d.db.selectFrom("users").select("id").where("id", "=", "00000000-0000-0000-0000-000000000001").execute()).toHaveLength(0);
      for (const table of ["sessions", "api_tokens", "totp_factors", "user_secrets", "recovery_codes", "webauthn_credentials"] as const) {
        expect(await d.db.selectFrom(table).selectAll().execute(), table).toHaveLength(0);
      }
    });
  });
});
