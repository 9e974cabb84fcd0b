import type { MfaPolicySettings } from "../core/mfa/mfa-policy.js";
import type { RegistrationMode } from "../core/registration/registration-mode.js";
import type { HashingCapacity } from "../core/passwords/bounded-hasher.js";
import type { ProtectionPolicy } from "../core/rate-limit/protection-policy.js";
import type { SessionLifetimes } from "../core/sessions/session.js";
import type { KeyringConfig } from "./keyring-file.js";

/** Gatehouse's validated configuration. Built only by {@link loadConfig}. */
export interface Config {
  env: "production" | "development" | "test";
  port: number;
  host: string;
  /** The origin users see, e.g. `https://auth.example.com`. */
  publicUrl: string;
  /** True when `publicUrl` is https: Secure cookies, `__Host-` prefix, HSTS. */
  secure: boolean;
  /** The master secret (≥ 32 bytes). Never logged. */
  secretKey: string;
  /** Where the secret came from. */
  secretKeySource: "env" | "file" | "generated";
  dataDir: string;
  /** The data keys that encrypt stored secrets: from `KEYRING_FILE`, or `k0` derived from the secret key. Never logged. */
  keyring: KeyringConfig;
  databaseUrl: string | null;
  /** PostgreSQL: the schema owner's URL migrations run over (`DATABASE_MIGRATION_URL`); null: they run over `databaseUrl`. Never logged. */
  databaseMigrationUrl: string | null;
  redisUrl: string | null;
  admin: { username: string; password: string; email: string | null } | null;
  trustedProxies: string[];
  /** Reverse-proxy mode: the origin every non-portal host is forwarded to (per-host upstreams come from the rules file). */
  upstreamUrl: string | null;
  /** Reverse-proxy settings: Gatehouse's path prefix on proxied hosts, the largest forwarded body (bytes), and the operator's extra stripped client headers (names, or `prefix*`). */
  proxy: { pathPrefix: string; bodyLimit: number; stripHeaders: string[] };
  /** The upload guard's virus scanner: clamd's address (`CLAMD_URL`, validated: `tcp://host:port` or `unix:/path`) or null, and its timeout. */
  uploads: { clamdUrl: string | null; clamdTimeoutMs: number };
  configFile: string | null;
  /** Parent domain of the forward-auth SSO cookie (lower-case, no leading dot), or null for host-only cookies. */
  cookieDomain: string | null;
  smtpUrl: string | null;
  /** The sender of outgoing mail (MAIL_FROM, or a default from the product name and PUBLIC_URL host). */
  mailFrom: string | null;
  /** The product name shown in mails. */
  mailProductName: string;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** One access-log line per request (ACCESS_LOG). */
  accessLog: boolean;
  /** How long a SIGTERM/SIGINT shutdown waits for in-flight requests, ms (SHUTDOWN_TIMEOUT). */
  shutdownTimeoutMs: number;
  passwordMinLength: number;
  sessions: SessionLifetimes;
  /** Largest accepted JSON body, bytes. */
  bodyLimit: number;
  /** Rate limits, brute-force regulation and automated bans. */
  protection: ProtectionPolicy;
  /** Password-hashing load shedding. */
  hashing: HashingCapacity;
  /** How long audit events are kept, ms. */
  auditRetentionMs: number;
  /**
   * Prometheus metrics (`METRICS*`): off unless `enabled`; `token` (never logged) guards `/metrics`;
   * with `port` set, `/metrics` is served only on a separate listener at `host:port`.
   */
  metrics: { enabled: boolean; token: string | null; port: number | null; host: string };
  /** Where alerts are POSTed, if anywhere. */
  alertWebhookUrl: string | null;
  /** Self-registration: the mode from `REGISTRATION` (the admin settings may override it) and the email-domain allow-list of `open`. */
  registration: { mode: RegistrationMode; emailDomains: string[] };
  /** Who must have a second factor (`MFA_REQUIRED`) and the grace period of a new account, ms (`MFA_GRACE_PERIOD`). */
  mfa: MfaPolicySettings;
  /**
   * Sign-in methods: the password form (`PASSWORD_LOGIN`), and the provider
   * given by the `OAUTH_*` variables, as written (validated with the rules
   * file's providers by src/oauth/load-providers.ts).
   */
  signInMethods: { password: boolean; envProvider: Record<string, string | boolean> | null };
  /**
   * The signed identity handed to protected apps (`IDENTITY_JWT*`, docs/identity-jwt.md): on or off, the
   * header that carries it, each token's lifetime (ms) and the algorithm of new signing keys.
   */
  identityJwt: { enabled: boolean; header: string; ttlMs: number; alg: "ES256" | "EdDSA" };
}
