import type { RuleRateLimiter } from "../core/gateway/rule-rate-limiter.js";
import type { FastifySchema } from "fastify";
import type { UserImportService } from "../core/user-import/user-import-service.js";
import type { LinkedIdentities } from "../core/oauth/linked-identities.js";
import type { Metrics } from "../core/metrics/metrics.js";
import type { MetricsEndpoint } from "./metrics/metrics-routes.js";
import type { ProviderRegistry } from "../core/oauth/provider-registry.js";
import type { ProviderSignIn } from "../core/oauth/provider-sign-in.js";
import type { SecretBox } from "../core/secrets/secret-box.js";
import type { Vault } from "../core/vault/vault.js";
import type { OutageMonitor } from "../core/outage/outage-monitor.js";
import type { AccountService } from "../core/users/account-service.js";
import type { EmailChange } from "../core/users/email-change.js";
import type { EmailVerification } from "../core/users/email-verification.js";
import type { PasswordReset } from "../core/users/password-reset.js";
import type { SessionService, ValidSession } from "../core/sessions/session-service.js";
import type { AdminService } from "../core/admin/admin-service.js";
import type { AdminDashboard } from "../core/admin/admin-dashboard.js";
import type { BackupService } from "../backup/backup-service.js";
import type { AuditLog } from "../core/audit/audit-log.js";
import type { FirstSuperadmin } from "../core/setup/first-superadmin.js";
import type { SettingsService } from "../core/settings/settings-service.js";
import type { Clock } from "../core/clock.js";
import type { BoundedHasher } from "../core/passwords/bounded-hasher.js";
import type { BanPolicy } from "../core/rate-limit/ban-policy.js";
import type { LimiterStore } from "../core/rate-limit/limiter-store.js";
import type { ApiToken, TokenScope } from "../core/tokens/api-token.js";
import type { ApiTokenService } from "../core/tokens/api-token-service.js";
import type { Config } from "../config/config.js";
import type { AccessGate } from "../core/gateway/access-decision.js";
import type { IdentityTokens } from "../core/identity/identity-tokens.js";
import type { AdminAccounts } from "../core/admin/admin-accounts.js";
import type { InvitationService } from "../core/invitations/invitation-service.js";
import type { PendingSignIn } from "../core/sign-in/pending-sign-in.js";
import type { FactorSummaries } from "../core/mfa/factor-summary.js";
import type { StepUp } from "../core/sign-in/step-up.js";
import type { MfaPolicy } from "../core/mfa/mfa-policy.js";
import type { ResetSecondFactors } from "../core/mfa/second-factor-reset.js";
import type { RegistrationService } from "../core/registration/registration-service.js";
import type { TotpService } from "../core/mfa/totp/totp-service.js";
import type { SecondFactors } from "../core/sign-in/second-factors.js";
import type { RecoveryCodes } from "../core/mfa/recovery-codes/recovery-codes.js";
import type { Passkeys } from "../core/mfa/webauthn/passkeys.js";

/**
 * Who may call a route (AZ-01): every route declares one; undeclared routes
 * are denied. `admin` and `superadmin` also admit higher roles.
 */
export type Access = "public" | "user" | "admin" | "superadmin";

/**
 * Whether an API token may call a route, and with which scope (TOK-03).
 * Undeclared (or `false`) refuses tokens with 403; `refuseFields` refuses a
 * token whose body carries one of those fields (a role change in a PATCH).
 */
export type TokenRule = TokenScope | false | { scope: TokenScope; refuseFields: readonly string[] };

/**
 * Who a request is authenticated as: a session cookie, or an API token. For a
 * token, `session` is a stand-in that never re-authenticated (so every sudo
 * action is out of reach) and `token` carries the scopes.
 */
export type RequestAuth = ValidSession & ({ via: "session" } | { via: "token"; token: ApiToken });

