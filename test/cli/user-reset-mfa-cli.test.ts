import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGatehouse } from "../../src/compose.js";
import { loadConfig } from "../../src/config/load-config.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { gatehouse } from "../helpers/run-gatehouse.js";

describe("gatehouse user reset-mfa <username|email>", () => {
  let dir: string;
  let env: Record<string, string>;
  const run = (...args: string[]) => gatehouse(args, env, dir);

  /** A Gatehouse over the same data dir, in this process (the CLI runs in between, never at the same time). */
  async function withGatehouse<T>(fn: (gh: Awaited<ReturnType<typeof createGatehouse>>) => Promise<T>): Promise<T> {
    const gh = await createGatehouse({ config: loadConfig({ NODE_ENV: "test", ...env }), logger: pino({ level: "silent" }) });
    try {
      return await fn(gh);
    } finally {
      await gh.close();
    }
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-reset-mfa-"));
    env = { GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: randomBytes(32).toString("hex"), LOG_LEVEL: "silent", NODE_ENV: "test" };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("ends every session of the user, audits mfa_reset (via cli) and mails them; found by username or by email", async () => {
    const origin = { ip: "192.0.2.1", userAgent: "test" };
    const id = await withGatehouse(async (gh) => {
      const { user } = await gh.accounts.register({ username: "lostphone", password: GOOD_PASSWORD, email: "lost.phone@example.test" }, origin, { role: "admin", signIn: false });
      await gh.accounts.login({ login: "lostphone", password: GOOD_PASSWORD, remember: false }, origin);
      await gh.accounts.login({ login: "lostphone", password: GOOD_PASSWORD, remember: false }, origin);
      expect(await gh.sessions.list(user.id, 10, 0)).toHaveLength(2);
      return user.id;
    });

    const res = await run("user", "reset-mfa", "Lost.Phone@example.test");
    expect(res.stderr).toBe("");
    expect(res.code).toBe(0);
    expect(res.stdout).toBe("lostphone had no second factor; every second factor was removed, 2 session(s) ended, and they were mailed\n");

    await withGatehouse(async (gh) => {
      expect(await gh.sessions.list(id, 10, 0)).toHaveLength(0);
      const [event] = await gh.stores.audit.list({ userId: id, type: "mfa_reset", limit: 5 });
      expect(event).toMatchObject({ actorId: null, ip: "local", userAgent: "gatehouse-cli", details: { methods: "none", sessions: 2, via: "cli" } });
    });
    const outbox = join(dir, "data", "outbox");
    expect(existsSync(outbox)).toBe(true);
    const mails = readdirSync(outbox).map((f) => readFileSync(join(outbox, f), "utf8"));
    expect(mails.some((m) => m.includes("lost.phone@example.test") && m.includes("were reset"))).toBe(true);

    const byName = await run("user", "reset-mfa", "lostphone");
    expect(byName.code).toBe(0);
    expect(byName.stdout).toContain("0 session(s) ended");
  });

  it("an unknown user or address: exit 1 with a message; no name: usage (exit 2)", async () => {
    const unknown = await run("user", "reset-mfa", "nobody@example.test");
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no user named "nobody@example.test"');
    const missing = await run("user", "reset-mfa");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("reset-mfa <username|email>");
  });
});
