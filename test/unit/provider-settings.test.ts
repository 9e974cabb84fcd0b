import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load-config.js";
import { parseRulesFile, RulesFileError } from "../../src/gateway/parse-rules-file.js";
import { loadProviders, ProviderConfigError } from "../../src/oauth/load-providers.js";
import { parseProvidersFile } from "../../src/oauth/parse-providers-file.js";
import { providerSettingsFrom, type RawProvider } from "../../src/oauth/provider-settings-from.js";

const KEY = "3f9a1c0e5b7d2468ace13579bdf02468ace13579bdf0246813579bdf02468ace";
/** The client secret every case uses: no problem may ever contain it. */
const SECRET = `cnrysecret${randomBytes(12).toString("hex")}`;
const ENV = { CORP_SECRET: SECRET, EMPTY_SECRET: "" };

let dir: string;
let secretFile: string;
let caFile: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "gatehouse-providers-"));
  secretFile = join(dir, "corp-secret");
  writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  caFile = join(dir, "ca.pem");
  writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every message anyone could see: none holds the secret. */
function expectNoSecret(problems: readonly string[]): void {
  for (const p of problems) expect(p).not.toContain(SECRET);
}

/** One entry through providerSettingsFrom: the settings, or the problems. */
function settings(raw: RawProvider, env: NodeJS.ProcessEnv = ENV) {
  const problems: string[] = [];
  const result = providerSettingsFrom(raw, "line 9 (identity provider)", env, problems);
  expectNoSecret(problems);
  return { result, problems };
}

/** The problems of a rules file (fails when the file is accepted). */
function refusal(text: string, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseProvidersFile(text, env);
  } catch (err) {
    expect(err).toBeInstanceOf(RulesFileError);
    const problems = (err as RulesFileError).problems;
    expectNoSecret(problems);
    expectNoSecret([(err as Error).message]);
    return problems;
  }
  throw new Error("expected the providers to be refused");
}

/** A file whose first (good) provider is on lines 2–5 and whose second starts on line 6 with `lines`. */
const GOOD_FIRST = "identity_providers:\n  - id: good\n    type: google\n    client_id: good-client\n    client_secret_env: CORP_SECRET\n";
const secondEntry = (lines: string[]) => `${GOOD_FIRST}  - ${lines.join("\n    ")}\n`;
const corp = (...extra: string[]) => ["id: corp", "type: oidc", "issuer: https://sso.example.com", "client_id: gatehouse", ...extra];

