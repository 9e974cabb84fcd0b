import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defaultHashingCapacity, QUEUE_PER_SLOT } from "../core/passwords/bounded-hasher.js";
import { resolve } from "node:path";
import type { Config } from "./config.js";
import { deepFreeze } from "./deep-freeze.js";
import { describeFsError } from "./env-file.js";
import { settings, type Setting } from "./schema.js";
import { loadOrCreateDevSecret, secretKeyProblem } from "./secret-key.js";
import { derivedKeyringFile, readKeyringFile, type KeyringFile } from "./keyring-file.js";

/** Every problem found in the configuration, reported together. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Values = { [K in keyof typeof settings]: (typeof settings)[K]["default"] };

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];
const MAX_REMEMBER_MS = 30 * 86_400_000;

/**
 * Reads and validates the whole configuration from `env` in one pass. Throws
 * a {@link ConfigError} listing every problem; never includes a secret value
 * in a message. Outside production a missing SECRET_KEY is generated into the
 * data dir and reused on the next start. The result is deeply frozen.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const values = {} as Record<string, unknown>;
  for (const [key, setting] of Object.entries(settings) as [string, Setting<unknown>][]) {
    values[key] = readSetting(setting, env, problems);
  }
  const v = values as Values;

  if (!["production", "development", "test"].includes(v.nodeEnv)) problems.push(`NODE_ENV must be production, development or test`);
  if (!LOG_LEVELS.includes(v.logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const production = v.nodeEnv === "production";
  const publicUrl = v.publicUrl ?? `http://localhost:${v.port}`;
  const secure = publicUrl.startsWith("https:");

  if (env.NODE_TLS_REJECT_UNAUTHORIZED === "0") {
    problems.push("NODE_TLS_REJECT_UNAUTHORIZED=0 disables certificate checks on every outgoing connection; remove it");
  }
  if (v.secretKey !== null) {
    const problem = secretKeyProblem(v.secretKey);
    if (problem) problems.push(problem);
  } else if (production && !problems.some((p) => p.startsWith("SECRET_KEY") || p.includes("SECRET_KEY_FILE"))) {
    problems.push("SECRET_KEY is required in production (at least 32 bytes; generate one with: openssl rand -hex 32)");
  }
  if (production && !secure && !v.allowInsecureHttp) {
    problems.push("PUBLIC_URL must be https in production (set GATEHOUSE_ALLOW_INSECURE_HTTP=true only for a trusted private network)");
  }
  if (v.cookieDomain !== null) {
    const problem = cookieDomainProblem(v.cookieDomain, publicUrl);
    if (problem) problems.push(`COOKIE_DOMAIN ${problem}`);
  }
  if (v.databaseUrl !== null && !/^(postgres|postgresql):\/\//.test(v.databaseUrl) && !v.databaseUrl.startsWith("sqlite:")) {
    problems.push("DATABASE_URL must be a postgres:// URL or sqlite:<path> (leave it unset for SQLite in the data dir)");
  }
  if (v.databaseMigrationUrl !== null) {
    if (!/^(postgres|postgresql):\/\//.test(v.databaseMigrationUrl)) problems.push("DATABASE_MIGRATION_URL must be a postgres:// URL (the schema owner's)");
    else if (v.databaseUrl === null || !/^(postgres|postgresql):\/\//.test(v.databaseUrl)) problems.push("DATABASE_MIGRATION_URL needs DATABASE_URL to be a postgres:// URL too (the runtime role's)");
  }
  if ((v.adminUsername === null) !== (v.adminPassword === null)) {
    problems.push("GATEHOUSE_ADMIN_USERNAME and GATEHOUSE_ADMIN_PASSWORD must be set together");
  }
  if (v.sessionRemember > MAX_REMEMBER_MS) problems.push("SESSION_REMEMBER_LIFETIME must be at most 30d");
  if (v.sessionAbsolute < 5 * 60_000 || v.sessionAbsolute > MAX_REMEMBER_MS) problems.push("SESSION_ABSOLUTE_LIFETIME must be between 5m and 30d");
  if (v.sessionRemember < v.sessionAbsolute) problems.push("SESSION_REMEMBER_LIFETIME must not be shorter than SESSION_ABSOLUTE_LIFETIME");
  if (v.sessionIdle > v.sessionAbsolute) problems.push("SESSION_IDLE_TIMEOUT must not exceed SESSION_ABSOLUTE_LIFETIME");
  if (v.sessionIdle < 60_000) problems.push("SESSION_IDLE_TIMEOUT must be at least 1m");
  if (v.identityJwtTtl < 10_000 || v.identityJwtTtl > 600_000) problems.push("IDENTITY_JWT_TTL must be between 10s and 10m");
  // Metrics are never public by accident: in production, `METRICS=on` needs a token or a listener of its own.
  if (production && v.metrics && v.metricsToken === null && v.metricsPort === null) {
    problems.push("METRICS=on in production needs METRICS_TOKEN (a bearer token the scraper sends) or METRICS_PORT (a separate listener on a private address)");
  }
  if (v.metricsPort !== null && v.metricsPort === v.port && (v.metricsHost ?? v.host) === v.host) problems.push("METRICS_PORT must differ from PORT");
  let keyringFile: KeyringFile | null = null;
  const keyringPath = v.keyringFile === null ? null : resolve(v.keyringFile);
  if (keyringPath !== null) {
    try {
      keyringFile = readKeyringFile(keyringPath);
    } catch (err) {
      problems.push(`KEYRING_FILE: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = resolve(v.dataDir);
  let secretKey = v.secretKey;
  let secretKeySource: Config["secretKeySource"] = env.SECRET_KEY ? "env" : "file";
  if (secretKey === null) {
    const generated = loadOrCreateDevSecret(dataDir);
    secretKey = generated.key;
    secretKeySource = generated.created ? "generated" : "file";
  }

  const keyring = keyringFile ?? derivedKeyringFile(secretKey, new Date(0));

  // Frozen at every depth: nothing writes into the config (runtime-changeable values are the settings service's).
  return deepFreeze<Config>({
    env: v.nodeEnv as Config["env"],
    port: v.port,
    host: v.host,
    publicUrl,
    secure,
    secretKey,
    secretKeySource,
    dataDir,
    keyring: { file: keyringPath, activeId: keyring.active, keys: keyring.keys.map((k) => ({ id: k.id, key: k.key })) },
    databaseUrl: v.databaseUrl,
    databaseMigrationUrl: v.databaseMigrationUrl,
    redisUrl: v.redisUrl,
    admin: v.adminUsername !== null && v.adminPassword !== null ? { username: v.adminUsername, password: v.adminPassword, email: v.adminEmail } : null,
    trustedProxies: v.trustedProxies,
    upstreamUrl: v.upstreamUrl,
    proxy: { pathPrefix: v.proxyPathPrefix, bodyLimit: v.proxyBodyLimit, stripHeaders: v.proxyStripHeaders },
    uploads: { clamdUrl: v.clamdUrl, clamdTimeoutMs: v.clamdTimeout },
    configFile: v.configFile,
    cookieDomain: v.cookieDomain === null ? null : v.cookieDomain.replace(/^\./, "").toLowerCase(),
    smtpUrl: v.smtpUrl,
    mailFrom: v.mailFrom ?? `${v.mailProductName} <no-reply@${new URL(publicUrl).hostname}>`,
    mailProductName: v.mailProductName,
    logLevel: v.logLevel as Config["logLevel"],
    accessLog: v.accessLog,
    shutdownTimeoutMs: v.shutdownTimeout,
    passwordMinLength: v.passwordMinLength,
    sessions: {
      idleMs: v.sessionIdle,
      absoluteMs: v.sessionAbsolute,
      rememberMs: v.sessionRemember,
      touchIntervalMs: 60_000,
      maxPerUser: v.sessionMaxPerUser,
      adminIdleMs: Math.min(v.sessionIdle, 15 * 60_000),
      sudoMs: 10 * 60_000,
    },
    bodyLimit: v.bodyLimit,
    protection: {
      routes: {
        login: v.rateLimitLogin,
        register: v.rateLimitRegister,
        forgotPassword: v.rateLimitForgotPassword,
        accountDelete: v.rateLimitAccountDelete,
        tokenCreate: v.rateLimitTokenCreate,
        api: v.rateLimitApi,
      },
      ipFailures: { max: v.ipFailureLimit, blockMs: v.ipBlock },
      accountFailures: { delayFrom: 6, capMs: 15 * 60_000, lockAt: v.accountLockAt, ttlMs: 30 * 86_400_000 },
      bans: { trips: v.autoBanTrips === 0 ? Number.POSITIVE_INFINITY : v.autoBanTrips, windowMs: v.autoBanWindow, banMs: v.autoBanDuration },
      failureTtlMs: 24 * 3_600_000,
      ipv6PrefixLength: v.ipv6PrefixLength,
    },
    hashing: (() => {
      const defaults = defaultHashingCapacity(Number(env.UV_THREADPOOL_SIZE ?? 4) || 4, availableParallelism());
      const inFlight = v.hashConcurrency ?? defaults.maxInFlight;
      return { maxInFlight: inFlight, maxQueue: v.hashQueue ?? inFlight * QUEUE_PER_SLOT };
    })(),
    metrics: { enabled: v.metrics, token: v.metricsToken, port: v.metricsPort, host: v.metricsHost ?? v.host },
    auditRetentionMs: v.auditRetention,
    alertWebhookUrl: v.alertWebhookUrl,
    registration: { mode: v.registration, emailDomains: v.registrationEmailDomains },
    mfa: { requirement: v.mfaRequired, graceMs: v.mfaGracePeriod },
    signInMethods: { password: v.passwordLogin, envProvider: envProvider(v) },
    identityJwt: { enabled: v.identityJwt, header: v.identityJwtHeader, ttlMs: v.identityJwtTtl, alg: v.identityJwtAlg },
  });
}

/** The `OAUTH_*` provider in the rules file's shape (its secret under `client_secret`, resolved from the variable or its file), or null. */
function envProvider(v: Values): Record<string, string | boolean> | null {
  if (v.oauthProvider === null) return null;
  const raw: Record<string, string | boolean> = { type: v.oauthProvider, auto_link: v.oauthAutoLink, private_network: v.oauthPrivateNetwork, second_factor: v.oauthSecondFactor };
  const optional: [string, string | null][] = [
    ["name", v.oauthName], ["issuer", v.oauthIssuer], ["client_id", v.oauthClientId], ["client_secret", v.oauthClientSecret],
    ["scopes", v.oauthScopes], ["email_domains", v.oauthEmailDomains], ["ca_file", v.oauthCaFile],
  ];
  for (const [key, value] of optional) if (value !== null) raw[key] = value;
  return raw;
}

