import { randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/config.js";
import { ConfigError, loadConfig } from "../config/load-config.js";
import { isSentinelUrl, redisUrlHosts } from "../storage/redis/redis-url.js";
import { isPostgresUrl } from "../storage/sql/open-database.js";

/** One finding of `gatehouse doctor`: never contains a secret value. */
export interface Finding {
  /** `ok`: a live check that passed (database reachable, SMTP accepted the login…). */
  level: "error" | "warn" | "info" | "ok";
  message: string;
  fix: string;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "[::1]"]);
/** A listen address or host name of this machine only (127.x, ::1, localhost). */
export const isLoopback = (host: string): boolean => LOOPBACK.has(host.toLowerCase()) || host.startsWith("127.");
const isLocalHost = (host: string): boolean => isLoopback(host) || host === "" || host.startsWith("/");

function tryUrl(url: string): URL | null {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** The hosts a plain-text REDIS_URL (`redis://`, `redis-sentinel://`) reaches; none for TLS or an unreadable URL. */
const plainRedisHosts = (url: string): string[] => {
  if (!url.startsWith("redis://") && !isSentinelUrl(url)) return [];
  try {
    return redisUrlHosts(url);
  } catch {
    return [];
  }
};
const hostOf = (url: string): string => tryUrl(url)?.hostname.replace(/^\[|\]$/g, "") ?? "";

/**
 * The environment to build a configuration from without side effects: when no
 * SECRET_KEY is set, a throwaway stand-in key keeps loadConfig from writing a
 * development secret into the data dir. It is never shown or used.
 */
export function withStandInSecret(env: NodeJS.ProcessEnv): { hasSecret: boolean; probe: NodeJS.ProcessEnv } {
  const hasSecret = Boolean(env.SECRET_KEY || env.SECRET_KEY_FILE);
  return { hasSecret, probe: hasSecret ? { ...env } : { ...env, SECRET_KEY: randomBytes(32).toString("hex") } };
}

/**
 * Reads the configuration exactly as the server does and lists insecure or
 * risky settings with what to do about them. No side effects: a missing
 * SECRET_KEY is reported instead of being generated into the data dir.
 */
export function diagnose(env: NodeJS.ProcessEnv): Finding[] {
  const findings: Finding[] = [];
  const production = env.NODE_ENV === "production";
  const { hasSecret, probe } = withStandInSecret(env);
  let loaded: { config: Config | null; strict: boolean };
  try {
    loaded = { config: loadConfig(probe), strict: true };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) findings.push({ level: "error", message: problem, fix: "fix this variable; the server refuses to start until then" });
    // Still check the rest: read again without the production-only rules (the findings keep production in mind).
    loaded = { config: tryLoad({ ...probe, NODE_ENV: "development" }), strict: false };
  }
  const { config, strict } = loaded;
  if (!hasSecret) {
    findings.push(
      production
        ? { level: "error", message: "SECRET_KEY is not set", fix: "set SECRET_KEY or SECRET_KEY_FILE to at least 32 random bytes (openssl rand -hex 32)" }
        : { level: "info", message: "no SECRET_KEY: a development secret is generated into the data dir", fix: "set SECRET_KEY (or SECRET_KEY_FILE) before going to production" },
    );
  }
  if (config === null) return findings;
  return findings.concat(checkNetwork(config, production, strict), checkStorage(config, env, production), checkPolicy(config, env, production));
}

function tryLoad(env: NodeJS.ProcessEnv): Config | null {
  try {
    return loadConfig(env);
  } catch {
    return null;
  }
}

function checkNetwork(config: Config, production: boolean, strict: boolean): Finding[] {
  const out: Finding[] = [];
  if (production && strict && !config.secure) {
    out.push({ level: "warn", message: "PUBLIC_URL is plain http (allowed by GATEHOUSE_ALLOW_INSECURE_HTTP): cookies lose the Secure flag", fix: "serve Gatehouse over https and set an https PUBLIC_URL" });
  }
  if (!isLoopback(config.host) && config.trustedProxies.length === 0) {
    out.push({
      level: production ? "error" : "warn",
      message: `HOST ${config.host} is not loopback and TRUSTED_PROXIES is empty`,
      fix: "behind a reverse proxy, set TRUSTED_PROXIES to its address so client IPs, rate limits and audit records are right; otherwise set HOST=127.0.0.1 and let the proxy connect locally",
    });
  }
  for (const cidr of config.trustedProxies) {
    const [address = "", bits] = cidr.split("/");
    if (bits !== undefined && Number(bits) < (address.includes(":") ? 32 : 16)) {
      out.push({ level: "warn", message: `TRUSTED_PROXIES entry ${cidr} trusts a very wide range`, fix: "list only your proxies' addresses; anyone in a trusted range can forge X-Forwarded-For" });
    }
  }
  if (!production && !isLoopback(config.host)) {
    out.push({ level: "warn", message: `NODE_ENV is ${config.env} while listening on ${config.host}`, fix: "set NODE_ENV=production on any reachable deployment" });
  }
  return out;
}

