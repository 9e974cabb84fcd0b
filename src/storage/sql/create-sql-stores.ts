import type { VaultStore } from "../../core/vault/vault-store.js";
import { createSqlVaultStore } from "./sql-vault-store.js";
import type { Kysely } from "kysely";
import type { InvitationStore } from "../../core/invitations/invitation-store.js";
import type { AuditStore } from "../../core/audit/audit-store.js";
import type { EmailTokenStore } from "../../core/mail/email-token-store.js";
import type { OutboxStore } from "../../core/mail/outbox-store.js";
import type { SessionStore } from "../../core/sessions/session-store.js";
import type { SettingsStore } from "../../core/settings/settings-store.js";
import type { PendingSignInStore } from "../../core/sign-in/pending-sign-in-store.js";
import type { OneTimeTokenStore } from "../../core/setup/one-time-token-store.js";
import type { ApiTokenStore } from "../../core/tokens/api-token-store.js";
import type { UserStore } from "../../core/users/user-store.js";
import type { UserSecretStore } from "../../core/secrets/user-secret-store.js";
import type { TotpFactorStore } from "../../core/mfa/totp/totp-factor-store.js";
import type { RecoveryCodeStore } from "../../core/mfa/recovery-codes/recovery-code-store.js";
import type { WebAuthnStore } from "../../core/mfa/webauthn/webauthn-store.js";
import type { ExternalIdentityStore } from "../../core/oauth/external-identity-store.js";
import type { OAuthTransactionStore } from "../../core/oauth/oauth-transaction-store.js";
import type { SigningKeyStore } from "../../core/identity/signing-key-store.js";
import type { Database } from "./database.js";
import { createSqlApiTokenStore } from "./sql-api-token-store.js";
import { createSqlAuditStore } from "./sql-audit-store.js";
import { createSqlEmailTokenStore } from "./sql-email-token-store.js";
import { createSqlInvitationStore } from "./sql-invitation-store.js";
import { createSqlOneTimeTokenStore } from "./sql-one-time-token-store.js";
import { createSqlOutboxStore } from "./sql-outbox-store.js";
import { createSqlPendingSignInStore } from "./sql-pending-sign-in-store.js";
import { createSqlSessionStore } from "./sql-session-store.js";
import { createSqlSettingsStore } from "./sql-settings-store.js";
import { createSqlUserStore } from "./sql-user-store.js";
import { createSqlUserSecretStore } from "./sql-user-secret-store.js";
import { createSqlTotpFactorStore } from "./sql-totp-factor-store.js";
import { createSqlRecoveryCodeStore } from "./sql-recovery-code-store.js";
import { createSqlWebAuthnStore } from "./sql-webauthn-store.js";
import { createSqlExternalIdentityStore } from "./sql-external-identity-store.js";
import { createSqlOAuthTransactionStore } from "./sql-oauth-transaction-store.js";
import { createSqlSigningKeyStore } from "./sql-signing-key-store.js";

/**
 * Every store port, backed by one Kysely database. Built once by the
 * composition root (`src/compose.ts`) and handed to every service, so no
 * other module opens a store over the database itself.
 */
export interface Stores {
  /** Accounts, including the admin list (`sql-user-list.ts` behind it). */
  users: UserStore;
  sessions: SessionStore;
  /** Sign-ins waiting for a second factor (not sessions). */
  pendingSignIns: PendingSignInStore;
  audit: AuditStore;
  apiTokens: ApiTokenStore;
  invitations: InvitationStore;
  /** Runtime settings changed by a superadmin. */
  settings: SettingsStore;
  /** The first-superadmin setup link. */
  oneTimeTokens: OneTimeTokenStore;
  /** Reset, verification and email-change links. */
  emailTokens: EmailTokenStore;
  /** Mails waiting for the outbox worker. */
  outbox: OutboxStore;
  /** Per-user secrets, as envelopes only (second-factor seeds). */
  userSecrets: UserSecretStore;
  /** Authenticator apps (TOTP): confirmation and the last used step. */
  totpFactors: TotpFactorStore;
  /** Recovery codes, as lookup parts and Argon2id hashes only. */
  recoveryCodes: RecoveryCodeStore;
  /** Passkeys and their ceremonies' challenges. */
  webauthn: WebAuthnStore;
  /** Provider identities (Google, GitHub, OIDC) linked to accounts, keyed on (issuer, subject); never a provider token. */
  externalIdentities: ExternalIdentityStore;
  /** Provider round trips in flight: single use, short-lived, bound to the browser (hashes of state and binding only). */
  oauthTransactions: OAuthTransactionStore;
  /** The keys that sign the identity JWT (private JWKs as envelopes only). */
  signingKeys: SigningKeyStore;
  /** The secret vault: operator secrets and users' own keys, as envelopes only. */
  vault: VaultStore;
}

/** Creates all SQL stores over `db`. */
export function createSqlStores(db: Kysely<Database>): Stores {
  return {
    users: createSqlUserStore(db),
    sessions: createSqlSessionStore(db),
    pendingSignIns: createSqlPendingSignInStore(db),
    audit: createSqlAuditStore(db),
    apiTokens: createSqlApiTokenStore(db),
    invitations: createSqlInvitationStore(db),
    settings: createSqlSettingsStore(db),
    oneTimeTokens: createSqlOneTimeTokenStore(db),
    emailTokens: createSqlEmailTokenStore(db),
    outbox: createSqlOutboxStore(db),
    userSecrets: createSqlUserSecretStore(db),
    totpFactors: createSqlTotpFactorStore(db),
    recoveryCodes: createSqlRecoveryCodeStore(db),
    webauthn: createSqlWebAuthnStore(db),
    externalIdentities: createSqlExternalIdentityStore(db),
    oauthTransactions: createSqlOAuthTransactionStore(db),
    signingKeys: createSqlSigningKeyStore(db),
    vault: createSqlVaultStore(db),
  };
}
