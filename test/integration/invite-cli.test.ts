import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse, type Gatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";

const ROOT = join(import.meta.dirname, "..", "..");
const BIN = join(ROOT, "bin", "gatehouse.js");
const PUBLIC_URL = "https://auth.example.test";

function gatehouse(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: "test", LOG_LEVEL: "silent", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("gatehouse user invite <email> [--role r] (SQLite data dir)", () => {
  let dir: string;
  let env: Record<string, string>;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-invite-cli-"));
    env = { GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: randomBytes(32).toString("hex"), PUBLIC_URL };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** The same data dir, opened in this process (after the CLI exited). */
  async function open(): Promise<Gatehouse> {
    return createGatehouse({ config: loadConfig({ NODE_ENV: "test", ...env }), logger: pino({ level: "silent" }) });
  }

  it("prints the single-use link for the operator (and queues its mail), stores only the hash, audits it; the link registers an admin while registration is closed", async () => {
    const r = await gatehouse(["user", "invite", "Ops@Example.test", "--role", "admin"], env);
    expect(r.code, r.stderr).toBe(0);
    const token = new RegExp(`${PUBLIC_URL}/invite#token=([A-Za-z0-9_-]{43})\\n`).exec(r.stdout)?.[1];
    expect(token, r.stdout).toBeDefined();
    expect(r.stdout).toContain("invited Ops@Example.test (admin)");
    expect(r.stdout).toContain("mailed to the address");
    expect(r.stdout).not.toContain("?token=");

    const gh = await open();
    try {
      const rows = await gh.database.db.selectFrom("invitations").selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ role: "admin", created_by: null, token_hash: createHash("sha256").update(token!).digest("hex") });
      expect((await gh.database.db.selectFrom("mail_outbox").select("kind").execute()).map((m) => m.kind)).toEqual(["invitation"]);
      const audit = await gh.database.db.selectFrom("audit_events").selectAll().where("type", "=", "invitation_created").execute();
      expect(audit).toHaveLength(1);
      expect(JSON.parse(audit[0]!.details)).toMatchObject({ role: "admin", via: "cli" });
      expect(audit[0]!.details).not.toContain(token!);
      await gh.app.ready();
      const closed = await gh.app.inject({ method: "POST", url: "/api/auth/register", headers: { origin: PUBLIC_URL }, payload: { username: "walkin", password: GOOD_PASSWORD } });
      expect(closed.statusCode).toBe(403);
      const res = await gh.app.inject({ method: "POST", url: "/api/auth/register", headers: { origin: PUBLIC_URL }, payload: { invitation: token, username: "opsadmin", password: GOOD_PASSWORD } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().user).toMatchObject({ username: "opsadmin", email: "Ops@Example.test", role: "admin", emailVerified: true });
    } finally {
      await gh.close();
    }
  });

  it("refuses a malformed address (exit 1), an unknown role or a missing address (exit 2), and an address that already has an account", async () => {
    const bad = await gatehouse(["user", "invite", "not-an-address"], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid_request");
    expect((await gatehouse(["user", "invite", "x@example.test", "--role", "emperor"], env)).code).toBe(2);
    expect((await gatehouse(["user", "invite"], env)).code).toBe(2);
    const taken = await gatehouse(["user", "invite", "ops@example.test"], env);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain("email_taken");
  });
});
