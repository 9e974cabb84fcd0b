import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");

/** Runs `npm run bench -- --dry-run --only …` and returns its exit code and output (no timing is asserted). */
function dryRun(only: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/run.ts", "--dry-run", "--only", only], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    child.stderr.on("data", (c: Buffer) => (out += c.toString()));
    child.on("exit", (code) => resolve({ code, out }));
  });
}

describe("npm run bench --dry-run: every scenario's server starts and answers as the timed run expects", () => {
  it("session checks, the minimal prepared-lookup baseline (with and without its LRU), forward-auth, the banned-IP rejection, login (password alone, and password then TOTP code) and the login flood's own process answer with their expected statuses, directly and through the load process", async () => {
    const { code, out } = await dryRun("lookup,me-sqlite,me-cold,forward-auth,banned,login,login-totp,flood");
    expect(out).toMatch(/dry run: (\d+) of \1 checks answered as expected/);
    // bare, lookup-db, lookup-lru, me-sqlite, me-cold, fwd-allow, fwd-deny, argon2, login, login-password, login-totp, quiet-me, flood-me, banned
    expect(out).toContain("dry run: 14 of 14 checks");
    expect(code, out).toBe(0);
  }, 120_000);

  it("every rung of the ladder ablation (raw node:http, /me built up from bare Fastify to the real app, forward-auth minimal and real) starts and answers 200 with the session it was given", async () => {
    const { code, out } = await dryRun("ladder");
    // bare, ladder-raw, L0–L7, L7c, L8, Fmin, Freal
    expect(out).toContain("dry run: 14 of 14 checks answered as expected");
    expect(code, out).toBe(0);
  }, 180_000);

  it("the idle footprint builds Gatehouse as production does (tsc) and serves /healthz from node dist/main.js", async () => {
    const { code, out } = await dryRun("idle");
    expect(out).toContain("dry run: 2 of 2 checks answered as expected");
    expect(code, out).toBe(0);
  }, 180_000);

  it("an unknown scenario name is refused with the list of known ones", async () => {
    const { code, out } = await dryRun("no-such-scenario");
    expect(code).not.toBe(0);
    expect(out).toContain('unknown scenario "no-such-scenario"');
    expect(out).toContain("me-sqlite");
  }, 30_000);
});