describe("provider settings: defaults per type", () => {
  it("google: id, name, issuer and scopes filled in; nothing else turned on", () => {
    const { result, problems } = settings({ type: "google", client_id: "g-client", client_secret_env: "CORP_SECRET" });
    expect(problems).toEqual([]);
    expect(result).toEqual({
      id: "google",
      type: "google",
      name: "Google",
      issuer: "https://accounts.google.com",
      clientId: "g-client",
      clientSecret: SECRET,
      scopes: ["openid", "email", "profile"],
      enabled: true,
      autoLink: false,
      emailDomains: [],
      secondFactor: "admins",
      roles: null,
      caFile: null,
      privateNetwork: false,
      github: null,
    });
  });

  it("google: the issuer is fixed (an issuer is refused)", () => {
    const { result, problems } = settings({ type: "google", issuer: "https://accounts.google.com", client_id: "g", client_secret_env: "CORP_SECRET" });
    expect(result).toBeNull();
    expect(problems).toEqual([expect.stringContaining("Google's issuer is fixed")]);
  });

  it("github: github.com endpoints and API, GitHub's scopes", () => {
    const { result } = settings({ type: "github", client_id: "gh", client_secret_env: "CORP_SECRET" });
    expect(result).toMatchObject({
      id: "github",
      name: "GitHub",
      issuer: "https://github.com",
      scopes: ["read:user", "user:email"],
      github: { authorizationEndpoint: "https://github.com/login/oauth/authorize", tokenEndpoint: "https://github.com/login/oauth/access_token", apiUrl: "https://api.github.com" },
    });
  });

  it("github: GitHub Enterprise endpoints derived from the issuer (API under /api/v3); explicit endpoints win", () => {
    const ghe = settings({ type: "github", id: "ghe", issuer: "https://ghe.example.com/", client_id: "gh", client_secret_env: "CORP_SECRET" }).result;
    expect(ghe).toMatchObject({
      issuer: "https://ghe.example.com/",
      github: { authorizationEndpoint: "https://ghe.example.com/login/oauth/authorize", tokenEndpoint: "https://ghe.example.com/login/oauth/access_token", apiUrl: "https://ghe.example.com/api/v3" },
    });
    const explicit = settings({ type: "github", issuer: "https://ghe.example.com", api_url: "https://api.ghe.example.com", token_endpoint: "https://t.ghe.example.com/token", client_id: "gh", client_secret_env: "CORP_SECRET" }).result;
    expect(explicit?.github).toEqual({ authorizationEndpoint: "https://ghe.example.com/login/oauth/authorize", tokenEndpoint: "https://t.ghe.example.com/token", apiUrl: "https://api.ghe.example.com" });
  });

  it("oidc: the issuer is required; given, it is kept exactly as written (a trailing slash kept: discovery compares it character for character)", () => {
    expect(settings({ type: "oidc", client_id: "c", client_secret_env: "CORP_SECRET" }).problems).toEqual([expect.stringContaining("`issuer` is required")]);
    const { result } = settings({ type: "oidc", issuer: "https://sso.example.com/realms/corp/", client_id: "c", client_secret_env: "CORP_SECRET" });
    expect(result).toMatchObject({ id: "oidc", name: "single sign-on", issuer: "https://sso.example.com/realms/corp/", scopes: ["openid", "email", "profile"], github: null });
  });

  it("every setting as written: scopes, switches, domains, second factor, roles, CA file, private network", () => {
    const { result, problems } = settings({
      id: "corp",
      type: "oidc",
      name: "Corp SSO",
      issuer: "https://sso.example.com",
      client_id: "gatehouse",
      client_secret_file: secretFile,
      scopes: ["openid", "email", "groups"],
      enabled: false,
      auto_link: true,
      email_domains: ["Example.com"],
      second_factor: "always",
      roles: { claim: "groups", map: { "gatehouse-admins": "admin", staff: "user" } },
      ca_file: caFile,
      private_network: "on",
    });
    expect(problems).toEqual([]);
    expect(result).toMatchObject({
      id: "corp",
      name: "Corp SSO",
      clientSecret: SECRET,
      scopes: ["openid", "email", "groups"],
      enabled: false,
      autoLink: true,
      emailDomains: ["example.com"],
      secondFactor: "always",
      roles: { claim: "groups", map: { "gatehouse-admins": "admin", staff: "user" } },
      caFile,
      privateNetwork: true,
    });
  });

  it("client_secret_env is read from the environment given, not from process.env", () => {
    process.env.GATEHOUSE_TEST_ONLY_IN_PROCESS_ENV = "from-process-env";
    try {
      expect(settings({ type: "google", client_id: "g", client_secret_env: "CORP_SECRET" }, { CORP_SECRET: "from-the-given-env" }).result?.clientSecret).toBe("from-the-given-env");
      expect(settings({ type: "google", client_id: "g", client_secret_env: "GATEHOUSE_TEST_ONLY_IN_PROCESS_ENV" }, {}).problems).toEqual([expect.stringContaining("the client secret is empty")]);
    } finally {
      delete process.env.GATEHOUSE_TEST_ONLY_IN_PROCESS_ENV;
    }
  });
});

