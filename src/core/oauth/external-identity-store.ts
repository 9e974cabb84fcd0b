/** A provider identity linked to a local account, keyed on (issuer, subject) (OIDC-05). No token is ever kept. */
export interface ExternalIdentity {
  id: string;
  userId: string;
  /** The configured provider's id (`corp`, `google`, `github`). */
  provider: string;
  /** The issuer that asserted {@link subject}; with it, the identity's key. */
  issuer: string;
  subject: string;
  /** The email the provider gave at the last sign-in (shown on the account page; never used to find the account). */
  email: string | null;
  createdAt: number;
  lastUsedAt: number | null;
}

/** Why a link was refused by the store's unique keys. */
export type IdentityLinkConflict =
  /** (issuer, subject) is already linked, to this account or another. */
  | "identity_taken"
  /** The account already has an identity of this provider. */
  | "provider_already_linked";

/** Persistence port for linked provider identities. */
export interface ExternalIdentityStore {
  /** Links an identity; the unique keys (issuer, subject) and (user, provider) decide races. */
  insert(identity: ExternalIdentity): Promise<{ ok: true } | { ok: false; conflict: IdentityLinkConflict }>;
  findBySubject(issuer: string, subject: string): Promise<ExternalIdentity | null>;
  /** A user's identities, oldest first. */
  listByUser(userId: string): Promise<ExternalIdentity[]>;
  /** Records a sign-in through the identity: the email the provider gave, and the time. */
  recordUse(id: string, email: string | null, at: number): Promise<void>;
  /** Unlinks one of the user's identities; false when it is not theirs. */
  delete(userId: string, id: string): Promise<boolean>;
}
