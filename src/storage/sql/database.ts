/** Kysely table types. Times are epoch milliseconds, booleans 0/1, on both dialects. */
export interface UsersTable {
  id: string;
  username: string;
  username_normalized: string;
  email: string | null;
  email_normalized: string | null;
  email_verified: number;
  password_hash: string | null;
  role: string;
  blocked: number;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export interface SessionsTable {
  id: string;
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  remember: number;
  ip: string;
  user_agent: string;
  reauth_at: number | null;
  /** `aal1` or `aal2`. */
  aal: string;
  /** Authentication methods (RFC 8176), space-separated: `pwd`, `pwd otp`. */
  amr: string;
}

export interface PendingSignInsTable {
  token_hash: string;
  user_id: string;
  /** Methods proved so far, space-separated. */
  amr: string;
  remember: number;
  ip: string;
  user_agent: string;
  created_at: number;
  expires_at: number;
  failed_attempts: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: number;
  updated_by: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  scopes: string;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
}

export interface OneTimeTokensTable {
  token_hash: string;
  purpose: string;
  user_id: string | null;
  created_at: number;
  expires_at: number;
}

export interface AuditEventsTable {
  id: string;
  type: string;
  at: number;
  user_id: string | null;
  actor_id: string | null;
  ip: string;
  user_agent: string;
  details: string;
  request_id: string | null;
}

export interface EmailTokensTable {
  token_hash: string;
  purpose: string;
  user_id: string;
  email_normalized: string;
  email: string;
  created_at: number;
  expires_at: number;
}

export interface MailOutboxTable {
  id: string;
  kind: string;
  payload: string;
  status: string;
  attempts: number;
  created_at: number;
  next_attempt_at: number;
  lease_owner: string | null;
  lease_until: number | null;
  sent_at: number | null;
  last_error: string | null;
}

export interface InvitationsTable {
  id: string;
  token_hash: string;
  email: string;
  email_normalized: string;
  role: string;
  created_by: string | null;
  created_at: number;
  expires_at: number;
  used_at: number | null;
  used_by: string | null;
  revoked_at: number | null;
}

/** Per-user secrets: envelopes only (src/core/secrets). */
export interface UserSecretsTable {
  id: string;
  user_id: string;
  kind: string;
  secret_envelope: string;
  created_at: number;
  updated_at: number;
}

/** The vault's named secrets for upstream apps: envelopes only (src/core/vault). */
export interface VaultSecretsTable {
  name: string;
  secret_envelope: string;
  prefix: string | null;
  created_at: number;
  updated_at: number;
  updated_by: string | null;
}

/** Keys users store for themselves (injected into their own requests): envelopes only (src/core/vault). */
export interface UserVaultSecretsTable {
  id: string;
  user_id: string;
  name: string;
  secret_envelope: string;
  prefix: string | null;
  created_at: number;
  updated_at: number;
}

/** Authenticator apps (TOTP): confirmation and the last accepted step; the secret is in user_secrets. */
export interface TotpFactorsTable {
  user_id: string;
  confirmed_at: number | null;
  last_used_step: number;
  created_at: number;
  updated_at: number;
}

/** Recovery codes: the public lookup part and the Argon2id hash of the secret part, never the code (src/core/mfa/recovery-codes). */
export interface RecoveryCodesTable {
  id: string;
  user_id: string;
  lookup: string;
  code_hash: string;
  created_at: number;
  used_at: number | null;
}

/** A passkey: its public key and sign counter (no secret). */
export interface WebauthnCredentialsTable {
  id: string;
  user_id: string;
  /** base64url. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  counter: number;
  /** Transport hints, comma-separated. */
  transports: string;
  /** `singleDevice` or `multiDevice`. */
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A WebAuthn ceremony's challenge, single use. */
export interface WebauthnChallengesTable {
  id: string;
  /** SHA-256 (hex) of the challenge (base64url). */
  challenge_hash: string;
  /** `register`, `second_factor` or `passwordless`. */
  purpose: string;
  user_id: string | null;
  /** SHA-256 (hex) of what asked for it (a session, a pending sign-in, an anonymous cookie). */
  binding_hash: string;
  created_at: number;
  expires_at: number;
}

/** A provider identity linked to an account, keyed on (issuer, subject); no provider token. */
export interface ExternalIdentitiesTable {
  id: string;
  user_id: string;
  /** The configured provider's id (`google`, `github`, `corp`). */
  provider: string;
  issuer: string;
  subject: string;
  /** The email the provider gave at the last sign-in (display only). */
  email: string | null;
  created_at: number;
  last_used_at: number | null;
}

/** A provider round trip in flight, single use; hashes of the state and of the browser binding only. */
/** A key that signs the identity JWT (migration 0013). */
export interface SigningKeysTable {
  kid: string;
  /** `ES256` or `EdDSA`. */
  alg: string;
  /** The public JWK, JSON. */
  public_jwk: string;
  /** The private JWK, JSON, sealed with the secret box (an envelope). */
  private_jwk: string;
  /** `active` or `retired`. */
  state: string;
  created_at: number;
  retired_at: number | null;
}

export interface OauthTransactionsTable {
  id: string;
  /** SHA-256 (hex) of the `state` parameter. */
  state_hash: string;
  /** SHA-256 (hex) of the browser's transaction cookie. */
  binding_hash: string;
  provider: string;
  /** `login`, `link` or `reauth`. */
  intent: string;
  nonce: string;
  code_verifier: string;
  return_to: string | null;
  user_id: string | null;
  /** SHA-256 (hex) of the session that started a `link` or `reauth`. */
  session_hash: string | null;
  /** SHA-256 (hex) of an invitation token. */
  invitation_hash: string | null;
  remember: number;
  created_at: number;
  expires_at: number;
}

/** The whole schema as Kysely sees it. */
export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  audit_events: AuditEventsTable;
  settings: SettingsTable;
  api_tokens: ApiTokensTable;
  one_time_tokens: OneTimeTokensTable;
  email_tokens: EmailTokensTable;
  mail_outbox: MailOutboxTable;
  invitations: InvitationsTable;
  user_secrets: UserSecretsTable;
  pending_sign_ins: PendingSignInsTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  webauthn_credentials: WebauthnCredentialsTable;
  webauthn_challenges: WebauthnChallengesTable;
  external_identities: ExternalIdentitiesTable;
  oauth_transactions: OauthTransactionsTable;
  signing_keys: SigningKeysTable;
  vault_secrets: VaultSecretsTable;
  user_vault_secrets: UserVaultSecretsTable;
}