/** Everything the HTTP app needs, built by the composition root (or a test). */
export interface AppDeps {
  config: Config;
  /** Seals the SSO cookie (and every stored secret) under the keyring. */
  secretBox: SecretBox;
  /** The secret vault (admin and account routes, headers injected by the reverse proxy); absent in apps built without it. */
  vault?: Vault;
  accounts: AccountService;
  /** Sign-ins waiting for a second factor, and their completion. */
  pendingSignIn: PendingSignIn;
  /** A second factor given by a signed-in user: the step-up of `two_factor` rules, and re-authentication. */
  stepUp: StepUp;
  admin: AdminService;
  /** Reads of the admin dashboard pages (overview, user list, audit CSV). */
  adminDashboard: AdminDashboard;
  firstSuperadmin: FirstSuperadmin;
  settings: SettingsService;
  backups: BackupService;
  audit: AuditLog;
  sessions: SessionService;
  tokens: ApiTokenService;
  clock: Clock;
  limiter: LimiterStore;
  /** The access rules' `rate_limit`s, counted in `limiter`; forward-auth and the reverse proxy share it. */
  ruleLimits: RuleRateLimiter;
  bans: BanPolicy;
  /** Counts what the HTTP layer decides (gateway decisions, banned requests, shed hashes); default: nothing. */
  metrics?: Metrics;
  /** `METRICS=on`: the exporter and its token; `/metrics` is on this app unless `METRICS_PORT` gives it a listener of its own. */
  metricsEndpoint?: MetricsEndpoint | null;
  /** Password-hashing capacity: routes that hash shed load early when it is saturated. */
  hashing: Pick<BoundedHasher, "saturated">;
  /** True when the database (and Redis, when configured) answer (for /readyz). */
  ping(): Promise<boolean>;
  /** The database's outage episodes: errors meaning "unreachable" become 503 `unavailable`, logged once per outage. */
  databaseOutage?: OutageMonitor;
  /** Forgot/reset password (mail); absent in apps built without mail. */
  passwordReset?: PasswordReset;
  /** Email verification and confirmation of email changes (mail). */
  emailVerification?: EmailVerification;
  /** Email change requests (mail). */
  emailChange?: EmailChange;
  /** Passkeys (WebAuthn); absent in apps built without them (tests of other parts). */
  passkeys?: Passkeys;
  /** Whether outgoing mail is configured (invitations and admin-sent links need it). */
  mailEnabled: boolean;
  /** Invitations by email. */
  invitations: InvitationService;
  /** Admin-made accounts and admin-sent reset links. */
  adminAccounts: AdminAccounts;
  /** Self-registration under the registration mode (and invited registration). */
  registration: RegistrationService;
  /** Sign-in through identity providers (start, callback). */
  providerSignIn: ProviderSignIn;
  /** The provider identities linked to accounts (list, unlink). */
  linkedIdentities: LinkedIdentities;
  /** The configured identity providers (the sign-in buttons). */
  providers: ProviderRegistry;
  /** The gateway's access rules: decisions for forward-auth and the reverse proxy, and safe return URLs. */
  gate: AccessGate;
  /** IDENTITY_JWT=on: signs the identity JWT of allowed requests and publishes its keys; null or absent: off. */
  identityTokens?: IdentityTokens | null;
  /** Authenticator apps (TOTP): enrolment, confirmation, removal. */
  totp: TotpService;
  /** Which second factors each user has (a second enrolment needs a recent re-authentication). */
  secondFactors: SecondFactors;
  /** Recovery codes (the backup second factor); absent in apps built without second factors. */
  recoveryCodes?: RecoveryCodes;
  /** What `/api/auth/me` shows of a user's second factors (kept briefly). */
  factorSummaries: FactorSummaries;
  /** Who must have a second factor: the access step of admin routes asks it (AZ-06). */
  mfaPolicy: MfaPolicy;
  /** An administrator's reset of a user's second factors. */
  resetSecondFactors: ResetSecondFactors;
  /** Users imported from another app (`POST /api/admin/import/users`). */
  userImport: UserImportService;
}

/** One declared route: what the policy-matrix test compares with its checked-in table. */
export interface RouteEntry {
  method: string;
  url: string;
  access: Access | undefined;
  token: TokenRule | undefined;
  /** The route's own schemas (what the OpenAPI test checks are declared). */
  schema?: FastifySchema | undefined;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route the app declares (405 fillers excluded), with its access level and token rule. */
    routeTable: RouteEntry[];
  }
  interface FastifyRequest {
    /** The signed-in session, resolved by the pipeline's `resolveSession` step (src/http/pipeline); null when anonymous. */
    auth: RequestAuth | null;
    /**
     * Where Gatehouse's own pages and API live for this request: "" at the
     * root, or the reserved prefix (`/.gatehouse`) on a host proxied to an
     * upstream. Build every internal link as `request.basePath + path`.
     */
    basePath: string;
    /** Set on web pages for anonymous visitors: whether the registration mode is `open` (pages then link to /register). */
    registrationOpen?: boolean;
    /** Set by the access step of an admin route for an account within its MFA grace period: when it ends (epoch ms). */
    mfaGraceEndsAt?: number;
  }
  interface FastifyContextConfig {
    access?: Access;
    /** API-token access to this route; tokens are refused unless declared. */
    token?: TokenRule;
  }
}
