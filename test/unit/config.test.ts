import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config/load-config.js";

const GOOD_KEY = "3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf0246813579bdf02468ace";
const PROD = { NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test", SECRET_KEY: GOOD_KEY };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-config-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** loadConfig with a private data dir, so nothing is ever written to ./.data. */
function load(env: Record<string, string>) {
  return loadConfig({ GATEHOUSE_DATA_DIR: dir, ...env });
}

/** The ConfigError thrown for `env` (fails the test when none is thrown). */
function problemsOf(env: Record<string, string>): ConfigError {
  try {
    load(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${Object.keys(env).join(", ")}`);
}

describe("loadConfig defaults", () => {
  it("listens on 127.0.0.1:8080, serves http://localhost:8080 and uses SQLite in ./.data", () => {
    const config = loadConfig({ SECRET_KEY: GOOD_KEY });
    expect(config).toMatchObject({
      env: "development",
      port: 8080,
      host: "127.0.0.1",
      publicUrl: "http://localhost:8080",
      secure: false,
      databaseUrl: null,
      redisUrl: null,
      dataDir: resolve("./.data"),
      trustedProxies: [],
      passwordMinLength: 12,
      admin: null,
      secretKeySource: "env",
    });
    expect(config.sessions).toEqual({ idleMs: 1_800_000, absoluteMs: 43_200_000, rememberMs: 2_592_000_000, touchIntervalMs: 60_000, maxPerUser: 10, adminIdleMs: 900_000, sudoMs: 600_000 });
  });

  it("derives the default PUBLIC_URL from PORT", () => {
    expect(load({ SECRET_KEY: GOOD_KEY, PORT: "9090" }).publicUrl).toBe("http://localhost:9090");
  });

  it("accepts a complete production configuration", () => {
    const config = load(PROD);
    expect(config).toMatchObject({ env: "production", publicUrl: "https://auth.example.test", secure: true, secretKey: GOOD_KEY });
  });
});

describe("loadConfig problems", () => {
  it("reports every problem at once", () => {
    const err = problemsOf({ SECRET_KEY: GOOD_KEY, PORT: "eighty", SESSION_IDLE_TIMEOUT: "abc", PASSWORD_MIN_LENGTH: "7" });
    expect(err.problems).toHaveLength(3);
    for (const name of ["PORT", "SESSION_IDLE_TIMEOUT", "PASSWORD_MIN_LENGTH"]) {
      expect(err.problems.some((p) => p.startsWith(name))).toBe(true);
      expect(err.message).toContain(name);
    }
  });

  it("refuses production without SECRET_KEY with a clear message", () => {
    const err = problemsOf({ NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test" });
    expect(err.problems).toEqual([expect.stringMatching(/SECRET_KEY is required in production/)]);
    expect(err.message).toMatch(/openssl rand/);
  });

  const weakKeys: [string, string][] = [
    ["31 bytes", randomBytes(16).toString("hex").slice(0, 31)],
    ["changeme", "changeme"],
    ["32 repeated characters", "x".repeat(32)],
    ["a documented example", "0123456789abcdef0123456789abcdef"],
  ];
  describe.each(["production", "development"])("in %s", (nodeEnv) => {
    it.each(weakKeys)("refuses a weak SECRET_KEY (%s)", (_label, key) => {
      const err = problemsOf({ ...PROD, NODE_ENV: nodeEnv, SECRET_KEY: key });
      expect(err.problems).toHaveLength(1);
      expect(err.problems[0]).toMatch(/^SECRET_KEY /);
      expect(err.message).not.toContain(key);
    });

    it("accepts a strong SECRET_KEY", () => {
      expect(load({ ...PROD, NODE_ENV: nodeEnv }).secretKey).toBe(GOOD_KEY);
    });
  });

  it("refuses an http PUBLIC_URL in production", () => {
    const err = problemsOf({ ...PROD, PUBLIC_URL: "http://auth.example.test" });
    expect(err.problems).toEqual([expect.stringMatching(/^PUBLIC_URL must be https in production/)]);
  });

  it("refuses NODE_TLS_REJECT_UNAUTHORIZED=0 in any environment", () => {
    for (const env of [PROD, { SECRET_KEY: GOOD_KEY }]) {
      const err = problemsOf({ ...env, NODE_TLS_REJECT_UNAUTHORIZED: "0" });
      expect(err.problems).toEqual([expect.stringMatching(/NODE_TLS_REJECT_UNAUTHORIZED/)]);
    }
  });

  it("never puts a secret value into an error message", () => {
    const secrets = {
      SECRET_KEY: "hunter2-Sup3rS3cret",
      GATEHOUSE_ADMIN_PASSWORD: "admin-Pa55word-value",
      DATABASE_URL: "mysql://root:DbPa55word@db.internal/app",
      PUBLIC_URL: "https://ops:UrlPa55word@auth.example.test",
    };
    const err = problemsOf({ NODE_ENV: "production", ...secrets });
    expect(err.problems.length).toBeGreaterThanOrEqual(4);
    for (const leak of ["hunter2-Sup3rS3cret", "admin-Pa55word-value", "DbPa55word", "UrlPa55word"]) {
      expect(err.message).not.toContain(leak);
      expect(JSON.stringify(err.problems)).not.toContain(leak);
    }
  });
});

describe("secret key sources", () => {
  it("generates a development secret into <dataDir>/secret.key (mode 0600) and reuses it", () => {
    const first = load({});
    const file = join(dir, "secret.key");
    expect(first.secretKeySource).toBe("generated");
    expect(first.secretKey).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(file, "utf8").trim()).toBe(first.secretKey);
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const second = load({});
    expect(second.secretKey).toBe(first.secretKey);
    expect(second.secretKeySource).toBe("file");
  });

  it("never generates a secret in production", () => {
    problemsOf({ NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test" });
    expect(() => statSync(join(dir, "secret.key"))).toThrow();
  });

  it("reads SECRET_KEY_FILE (trimmed)", () => {
    const file = join(dir, "key.txt");
    writeFileSync(file, `${GOOD_KEY}\n`);
    const config = load({ ...PROD, SECRET_KEY: "", SECRET_KEY_FILE: file });
    expect(config.secretKey).toBe(GOOD_KEY);
    expect(config.secretKeySource).toBe("file");
  });

  it("checks the strength of a key read from SECRET_KEY_FILE", () => {
    const file = join(dir, "weak.txt");
    writeFileSync(file, "changeme\n");
    const err = problemsOf({ ...PROD, SECRET_KEY: "", SECRET_KEY_FILE: file });
    expect(err.problems).toEqual([expect.stringMatching(/^SECRET_KEY /)]);
  });

  it("refuses a SECRET_KEY_FILE that cannot be read", () => {
    const err = problemsOf({ ...PROD, SECRET_KEY: "", SECRET_KEY_FILE: join(dir, "missing") });
    expect(err.problems).toContainEqual(expect.stringMatching(/^SECRET_KEY_FILE: cannot read/));
  });

  it("refuses SECRET_KEY and SECRET_KEY_FILE together", () => {
    const file = join(dir, "key.txt");
    writeFileSync(file, GOOD_KEY);
    const err = problemsOf({ ...PROD, SECRET_KEY_FILE: file });
    expect(err.problems).toContainEqual(expect.stringMatching(/either SECRET_KEY or SECRET_KEY_FILE/));
    expect(err.message).not.toContain(GOOD_KEY);
  });
});

describe("value parsing", () => {
  const base = { SECRET_KEY: GOOD_KEY };

  it("parses durations", () => {
    expect(load({ ...base, SESSION_IDLE_TIMEOUT: "15m" }).sessions.idleMs).toBe(900_000);
    expect(load({ ...base, SESSION_ABSOLUTE_LIFETIME: "8h" }).sessions.absoluteMs).toBe(28_800_000);
    expect(load({ ...base, SESSION_REMEMBER_LIFETIME: "7d" }).sessions.rememberMs).toBe(604_800_000);
    expect(load({ ...base, SESSION_IDLE_TIMEOUT: "120" }).sessions.idleMs).toBe(120_000);
  });

  it.each(["abc", "15 minutes", "1.5h", "-5m", "m"])("refuses the duration %j", (raw) => {
    expect(problemsOf({ ...base, SESSION_IDLE_TIMEOUT: raw }).problems).toEqual([expect.stringMatching(/^SESSION_IDLE_TIMEOUT must be a duration/)]);
  });

  it("refuses an idle timeout longer than the absolute lifetime, and remember-me over 30 days", () => {
    expect(problemsOf({ ...base, SESSION_IDLE_TIMEOUT: "13h" }).problems).toHaveLength(1);
    expect(problemsOf({ ...base, SESSION_REMEMBER_LIFETIME: "31d" }).problems).toHaveLength(1);
  });

  it("accepts PASSWORD_MIN_LENGTH from 8 to 64 only", () => {
    expect(load({ ...base, PASSWORD_MIN_LENGTH: "8" }).passwordMinLength).toBe(8);
    expect(load({ ...base, PASSWORD_MIN_LENGTH: "64" }).passwordMinLength).toBe(64);
    for (const raw of ["7", "65", "twelve"]) {
      expect(problemsOf({ ...base, PASSWORD_MIN_LENGTH: raw }).problems).toEqual([expect.stringMatching(/^PASSWORD_MIN_LENGTH/)]);
    }
  });

  it("parses TRUSTED_PROXIES as a trimmed list of IPs and CIDRs", () => {
    expect(load({ ...base, TRUSTED_PROXIES: "10.0.0.0/8, ::1" }).trustedProxies).toEqual(["10.0.0.0/8", "::1"]);
    expect(load({ ...base, TRUSTED_PROXIES: "192.168.1.10,fd00::/8" }).trustedProxies).toEqual(["192.168.1.10", "fd00::/8"]);
  });

  it.each(["0.0.0.0/0", "::/0", "nonsense", "10.0.0.0/33", "256.1.1.1", "10.0.0.0/8/1"])("refuses TRUSTED_PROXIES=%j", (raw) => {
    expect(problemsOf({ ...base, TRUSTED_PROXIES: raw }).problems).toEqual([expect.stringMatching(/^TRUSTED_PROXIES/)]);
  });

  it("accepts postgres URLs and refuses other databases", () => {
    expect(load({ ...base, DATABASE_URL: "postgres://u@db/x" }).databaseUrl).toBe("postgres://u@db/x");
    expect(load({ ...base, DATABASE_URL: "postgresql://u@db/x" }).databaseUrl).toBe("postgresql://u@db/x");
    expect(problemsOf({ ...base, DATABASE_URL: "mysql://x" }).problems).toEqual([expect.stringMatching(/^DATABASE_URL/)]);
  });

  it("normalizes PUBLIC_URL to its origin and refuses paths", () => {
    expect(load({ ...base, PUBLIC_URL: "https://Auth.Example.test/" }).publicUrl).toBe("https://auth.example.test");
    expect(problemsOf({ ...base, PUBLIC_URL: "https://auth.example.test/app" }).problems).toHaveLength(1);
    expect(problemsOf({ ...base, PUBLIC_URL: "ftp://auth.example.test" }).problems).toHaveLength(1);
  });
});

describe("the loaded config is frozen", () => {
  it("no module can write into it, at any depth (assignment throws in strict mode)", () => {
    const config = load({ NODE_ENV: "test" });
    expect(Object.isFrozen(config)).toBe(true);
    const writable = config as unknown as { port: number; sessions: { idleMs: number }; registration: { emailDomains: string[] } };
    expect(() => {
      writable.port = 1;
    }).toThrow(TypeError);
    expect(() => {
      writable.sessions.idleMs = 1;
    }).toThrow(TypeError);
    expect(() => writable.registration.emailDomains.push("evil.test")).toThrow(TypeError);
    expect(config.sessions.idleMs).toBe(30 * 60_000);
  });
});
