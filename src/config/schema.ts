import { parseEmailDomains, parseRegistrationMode, type RegistrationMode } from "../core/registration/registration-mode.js";
import { parseMfaRequirement, type MfaRequirement } from "../core/mfa/mfa-requirement.js";
import { parseSmtpUrl } from "../mail/smtp-url.js";
import { parseClamdUrl } from "../uploads/clamd-scanner.js";
import { parseBoolean, parseCidrList, parseDuration, parseHeaderNameList, parseHttpUrl, parseIntInRange, parsePathPrefix, parsePublicUrl, parseUpstreamUrl, parseWindowLimit } from "./parse-values.js";

/**
 * The sections of docs/configuration.md ("### Runtime", …), in their order;
 * `.env.example` is grouped the same way.
 */
export const SETTING_GROUPS = ["Runtime", "Secrets and storage", "First superadmin", "Network", "Mail", "Passwords", "Sessions", "HTTP", "Abuse protection", "Metrics", "Registration", "Second factors", "Provider sign-in", "Signed identity"] as const;

/** One section of the configuration reference. */
export type SettingGroup = (typeof SETTING_GROUPS)[number];

/** One configuration variable: its default, its meaning, and how to read it. */
export interface Setting<T> {
  env: string;
  /** The section of docs/configuration.md and `.env.example` it belongs to. */
  group: SettingGroup;
  default: T;
  description: string;
  /** May a `<NAME>_FILE` variable supply the value (for secrets)? Such a setting is treated as secret too. */
  fromFile?: boolean;
  /**
   * The value is (or may carry) a secret: `gatehouse config print` and doctor
   * redact it (URL credentials, webhook paths), and it is never logged.
   */
  secret?: boolean;
  parse(raw: string): T;
}

/** True when a setting's value must be redacted wherever it is shown. */
export const isSecretSetting = (setting: Pick<Setting<unknown>, "secret" | "fromFile">): boolean => setting.secret === true || setting.fromFile === true;

const text = (raw: string): string => raw.trim();

/** `CLAMD_URL`: `tcp://host:port` or `unix:/path` (checked by the clamd client's own parser). */
function parseClamdUrlValue(raw: string): string {
  parseClamdUrl(raw);
  return raw.trim();
}

