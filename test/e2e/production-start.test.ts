import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-prod-"));

function start(env: Record<string, string>) {
  const base: Record<string, string | undefined> = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, PORT: "0", ...env };
  delete base.SECRET_KEY;
  Object.assign(base, env);
  return spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: ROOT, env: base, encoding: "utf8", timeout: 30_000 });
}

describe("production refuses to start with missing or weak secrets (CRY-04, CFG-03)", () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it("exits non-zero with a clear message when SECRET_KEY is missing", () => {
    const run = start({ NODE_ENV: "production", PUBLIC_URL: "https://gw.example.test" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("SECRET_KEY is required in production");
  });

  it("exits non-zero for a well-known example key and for a 31-byte key, without echoing the key", () => {
    for (const key of ["changeme", "a".repeat(31), "please-change-this-secret-key-in-production"]) {
      const run = start({ NODE_ENV: "production", PUBLIC_URL: "https://gw.example.test", SECRET_KEY: key });
      expect(run.status, key).toBe(1);
      expect(run.stderr).toMatch(/SECRET_KEY/);
      expect(run.stderr).not.toContain(key);
    }
  });

  it("exits non-zero when NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks", () => {
    const run = start({ NODE_ENV: "development", NODE_TLS_REJECT_UNAUTHORIZED: "0" });
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("NODE_TLS_REJECT_UNAUTHORIZED");
  });
});
