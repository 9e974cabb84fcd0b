import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import SQLite from "better-sqlite3";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDoctor } from "../../src/cli/doctor/doctor-check-list.js";
import type { Finding } from "../../src/cli/doctor-checks.js";
import { openDatabase } from "../../src/storage/sql/open-database.js";
import { backendNames, createBackend, limiterBackendNames, PG_URL, REDIS_URL, type Backend } from "../helpers/backends.js";
import { startPrivateRedis } from "../helpers/private-redis.js";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink.js";
import { freePort, gatehouse } from "../helpers/run-gatehouse.js";

const KEY = "5d0c8a1f3e7b9264aa0d1c2b3e4f5a6978877665544332211ffeeddccbbaa09";
const PROD = { NODE_ENV: "production", SECRET_KEY: KEY, PUBLIC_URL: "https://auth.example.test", TRUSTED_PROXIES: "127.0.0.1" };

let root: string;
let seq = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "gatehouse-doctor-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh working directory with its own data dir. */
function workDir(): { cwd: string; data: string } {
  const cwd = join(root, `w${++seq}`);
  mkdirSync(cwd, { recursive: true });
  return { cwd, data: join(cwd, "data") };
}

/** Doctor's findings for `env` run in `cwd` (in-process; the same code the CLI runs). */
async function doctor(env: Record<string, string>, cwd = workDir().cwd): Promise<Finding[]> {
  return runDoctor({ GATEHOUSE_DATA_DIR: join(cwd, "data"), SECRET_KEY: KEY, ...env }, cwd);
}
const about = (findings: Finding[], text: string | RegExp) => findings.filter((f) => (typeof text === "string" ? f.message.includes(text) : text.test(f.message)));

describe("gatehouse doctor: the database (SQLite)", () => {
  it("a data dir without a database: reported, and not created (no side effects)", async () => {
    const { cwd, data } = workDir();
    const found = about(await doctor({ GATEHOUSE_DATA_DIR: data }, cwd), "database");
    expect(found).toEqual([expect.objectContaining({ level: "info", message: expect.stringContaining("does not exist yet") })]);
    expect(existsSync(join(data, "gatehouse.db"))).toBe(false);
  });

  it("migrated: OK; a missing migration is reported as pending; a migration from a newer version is an error", async () => {
    const { cwd, data } = workDir();
    const database = await openDatabase({ databaseUrl: null, dataDir: data });
    await database.close();
    expect(about(await doctor({ GATEHOUSE_DATA_DIR: data }, cwd), "database")).toEqual([expect.objectContaining({ level: "ok", message: expect.stringMatching(/reachable and up to date \(\d+ migrations\)/) })]);

    // Edited directly (opening it through Gatehouse would migrate it again).
    const file = new SQLite(join(data, "gatehouse.db"));
    const last = file.prepare("select name from kysely_migration order by name desc limit 1").get() as { name: string };
    file.prepare("delete from kysely_migration where name = ?").run(last.name);
    const pending = about(await doctor({ GATEHOUSE_DATA_DIR: data }, cwd), "database");
    expect(pending).toEqual([expect.objectContaining({ level: "warn", message: expect.stringContaining(`1 pending migration(s): ${last.name}`) })]);

    file.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run(last.name, new Date().toISOString());
    file.prepare("insert into kysely_migration (name, timestamp) values (?, ?)").run("9999_from_the_future", new Date().toISOString());
    file.close();
    expect(about(await doctor({ GATEHOUSE_DATA_DIR: data }, cwd), "database")).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("9999_from_the_future") })]);
  });
});

describe.skipIf(!backendNames().includes("postgres"))("gatehouse doctor: the database (PostgreSQL)", () => {
  let backend: Backend;
  beforeAll(async () => {
    backend = await createBackend("postgres");
  });
  afterAll(async () => backend?.cleanup());
  const inSchema = () => `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}`;

  it("an empty database: every migration pending; once migrated: OK", async () => {
    const fresh = about(await doctor({ DATABASE_URL: inSchema() }), "database");
    expect(fresh).toEqual([expect.objectContaining({ level: "warn", message: expect.stringMatching(/PostgreSQL .* has \d+ pending migration\(s\): 0001_init/) })]);
    const database = await openDatabase({ databaseUrl: PG_URL, dataDir: root, schema: backend.schema! });
    await database.close();
    expect(about(await doctor({ DATABASE_URL: inSchema() }), "database")).toEqual([expect.objectContaining({ level: "ok" })]);
  });

  it("an unreachable server is an error that never shows the password", async () => {
    const password = `pgpw${randomBytes(8).toString("hex")}`;
    const found = about(await doctor({ DATABASE_URL: `postgres://gatehouse:${password}@127.0.0.1:${await freePort()}/gatehouse` }), "database");
    expect(found).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("cannot reach the database (PostgreSQL 127.0.0.1:") })]);
    expect(JSON.stringify(found)).not.toContain(password);
  });
});

