import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { allSettings, isSecretSetting } from "../../src/config/schema.js";
import { secretKeyProblem } from "../../src/config/secret-key.js";
import { freePort, gatehouse, serve } from "../helpers/run-gatehouse.js";

const canary = (label: string) => `cnry${label}${randomBytes(12).toString("hex")}`;

/**
 * A realistic value for each secret setting, carrying `c` where the secret
 * sits. A new secret setting without an entry fails the test below: add one.
 */
const SAMPLES: Record<string, (c: string) => string> = {
  SECRET_KEY: (c) => `${c}${randomBytes(16).toString("hex")}`,
  GATEHOUSE_ADMIN_PASSWORD: (c) => `${c}-Admin-Pass`,
  DATABASE_URL: (c) => `postgres://gatehouse:${c}@db.internal:5432/gatehouse?sslmode=require&password=${c}`,
  DATABASE_MIGRATION_URL: (c) => `postgres://gatehouse_owner:${c}@db.internal:5432/gatehouse?sslmode=verify-full&sslrootcert=/etc/gatehouse/db-ca.pem&password=${c}`,
  REDIS_URL: (c) => `redis://default:${c}@redis.internal:6379/0`,
  SMTP_URL: (c) => `smtps://mailer:${c}@mail.example.com:465`,
  ALERT_WEBHOOK_URL: (c) => `https://hooks.example.com/services/${c}?token=${c}`,
  OAUTH_CLIENT_SECRET: (c) => `${c}-oauth-client-secret`,
  METRICS_TOKEN: (c) => `${c}-metrics-token-0123456789`,
};

