import { createClientKey } from "./core/rate-limit/client-key.js";
import { createRuleRateLimiter, type RuleRateLimiter } from "./core/gateway/rule-rate-limiter.js";
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { createWebhookAlerts } from "./alerts/webhook-alerts.js";
import { createAuditLog, type AuditLog, type AuditSink } from "./core/audit/audit-log.js";
import { createAdminService, type AdminService } from "./core/admin/admin-service.js";
import { createAdminDashboard } from "./core/admin/admin-dashboard.js";
import { createFirstSuperadmin, type FirstSuperadmin } from "./core/setup/first-superadmin.js";
import { createMfaPolicy, type MfaPolicy } from "./core/mfa/mfa-policy.js";
import { createResetSecondFactors, createSecondFactorRemovers, type ResetSecondFactors, type SecondFactorRemovers } from "./core/mfa/second-factor-reset.js";
import { createSettingsService, type SettingsService } from "./core/settings/settings-service.js";
import { createAdminAccounts, type AdminAccounts } from "./core/admin/admin-accounts.js";
import { createInvitationService, type InvitationService } from "./core/invitations/invitation-service.js";
import { createRegistrationService, type RegistrationService } from "./core/registration/registration-service.js";
import { createSqlUserImportStore } from "./storage/sql/sql-user-import-store.js";
import { createBackupService } from "./backup/backup-service.js";
import { DEFAULT_MAX_BACKUP_BYTES } from "./backup/backup-format.js";
import { systemClock, type Clock } from "./core/clock.js";
import { createArgon2Hasher } from "./core/passwords/argon2-hasher.js";
import { createBoundedHasher } from "./core/passwords/bounded-hasher.js";
import { createBanPolicy, type BanPolicy } from "./core/rate-limit/ban-policy.js";
import { failClosed } from "./core/rate-limit/fail-closed-store.js";
import type { LimiterStore } from "./core/rate-limit/limiter-store.js";
import { createEnrolledFactors, type EnrolledFactorSource } from "./core/mfa/enrolled-factors.js";
import { createFactorSummaries } from "./core/mfa/factor-summary.js";
import { createNotifyUser } from "./core/mfa/account-notices.js";
import { createSecondFactorGuard, type SecondFactorGuard } from "./core/mfa/second-factor-guard.js";
import { createTotpService, type TotpService } from "./core/mfa/totp/totp-service.js";
import { totpFactorSource, totpVerifier } from "./core/mfa/totp/totp-second-factor.js";
import { createRecoveryCodes, type RecoveryCodes } from "./core/mfa/recovery-codes/recovery-codes.js";
import { createPasskeys, type Passkeys } from "./core/mfa/webauthn/passkeys.js";
import { passkeyFactorSource, passkeyVerifier } from "./core/mfa/webauthn/passkey-factor.js";
import { relyingPartyOf } from "./core/mfa/webauthn/relying-party.js";
import { createSecretRegulator, type SecretRegulator } from "./core/rate-limit/secret-regulator.js";
import { createSignIn } from "./core/sign-in/sign-in.js";
import { createStepUp, type StepUp } from "./core/sign-in/step-up.js";
import { createPendingSignIn, type PendingSignIn } from "./core/sign-in/pending-sign-in.js";
import type { SecondFactorMethod, SecondFactors, SecondFactorVerifier, SecondFactorVerifiers } from "./core/sign-in/second-factors.js";
import type { PasswordHasher } from "./core/passwords/password-hasher.js";
import { defaultPasswordPolicy } from "./core/passwords/password-policy.js";
import { cryptoRandom, type Random } from "./core/random.js";
import { createUserImportService, type UserImportService } from "./core/user-import/user-import-service.js";
import { createSessionCache } from "./core/sessions/session-cache.js";
import { createPropagatingSessionCache } from "./core/sessions/revocation-bus.js";
import { openRevocationBus, type RevocationBusKind } from "./storage/open-revocation-bus.js";
import { createSessionService, type SessionService } from "./core/sessions/session-service.js";
import { createAccessGate } from "./core/gateway/create-access-gate.js";
import type { AccessGate } from "./core/gateway/access-decision.js";
import { createRulesFileReloader } from "./gateway/rules-file-reloader.js";
import { createAccountService, type AccountService } from "./core/users/account-service.js";
import type { ProviderSettings } from "./core/oauth/identity-provider.js";
import { createLinkedIdentities, type LinkedIdentities } from "./core/oauth/linked-identities.js";
import { createProviderAccounts } from "./core/oauth/provider-account.js";
import { createProviderRegistry, type ProviderRegistry } from "./core/oauth/provider-registry.js";
import { createProviderSignIn, type ProviderSignIn } from "./core/oauth/provider-sign-in.js";
import { loadProviders } from "./oauth/load-providers.js";
import { createEmailChange, type EmailChange } from "./core/users/email-change.js";
import { createEmailVerification, type EmailVerification } from "./core/users/email-verification.js";
import { createPasswordReset, type PasswordReset } from "./core/users/password-reset.js";
import { createMailSystem, type MailSystem, type MailSystemOptions } from "./mail/create-mail-system.js";
import { createApiTokenService, type ApiTokenService } from "./core/tokens/api-token-service.js";
import type { Config } from "./config/config.js";
import { buildApp } from "./http/app.js";
import { createSqlStores, type Stores } from "./storage/sql/create-sql-stores.js";
import { adoptDatabase, openDatabase, type HostDatabase, type OpenDatabase } from "./storage/sql/open-database.js";
import type { AppDeps } from "./http/types.js";
import { isDatabaseUnavailable } from "./storage/sql/database-unavailable.js";
import { createOutageMonitor } from "./core/outage/outage-monitor.js";
import { keyringSource } from "./config/keyring-file.js";
import { createIdentityTokens, type IdentityTokens } from "./core/identity/identity-tokens.js";
import { createSecretBox, type SecretBox } from "./core/secrets/secret-box.js";
import { createUserSecrets, type UserSecrets } from "./core/secrets/user-secrets.js";
import { rewrapSecrets, type RewrapReport } from "./storage/sql/rewrap-secrets.js";
import { createVault, type Vault } from "./core/vault/vault.js";
import { userKeyNamesOf } from "./core/vault/user-key-names.js";
import { createMemoryLimiterStore } from "./storage/memory/memory-limiter-store.js";
import { createRedisLimiterStore } from "./storage/redis/redis-limiter-store.js";
import { releaseYoungGeneration } from "./runtime/young-generation.js";
import { noMetrics, type Metrics } from "./core/metrics/metrics.js";
import { auditMetrics } from "./core/metrics/audit-metrics.js";
import { buildMetricsServer, type MetricsEndpoint } from "./http/metrics/metrics-routes.js";