describe("gatehouse doctor: the rules file", () => {
  it("an invalid file: one error per problem, with its line number", async () => {
    const { cwd } = workDir();
    const file = join(cwd, "rules.yml");
    writeFileSync(file, "access_control:\n  default_policy: deny\n  rules:\n    - domain: app.example.test\n      policy: sometimes\n");
    const found = about(await doctor({ GATEHOUSE_CONFIG: file }, cwd), `GATEHOUSE_CONFIG ${file}:`);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((f) => f.level === "error")).toBe(true);
    expect(found.map((f) => f.message).join("\n")).toMatch(/line 5\b/);
  });

  it("a valid file: OK with its rule count", async () => {
    const { cwd } = workDir();
    const file = join(cwd, "rules.yml");
    writeFileSync(file, "access_control:\n  default_policy: deny\n  rules:\n    - domain: app.example.test\n      policy: one_factor\n");
    expect(about(await doctor({ GATEHOUSE_CONFIG: file, TRUSTED_PROXIES: "127.0.0.1" }, cwd), "rules file")).toEqual([expect.objectContaining({ level: "ok", message: expect.stringContaining("(1 rules, 0 upstreams)") })]);
  });
});

describe("gatehouse doctor: SMTP", () => {
  let sink: SmtpSink;
  let auth: SMTPServer;
  let authPort: number;
  const password = `smtppw${randomBytes(8).toString("hex")}`;
  beforeAll(async () => {
    sink = await startSmtpSink();
    auth = new SMTPServer({
      authMethods: ["PLAIN", "LOGIN"],
      allowInsecureAuth: true,
      disabledCommands: ["STARTTLS"],
      logger: false,
      onAuth(a, _s, cb) {
        if (a.username === "mailer" && a.password === password) return cb(null, { user: "mailer" });
        return cb(new Error("Invalid username or password"));
      },
    });
    auth.on("error", () => undefined);
    await new Promise<void>((r) => auth.listen(0, "127.0.0.1", () => r()));
    authPort = (auth.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await sink?.stop();
    await new Promise<void>((r) => auth.close(() => r()));
  });
  const smtp = async (url: string) => about(await doctor({ SMTP_URL: url }), "SMTP");

  it("a reachable relay: OK (connected, no TLS as configured)", async () => {
    expect(await smtp(sink.url)).toEqual([expect.objectContaining({ level: "ok", message: expect.stringContaining("connected, no TLS (ignoreTLS=true), no authentication") })]);
  });

  it("smtp:// requires STARTTLS: a server that does not offer it is an error", async () => {
    expect(await smtp(`smtp://127.0.0.1:${sink.port}`)).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("(STARTTLS): TLS failed") })]);
  });

  it("smtps:// to a self-signed certificate is an error (certificates are verified)", async () => {
    const dir = join(root, "tls");
    mkdirSync(dir, { recursive: true });
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=127.0.0.1"], { stdio: "ignore" });
    const tls = new SMTPServer({ secure: true, key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")), authOptional: true, logger: false });
    tls.on("error", () => undefined);
    await new Promise<void>((r) => tls.listen(0, "127.0.0.1", () => r()));
    try {
      const found = await smtp(`smtps://127.0.0.1:${(tls.server.address() as AddressInfo).port}`);
      expect(found).toEqual([expect.objectContaining({ level: "error", message: expect.stringMatching(/implicit TLS.*(certificate|self.signed)/i) })]);
    } finally {
      await new Promise<void>((r) => tls.close(() => r()));
    }
  });

  it("login: the right password is OK; a wrong one is an error that never shows either password", async () => {
    expect(await smtp(`smtp://mailer:${password}@127.0.0.1:${authPort}?ignoreTLS=true`)).toEqual([expect.objectContaining({ level: "ok", message: expect.stringContaining("authenticated") })]);
    const wrong = `wrong${randomBytes(6).toString("hex")}`;
    const found = await smtp(`smtp://mailer:${wrong}@127.0.0.1:${authPort}?ignoreTLS=true`);
    expect(found).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("authentication failed") })]);
    expect(JSON.stringify(found)).not.toContain(wrong);
    expect(JSON.stringify(found)).not.toContain(password);
  });

  it("nothing listening: an error", async () => {
    expect(await smtp(`smtp://127.0.0.1:${await freePort()}?ignoreTLS=true`)).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("cannot connect") })]);
  });

  it("no SMTP_URL in production: a warning that mail is disabled", async () => {
    const found = about(await doctor(PROD), "no SMTP_URL");
    expect(found).toEqual([expect.objectContaining({ level: "warn" })]);
  });
});