/** Why a COOKIE_DOMAIN cannot carry the SSO cookie for this PUBLIC_URL, or null. */
function cookieDomainProblem(raw: string, publicUrl: string): string | null {
  const domain = raw.replace(/^\./, "").toLowerCase();
  const labels = domain.split(".");
  if (labels.length < 2 || !labels.every((l) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(l))) return "must be a parent domain such as .example.com";
  if (!publicUrl.startsWith("https:")) return "needs an https PUBLIC_URL (the cookie is __Secure-)";
  const host = new URL(publicUrl).hostname;
  if (host !== domain && !host.endsWith(`.${domain}`)) return "must contain the PUBLIC_URL host";
  return null;
}

function readSetting(setting: Setting<unknown>, env: NodeJS.ProcessEnv, problems: string[]): unknown {
  let raw = env[setting.env];
  const fileVar = `${setting.env}_FILE`;
  if (setting.fromFile && env[fileVar]) {
    if (raw !== undefined && raw !== "") {
      problems.push(`set either ${setting.env} or ${fileVar}, not both`);
      return setting.default;
    }
    const path = env[fileVar];
    try {
      raw = readFileSync(path, "utf8").trim();
    } catch (err) {
      // The path is not secret (it is in the environment); the reason in words, never a stack.
      problems.push(`${fileVar}: cannot read ${path}: ${describeFsError(err)}`);
      return setting.default;
    }
  }
  if (raw === undefined || raw === "") return setting.default;
  try {
    return setting.parse(raw);
  } catch (err) {
    problems.push(`${setting.env} ${(err as Error).message}`);
    return setting.default;
  }
}