/** Overrides for tests: a manual clock, a schema to isolate a PostgreSQL run. */
export interface ComposeOptions {
  config: Config;
  logger: FastifyBaseLogger;
  clock?: Clock;
  random?: Random;
  hasher?: PasswordHasher;
  /** PostgreSQL schema (created by the caller) to run in. */
  schema?: string;
  /** Prefix of every Redis key (tests isolate themselves with one). */
  redisPrefix?: string;
  /** Mail overrides for tests: a transport, the retry policy, the worker's polling (0 = only on demand). */
  mail?: Pick<MailSystemOptions, "transport" | "policy" | "quota" | "pollMs">;
  /** Keys per room of the in-memory limiter (default 100,000; tests fill it with fewer). */
  memoryLimiterKeys?: number;
  /** Entries of the in-process session cache (default 10,000; 0 = every lookup reads the store, as bench/ measures). */
  sessionCacheSize?: number;
  /** Which second factors users have (default: none can be enrolled yet); tests plug in a double of the port. */
  secondFactors?: SecondFactors;
  /** The second-factor checks by method name (default: none). */
  secondFactorVerifiers?: SecondFactorVerifiers;
  /** The identity providers (default: the `OAUTH_*` variables and the rules file's `identity_providers`). */
  providers?: readonly ProviderSettings[];
  /**
   * An open database to use instead of `DATABASE_URL` (the library plugin's
   * host app's Kysely instance): migrated like the server's, never closed here.
   */
  database?: HostDatabase;
}