/** No CR, LF or other control characters: the value goes into mail headers. */
function headerSafe(value: string, what: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) throw new Error(`must not contain control characters (${what} goes into mail headers)`);
  }
  return value;
}
const parseSmtpUrlValue = (raw: string): string | null => {
  const value = raw.trim();
  if (value === "") return null;
  parseSmtpUrl(value);
  return value;
};
const parseMailFrom = (raw: string): string | null => {
  const value = headerSafe(raw.trim(), "the sender");
  if (value === "") return null;
  if (!value.includes("@") || value.length > 255) throw new Error("must be an address such as `Gatehouse <no-reply@example.com>`");
  return value;
};
const parseProductName = (raw: string): string => {
  const value = headerSafe(raw.trim(), "the product name");
  if (value.length === 0 || value.length > 64 || /[<>"]/.test(value)) throw new Error("must be 1 to 64 characters without < > or \"");
  return value;
};
const optional = (raw: string): string | null => (raw.trim() === "" ? null : raw.trim());
const parseProviderType = (raw: string): string | null => {
  const value = raw.trim().toLowerCase();
  if (value === "") return null;
  if (!["oidc", "google", "github"].includes(value)) throw new Error("must be oidc, google or github");
  return value;
};

/** Hop-by-hop headers and the identity headers Gatehouse already sends: never the name of the identity JWT's header. */
const RESERVED_JWT_HEADERS = new Set(["remote-user", "remote-email", "remote-name", "remote-groups", "connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "host", "cookie", "authorization", "content-length", "content-type"]);
const parseJwtHeaderName = (raw: string): string => {
  const value = raw.trim();
  if (!/^[A-Za-z0-9!#$%&'+.^_`|~-]{1,64}$/.test(value)) throw new Error("must be a header name such as Remote-JWT (at most 64 characters)");
  if (RESERVED_JWT_HEADERS.has(value.toLowerCase().replaceAll("_", "-"))) throw new Error(`cannot be "${value}": an identity, hop-by-hop or request header of its own`);
  return value;
};
/** The algorithm default, typed as either algorithm so the setting holds both. */
const JWT_ALG_DEFAULT: "ES256" | "EdDSA" = "ES256";
const parseJwtAlg = (raw: string): "ES256" | "EdDSA" => {
  const value = raw.trim();
  if (value === "ES256" || value === "EdDSA") return value;
  throw new Error("must be ES256 or EdDSA");
};

const parseMetricsToken = (raw: string): string | null => {
  const value = raw.trim();
  if (value === "") return null;
  if (value.length < 16) throw new Error("must be at least 16 characters (generate one with: openssl rand -hex 32)");
  if (!/^[\x21-\x7e]+$/.test(value)) throw new Error("must be printable ASCII without spaces (it is sent in an Authorization header)");
  return value;
};

/** The registration default, typed as the mode (not the string literal) so the setting holds any mode. */
const CLOSED_REGISTRATION: RegistrationMode = "closed";
/** The MFA requirement default, typed as the requirement so the setting holds any value. */
const ADMINS_MUST_HAVE_MFA: MfaRequirement = "admins";

/**
 * Every environment variable Gatehouse reads, with its default and meaning.
 * docs/configuration.md documents each of them and `.env.example` is generated
 * from this list (`npm run gen:env-example`); test/unit/docs-config.test.ts
 * fails when either disagrees.
 */
export const settings = {
  nodeEnv: { env: "NODE_ENV", group: "Runtime", default: "development", description: "`production` enforces a strong SECRET_KEY and safe settings", parse: text },
  port: { env: "PORT", group: "Runtime", default: 8080, description: "TCP port to listen on", parse: (r: string) => parseIntInRange(r, 0, 65535) },
  host: { env: "HOST", group: "Runtime", default: "127.0.0.1", description: "address to listen on", parse: text },
  publicUrl: { env: "PUBLIC_URL", group: "Runtime", default: null as string | null, description: "the origin users see (default `http://localhost:$PORT`); used for cookies, CSRF origin checks and emailed links", parse: parsePublicUrl },
  secretKey: { env: "SECRET_KEY", group: "Secrets and storage", secret: true, default: null as string | null, fromFile: true, description: "master secret, at least 32 bytes; required in production, generated into the data dir otherwise", parse: text },
  dataDir: { env: "GATEHOUSE_DATA_DIR", group: "Secrets and storage", default: "./.data", description: "SQLite file, generated development secret", parse: text },
  databaseUrl: { env: "DATABASE_URL", group: "Secrets and storage", secret: true, default: null as string | null, fromFile: true, description: "`postgres://…` switches to PostgreSQL; `sqlite:<path>` picks another SQLite file; default SQLite in the data dir", parse: optional },
  databaseMigrationUrl: { env: "DATABASE_MIGRATION_URL", group: "Secrets and storage", secret: true, default: null as string | null, fromFile: true, description: "PostgreSQL only: the schema owner's `postgres://…` URL; migrations run over it (at start, before the server connects with DATABASE_URL, and by `gatehouse migrate`), so DATABASE_URL's role needs only to read and write rows", parse: optional },
  keyringFile: { env: "KEYRING_FILE", group: "Secrets and storage", default: null as string | null, description: "JSON keyring of the data keys that encrypt stored secrets (mode 0600; `gatehouse keys rotate` creates and extends it); unset: one key derived from SECRET_KEY", parse: optional },
  redisUrl: { env: "REDIS_URL", group: "Secrets and storage", secret: true, default: null as string | null, fromFile: true, description: "Redis for rate limits and cache invalidation shared by all instances: `redis://`, `rediss://` (TLS), or `redis-sentinel://host:26379,…/<primary name>` through Redis Sentinel", parse: optional },
  adminUsername: { env: "GATEHOUSE_ADMIN_USERNAME", group: "First superadmin", default: null as string | null, description: "seed the first superadmin on first start", parse: optional },
  adminPassword: { env: "GATEHOUSE_ADMIN_PASSWORD", group: "First superadmin", secret: true, default: null as string | null, fromFile: true, description: "its password (never logged)", parse: optional },
  adminEmail: { env: "GATEHOUSE_ADMIN_EMAIL", group: "First superadmin", default: null as string | null, description: "its email", parse: optional },
  trustedProxies: { env: "TRUSTED_PROXIES", group: "Network", default: [] as string[], description: "comma-separated IPs/CIDRs whose `X-Forwarded-*` headers are believed", parse: parseCidrList },
  upstreamUrl: { env: "UPSTREAM_URL", group: "Network", default: null as string | null, description: "reverse-proxy mode: the app to protect (an origin such as `http://127.0.0.1:3000`); every host but the portal's is forwarded to it", parse: parseUpstreamUrl },
  proxyPathPrefix: { env: "GATEHOUSE_PATH_PREFIX", group: "Network", default: "/.gatehouse", description: "on a proxied host, where Gatehouse's own pages and API live (`/.gatehouse/api/auth/login`)", parse: parsePathPrefix },
  proxyBodyLimit: { env: "PROXY_BODY_LIMIT", group: "Network", default: 10 * 1024 * 1024, description: "largest request body forwarded to a proxied app, in bytes (default 10 MiB); a larger one gets 413 before reaching the app", parse: (r: string) => parseIntInRange(r, 0, 999_999_999) },
  proxyStripHeaders: { env: "PROXY_STRIP_HEADERS", group: "Network", default: [] as string[], description: "reverse-proxy mode: more client headers never forwarded to the app, beyond the built-in identity/forwarding families (comma-separated; `X-Corp-*` for a family; `_` and `-` are the same)", parse: parseHeaderNameList },
  clamdUrl: { env: "CLAMD_URL", group: "Network", default: null as string | null, description: "reverse-proxy mode: the ClamAV daemon that rules with `uploads.scan: clamav` stream files to (`tcp://127.0.0.1:3310` or `unix:/run/clamav/clamd.ctl`); unset: a rules file with such a rule is refused (at start, and on SIGHUP the old rules stay)", parse: parseClamdUrlValue },
  clamdTimeout: { env: "CLAMD_TIMEOUT", group: "Network", default: 30_000, description: "how long clamd may stay silent while scanning one upload before it counts as down (`30s`)", parse: parseDuration },
  configFile: { env: "GATEHOUSE_CONFIG", group: "Network", default: null as string | null, description: "YAML file with access rules (re-read on SIGHUP)", parse: optional },
  cookieDomain: { env: "COOKIE_DOMAIN", group: "Network", default: null as string | null, description: "parent domain (`.example.com`) for single sign-on across its subdomains through forward-auth; adds a `__Secure-` cookie with that Domain (https only)", parse: optional },
  smtpUrl: { env: "SMTP_URL", group: "Mail", secret: true, default: null as string | null, fromFile: true, description: "outgoing mail: `smtps://user:pass@host:465`, or `smtp://host:587` with STARTTLS required (`?ignoreTLS=true` allows plaintext); unset: mails are written to `<data dir>/outbox/` outside production", parse: parseSmtpUrlValue },
  mailFrom: { env: "MAIL_FROM", group: "Mail", default: null as string | null, description: "sender of outgoing mail (default `<product name> <no-reply@<PUBLIC_URL host>>`)", parse: parseMailFrom },
  mailProductName: { env: "MAIL_PRODUCT_NAME", group: "Mail", default: "Gatehouse", description: "product name shown in mail subjects and bodies, and as the issuer in authenticator apps", parse: parseProductName },
  logLevel: { env: "LOG_LEVEL", group: "Runtime", default: "info", description: "fatal, error, warn, info, debug, trace or silent", parse: text },
  accessLog: { env: "ACCESS_LOG", group: "Runtime", default: false, description: "one JSON line per request at info (method, path without the query, status, duration, IP, request id); off by default, as the proxy in front usually keeps the access log", parse: parseBoolean },
  shutdownTimeout: { env: "SHUTDOWN_TIMEOUT", group: "Runtime", default: 10_000, description: "on SIGTERM/SIGINT, how long in-flight requests may take to finish before the process exits anyway (`10s`); proxied WebSockets are closed at once (1001)", parse: parseDuration },
  passwordMinLength: { env: "PASSWORD_MIN_LENGTH", group: "Passwords", default: 12, description: "minimum password length in characters (8–64)", parse: (r: string) => parseIntInRange(r, 8, 64) },
  sessionIdle: { env: "SESSION_IDLE_TIMEOUT", group: "Sessions", default: 30 * 60_000, description: "a session ends after this long without requests (`30m`)", parse: parseDuration },
  sessionAbsolute: { env: "SESSION_ABSOLUTE_LIFETIME", group: "Sessions", default: 12 * 3_600_000, description: "a session ends this long after sign-in, whatever the activity (`12h`)", parse: parseDuration },
  sessionRemember: { env: "SESSION_REMEMBER_LIFETIME", group: "Sessions", default: 30 * 86_400_000, description: "lifetime of a \"remember me\" session (`30d`, at most 30 days)", parse: parseDuration },
  sessionMaxPerUser: { env: "SESSION_MAX_PER_USER", group: "Sessions", default: 10, description: "concurrent sessions per user; the oldest is signed out beyond it", parse: (r: string) => parseIntInRange(r, 1, 1000) },
  bodyLimit: { env: "BODY_LIMIT", group: "HTTP", default: 65_536, description: "largest JSON request body in bytes", parse: (r: string) => parseIntInRange(r, 1024, 10 * 1024 * 1024) },
  rateLimitLogin: { env: "RATE_LIMIT_LOGIN", group: "Abuse protection", default: { limit: 10, windowMs: 60_000 }, description: "login requests per IP (`10/1m`)", parse: parseWindowLimit },
  rateLimitRegister: { env: "RATE_LIMIT_REGISTER", group: "Abuse protection", default: { limit: 5, windowMs: 60_000 }, description: "registrations per IP (`5/1m`)", parse: parseWindowLimit },
  rateLimitForgotPassword: { env: "RATE_LIMIT_FORGOT_PASSWORD", group: "Abuse protection", default: { limit: 3, windowMs: 60_000 }, description: "forgot-password requests per IP (`3/1m`)", parse: parseWindowLimit },
  rateLimitAccountDelete: { env: "RATE_LIMIT_ACCOUNT_DELETE", group: "Abuse protection", default: { limit: 2, windowMs: 60_000 }, description: "account deletions per user (`2/1m`)", parse: parseWindowLimit },
  rateLimitTokenCreate: { env: "RATE_LIMIT_TOKEN_CREATE", group: "Abuse protection", default: { limit: 5, windowMs: 3_600_000 }, description: "API tokens created per user, through the API or the account page (`5/1h`)", parse: parseWindowLimit },
  rateLimitApi: { env: "RATE_LIMIT_API", group: "Abuse protection", default: { limit: 120, windowMs: 60_000 }, description: "every other `/api/` request, per user when signed in, else per IP (`120/1m`)", parse: parseWindowLimit },
  ipFailureLimit: { env: "BRUTE_FORCE_IP_FAILURES", group: "Abuse protection", default: 10, description: "consecutive failed secret checks from one IP before its logins are blocked", parse: (r: string) => parseIntInRange(r, 3, 1000) },
  ipBlock: { env: "BRUTE_FORCE_IP_BLOCK", group: "Abuse protection", default: 10 * 60_000, description: "how long such an IP is blocked (`10m`)", parse: parseDuration },
  accountLockAt: { env: "BRUTE_FORCE_ACCOUNT_LOCK", group: "Abuse protection", default: 100, description: "consecutive failures that lock an account's password until a reset or an admin unlock (at most 100)", parse: (r: string) => parseIntInRange(r, 10, 100) },
  autoBanTrips: { env: "AUTO_BAN_TRIPS", group: "Abuse protection", default: 5, description: "limit trips within `AUTO_BAN_WINDOW` that ban an IP; `0` turns automated bans off", parse: (r: string) => parseIntInRange(r, 0, 1000) },
  autoBanWindow: { env: "AUTO_BAN_WINDOW", group: "Abuse protection", default: 10 * 60_000, description: "window for counting trips (`10m`)", parse: parseDuration },
  autoBanDuration: { env: "AUTO_BAN_DURATION", group: "Abuse protection", default: 60 * 60_000, description: "length of an automated ban (`1h`)", parse: parseDuration },
  ipv6PrefixLength: { env: "IPV6_PREFIX_LENGTH", group: "Abuse protection", default: 64, description: "IPv6 clients share one budget per network of this many bits (32–128, default 64): per-IP limits, brute-force regulation and bans cover the whole prefix; IPv4 clients are keyed by their address", parse: (r: string) => parseIntInRange(r, 32, 128) },
  hashConcurrency: { env: "HASH_CONCURRENCY", group: "Abuse protection", default: null as number | null, description: "password hashes computed at once (default: the libuv pool size, `UV_THREADPOOL_SIZE` or 4, but at most the CPU count minus one)", parse: (r: string) => parseIntInRange(r, 1, 256) },
  hashQueue: { env: "HASH_QUEUE", group: "Abuse protection", default: null as number | null, description: "hashes waiting for a slot before 503 (default: 16 per slot, about half a second)", parse: (r: string) => parseIntInRange(r, 0, 10_000) },
  auditRetention: { env: "AUDIT_RETENTION", group: "Abuse protection", default: 90 * 86_400_000, description: "how long audit events are kept (`90d`)", parse: parseDuration },
  alertWebhookUrl: { env: "ALERT_WEBHOOK_URL", group: "Abuse protection", secret: true, default: null as string | null, fromFile: true, description: "receives `account_locked`, `ip_banned` and `suspicious_activity` events as JSON", parse: parseHttpUrl },
  allowInsecureHttp: { env: "GATEHOUSE_ALLOW_INSECURE_HTTP", group: "HTTP", default: false, description: "production only: allow a plain-http PUBLIC_URL, for a trusted private network", parse: parseBoolean },
  metrics: { env: "METRICS", group: "Metrics", default: false, description: "`on` serves Prometheus metrics at `GET /metrics` (off by default: 404); in production it also needs `METRICS_TOKEN` or `METRICS_PORT`", parse: parseBoolean },
  metricsToken: { env: "METRICS_TOKEN", group: "Metrics", secret: true, default: null as string | null, fromFile: true, description: "when set, `/metrics` answers only `Authorization: Bearer <token>` (at least 16 characters; compared in constant time, never logged)", parse: parseMetricsToken },
  metricsPort: { env: "METRICS_PORT", group: "Metrics", default: null as number | null, description: "when set, `/metrics` is served only on a separate listener on this port (at `METRICS_HOST`), never on the main `PORT`", parse: (r: string) => parseIntInRange(r, 1, 65535) },
  metricsHost: { env: "METRICS_HOST", group: "Metrics", default: null as string | null, description: "address of the separate metrics listener (default: `HOST`); bind it to a private interface the scraper reaches", parse: optional },
  registration: { env: "REGISTRATION", group: "Registration", default: CLOSED_REGISTRATION, description: "who may create an account: `closed` (default: admins invite or create accounts), `invite` (only with an invitation) or `open` (anyone); the admin settings can override it", parse: parseRegistrationMode },
  registrationEmailDomains: { env: "REGISTRATION_EMAIL_DOMAINS", group: "Registration", default: [] as string[], description: "comma-separated email domains open registration accepts (`example.com,example.org`); when set, an address in one of them is required", parse: parseEmailDomains },
  mfaRequired: { env: "MFA_REQUIRED", group: "Second factors", default: ADMINS_MUST_HAVE_MFA, description: "who must have a second factor: `admins` (default: admin and superadmin accounts get no administrator function without one), `everyone` (also: nobody removes their last one) or `off`", parse: parseMfaRequirement },
  mfaGracePeriod: { env: "MFA_GRACE_PERIOD", group: "Second factors", default: 0, description: "how long after an account's creation it may still use administrator functions without a second factor while it is told to add one (`7d`); default `0`: none", parse: parseDuration },
  passwordLogin: { env: "PASSWORD_LOGIN", group: "Provider sign-in", default: true, description: "`off` removes the password form: accounts sign in through a provider (or a passkey) only; needs at least one enabled provider", parse: parseBoolean },
  oauthProvider: { env: "OAUTH_PROVIDER", group: "Provider sign-in", default: null as string | null, description: "one provider from the environment: `oidc`, `google` or `github` (more providers: `identity_providers` in the rules file); its id is the type", parse: parseProviderType },
  oauthName: { env: "OAUTH_NAME", group: "Provider sign-in", default: null as string | null, description: "its name on the sign-in button (default `Google`, `GitHub` or `single sign-on`)", parse: optional },
  oauthIssuer: { env: "OAUTH_ISSUER", group: "Provider sign-in", default: null as string | null, description: "`oidc`: the issuer URL (https; discovery must name exactly this issuer); `github`: a GitHub Enterprise origin", parse: optional },
  oauthClientId: { env: "OAUTH_CLIENT_ID", group: "Provider sign-in", default: null as string | null, description: "the client id registered at the provider", parse: optional },
  oauthClientSecret: { env: "OAUTH_CLIENT_SECRET", group: "Provider sign-in", secret: true, default: null as string | null, fromFile: true, description: "the client secret (kept in memory only, never stored or logged)", parse: optional },
  oauthScopes: { env: "OAUTH_SCOPES", group: "Provider sign-in", default: null as string | null, description: "space- or comma-separated scopes (default `openid email profile`; GitHub `read:user user:email`)", parse: optional },
  oauthAutoLink: { env: "OAUTH_AUTO_LINK", group: "Provider sign-in", default: false, description: "link a first provider sign-in to the local account with the same address when the provider says the address is verified (off: the user links from the account page)", parse: parseBoolean },
  oauthEmailDomains: { env: "OAUTH_EMAIL_DOMAINS", group: "Provider sign-in", default: null as string | null, description: "accounts the provider creates need an address in one of these domains (comma-separated)", parse: optional },
  oauthSecondFactor: { env: "OAUTH_SECOND_FACTOR", group: "Provider sign-in", default: "admins", description: "when a provider sign-in still asks Gatehouse's own second factor (if the account has one): `admins` (default), `always` or `never`", parse: text },
  oauthCaFile: { env: "OAUTH_CA_FILE", group: "Provider sign-in", default: null as string | null, description: "PEM file of an extra certificate authority for the provider's TLS (a private CA)", parse: optional },
  oauthPrivateNetwork: { env: "OAUTH_PRIVATE_NETWORK", group: "Provider sign-in", default: false, description: "allow the provider on a loopback or private address (an identity provider on your LAN); link-local and metadata addresses are always refused", parse: parseBoolean },
  identityJwt: { env: "IDENTITY_JWT", group: "Signed identity", default: false, description: "`on` adds a signed JWT of the user (`Remote-JWT`) to every allowed request of a signed-in user, forward-auth answers and proxied requests alike, and publishes its keys at `/.well-known/jwks.json` (docs/identity-jwt.md)", parse: parseBoolean },
  identityJwtHeader: { env: "IDENTITY_JWT_HEADER", group: "Signed identity", default: "Remote-JWT", description: "the header that carries it; a client's copy is always removed", parse: parseJwtHeaderName },
  identityJwtTtl: { env: "IDENTITY_JWT_TTL", group: "Signed identity", default: 60_000, description: "lifetime of each token (`60s`; 10 seconds to 10 minutes)", parse: parseDuration },
  identityJwtAlg: { env: "IDENTITY_JWT_ALG", group: "Signed identity", default: JWT_ALG_DEFAULT, description: "signature algorithm of new signing keys: `ES256` (P-256) or `EdDSA` (Ed25519)", parse: parseJwtAlg },
} satisfies Record<string, Setting<unknown>>;

/** Every setting, in schema order. */
export const allSettings = (): Setting<unknown>[] => Object.values(settings);
