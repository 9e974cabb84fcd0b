import { describe, expect, it } from "vitest";
import { redactValue } from "../../src/config/redact-value.js";
import { allSettings } from "../../src/config/schema.js";
import { editDistance, unknownVariables } from "../../src/config/unknown-variables.js";

const only = (env: Record<string, string>) => unknownVariables(env);

describe("variables that look like Gatehouse settings (computed from the schema)", () => {
  it("the examples: a typo, a GATEHOUSE_ prefix, a new name in a family, lower case", () => {
    expect(only({ SESION_IDLE_TIMEOUT: "10m", GATEHOUSE_UPSTREAM_URL: "http://a", RATE_LIMIT_TOKENS: "1/1h", secret_key: "x" })).toEqual([
      { name: "GATEHOUSE_UPSTREAM_URL", suggestion: "UPSTREAM_URL" },
      { name: "RATE_LIMIT_TOKENS", suggestion: "RATE_LIMIT_TOKEN_CREATE" },
      { name: "SESION_IDLE_TIMEOUT", suggestion: "SESSION_IDLE_TIMEOUT" },
      { name: "secret_key", suggestion: "SECRET_KEY" },
    ]);
  });

  for (const setting of allSettings()) {
    it(`${setting.env}: known as is; a dropped letter and a swapped pair are caught with it as the suggestion`, () => {
      expect(only({ [setting.env]: "x" })).toEqual([]);
      const i = Math.floor(setting.env.length / 2);
      const dropped = setting.env.slice(0, i) + setting.env.slice(i + 1);
      const swapped = setting.env.slice(0, i - 1) + setting.env[i] + setting.env[i - 1] + setting.env.slice(i + 1);
      for (const typo of [dropped, swapped]) {
        if (allSettings().some((s) => s.env === typo) || typo === setting.env) continue;
        expect(only({ [typo]: "x" }), typo).toEqual([{ name: typo, suggestion: setting.env }]);
      }
      if (!setting.env.startsWith("GATEHOUSE_")) expect(only({ [`GATEHOUSE_${setting.env}`]: "x" })).toEqual([{ name: `GATEHOUSE_${setting.env}`, suggestion: setting.env }]);
      if (setting.fromFile) expect(only({ [`${setting.env}_FILE`]: "/run/secrets/x" })).toEqual([]);
    });
  }

  it("ignores the usual shell, Node, npm, CI and container variables, and the test suite's own", () => {
    const env = {
      PATH: "/usr/bin", HOME: "/root", USER: "gh", SHELL: "/bin/sh", PWD: "/srv", HOSTNAME: "box", LANG: "C.UTF-8", TERM: "xterm", TZ: "UTC",
      NODE_OPTIONS: "--max-old-space-size=512", NODE_EXTRA_CA_CERTS: "/ca.pem", UV_THREADPOOL_SIZE: "4", npm_config_cache: "/tmp", npm_lifecycle_event: "start",
      CI: "true", GITHUB_ACTIONS: "true", LC_ALL: "C", KUBERNETES_SERVICE_HOST: "10.0.0.1", GATEHOUSE_TEST_PG_URL: "postgres://x", GATEHOUSE_ENV_FILE: "/etc/gh.env",
      JAVA_HOME: "/opt/java", EDITOR: "vi",
    };
    expect(only(env)).toEqual([]);
  });

  it("edit distance counts an adjacent swap as one edit", () => {
    expect(editDistance("PORT", "PROT")).toBe(1);
    expect(editDistance("SESSION", "SESION")).toBe(1);
    expect(editDistance("", "ABC")).toBe(3);
  });
});

describe("redactValue (config print, doctor)", () => {
  it("connection URLs keep where, never who: credentials and unknown query values become ***", () => {
    expect(redactValue("postgres://gh:s3cr3t@db.internal:5432/gatehouse?sslmode=verify-full&password=p2")).toBe("postgres://***@db.internal:5432/gatehouse?sslmode=verify-full&password=***");
    expect(redactValue("redis://:s3cr3t@redis:6379/0")).toBe("redis://***@redis:6379/0");
    expect(redactValue("smtps://mailer:p%40ss@mail.example.com:465")).toBe("smtps://***@mail.example.com:465");
    expect(redactValue("smtp://127.0.0.1:25?ignoreTLS=true")).toBe("smtp://127.0.0.1:25?ignoreTLS=true");
  });

  it("http(s) URLs (webhooks with a token in the path or query) keep only their origin", () => {
    expect(redactValue("https://hooks.example.com/services/T000/B000/XXXX?token=abc")).toBe("https://hooks.example.com/***");
    expect(redactValue("https://user:pw@hooks.example.com/")).toBe("https://hooks.example.com/***");
  });

  it("anything else is ***; an SQLite path is shown; empty stays empty", () => {
    expect(redactValue("3f9a1c0e5b7d2468ace13579bdf02468")).toBe("***");
    expect(redactValue("correct horse battery staple")).toBe("***");
    expect(redactValue("sqlite:/var/lib/gatehouse/gh.db")).toBe("sqlite:/var/lib/gatehouse/gh.db");
    expect(redactValue("")).toBe("");
  });
});