function checkStorage(config: Config, env: NodeJS.ProcessEnv, production: boolean): Finding[] {
  const out: Finding[] = [];
  const url = config.databaseUrl;
  if (url === null || !isPostgresUrl(url)) {
    if (production) {
      out.push({ level: "warn", message: "SQLite in production: fine for one instance only", fix: "take regular backups (gatehouse backup --sqlite); use PostgreSQL (DATABASE_URL) to run several instances" });
    }
  } else {
    for (const [name, value] of [["DATABASE_URL", url], ["DATABASE_MIGRATION_URL", config.databaseMigrationUrl]] as const) {
      if (value === null) continue;
      const parsed = tryUrl(value);
      if (parsed?.password && !env[`${name}_FILE`]) {
        out.push({ level: "info", message: `${name} contains a password`, fix: `prefer ${name}_FILE pointing at a file readable only by Gatehouse` });
      }
      if (!production || !parsed || isLocalHost(hostOf(value))) continue;
      const q = parsed.searchParams;
      const mode = q.get("sslmode");
      // pg 8 verifies the certificate for require and verify-ca too; no-verify and libpq's meaning of prefer/require (uselibpqcompat) do not.
      const unverified = mode === "no-verify" || q.get("ssl") === "no-verify" || (q.get("uselibpqcompat") === "true" && (mode === "prefer" || mode === "require"));
      if (unverified) {
        out.push({ level: "warn", message: `the PostgreSQL connection of ${name} uses TLS without checking the server's certificate`, fix: `use sslmode=verify-full in ${name} (with sslrootcert=<CA file> for a private CA)` });
      } else if (mode !== "require" && mode !== "verify-ca" && mode !== "verify-full") {
        out.push({ level: "warn", message: `the PostgreSQL connection of ${name} is not required to use TLS`, fix: `add ?sslmode=verify-full (or at least require) to ${name}` });
      }
    }
  }
  if (production && config.redisUrl === null) {
    out.push({ level: "info", message: "no REDIS_URL: rate limits and session invalidation live in this process", fix: "set REDIS_URL before running more than one instance" });
  } else if (production && config.redisUrl !== null && plainRedisHosts(config.redisUrl).some((host) => !isLocalHost(host))) {
    out.push({ level: "warn", message: "Redis is reached without TLS over the network", fix: "use a rediss:// URL or a private network link" });
  }
  for (const [file, what] of [[config.dataDir, "data dir"], [join(config.dataDir, "secret.key"), "generated secret file"]] as const) {
    try {
      const mode = statSync(file).mode & 0o777;
      if ((mode & 0o077) !== 0) {
        out.push({ level: "warn", message: `the ${what} ${file} is accessible to other users (mode ${mode.toString(8)})`, fix: `chmod ${what === "data dir" ? 700 : 600} ${file}` });
      }
    } catch {
      // Absent: nothing to check.
    }
  }
  return out;
}

function checkPolicy(config: Config, env: NodeJS.ProcessEnv, production: boolean): Finding[] {
  const out: Finding[] = [];
  if (production && (config.logLevel === "debug" || config.logLevel === "trace")) {
    out.push({ level: "warn", message: `LOG_LEVEL is ${config.logLevel} in production`, fix: "use info (debug logs are verbose and may include request details)" });
  }
  if (config.passwordMinLength < 12) {
    out.push({ level: "warn", message: `PASSWORD_MIN_LENGTH is ${config.passwordMinLength}`, fix: "keep the default 12 (ASVS) unless a policy forces otherwise" });
  }
  if (config.protection.bans.trips === Number.POSITIVE_INFINITY) {
    out.push({ level: "warn", message: "automated IP bans are off (AUTO_BAN_TRIPS=0)", fix: "leave AUTO_BAN_TRIPS at its default of 5" });
  }
  if (env.GATEHOUSE_ADMIN_PASSWORD) {
    out.push({ level: "warn", message: "GATEHOUSE_ADMIN_PASSWORD is set in the environment", fix: "use GATEHOUSE_ADMIN_PASSWORD_FILE, and remove it once the first superadmin exists" });
  }
  // smtp:// requires STARTTLS unless the URL opts out with ignoreTLS=true: only that opt-out is plaintext.
  if (production && config.smtpUrl?.startsWith("smtp://") && /[?&]ignoreTLS=true\b/i.test(config.smtpUrl) && !isLocalHost(hostOf(config.smtpUrl))) {
    out.push({ level: "warn", message: "SMTP_URL sends mail in plaintext (ignoreTLS=true) to a remote server", fix: "drop ignoreTLS=true (STARTTLS is then required) or use smtps://, so credentials and reset links are encrypted" });
  }
  return out;
}