describe.skipIf(!limiterBackendNames().includes("redis"))("gatehouse doctor: Redis", () => {
  const redis = async (url: string) => about(await doctor({ REDIS_URL: url }), /redis/i);

  it("the real Redis: OK", async () => {
    expect(await redis(REDIS_URL)).toEqual([expect.objectContaining({ level: "ok", message: expect.stringContaining("is reachable") })]);
  });

  it("a bad Redis URL (nothing listening there) is an error that never shows the password", async () => {
    const password = `redispw${randomBytes(6).toString("hex")}`;
    const found = await redis(`redis://:${password}@127.0.0.1:${await freePort()}`);
    expect(found).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("ECONNREFUSED") })]);
    expect(JSON.stringify(found)).not.toContain(password);
  });

  it("the real Redis: maxmemory-policy noeviction is part of the OK", async () => {
    expect(await redis(REDIS_URL)).toEqual([expect.objectContaining({ level: "ok", message: expect.stringContaining("maxmemory-policy noeviction") })]);
  });

  it("attack: a lock wiped by key churn — a Redis that evicts keys (allkeys-lru, volatile-lru) is an error: locks and bans could be evicted", async () => {
    for (const policy of ["allkeys-lru", "volatile-lru"]) {
      const server = await startPrivateRedis(policy);
      try {
        const found = await redis(server.url);
        expect(found).toHaveLength(2);
        expect(found[0]).toMatchObject({ level: "ok", message: expect.stringContaining("is reachable") });
        expect(found[1]).toMatchObject({ level: "error", message: expect.stringContaining(`maxmemory-policy is ${policy}`), fix: expect.stringContaining("noeviction") });
      } finally {
        await server.stop();
      }
    }
  });

  it("CONFIG disabled (as on managed Redis): a warning that the policy could not be checked", async () => {
    const server = await startPrivateRedis("noeviction", ["--rename-command", "CONFIG", ""]);
    try {
      const found = await redis(server.url);
      expect(found[1]).toMatchObject({ level: "warn", message: expect.stringContaining("CONFIG GET is disabled"), fix: expect.stringContaining("noeviction") });
    } finally {
      await server.stop();
    }
  });

  it("a REDIS_URL that is not a redis:// URL is an error", async () => {
    expect(await redis("localhost:6379")).toEqual([expect.objectContaining({ level: "error", message: "REDIS_URL is not a redis://, rediss:// or redis-sentinel:// URL" })]);
    expect(await redis("redis-sentinel://:pw-in-url@127.0.0.1:26379")).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("a sentinel URL is redis-sentinel://") })]);
  });
});

describe("gatehouse doctor: proxy headers and production", () => {
  it("https PUBLIC_URL behind a TLS-terminating proxy without TRUSTED_PROXIES: an error in production, OK once set", async () => {
    const { TRUSTED_PROXIES: _, ...withoutProxies } = PROD;
    const missing = about(await doctor(withoutProxies), "TRUSTED_PROXIES is empty but a proxy is in front");
    expect(missing).toEqual([expect.objectContaining({ level: "error", message: expect.stringContaining("a proxy terminates TLS") })]);
    expect(about(await doctor(PROD), "a proxy is in front and TRUSTED_PROXIES is set")).toHaveLength(1);
  });

  it("forward-auth rules (or a PUBLIC_URL port other than PORT) need TRUSTED_PROXIES too: a warning outside production", async () => {
    const { cwd } = workDir();
    const file = join(cwd, "rules.yml");
    writeFileSync(file, "access_control:\n  default_policy: deny\n");
    const found = about(await doctor({ GATEHOUSE_CONFIG: file, PUBLIC_URL: "http://localhost:3000" }, cwd), "TRUSTED_PROXIES is empty");
    expect(found).toEqual([expect.objectContaining({ level: "warn", message: expect.stringMatching(/port 3000 is not the port Gatehouse listens on \(8080\).*forward-auth rules are configured/) })]);
  });

  it("a plain-http PUBLIC_URL in production is an error (the start refuses it)", async () => {
    expect(about(await doctor({ ...PROD, PUBLIC_URL: "http://auth.example.test" }), "PUBLIC_URL must be https in production")).toEqual([expect.objectContaining({ level: "error" })]);
  });
});