/** A wired Gatehouse: its database, stores, services and HTTP app. */
export interface Gatehouse {
  app: FastifyInstance;
  /** The separate `/metrics` listener (`METRICS_PORT`), or null; `main.ts` listens on it at `config.metrics.host:port`. */
  metricsServer: FastifyInstance | null;
  /** The counting port the services use (a no-op with `METRICS=off`). */
  metrics: Metrics;
  /** Sign-in through identity providers, and the identities linked to accounts. */
  providerSignIn: ProviderSignIn;
  linkedIdentities: LinkedIdentities;
  providers: ProviderRegistry;
  database: OpenDatabase;
  stores: Stores;
  sessions: SessionService;
  accounts: AccountService;
  /** Sign-ins waiting for a second factor. */
  pendingSignIn: PendingSignIn;
  /** A second factor given by a signed-in user (step-up, re-authentication). */
  stepUp: StepUp;
  admin: AdminService;
  tokens: ApiTokenService;
  firstSuperadmin: FirstSuperadmin;
  settings: SettingsService;
  audit: AuditLog;
  limiter: LimiterStore;
  /** The access rules' `rate_limit`s (forward-auth and the reverse proxy count in it). */
  ruleLimits: RuleRateLimiter;
  bans: BanPolicy;
  regulator: SecretRegulator;
  /** Brute-force regulation of second factors (the regulator plus the MFA-03 pause). */
  secondFactorGuard: SecondFactorGuard;
  /** Which second factors each user has. */
  secondFactors: SecondFactors;
  /** Authenticator apps (TOTP) as a second factor. */
  totp: TotpService;
  /** The verifier of each second-factor method. */
  secondFactorVerifiers: SecondFactorVerifiers;
  /** Recovery codes, the backup second factor (issue shows them once; removeAll revokes them). */
  recoveryCodes: RecoveryCodes;
  /** Each kind of second factor's remover, run by {@link resetSecondFactors}. */
  secondFactorRemovers: SecondFactorRemovers;
  /** Who must have a second factor, and what follows (AZ-06, MFA-08). */
  mfaPolicy: MfaPolicy;
  /** An administrator's (or the CLI's) reset of a user's second factors. */
  resetSecondFactors: ResetSecondFactors;
  /** Users imported from another app (admin API, CLI). */
  userImport: UserImportService;
  /** The outbox, its worker and the mailer. */
  mail: MailSystem;
  passwordReset: PasswordReset;
  emailVerification: EmailVerification;
  emailChange: EmailChange;
  /** Invitations by email (admin API, dashboard, CLI). */
  invitations: InvitationService;
  /** Admin-made accounts and admin-sent reset links. */
  adminAccounts: AdminAccounts;
  /** Self-registration under the registration mode. */
  registration: RegistrationService;
  /** The gateway's access rules and decisions. */
  gate: AccessGate;
  /** The identity JWT's signing keys and tokens (used by the HTTP layer only with IDENTITY_JWT=on). */
  identityTokens: IdentityTokens;
  /**
   * The channel that carries revocations to the other instances' session
   * caches (Redis pub/sub, else PostgreSQL LISTEN/NOTIFY), with this
   * instance's random id; null on SQLite without Redis (one instance).
   */
  revocations: { kind: RevocationBusKind; instanceId: string } | null;
  /** Seals and opens stored secrets under the keyring (`KEYRING_FILE` or the key derived from `SECRET_KEY`). */
  secretBox: SecretBox;
  /** Per-user secrets (second-factor seeds), encrypted at rest. */
  userSecrets: UserSecrets;
  /** The secret vault: operator secrets and users' own keys for upstream apps (docs/secrets.md). */
  vault: Vault;
  /** Passkeys (WebAuthn): registration, second factor, passwordless sign-in. */
  passkeys: Passkeys;
  /** Re-encrypts every stored secret that is not under the active key (rotation; also run in the background by {@link start}). */
  rewrapSecrets(): Promise<RewrapReport[]>;
  /** Re-reads `GATEHOUSE_CONFIG` (on SIGHUP): true when the new rules are in force; a bad file keeps the old ones and logs why. */
  reloadRules(): boolean;
  /** Resolves when no alert webhook call is in flight. */
  alertsIdle(): Promise<void>;
  /**
   * Starts the periodic housekeeping of a serving process: the purge of expired
   * sessions and the audit pruning (`main.ts` calls it; tests that only inject
   * do not). Stopped by {@link close}. The outbox worker polls from the app's
   * `onReady` to its `onClose`.
   */
  start(): void;
  close(): Promise<void>;
}

const PURGE_INTERVAL_MS = 10 * 60_000;
const AUDIT_PRUNE_INTERVAL_MS = 24 * 3_600_000;

/** Gatehouse's services without an HTTP app: what the server's app and the library plugin are built on. */
export interface GatehouseCore extends Omit<Gatehouse, "app"> {
  /** What the HTTP app is built from (`buildApp`, or `registerGatehouse` in the library plugin). */
  appDeps: AppDeps;
  /** Stops the housekeeping of {@link Gatehouse.start} (also done by `close`). */
  stop(): void;
  /** Closes what the services opened (never an adopted {@link ComposeOptions.database}); the app is closed first by its owner. */
  close(): Promise<void>;
}

/**
 * The one composition root: config → database → stores → services → app.
 * `main.ts` listens on the result; tests inject into it.
 */
export async function createGatehouse(options: ComposeOptions): Promise<Gatehouse> {
  const core = await composeGatehouse(options);
  const app = await buildApp(core.appDeps, options.logger);
  runWithApp(app, core);
  // Start-up is over: the young generation grows again with the first request's traffic, not before
  // (an idle server keeps the small one). A one-time listener, gone after that request.
  app.addHook("onListen", (done) => {
    app.server.once("request", releaseYoungGeneration);
    done();
  });
  return {
    ...core,
    app,
    async close() {
      core.stop();
      await app.close();
      await core.close();
    },
  };
}

