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
  it("session checks, forward-auth, the banned-IP rejection, login and the login flood's own process answer with their expected statuses", async () => {
    const { code, out } = await dryRun("me-sqlite,me-cold,forward-auth,banned,login,flood");
    expect(out).toMatch(/dry run: (\d+) of \1 checks answered as expected/);
    expect(code, out).toBe(0);
  }, 90_000);

  it("an unknown scenario name is refused with the list of known ones", async () => {
    const { code, out } = await dryRun("no-such-scenario");
    expect(code).not.toBe(0);
    expect(out).toContain('unknown scenario "no-such-scenario"');
    expect(out).toContain("me-sqlite");
  }, 30_000);
});
