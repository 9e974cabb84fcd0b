import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { gatehouse } from "../helpers/run-gatehouse.js";

/**
 * The done-when test of issue 19: a Flask app's users (a Flask-SQLAlchemy-like
 * `user` table, passwords hashed by werkzeug 2.2's generate_password_hash
 * default, pbkdf2:sha256) move behind Gatehouse with the CLI, and every one
 * of them signs in with their old password. Debian's python3 and werkzeug are
 * required: a missing module fails the test, never skips it.
 */
const FLASK_APP = String.raw`
import sqlite3, sys
from werkzeug.security import generate_password_hash
db = sqlite3.connect(sys.argv[1])
db.execute("create table user (id integer primary key, username varchar(80) unique not null, email varchar(120) unique, password_hash varchar(256), is_admin boolean not null default 0, active boolean not null default 1)")
users = [
    ("amelia", "amelia@flask.example", "amelia-old-pass-1", 1, 1),
    ("Bruno", "bruno@flask.example", "bruno-old-pass-2", 0, 1),
    ("chen", None, "chen-old-pass-3", 0, 1),
    ("dora", "dora@flask.example", "dora-old-pass-4", 0, 0),
]
for name, email, password, admin, active in users:
    db.execute("insert into user (username, email, password_hash, is_admin, active) values (?, ?, ?, ?, ?)", (name, email, generate_password_hash(password), admin, active))
db.commit()
print(db.execute("select password_hash from user limit 1").fetchone()[0].split("$")[0])
`;

describe.each(backendNames())("a Flask app's users imported with the CLI sign in with their old passwords (%s)", (backendName) => {
  let backend: Backend;
  let dir: string;
  let env: Record<string, string>;
  let source: string;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-flask-import-"));
    env = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: randomBytes(32).toString("hex"), GATEHOUSE_DATA_DIR: join(dir, "data"), MFA_REQUIRED: "off" };
    if (backend.schema) env.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}`;
    source = join(dir, "flask-app.db");
    const method = execFileSync("/usr/bin/python3", ["-c", FLASK_APP, source], { encoding: "utf8" }).trim();
    expect(method).toBe("pbkdf2:sha256:260000"); // werkzeug 2.2's default
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await backend?.cleanup();
  });

  it("dry run, --apply, then the portal signs each of them in (the blocked one is refused, a wrong password too)", { timeout: 180_000 }, async () => {
    const args = ["import", "users", `sqlite:${source}`, "--format", "table", "--table", "user", "--map", "username=username,email=email,password_hash=password_hash,role=is_admin,blocked=!active", "--roles", "1=admin,0=user"];
    const dry = await gatehouse([...args, "--json"], env, dir);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ rows: 4, importable: 4, imported: 0, by_scheme: { "werkzeug-pbkdf2": 4 }, roles: { admin: 1, user: 3 }, blocked: 1, problems: [] });
    const applied = await gatehouse([...args, "--apply", "--json"], env, dir);
    expect(applied.code, applied.stderr).toBe(0);
    expect(JSON.parse(applied.stdout)).toMatchObject({ imported: 4 });

    const config = loadConfig({ ...env });
    const gh = await createGatehouse({ config, logger: pino({ level: "silent" }) });
    try {
      const login = (username: string, password: string) =>
        gh.app.inject({ method: "POST", url: "/api/auth/login", headers: { origin: config.publicUrl, "content-type": "application/json" }, payload: JSON.stringify({ username, password }) });
      for (const [username, password, role] of [
        ["amelia", "amelia-old-pass-1", "admin"],
        ["bruno", "bruno-old-pass-2", "user"],
        ["bruno@flask.example", "bruno-old-pass-2", "user"],
        ["chen", "chen-old-pass-3", "user"],
      ] as const) {
        const res = await login(username, password);
        expect(res.statusCode, `${username}: ${res.body}`).toBe(200);
        const cookie = res.headers["set-cookie"];
        const me = await gh.app.inject({ method: "GET", url: "/api/auth/me", headers: { cookie: (Array.isArray(cookie) ? cookie : [cookie ?? ""]).map((c) => c.split(";")[0]).join("; ") } });
        expect(me.json()).toMatchObject({ user: { role } });
      }
      // The first successful sign-in re-hashes the old password with Gatehouse's own Argon2id.
      expect((await gh.stores.users.findByLogin({ username: "amelia" }))?.passwordHash).toMatch(/^\$argon2id\$/);
      expect((await login("amelia", "amelia-old-pass-1")).statusCode).toBe(200);
      expect((await login("chen", "wrong-password-here")).statusCode).toBe(401);
      const blocked = await login("dora", "dora-old-pass-4");
      expect(blocked.statusCode).toBe(403);
      expect(blocked.json().code).toBe("account_blocked");
    } finally {
      await gh.close();
    }
  });
});