describe("gatehouse config print", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-config-print-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const secretSettings = allSettings().filter(isSecretSetting);

  it("covers every secret-bearing setting of the schema (each has a sample value here)", () => {
    expect(secretSettings.map((s) => s.env).sort()).toEqual(expect.arrayContaining(["ALERT_WEBHOOK_URL", "DATABASE_URL", "GATEHOUSE_ADMIN_PASSWORD", "REDIS_URL", "SECRET_KEY", "SMTP_URL"]));
    for (const s of secretSettings) expect(SAMPLES[s.env], `add a sample value for the secret setting ${s.env}`).toBeDefined();
  });

  for (const via of ["environment", ".env", "_FILE"] as const) {
    it(`attack: reading secrets off the screen — never prints a secret planted through ${via === "_FILE" ? "*_FILE" : via}, and names the source`, async () => {
      const work = join(dir, via.replace(/\W/g, ""));
      mkdirSync(work, { recursive: true });
      const env: Record<string, string> = { GATEHOUSE_DATA_DIR: join(work, "data"), GATEHOUSE_ADMIN_USERNAME: "root" };
      const fileLines: string[] = [];
      const planted: string[] = [];
      for (const s of secretSettings) {
        const c = canary(s.env.toLowerCase().replace(/_/g, ""));
        planted.push(c);
        const value = SAMPLES[s.env]!(c);
        if (via === "environment" || (via === "_FILE" && !s.fromFile)) env[s.env] = value;
        else if (via === ".env") fileLines.push(`${s.env}="${value}"`);
        else {
          const path = join(work, `${s.env.toLowerCase()}.txt`);
          writeFileSync(path, `${value}\n`, { mode: 0o600 });
          env[`${s.env}_FILE`] = path;
        }
      }
      if (fileLines.length > 0) writeFileSync(join(work, ".env"), `${fileLines.join("\n")}\n`, { mode: 0o600 });
      const r = await gatehouse(["config", "print"], env, work);
      const all = r.stdout + r.stderr;
      for (const c of planted) expect(all).not.toContain(c);
      for (const s of secretSettings) {
        const line = r.stdout.split("\n").find((l) => l.startsWith(`${s.env}=`));
        expect(line, `${s.env} is listed`).toBeDefined();
        const source = via === "_FILE" && s.fromFile ? `# ${s.env}_FILE ${join(work, `${s.env.toLowerCase()}.txt`)}` : via === "_FILE" ? "# environment" : `# ${via}`;
        expect(line).toContain(source);
        expect(line).toContain("***");
      }
      // What stays visible: where to connect, never with whose credentials.
      expect(r.stdout).toMatch(/^DATABASE_URL=postgres:\/\/\*\*\*@db\.internal:5432\/gatehouse\?sslmode=require&password=\*\*\* /m);
      expect(r.stdout).toMatch(/^REDIS_URL=redis:\/\/\*\*\*@redis\.internal:6379\/0 /m);
      expect(r.stdout).toMatch(/^SMTP_URL=smtps:\/\/\*\*\*@mail\.example\.com:465 /m);
      expect(r.stdout).toMatch(/^ALERT_WEBHOOK_URL=https:\/\/hooks\.example\.com\/\*\*\* /m);
      expect(r.stdout).toMatch(/^SECRET_KEY=\*\*\* /m);
      expect(r.stdout).toMatch(/^OAUTH_CLIENT_SECRET=\*\*\* /m);
    });
  }

  it("shows each value's source: default, .env, environment (which wins over .env)", async () => {
    const work = join(dir, "sources");
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, ".env"), "PORT=9100\nLOG_LEVEL=warn\n", { mode: 0o600 });
    const r = await gatehouse(["config", "print"], { GATEHOUSE_DATA_DIR: join(work, "data"), PORT: "9200" }, work);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PORT=9200 +# environment$/m);
    expect(r.stdout).toMatch(/^LOG_LEVEL=warn +# \.env$/m);
    expect(r.stdout).toMatch(/^SESSION_IDLE_TIMEOUT=30m +# default$/m);
    expect(r.stdout).toMatch(/^RATE_LIMIT_TOKEN_CREATE=5\/1h +# default$/m);
  });

  it("exit 1 with the problems on stderr when the server would refuse the configuration", async () => {
    const r = await gatehouse(["config", "print"], { GATEHOUSE_DATA_DIR: join(dir, "bad"), PORT: "eighty" }, dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^PORT=eighty +# environment$/m);
    expect(r.stderr).toContain("PORT must be a whole number");
  });

  it("the provider settings: OAUTH_* listed with the secret redacted; provider problems the start would refuse are exit 1, without the secret", async () => {
    const work = join(dir, "providers");
    mkdirSync(work, { recursive: true });
    const secret = canary("oauth");
    const base = { GATEHOUSE_DATA_DIR: join(work, "data"), OAUTH_PROVIDER: "oidc", OAUTH_CLIENT_ID: "gatehouse", OAUTH_CLIENT_SECRET: secret };
    const good = await gatehouse(["config", "print"], { ...base, OAUTH_ISSUER: "https://sso.example.com" }, work);
    expect(good.code, good.stderr).toBe(0);
    expect(good.stdout).toMatch(/^OAUTH_PROVIDER=oidc +# environment$/m);
    expect(good.stdout).toMatch(/^OAUTH_ISSUER=https:\/\/sso\.example\.com +# environment$/m);
    expect(good.stdout).toMatch(/^OAUTH_CLIENT_SECRET=\*\*\* +# environment$/m);
    expect(good.stdout + good.stderr).not.toContain(secret);

    const bad = await gatehouse(["config", "print"], { ...base, PASSWORD_LOGIN: "off" }, work);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("OAUTH_* variables: `issuer` is required for an OpenID Connect provider");
    expect(bad.stdout + bad.stderr).not.toContain(secret);

    const noProvider = await gatehouse(["config", "print"], { GATEHOUSE_DATA_DIR: join(work, "data"), PASSWORD_LOGIN: "off" }, work);
    expect(noProvider.code).toBe(1);
    expect(noProvider.stderr).toContain("PASSWORD_LOGIN=off needs at least one enabled identity provider");
  });
});

describe("gatehouse secret generate", () => {
  const run = (...args: string[]) => gatehouse(["secret", "generate", ...args], {}, tmpdir());

  it("prints a 256-bit hex key that SECRET_KEY accepts in production, different on every call", async () => {
    const [a, b] = await Promise.all([run(), run()]);
    const keys = [a.stdout.trim(), b.stdout.trim()];
    for (const key of keys) {
      expect(key).toMatch(/^[0-9a-f]{64}$/);
      expect(secretKeyProblem(key)).toBeNull();
      expect(loadConfig({ NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test", SECRET_KEY: key }).secretKey).toBe(key);
    }
    expect(keys[0]).not.toBe(keys[1]);
  });

  it("--format base64url prints 43 base64url characters (32 bytes)", async () => {
    const key = (await run("--format", "base64url")).stdout.trim();
    expect(key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(key, "base64url")).toHaveLength(32);
    expect(secretKeyProblem(key)).toBeNull();
    expect((await run("--format", "base32")).code).toBe(2);
  });
});

describe("the server reads .env (gatehouse serve)", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "gatehouse-serve-env-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("takes settings from .env, warns about a look-alike variable (did you mean …?), and never logs the file's values", async () => {
    const port = await freePort();
    const key = randomBytes(32).toString("hex");
    writeFileSync(join(dir, ".env"), `PORT=${port}\nSECRET_KEY=${key}\nSESION_IDLE_TIMEOUT=10m\n`, { mode: 0o600 });
    const s = await serve({ NODE_ENV: "test", GATEHOUSE_DATA_DIR: join(dir, "data"), PUBLIC_URL: `http://127.0.0.1:${port}`, GATEHOUSE_UPSTREAM_URL: "http://127.0.0.1:1" }, dir);
    try {
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      const lines = s.output().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
      const warnings = lines.filter((l) => l.level === 40).map((l) => String(l.msg));
      expect(warnings).toContain("SESION_IDLE_TIMEOUT is not a Gatehouse setting and is ignored; did you mean SESSION_IDLE_TIMEOUT?");
      expect(warnings).toContain("GATEHOUSE_UPSTREAM_URL is not a Gatehouse setting and is ignored; did you mean UPSTREAM_URL?");
      expect(lines.some((l) => l.msg === "read settings from the .env file" && l.file === join(dir, ".env"))).toBe(true);
      expect(s.output()).not.toContain(key);
    } finally {
      s.child.kill("SIGTERM");
      await s.exited;
    }
  });

  it("attack: another local user reads SECRET_KEY from a world-readable .env — production refuses to start, naming the file and the fix, not the value", async () => {
    const key = randomBytes(32).toString("hex");
    const envPath = join(dir, ".env");
    writeFileSync(envPath, `NODE_ENV=production\nSECRET_KEY=${key}\nPUBLIC_URL=https://auth.example.test\n`);
    chmodSync(envPath, 0o644);
    const refused = await serve({ GATEHOUSE_DATA_DIR: join(dir, "data2"), PORT: String(await freePort()) }, dir).then(
      () => null,
      (err: { code: number; output: string }) => err,
    );
    expect(refused).not.toBeNull();
    expect(refused!.code).toBe(1);
    expect(refused!.output).toContain(`${envPath} is readable by other users`);
    expect(refused!.output).toContain("chmod 600");
    expect(refused!.output).not.toContain(key);
    // The CLI refuses it the same way.
    const cli = await gatehouse(["user", "list"], { GATEHOUSE_DATA_DIR: join(dir, "data2") }, dir);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain("is readable by other users");
  });
});