describe("gatehouse doctor: registration mode", () => {
  it("closed by default; invite reported as it is; open without an email-domain list is a warning (anyone passes one_factor rules)", async () => {
    expect(about(await doctor({}), "registration mode")).toEqual([expect.objectContaining({ level: "info", message: "registration mode: closed" })]);
    expect(about(await doctor({ REGISTRATION: "invite" }), "registration mode")).toEqual([expect.objectContaining({ level: "info", message: "registration mode: invite" })]);
    expect(about(await doctor({ REGISTRATION: "open" }), "REGISTRATION=open")).toEqual([expect.objectContaining({ level: "warn" })]);
    const narrowed = about(await doctor({ REGISTRATION: "open", REGISTRATION_EMAIL_DOMAINS: "example.com" }), "registration mode");
    expect(narrowed).toEqual([expect.objectContaining({ level: "info", message: "registration mode: open (email domains: example.com)" })]);
  });
});

describe("gatehouse doctor: variables that look like settings", () => {
  it("reports near misses from the environment and .env with the setting meant; ignores PATH, HOME, NODE_OPTIONS, npm_*, CI", async () => {
    const { cwd } = workDir();
    writeFileSync(join(cwd, ".env"), "SESION_IDLE_TIMEOUT=10m\nRATE_LIMIT_TOKENS=3/1h\n", { mode: 0o600 });
    const found = about(
      await doctor({ GATEHOUSE_UPSTREAM_URL: "http://127.0.0.1:3000", PATH: "/usr/bin", HOME: "/root", NODE_OPTIONS: "--max-old-space-size=512", npm_config_cache: "/tmp", CI: "true", HOSTNAME: "box" }, cwd),
      "is not a Gatehouse setting",
    );
    expect(found.map((f) => f.message).sort()).toEqual([
      "GATEHOUSE_UPSTREAM_URL is not a Gatehouse setting and is ignored; did you mean UPSTREAM_URL?",
      "RATE_LIMIT_TOKENS (in .env) is not a Gatehouse setting and is ignored; did you mean RATE_LIMIT_TOKEN_CREATE?",
      "SESION_IDLE_TIMEOUT (in .env) is not a Gatehouse setting and is ignored; did you mean SESSION_IDLE_TIMEOUT?",
    ]);
    expect(found.every((f) => f.level === "warn")).toBe(true);
  });
});

describe("gatehouse doctor as a process (exit status, messages)", () => {
  let sink: SmtpSink;
  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => sink?.stop());

  it("a sound production setup with every live check passing: exit 0, OK lines, no secret printed", async () => {
    const { cwd, data } = workDir();
    await (await openDatabase({ databaseUrl: null, dataDir: data })).close();
    const env = { ...PROD, GATEHOUSE_DATA_DIR: data, SMTP_URL: sink.url, ...(limiterBackendNames().includes("redis") ? { REDIS_URL } : {}) };
    const r = await gatehouse(["doctor"], env, cwd);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^OK {5}the database \(SQLite .*\) is reachable and up to date/m);
    expect(r.stdout).toMatch(/^OK {5}SMTP smtp:\/\/127\.0\.0\.1:\d+ \(plaintext\): connected/m);
    if (env.REDIS_URL) expect(r.stdout).toMatch(/^OK {5}Redis \(redis:\/\/127\.0\.0\.1:6379\) is reachable/m);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it("a bad Redis URL: exit 1", async () => {
    const { cwd, data } = workDir();
    const r = await gatehouse(["doctor"], { GATEHOUSE_DATA_DIR: data, SECRET_KEY: KEY, REDIS_URL: `redis://127.0.0.1:${await freePort()}` }, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ERROR {2}cannot use Redis/m);
  });

  it("a missing *_FILE: a clear message naming the variable, path and reason (no ENOENT stack), exit 1; the other checks still run", async () => {
    const { cwd, data } = workDir();
    const r = await gatehouse(["doctor"], { GATEHOUSE_DATA_DIR: data, SECRET_KEY: KEY, GATEHOUSE_ADMIN_USERNAME: "root", GATEHOUSE_ADMIN_PASSWORD_FILE: "/x/y" }, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ERROR  GATEHOUSE_ADMIN_PASSWORD_FILE: cannot read /x/y: no such file");
    expect(r.stdout + r.stderr).not.toMatch(/ENOENT|\n\s+at /);
    expect(r.stdout).toContain("the database (SQLite");
  });

  it("a world-readable .env in production: an error finding, exit 1", async () => {
    const { cwd, data } = workDir();
    writeFileSync(join(cwd, ".env"), `SECRET_KEY=${KEY}\n`, { mode: 0o644 });
    const r = await gatehouse(["doctor"], { ...PROD, SECRET_KEY: "", GATEHOUSE_DATA_DIR: data }, cwd);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ERROR {2}.*\.env is readable by other users/);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});