describe("provider settings: every refusal names its line and never the secret", () => {
  const cases: [string, string[], RegExp][] = [
    ["an unknown key", corp("client_secret_env: CORP_SECRET", "tenant: corp"), /unknown key `tenant`/],
    ["a bad id (upper case, punctuation)", ["id: Corp!", "type: oidc", "issuer: https://sso.example.com", "client_id: gatehouse", "client_secret_env: CORP_SECRET"], /`id` must be 1 to 32 lower-case/],
    ["an id longer than 32 characters", [`id: ${"a".repeat(33)}`, "type: google", "client_id: g", "client_secret_env: CORP_SECRET"], /`id` must be 1 to 32/],
    ["an unknown type", ["id: corp", "type: saml", "client_id: g", "client_secret_env: CORP_SECRET"], /`type` must be one of oidc, google, github/],
    ["an http issuer", ["id: corp", "type: oidc", "issuer: http://sso.example.com", "client_id: gatehouse", "client_secret_env: CORP_SECRET"], /`issuer` must be an https URL/],
    ["an issuer with a query", ["id: corp", "type: oidc", "issuer: https://sso.example.com/?tenant=1", "client_id: gatehouse", "client_secret_env: CORP_SECRET"], /`issuer` must be an https URL without credentials, query or fragment/],
    ["an issuer with credentials", ["id: corp", "type: oidc", "issuer: https://admin:hunter2@sso.example.com", "client_id: gatehouse", "client_secret_env: CORP_SECRET"], /`issuer` must be an https URL without credentials/],
    ["no client_id", ["id: corp", "type: oidc", "issuer: https://sso.example.com", "client_secret_env: CORP_SECRET"], /`client_id` is required/],
    ["both client_secret_file and client_secret_env", corp("client_secret_env: CORP_SECRET", "client_secret_file: /run/secrets/corp"), /set exactly one of `client_secret_file` or `client_secret_env`/],
    ["neither client_secret_file nor client_secret_env", corp(), /set exactly one of `client_secret_file` or `client_secret_env`/],
    ["an unreadable secret file", corp("client_secret_file: /nonexistent/gatehouse/corp-secret"), /cannot read `client_secret_file` \/nonexistent\/gatehouse\/corp-secret \(ENOENT\)/],
    ["an empty secret", corp("client_secret_env: EMPTY_SECRET"), /the client secret is empty/],
    ["a secret variable that is not set", corp("client_secret_env: NOT_SET_ANYWHERE"), /the client secret is empty/],
    ["a client_secret_env that is not a variable name", corp("client_secret_env: not a name"), /`client_secret_env` must name an environment variable/],
    ["oidc scopes without openid", corp("client_secret_env: CORP_SECRET", "scopes: [email, profile]"), /`scopes` must include openid/],
    ["a bad second_factor", corp("client_secret_env: CORP_SECRET", "second_factor: sometimes"), /`second_factor` must be one of admins, always, never/],
    ["an endpoint on a non-github type", corp("client_secret_env: CORP_SECRET", "token_endpoint: https://sso.example.com/token"), /`token_endpoint` is only for type github/],
    ["api_url on google", ["id: g2", "type: google", "client_id: g", "client_secret_env: CORP_SECRET", "api_url: https://api.example.com"], /`api_url` is only for type github/],
    ["an unreadable ca_file", corp("client_secret_env: CORP_SECRET", "ca_file: /nonexistent/gatehouse/ca.pem"), /cannot read `ca_file` \/nonexistent\/gatehouse\/ca\.pem \(ENOENT\)/],
    ["enabled that is not a boolean", corp("client_secret_env: CORP_SECRET", "enabled: maybe"), /`enabled` must be true or false/],
    ["roles without a claim", corp("client_secret_env: CORP_SECRET", "roles: {map: {staff: user}}"), /`roles` must be \{claim/],
  ];
  for (const [what, lines, message] of cases) {
    it(`${what}: refused at line 6`, () => {
      const problems = refusal(secondEntry(lines));
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(p).toMatch(/^line 6 \(identity provider\): /);
      expect(problems.join("\n")).toMatch(message);
    });
  }

  it("attack: a provider claim that would make superadmins — roles.map to superadmin is refused", () => {
    const problems = refusal(secondEntry(corp("client_secret_env: CORP_SECRET", "roles:", "  claim: groups", "  map:", "    gatehouse-admins: admin", "    root: superadmin")));
    expect(problems).toEqual(["line 6 (identity provider): `roles.map` cannot grant superadmin (a provider maps to user or admin at most)"]);
    // Any other role name is refused as well (the claim can only ever give user or admin).
    expect(refusal(secondEntry(corp("client_secret_env: CORP_SECRET", "roles: {claim: groups, map: {root: owner}}")))).toEqual([
      "line 6 (identity provider): `roles.map` values must be user or admin",
    ]);
  });

  it("attack: a secret written inline in the rules file is refused and never echoed", () => {
    const problems = refusal(secondEntry(corp(`client_secret: ${SECRET}`)));
    expect(problems.join("\n")).toMatch(/unknown key `client_secret`/);
    expect(problems.join("\n")).toMatch(/set exactly one of `client_secret_file` or `client_secret_env`/);
  });

  it("a duplicate id: refused at the second entry's line", () => {
    const text = `${GOOD_FIRST}  - id: good\n    type: github\n    client_id: gh\n    client_secret_env: CORP_SECRET\n`;
    expect(refusal(text)).toEqual(["line 6 (identity provider): the id `good` is used twice (each provider needs its own callback URL)"]);
  });

  it("an entry that is not a mapping, and a section that is not a list", () => {
    expect(refusal(`${GOOD_FIRST}  - just-a-string\n`)).toEqual([expect.stringMatching(/^line 6 \(identity provider\): each identity provider is a mapping/)]);
    expect(refusal("identity_providers:\n  corp: {type: google}\n")).toEqual([expect.stringMatching(/^line 2: `identity_providers` must be a list/)]);
  });

  it("every problem of the file at once, each with its own line", () => {
    const text = `identity_providers:\n  - type: oidc\n    client_id: a\n    client_secret_env: CORP_SECRET\n  - type: google\n    client_id: b\n    client_secret_env: EMPTY_SECRET\n`;
    expect(refusal(text)).toEqual([expect.stringMatching(/^line 2 \(identity provider\): `issuer` is required/), "line 5 (identity provider): the client secret is empty"]);
  });

  it("a secret problem of one entry does not hide an empty secret in another", () => {
    const text = `identity_providers:\n  - type: google\n    client_id: a\n    client_secret_env: "not a name"\n  - type: github\n    client_id: b\n    client_secret_env: EMPTY_SECRET\n`;
    expect(refusal(text)).toEqual([expect.stringMatching(/^line 2 .*must name an environment variable/), "line 5 (identity provider): the client secret is empty"]);
  });

  it("the secret from a file is trimmed and used", () => {
    const [p] = parseProvidersFile(`identity_providers:\n  - type: google\n    client_id: g\n    client_secret_file: ${secretFile}\n`, {});
    expect(p?.clientSecret).toBe(SECRET);
  });
});

describe("a rules file with only identity_providers", () => {
  const text = "identity_providers:\n  - id: corp\n    type: oidc\n    issuer: https://sso.example.com\n    client_id: gatehouse\n    client_secret_env: CORP_SECRET\n";

  it("is accepted by the access rules parser (no rules, default deny) and by the providers parser", () => {
    const rules = parseRulesFile(text);
    expect(rules.rules).toEqual([]);
    expect(parseProvidersFile(text, ENV)).toEqual([expect.objectContaining({ id: "corp", issuer: "https://sso.example.com", clientSecret: SECRET })]);
  });

  it("a file with neither section is still refused by the rules parser; the providers parser sees no providers", () => {
    expect(() => parseRulesFile("upstreams: {}\n")).toThrow(/`access_control` is missing/);
    expect(parseProvidersFile("access_control:\n  default_policy: deny\n", ENV)).toEqual([]);
  });
});

describe("loadProviders: the OAUTH_* variables and the rules file together", () => {
  /** loadConfig + loadProviders as the start does, with `fileEnv` as the environment the rules file's secrets come from. */
  function load(env: Record<string, string>, rules?: string) {
    const cwd = mkdtempSync(join(dir, "load-"));
    const full: Record<string, string> = { GATEHOUSE_DATA_DIR: join(cwd, "data"), SECRET_KEY: KEY, ...env };
    if (rules !== undefined) {
      full.GATEHOUSE_CONFIG = join(cwd, "rules.yml");
      writeFileSync(full.GATEHOUSE_CONFIG, rules);
    }
    return loadProviders(loadConfig(full), full);
  }
  function refused(env: Record<string, string>, rules?: string): string[] {
    try {
      load(env, rules);
    } catch (err) {
      expect(err).toBeInstanceOf(ProviderConfigError);
      const e = err as ProviderConfigError;
      expectNoSecret([...e.problems, e.message]);
      return e.problems;
    }
    throw new Error("expected a ProviderConfigError");
  }

  it("OAUTH_PROVIDER builds one provider whose id is its type", () => {
    const providers = load({ OAUTH_PROVIDER: "oidc", OAUTH_ISSUER: "https://sso.example.com/", OAUTH_CLIENT_ID: "gatehouse", OAUTH_CLIENT_SECRET: SECRET, OAUTH_NAME: "Corp SSO", OAUTH_SCOPES: "openid email groups", OAUTH_AUTO_LINK: "true", OAUTH_EMAIL_DOMAINS: "example.com", OAUTH_SECOND_FACTOR: "never", OAUTH_PRIVATE_NETWORK: "true" });
    expect(providers).toEqual([
      expect.objectContaining({ id: "oidc", type: "oidc", name: "Corp SSO", issuer: "https://sso.example.com/", clientId: "gatehouse", clientSecret: SECRET, scopes: ["openid", "email", "groups"], autoLink: true, emailDomains: ["example.com"], secondFactor: "never", privateNetwork: true, enabled: true }),
    ]);
    expect(load({ OAUTH_PROVIDER: "github", OAUTH_CLIENT_ID: "gh", OAUTH_CLIENT_SECRET: SECRET })).toEqual([expect.objectContaining({ id: "github", issuer: "https://github.com" })]);
  });

  it("OAUTH_CLIENT_SECRET_FILE gives the secret", () => {
    expect(load({ OAUTH_PROVIDER: "google", OAUTH_CLIENT_ID: "g", OAUTH_CLIENT_SECRET_FILE: secretFile })).toEqual([expect.objectContaining({ id: "google", clientSecret: SECRET })]);
  });

  it("OAUTH_* problems are named after the variables, without the secret", () => {
    expect(refused({ OAUTH_PROVIDER: "oidc", OAUTH_CLIENT_ID: "c", OAUTH_CLIENT_SECRET: SECRET })).toEqual([expect.stringMatching(/^OAUTH_\* variables: `issuer` is required/)]);
    expect(refused({ OAUTH_PROVIDER: "google", OAUTH_CLIENT_ID: "g" })).toEqual(["OAUTH_CLIENT_SECRET (or OAUTH_CLIENT_SECRET_FILE) is required with OAUTH_PROVIDER"]);
    expect(refused({ OAUTH_PROVIDER: "oidc", OAUTH_ISSUER: "http://sso.example.com", OAUTH_CLIENT_ID: "c", OAUTH_CLIENT_SECRET: SECRET, OAUTH_SECOND_FACTOR: "sometimes" })).toEqual([
      expect.stringContaining("`issuer` must be an https URL"),
      expect.stringContaining("`second_factor` must be one of"),
    ]);
  });

  it("an id set both by OAUTH_PROVIDER and the rules file is refused", () => {
    const problems = refused({ OAUTH_PROVIDER: "google", OAUTH_CLIENT_ID: "g", OAUTH_CLIENT_SECRET: SECRET, CORP_SECRET: SECRET }, "identity_providers:\n  - type: google\n    client_id: other\n    client_secret_env: CORP_SECRET\n");
    expect(problems).toEqual([expect.stringMatching(/rules\.yml: the provider id `google` is also set by OAUTH_PROVIDER$/)]);
  });

  it("the rules file's problems carry the file and the line", () => {
    const problems = refused({ CORP_SECRET: SECRET }, "access_control:\n  default_policy: deny\nidentity_providers:\n  - type: oidc\n    issuer: http://sso.example.com\n    client_id: c\n    client_secret_env: CORP_SECRET\n");
    expect(problems).toEqual([expect.stringMatching(/rules\.yml: line 4 \(identity provider\): `issuer` must be an https URL/)]);
  });

  it("the OAUTH_* provider and the rules file's providers load together; client_secret_env reads the environment given", () => {
    const providers = load({ OAUTH_PROVIDER: "github", OAUTH_CLIENT_ID: "gh", OAUTH_CLIENT_SECRET: "gh-secret-value", CORP_SECRET: SECRET }, "identity_providers:\n  - id: corp\n    type: oidc\n    issuer: https://sso.example.com\n    client_id: c\n    client_secret_env: CORP_SECRET\n");
    expect(providers.map((p) => [p.id, p.clientSecret])).toEqual([["github", "gh-secret-value"], ["corp", SECRET]]);
  });

  it("PASSWORD_LOGIN=off without an enabled provider is refused; with one it is accepted", () => {
    expect(refused({ PASSWORD_LOGIN: "off" })).toEqual([expect.stringContaining("PASSWORD_LOGIN=off needs at least one enabled identity provider")]);
    expect(refused({ PASSWORD_LOGIN: "off", CORP_SECRET: SECRET }, "identity_providers:\n  - type: google\n    client_id: g\n    client_secret_env: CORP_SECRET\n    enabled: false\n")).toEqual([
      expect.stringContaining("PASSWORD_LOGIN=off needs at least one enabled identity provider"),
    ]);
    expect(load({ PASSWORD_LOGIN: "off", OAUTH_PROVIDER: "google", OAUTH_CLIENT_ID: "g", OAUTH_CLIENT_SECRET: SECRET })).toHaveLength(1);
    expect(load({ PASSWORD_LOGIN: "off", CORP_SECRET: SECRET }, "identity_providers:\n  - type: google\n    client_id: g\n    client_secret_env: CORP_SECRET\n")).toHaveLength(1);
  });

  it("no provider and passwords on: an empty list", () => {
    expect(load({})).toEqual([]);
    expect(load({}, "access_control:\n  default_policy: deny\n")).toEqual([]);
  });
});
