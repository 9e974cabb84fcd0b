import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/storage/sql/open-database.js";
import { seed, type Seeded } from "../helpers/backup.js";
import { freePort } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "gatehouse.js");

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/gatehouse.js …` with a clean environment plus `env`. */
function gatehouse(args: string[], env: Record<string, string>, cwd: string): Promise<Run> {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", LOG_LEVEL: "silent" };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...base, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("gatehouse CLI (SQLite data dir)", () => {
  let dir: string;
  let env: Record<string, string>;
  let seeded: Seeded;
  const secret = randomBytes(32).toString("hex");
  const run = (...args: string[]) => gatehouse(args, env, dir);
  /** Opens the data dir's database for one look, then closes it (the CLI runs in between). */
  async function inDb<T>(fn: (db: Awaited<ReturnType<typeof openDatabase>>["db"]) => Promise<T>): Promise<T> {
    const database = await openDatabase({ databaseUrl: null, dataDir: join(dir, "data") });
    try {
      return await fn(database.db);
    } finally {
      await database.close();
    }
  }
  const userCount = () => inDb(async (db) => (await db.selectFrom("users").select("id").execute()).length);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-cli-"));
    env = { GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: secret };
    seeded = await inDb((db) => seed(db));
    writeFileSync(join(dir, "pass.txt"), "a long backup passphrase\n");
    writeFileSync(join(dir, "wrong.txt"), "not the right passphrase\n");
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("backup --out writes a private, checksummed backup and audits it", async () => {
    const r = await run("backup", "--out", "b.json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("users 3, settings 2, api_tokens 3, user_secrets 2, totp_factors 1, recovery_codes 2, webauthn_credentials 2, external_identities 2, audit_events 5, vault_secrets 1, user_vault_secrets 1");
    expect(statSync(join(dir, "b.json")).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, "b.json"), "utf8"))).toMatchObject({ format: "gatehouse-backup", version: 1 });
    expect(await inDb(async (db) => (await db.selectFrom("audit_events").select("id").where("type", "=", "backup_exported").execute()).length)).toBe(1);
    const again = await run("backup", "--out", "b.json");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("already exists");
  });

  it("restore without --yes only checks and summarizes (exit 2, nothing changed); with --yes it restores", async () => {
    await inDb((db) => db.deleteFrom("users").where("id", "=", seeded.userId).execute());
    expect(await userCount()).toBe(2);
    const dry = await run("restore", "b.json");
    expect(dry.code).toBe(2);
    expect(dry.stderr).toContain("Root-Admin (superadmin)");
    expect(dry.stderr).toContain("--yes");
    expect(await userCount()).toBe(2);
    const real = await run("restore", "b.json", "--yes");
    expect(real.code, real.stderr).toBe(0);
    expect(await userCount()).toBe(3);
    expect(await inDb(async (db) => (await db.selectFrom("sessions").select("id").execute()).length)).toBe(0);
    expect(await inDb(async (db) => (await db.selectFrom("audit_events").select("id").where("type", "=", "database_imported").execute()).length)).toBe(1);
  });

  it("encrypted backup: restores with the passphrase file; a wrong or missing passphrase fails (exit 1) and changes nothing", async () => {
    const b = await run("backup", "--out", "e.bin", "--passphrase-file", "pass.txt");
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, "e.bin")).subarray(0, 8).toString("ascii")).toBe("GHBACKUP");
    await inDb((db) => db.deleteFrom("api_tokens").execute());
    const wrong = await run("restore", "e.bin", "--yes", "--passphrase-file", "wrong.txt");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("integrity_error");
    expect(wrong.stderr).not.toContain("not the right passphrase");
    const missing = await run("restore", "e.bin", "--yes");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("passphrase_required");
    expect(await inDb(async (db) => (await db.selectFrom("api_tokens").select("id").execute()).length)).toBe(0);
    const ok = await run("restore", "e.bin", "--yes", "--passphrase-file", "pass.txt");
    expect(ok.code, ok.stderr).toBe(0);
    expect(await inDb(async (db) => (await db.selectFrom("api_tokens").select("id").execute()).length)).toBe(3);
  });

  it("a tampered backup is refused (exit 1, integrity_error) with nothing changed", async () => {
    const bytes = readFileSync(join(dir, "b.json"));
    bytes[100] = bytes[100]! ^ 0x01;
    writeFileSync(join(dir, "tampered.json"), bytes);
    await inDb((db) => db.deleteFrom("settings").execute());
    const r = await run("restore", "tampered.json", "--yes");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("integrity_error");
    expect(await inDb(async (db) => (await db.selectFrom("settings").select("key").execute()).length)).toBe(0);
  });

  it("backup --sqlite also writes a raw snapshot, and restore accepts it after checking it", async () => {
    const b = await run("backup", "--out", "s.json", "--sqlite");
    expect(b.code, b.stderr).toBe(0);
    expect(readFileSync(join(dir, "s.json.sqlite")).subarray(0, 16).toString("latin1")).toBe("SQLite format 3\u0000");
    await inDb((db) => db.deleteFrom("users").where("id", "=", seeded.adminId).execute());
    const r = await run("restore", "s.json.sqlite", "--yes");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("raw SQLite database");
    expect(await userCount()).toBe(3);
    writeFileSync(join(dir, "junk.sqlite"), Buffer.concat([Buffer.from("SQLite format 3\u0000"), randomBytes(4000)]));
    const junk = await run("restore", "junk.sqlite", "--yes");
    expect(junk.code).toBe(1);
    expect(junk.stderr).toContain("integrity_error");
  });

  it("doctor in production with a weak setup: exit 1, findings with fixes, no side effects", async () => {
    const fresh = join(dir, "fresh");
    const r = await gatehouse(["doctor"], { NODE_ENV: "production", GATEHOUSE_DATA_DIR: fresh, HOST: "0.0.0.0", PUBLIC_URL: "http://auth.example.com" }, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("ERROR  SECRET_KEY is not set");
    expect(r.stdout).toContain("PUBLIC_URL must be https");
    expect(r.stdout).toMatch(/ERROR {2}HOST 0\.0\.0\.0 is not loopback and TRUSTED_PROXIES is empty/);
    expect(r.stdout).toContain("SQLite in production");
    expect(r.stdout).toContain("fix:");
    expect(existsSync(join(fresh, "secret.key"))).toBe(false);
  });

  it("doctor on a sound production setup: exit 0 and the secret is never printed", async () => {
    const r = await gatehouse(["doctor"], { ...env, NODE_ENV: "production", PUBLIC_URL: "https://auth.example.com", TRUSTED_PROXIES: "127.0.0.1", GATEHOUSE_ADMIN_PASSWORD: "s3cret-admin-pass", GATEHOUSE_ADMIN_USERNAME: "root" }, dir);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain("GATEHOUSE_ADMIN_PASSWORD is set in the environment");
    expect(r.stdout + r.stderr).not.toContain(secret);
    expect(r.stdout + r.stderr).not.toContain("s3cret-admin-pass");
  });

  it("serve starts the server like npm start, and stops on SIGTERM", async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [BIN, "serve"], {
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_ENV: "test", ...env, PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (c: Buffer) => {
          output += c.toString("utf8");
          if (output.includes("Gatehouse is running")) resolve();
        };
        child.stdout.on("data", onData);
        child.stderr.on("data", onData);
        void exited.then((code) => reject(new Error(`serve exited with ${code}: ${output}`)));
      });
      const health = await fetch(`http://127.0.0.1:${port}/healthz`);
      expect(health.status).toBe(200);
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  });

  it("unknown commands and bad options are usage errors (exit 2)", async () => {
    expect((await run("frobnicate")).code).toBe(2);
    expect((await run("backup", "--bogus")).code).toBe(2);
    expect((await run("restore")).code).toBe(2);
    expect((await run("user", "frobnicate")).code).toBe(2);
    expect((await run("user", "set-role", "nobody-here", "emperor")).code).toBe(2);
    const help = await run("--help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("doctor");
  });

  it("user create / list / set-role / block / unblock: operator management, audited, never echoing the password", async () => {
    writeFileSync(join(dir, "op.txt"), "granite-willow-signal-47\n");
    writeFileSync(join(dir, "weak.txt"), "passwordpassword\n");
    const weak = await run("user", "create", "clioperator", "--password-file", "weak.txt");
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("password_common");
    expect(weak.stderr).not.toContain("passwordpassword");
    const created = await run("user", "create", "clioperator", "--password-file", "op.txt", "--email", "op@example.test", "--role", "admin");
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout + created.stderr).not.toContain("granite-willow-signal-47");
    const list = await run("user", "list", "--q", "clioper");
    expect(list.stdout).toMatch(/clioperator\s+op@example\.test\s+admin\s+active/);
    expect((await run("user", "set-role", "clioperator", "superadmin")).code).toBe(0);
    expect((await run("user", "block", "clioperator")).code).toBe(0);
    const blocked = await inDb((db) => db.selectFrom("users").select(["role", "blocked"]).where("username_normalized", "=", "clioperator").executeTakeFirstOrThrow());
    expect(blocked).toEqual({ role: "superadmin", blocked: 1 });
    expect((await run("user", "unblock", "clioperator")).code).toBe(0);
    const events = await inDb((db) => db.selectFrom("audit_events").select("type").where("user_agent", "=", "gatehouse-cli").execute());
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["role_change", "user_blocked", "user_unblocked"]));
    expect((await run("user", "block", "no-such-user")).code).toBe(1);
    expect((await run("user", "reset-mfa", "clioperator")).stdout).toContain("had no second factor; every second factor was removed");
  });

  it("user set-role refuses to demote the last superadmin", async () => {
    const supers = await inDb((db) => db.selectFrom("users").select("username").where("role", "=", "superadmin").execute());
    for (const s of supers.slice(1)) expect((await run("user", "set-role", s.username, "user")).code).toBe(0);
    const last = await run("user", "set-role", supers[0]!.username, "user");
    expect(last.code).toBe(1);
    expect(last.stderr).toContain("last superadmin");
  });
});
