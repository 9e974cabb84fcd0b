import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..", "..");
const KEY = "5d0c8a1f3e7b9264aa0d1c2b3e4f5a6978877665544332211ffeeddccbbaa09";
const dir = mkdtempSync(join(tmpdir(), "gatehouse-provider-start-"));
const SECRET = `cnrystart${randomBytes(12).toString("hex")}`;

/** `node src/main.ts` (what `npm start` runs) with only `env` set, besides PATH and HOME. */
function start(env: Record<string, string>) {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_DATA_DIR: join(dir, "data"), SECRET_KEY: KEY, PORT: "0", ...env };
  return spawnSync(process.execPath, ["--import", "tsx", "src/main.ts"], { cwd: ROOT, env: base, encoding: "utf8", timeout: 30_000 });
}

/** The start stopped with exit 1, a one-line-per-problem message, no stack trace, and never the secret. */
function expectRefused(run: ReturnType<typeof start>): string {
  expect(run.status, run.stderr).toBe(1);
  expect(run.stderr).toContain("gatehouse: failed to start: the identity providers are invalid:");
  expect(run.stderr).not.toMatch(/^\s+at /m);
  expect(run.stdout + run.stderr).not.toContain(SECRET);
  expect(run.stdout).not.toContain("Gatehouse is running");
  return run.stderr;
}

describe("the start refuses invalid identity provider settings", () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("PASSWORD_LOGIN=off without any provider: nobody could sign in, so the start stops and says why", () => {
    const stderr = expectRefused(start({ PASSWORD_LOGIN: "off" }));
    expect(stderr).toContain("PASSWORD_LOGIN=off needs at least one enabled identity provider");
  });

  it("a rules file with a bad provider: the file, the line and the problem; the secret never", () => {
    const file = join(dir, "rules.yml");
    writeFileSync(file, "access_control:\n  default_policy: deny\nidentity_providers:\n  - id: corp\n    type: oidc\n    issuer: http://sso.example.com\n    client_id: gatehouse\n    client_secret_env: CORP_SECRET\n");
    const stderr = expectRefused(start({ GATEHOUSE_CONFIG: file, CORP_SECRET: SECRET }));
    expect(stderr).toContain(`${file}: line 4 (identity provider): \`issuer\` must be an https URL`);
  });

  it("the OAUTH_* variables: named, and the secret never shown", () => {
    const stderr = expectRefused(start({ OAUTH_PROVIDER: "oidc", OAUTH_CLIENT_ID: "gatehouse", OAUTH_CLIENT_SECRET: SECRET }));
    expect(stderr).toContain("OAUTH_* variables: `issuer` is required for an OpenID Connect provider");
  });
});