/**
 * What runs while the app runs: the outbox worker polls from ready (listen, or
 * the first inject) to close, and with IDENTITY_JWT=on a signing key exists
 * before the first request (two instances racing may both make one; both are
 * published).
 */
export function runWithApp(app: FastifyInstance, core: Pick<GatehouseCore, "mail" | "identityTokens" | "appDeps">): void {
  app.addHook("onReady", async () => core.mail.start());
  if (core.appDeps.config.identityJwt.enabled) app.addHook("onReady", async () => void (await core.identityTokens.ensureActiveKey()));
  app.addHook("onClose", async () => core.mail.worker?.stop());
}

/** Config → database → stores → services, without the HTTP app (see {@link createGatehouse}). */
export async function composeGatehouse(options: ComposeOptions): Promise<GatehouseCore> {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? cryptoRandom;
  // Prometheus (METRICS=on): prom-client is loaded only then. Its scrape-time checks use what is built below.
  const prometheus = config.metrics.enabled
    ? (await import("./http/metrics/prometheus-metrics.js")).createPrometheusMetrics({ refresh: () => refreshGauges() })
    : null;
  const metrics = prometheus?.metrics ?? noMetrics;
  // The access rules first: an invalid file stops the start before anything is opened.
  const rulesFile = createRulesFileReloader({ path: config.configFile, logger, settings: { clamdUrl: config.uploads.clamdUrl } });
  // The identity providers too (src/oauth/load-providers.ts): each with the client that speaks its protocol.
  const providerList = options.providers ?? loadProviders(config);
  // openid-client and undici are loaded only when a provider is configured (docs/performance.md).
  const clientFor = providerList.some((p) => p.enabled) ? (await import("./oauth/provider-client-for.js")).providerClientFor : null;
  const providers = createProviderRegistry(providerList, (settings) => {
    if (clientFor === null) throw new Error("no provider client without an enabled provider");
    return clientFor(settings);
  });
  const database = options.database
    ? await adoptDatabase(options.database)
    : await openDatabase({
        databaseUrl: config.databaseUrl,
        migrationUrl: config.databaseMigrationUrl,
        dataDir: config.dataDir,
        ...(options.schema ? { schema: options.schema } : {}),
      });
  const stores = createSqlStores(database.db);
  const secretBox = createSecretBox(
    keyringSource(config.keyring, (err) => logger.error({ reason: err.message }, "re-reading KEYRING_FILE failed; keeping the keys already loaded")),
    random,
  );
  const userSecrets = createUserSecrets({ store: stores.userSecrets, box: secretBox, clock, random });
  // Every audit event is also one JSON log line; alert types go to the webhook when one is configured.
  const mirror: AuditSink = (event) => logger.info({ audit: { ...event, at: new Date(event.at).toISOString() } }, `audit ${event.type}`);
  const alerts = config.alertWebhookUrl
    ? createWebhookAlerts({
        url: config.alertWebhookUrl,
        onError: (err, event) => logger.warn({ err, eventId: event.id, type: event.type }, "alert webhook failed"),
      })
    : null;
  // What /api/auth/me shows of a user's second factors, kept briefly; an audited change forgets it (src/core/mfa).
  // Its lookups are declared below and called only once requests arrive.
  const factorSummaries = createFactorSummaries({
    totpEnrolled: (userId) => totp.isEnrolled(userId),
    passkeyCount: async (userId) => (await passkeys.list(userId)).length,
    clock,
  });
  const forgetFactors: AuditSink = (event) => factorSummaries.observe(event);
  const audit = createAuditLog({
    store: stores.audit,
    clock,
    random,
    retentionMs: config.auditRetentionMs,
    // Sign-in outcomes and bans are counted from the events that record them (src/core/metrics/audit-metrics.ts).
    sinks: [mirror, ...(alerts ? [alerts] : []), forgetFactors, ...(prometheus ? [auditMetrics(metrics)] : [])],
  });

  // ioredis is loaded only when Redis is configured (about 10 MB of RSS saved otherwise, docs/performance.md).
  const redisApi = config.redisUrl === null ? null : await import("./storage/redis/open-redis.js");
  const redis = config.redisUrl === null || redisApi === null ? null : redisApi.openRedis(config.redisUrl);
  if (redis && redisApi) await redisApi.waitUntilReady(redis, 5_000).catch((err: unknown) => logger.error({ err }, "Redis is not reachable; auth endpoints answer 503 until it is"));
  // Redis down: every decision that needs it is 503 (fail closed); the outage is logged once, and once more when it ends.
  const redisOutage =
    redis === null
      ? null
      : createOutageMonitor({ what: "Redis (rate limits and bans)", isOutage: () => true, probe: () => redis.ping().then(() => true, () => false), log: logger, now: () => clock.now() });
  const limiter = failClosed(
    redis
      ? createRedisLimiterStore(redis, options.redisPrefix)
      : createMemoryLimiterStore({
          ...(options.memoryLimiterKeys ? { maxKeys: options.memoryLimiterKeys } : {}),
          onFull: (kind) => logger.warn({ kind }, "in-memory rate-limit store is full; new clients get 503 until keys expire (nothing is forgotten)"),
        }),
    (err) => {
      if (redisOutage === null) logger.error({ err }, "rate-limit store failed; refusing (fail closed)");
      else redisOutage.absorb(err);
    },
  );
  const bans = createBanPolicy({ store: limiter, clock, audit, policy: config.protection, metrics });
  const regulator = createSecretRegulator({ store: limiter, clock, audit, bans, policy: config.protection });
  const mail = createMailSystem({ config, stores, limiter, clock, random, secretBox, log: logger, metrics, ...options.mail });
  // Second factors share the regulator and add their own pause (MFA-03, src/core/mfa).
  const notifyUser = createNotifyUser(mail.mailer);
  const secondFactorGuard = createSecondFactorGuard({ regulator, store: limiter, audit, clock, notify: notifyUser });
  // Authenticator apps (RFC 6238; src/core/mfa/totp): the secret in userSecrets, the last used step in totp_factors.
  const totp = createTotpService({
    store: stores.totpFactors,
    secrets: userSecrets,
    guard: secondFactorGuard,
    audit,
    notify: notifyUser,
    clock,
    random,
    issuer: config.mailProductName,
    // Declared below; called only once requests arrive.
    assertMayRemove: (user, method) => mfaPolicy.assertMayRemove(user, method),
  });
  // The config is frozen: the session lifetimes in force are the settings service's own, which a superadmin may change at runtime.
  const settings = createSettingsService({
    store: stores.settings,
    audit,
    clock,
    lifetimes: config.sessions,
    registration: config.registration.mode,
    onInvalidStored: (keys) => logger.error({ keys }, "stored settings are invalid; their defaults apply until a superadmin saves them again"),
  });
  await settings.current();
  const lifetimes = settings.lifetimes;
  // A revocation here leaves every instance's session cache at once (src/core/sessions/revocation-bus.ts).
  const instanceId = random.uuid();
  const revocationBus = await openRevocationBus({ redis, ...(options.redisPrefix !== undefined ? { redisPrefix: options.redisPrefix } : {}), database, databaseUrl: config.databaseUrl, instanceId, logger });
  const localCache = createSessionCache(options.sessionCacheSize);
  const propagating =
    revocationBus === null
      ? null
      : createPropagatingSessionCache({
          cache: localCache,
          bus: revocationBus.bus,
          instanceId,
          onPublishError: (err, message) => logger.error({ err, kind: message.kind }, "publishing a revocation to the other instances failed; they re-read it within the session cache's re-read interval"),
          onFlushed: () => logger.debug({ bus: revocationBus.kind }, "revocation bus subscribed; session cache flushed"),
        });
  const sessions = createSessionService({
    store: stores.sessions,
    cache: propagating ?? localCache,
    clock,
    random,
    lifetimes,
    metrics,
  });
  // Argon2id on its own low-priority threads, one per hashing slot (src/core/passwords/argon2-threads.ts).
  const argon2 = options.hasher ? null : createArgon2Hasher(undefined, { threads: config.hashing.maxInFlight });
  const hasher = createBoundedHasher(options.hasher ?? argon2!, config.hashing, metrics);
  // The one completion every sign-in flow ends with (src/core/sign-in).
  const signIn = createSignIn({ users: stores.users, sessions, audit, clock });
  // Every kind of second factor registers here: whether a user has it (in the order a client
  // offers them) and its verifier (src/core/mfa). Tests may replace both with doubles.
  const factorSources: EnrolledFactorSource[] = [];
  const factorVerifiers = new Map<SecondFactorMethod, SecondFactorVerifier>();
  // Passkeys (src/core/mfa/webauthn): offered first. Declared functions below are called only once requests arrive.
  const passkeys = createPasskeys({
    store: stores.webauthn,
    users: stores.users,
    pendingSignIns: stores.pendingSignIns,
    signIn,
    audit,
    notify: notifyUser,
    clock,
    random,
    rp: relyingPartyOf(config.publicUrl, config.cookieDomain),
    requireRecentAuth: (session) => accounts.requireRecentAuth(session),
    assertMayRemove: (user, method, opts) => mfaPolicy.assertMayRemove(user, method, opts),
    canSignIn: (user) => emailVerification.canSignIn(user),
  });
  factorSources.push(passkeyFactorSource(passkeys));
  factorVerifiers.set("webauthn", passkeyVerifier(passkeys));
  factorSources.push(totpFactorSource(totp));
  factorVerifiers.set("totp", totpVerifier(totp));
  const recoveryCodes = createRecoveryCodes({
    store: stores.recoveryCodes,
    hasher,
    random,
    clock,
    audit,
    notify: notifyUser,
    // Declared below; called only once requests arrive.
    requireRecentAuth: (session) => accounts.requireRecentAuth(session),
    hasPrimaryFactor: async (userId) => (await secondFactors.methodsOf(userId)).length > 0,
  });
  // Recovery codes stay LAST: a backup factor, offered after the primary ones.
  factorSources.push(recoveryCodes.source);
  factorVerifiers.set(recoveryCodes.source.method, recoveryCodes.verifier);
  const secondFactors = options.secondFactors ?? createEnrolledFactors(factorSources);
  const secondFactorVerifiers = options.secondFactorVerifiers ?? factorVerifiers;
  // Every kind of second factor also registers its remover here, for an administrator's reset.
  const secondFactorRemovers = createSecondFactorRemovers();
  secondFactorRemovers.register({ method: "webauthn", removeAll: (userId) => passkeys.removeAll(userId) });
  secondFactorRemovers.register({ method: "totp", removeAll: (userId) => totp.removeAll(userId) });
  secondFactorRemovers.register({ method: "recovery_code", removeAll: async (userId) => void (await recoveryCodes.removeAll(userId)) });
  // Who must have a second factor (AZ-06, MFA-08): checked by the access step of every admin route.
  const mfaPolicy = createMfaPolicy({ settings: config.mfa, secondFactors, clock });
  const resetSecondFactors = createResetSecondFactors({
    users: stores.users,
    removers: secondFactorRemovers,
    secondFactors,
    guard: secondFactorGuard,
    sessions,
    audit,
    notify: notifyUser,
  });
  // Flow × strategy: a proved first factor signs in, or waits for a second factor (src/core/sign-in/pending-sign-in.ts).
  const pendingSignIn = createPendingSignIn({
    store: stores.pendingSignIns,
    users: stores.users,
    sessions,
    signIn,
    secondFactors,
    verifiers: secondFactorVerifiers,
    guard: secondFactorGuard,
    clock,
    random,
  });
  // A second factor given by a signed-in user: `two_factor` rules' step-up, and re-authentication (src/core/sign-in/step-up.ts).
  const stepUp = createStepUp({ sessions, secondFactors, verifiers: secondFactorVerifiers, guard: secondFactorGuard, audit });
  const accounts = createAccountService({
    users: stores.users,
    sessions,
    hasher,
    regulator,
    audit,
    clock,
    random,
    policy: { ...defaultPasswordPolicy, minLength: config.passwordMinLength },
    lifetimes,
    signIn,
    afterFirstFactor: (request) => pendingSignIn.afterFirstFactor(request),
    passwordLogin: config.signInMethods.password,
    // Declared below; called only once requests arrive.
    canSignIn: (user) => emailVerification.canSignIn(user),
  });
  const admin = createAdminService({
    users: stores.users,
    sessions,
    sessionStore: stores.sessions,
    auditStore: stores.audit,
    audit,
    regulator,
    bans,
    clock,
    lifetimes,
    requireRecentAuth: (session) => accounts.requireRecentAuth(session),
  });
  const adminDashboard = createAdminDashboard({
    admin,
    users: stores.users,
    auditStore: stores.audit,
    audit,
    bans,
    regulator,
    clock,
    lock: { at: config.protection.accountFailures.lockAt, ttlMs: config.protection.accountFailures.ttlMs },
  });
  const firstSuperadmin = createFirstSuperadmin({
    users: stores.users,
    accounts,
    tokens: stores.oneTimeTokens,
    regulator,
    audit,
    clock,
    random,
  });
  const tokens = createApiTokenService({
    store: stores.apiTokens,
    audit,
    clock,
    random,
    regulator,
    requireRecentAuth: (session) => accounts.requireRecentAuth(session),
  });
  const passwordReset = createPasswordReset({
    users: stores.users,
    tokens: mail.tokens,
    mailer: mail.mailer,
    sessions,
    apiTokens: tokens,
    hasher,
    policy: { ...defaultPasswordPolicy, minLength: config.passwordMinLength },
    regulator,
    audit,
    clock,
  });
  const emailVerification = createEmailVerification({
    users: stores.users,
    accounts,
    tokens: mail.tokens,
    mailer: mail.mailer,
    sessions,
    regulator,
    audit,
    clock,
    // Without a mail transport (production without SMTP_URL) nobody could verify: the setting is not enforced.
    verificationRequired: async () => mail.mailer.enabled && (await settings.current()).emailVerificationRequired,
    policy: { ...defaultPasswordPolicy, minLength: config.passwordMinLength },
  });
  const emailChange = createEmailChange({ users: stores.users, mailer: mail.mailer, requireRecentAuth: (session) => accounts.requireRecentAuth(session) });
  const invitations = createInvitationService({
    store: stores.invitations,
    users: stores.users,
    accounts,
    mailer: mail.mailer,
    regulator,
    audit,
    clock,
    random,
  });
  const adminAccounts = createAdminAccounts({ users: stores.users, accounts, mailer: mail.mailer, audit });
  const registration = createRegistrationService({ settings, accounts, invitations, emailVerification, emailDomains: config.registration.emailDomains, passwordLogin: config.signInMethods.password });
  // Sign-in through identity providers: the provider proves the first factor (src/core/oauth/).
  const providerSignIn = createProviderSignIn({
    providers,
    transactions: stores.oauthTransactions,
    identities: stores.externalIdentities,
    accounts: createProviderAccounts({
      identities: stores.externalIdentities,
      users: stores.users,
      accounts,
      invitations,
      registration: { mode: () => registration.mode(), emailDomains: config.registration.emailDomains },
      sessions,
      audit,
      clock,
      random,
    }),
    afterFirstFactor: (request) => pendingSignIn.afterFirstFactor(request),
    signIn,
    sessions,
    audit,
    clock,
    random,
    redirectUri: (id) => `${config.publicUrl}/api/auth/oauth/${id}/callback`,
  });
  const linkedIdentities = createLinkedIdentities({
    identities: stores.externalIdentities,
    providers,
    passwordLogin: config.signInMethods.password,
    hasPasskey: (userId) => stores.webauthn.hasAny(userId),
    requireRecentAuth: (session) => accounts.requireRecentAuth(session),
    audit,
  });
  const gate = createAccessGate({ publicUrl: config.publicUrl, rules: rulesFile.initial });
  // The rules' `rate_limit`s: one counter for forward-auth and the reverse proxy (one budget whichever way a request comes).
  const ruleLimits = createRuleRateLimiter({
    store: limiter,
    clock,
    audit,
    clientKey: createClientKey(config.protection.ipv6PrefixLength),
    metrics,
    onAuditError: (err) => logger.error({ err }, "recording a rule's rate limit failed"),
  });
  // The signed identity of IDENTITY_JWT (docs/identity-jwt.md); its keys are in the database, sealed like every stored secret.
  const identityTokens = createIdentityTokens({ store: stores.signingKeys, box: secretBox, clock, random, issuer: config.publicUrl, ttlMs: config.identityJwt.ttlMs, alg: config.identityJwt.alg });
  const vault = createVault({
    store: stores.vault,
    box: secretBox,
    audit,
    clock,
    random,
    // The key names users may store: the `${user_secret:<name>}` references of the rules in force.
    allowedUserNames: () => userKeyNamesOf(gate.rules()),
    onUnreadable: ({ scope, name, error }) => logger.error({ err: error, scope, name }, "a vault secret cannot be decrypted; the header that needs it is not sent"),
  });
  const ping = async () => (await database.ping()) && (redis === null || (await redis.ping().then(() => true, () => false)));
  // The database unreachable: 503 `unavailable` per request, one error line per outage and one info line on recovery.
  const databaseOutage = createOutageMonitor({ what: "database", isOutage: isDatabaseUnavailable, probe: () => database.ping(), log: logger, now: () => clock.now() });
  // Scrape-time gauges: each check answers within a second or counts as down, so a hung dependency cannot hang the scrape.
  async function refreshGauges(): Promise<void> {
    const [db, cache, counts] = await Promise.all([
      within(1_000, database.ping(), false),
      redis === null ? null : within(1_000, redis.ping().then(() => true), false),
      within(1_000, mail.outbox.counts(), null),
    ]);
    metrics.dependencyUp("database", db);
    if (cache !== null) metrics.dependencyUp("redis", cache);
    if (counts !== null) metrics.outboxDepth(counts.pending);
    metrics.hashingQueue(hasher.stats().queued);
  }
  const userImport = createUserImportService({ store: createSqlUserImportStore(database.db), audit, clock, random });
  const metricsEndpoint: MetricsEndpoint | null = prometheus === null ? null : { exporter: prometheus, token: config.metrics.token };
  const metricsServer = metricsEndpoint !== null && config.metrics.port !== null ? await buildMetricsServer(metricsEndpoint, logger) : null;
  const appDeps: AppDeps = {
    metrics,
    metricsEndpoint,
    databaseOutage,
    config,
    secretBox,
    vault,
    accounts,
    pendingSignIn,
    stepUp,
    admin,
    adminDashboard,
    firstSuperadmin,
    settings,
    backups: createBackupService(database.db, DEFAULT_MAX_BACKUP_BYTES),
    audit,
    sessions,
    tokens,
    clock,
    limiter,
    ruleLimits,
    bans,
    hashing: hasher,
    ping,
    gate,
    identityTokens: config.identityJwt.enabled ? identityTokens : null,
    passwordReset,
    emailVerification,
    emailChange,
    invitations,
    adminAccounts,
    registration,
    providerSignIn,
    linkedIdentities,
    providers,
    mailEnabled: mail.mailer.enabled,
    totp,
    recoveryCodes,
    secondFactors,
    passkeys,
    mfaPolicy,
    resetSecondFactors,
    factorSummaries,
    userImport,
  };

  let housekeeping: NodeJS.Timeout[] = [];
  const stopHousekeeping = () => {
    for (const timer of housekeeping) clearInterval(timer);
    housekeeping = [];
  };
  return {
    appDeps,
    metricsServer,
    metrics,
    providerSignIn,
    linkedIdentities,
    providers,
    database,
    stores,
    sessions,
    accounts,
    pendingSignIn,
    stepUp,
    admin,
    tokens,
    firstSuperadmin,
    settings,
    audit,
    limiter,
    ruleLimits,
    bans,
    regulator,
    secondFactorGuard,
    secondFactors,
    secondFactorVerifiers,
    totp,
    recoveryCodes,
    secondFactorRemovers,
    mfaPolicy,
    resetSecondFactors,
    userImport,
    mail,
    passwordReset,
    emailVerification,
    emailChange,
    invitations,
    adminAccounts,
    registration,
    gate,
    identityTokens,
    revocations: revocationBus === null ? null : { kind: revocationBus.kind, instanceId },
    secretBox,
    userSecrets,
    vault,
    passkeys,
    rewrapSecrets: () => rewrapSecrets(database.db, secretBox),
    reloadRules: () => rulesFile.reload(gate),
    alertsIdle: () => alerts?.idle() ?? Promise.resolve(),
    start() {
      if (housekeeping.length > 0) return;
      const purge = () =>
        Promise.all([sessions.purgeExpired(), pendingSignIn.purgeExpired(), passkeys.purgeExpired(), providerSignIn.purgeExpired(), identityTokens.purgeExpired()]).catch((err: unknown) => logger.error({ err }, "purging expired sessions failed"));
      const pruneAudit = () =>
        audit.prune().then(
          (count) => count > 0 && logger.info({ count }, "pruned audit events past retention"),
          (err: unknown) => logger.error({ err }, "pruning audit events failed"),
        );
      void pruneAudit();
      // Secrets still under an older key are re-encrypted in the background; unreadable ones are reported, never touched.
      void rewrapSecrets(database.db, secretBox).then(
        (reports) => {
          for (const r of reports) {
            if (r.rewrapped > 0) logger.info({ table: r.table, column: r.column, rewrapped: r.rewrapped, key: secretBox.activeKeyId() }, "re-encrypted stored secrets under the active key");
            if (r.unreadable > 0) logger.error({ table: r.table, column: r.column, unreadable: r.unreadable, problems: r.problems }, "stored secrets cannot be decrypted with the configured keys (KEYRING_FILE / SECRET_KEY)");
          }
        },
        (err: unknown) => logger.error({ err }, "re-encrypting stored secrets failed"),
      );
      housekeeping = [setInterval(() => void purge(), PURGE_INTERVAL_MS), setInterval(() => void pruneAudit(), AUDIT_PRUNE_INTERVAL_MS)];
      for (const timer of housekeeping) timer.unref();
    },
    stop: stopHousekeeping,
    async close() {
      stopHousekeeping();
      await metricsServer?.close();
      await mail.close();
      await argon2?.close();
      // Revocations announced last (a CLI command's) are sent before the bus closes.
      await propagating?.published();
      await revocationBus?.bus.close();
      await database.close();
      databaseOutage.stop();
      redisOutage?.stop();
      redis?.disconnect();
    },
  };
}

/** `work`'s answer, or `fallback` when it fails or takes longer than `ms`. */
function within<T, F>(ms: number, work: Promise<T>, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([work.catch(() => fallback), late]).finally(() => clearTimeout(timer));
}
