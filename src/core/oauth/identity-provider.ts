import type { Role } from "../users/user.js";

/** The kinds of provider Gatehouse signs users in with. */
export const PROVIDER_TYPES = ["oidc", "google", "github"] as const;
/** One of {@link PROVIDER_TYPES}. */
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/**
 * When a sign-in through this provider must still pass Gatehouse's own second
 * factor (if the account has one): `admins` (the default: admin and
 * superadmin accounts), `always`, or `never` (the provider's own checks are trusted).
 */
export type ProviderSecondFactor = "admins" | "always" | "never";

/**
 * One configured identity provider (the rules file's `identity_providers`, or
 * the `OAUTH_*` variables). Validated in one place (src/oauth/parse-providers.ts);
 * the client secret is held here in memory only, never stored or logged.
 */
export interface ProviderSettings {
  /** `[a-z0-9-]{1,32}`: in the callback path `/api/auth/oauth/<id>/callback` (one redirect URI per provider, OIDC-04). */
  id: string;
  type: ProviderType;
  /** The name on the buttons ("Sign in with <name>"). */
  name: string;
  /**
   * The issuer: for `oidc` the configured one (discovery must answer with it
   * exactly), `https://accounts.google.com` for Google, and for GitHub (not
   * OpenID Connect) the web origin, `https://github.com`, which keys its identities.
   */
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  /** Off: no button, and start/callback answer 404 `provider_not_found`. */
  enabled: boolean;
  /** Link a first sign-in to the local account with the same email, when the provider says it is verified (OIDC-05; default off). */
  autoLink: boolean;
  /** Accounts this provider may create: only with an email in one of these domains (empty: any). */
  emailDomains: string[];
  secondFactor: ProviderSecondFactor;
  /** Roles from a claim (`groups`): claim value → role, never above `admin`. Null: roles are Gatehouse's own. */
  roles: { claim: string; map: Record<string, Exclude<Role, "superadmin">> } | null;
  /** Extra PEM certificate authorities trusted for this provider's TLS (a private CA). */
  caFile: string | null;
  /** Allow addresses on loopback or private networks (an IdP on the LAN); link-local and metadata addresses stay refused. */
  privateNetwork: boolean;
  /** GitHub (and GitHub Enterprise) endpoints; null for the OpenID Connect types (discovery gives them). */
  github: { authorizationEndpoint: string; tokenEndpoint: string; apiUrl: string } | null;
}

/** Who the provider says signed in: the claims Gatehouse uses, after every check of the provider's answer. */
export interface ExternalProfile {
  /** The issuer the identity is keyed on, with {@link subject} (OIDC-05). */
  issuer: string;
  /** The provider's stable user id (`sub`; GitHub's numeric user id). */
  subject: string;
  email: string | null;
  /** True only when the provider says so explicitly (`email_verified: true`; GitHub's verified primary address). */
  emailVerified: boolean;
  /** A username suggestion (`preferred_username`, GitHub's login, else the email's local part). */
  preferredUsername: string | null;
  /** The display name, if any (shown escaped, never trusted). */
  name: string | null;
  /** Values of the role claim (`groups`), when roles are mapped; else empty. */
  roleClaimValues: string[];
}

/** What the authorization request carries; all of it was made by Gatehouse for this transaction. */
export interface AuthorizationRequest {
  state: string;
  nonce: string;
  /** base64url SHA-256 of the code verifier (PKCE S256, OIDC-01). */
  codeChallenge: string;
  redirectUri: string;
  /** `login`: the provider must ask the user again (re-authentication). */
  prompt?: "login";
}

/** The checks of the callback: the transaction's own values. */
export interface CallbackChecks {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
  /**
   * Seconds since the provider last authenticated the user, at most (its
   * `auth_time`; with the clock tolerance): a re-authentication asked
   * `prompt=login` and `max_age=0`, and a provider's remembered sign-in does
   * not count as a fresh one. Unset: not checked.
   */
  maxAge?: number;
}

/**
 * The protocol half of one provider (src/oauth/): builds the authorization
 * URL, and turns the callback URL into a checked {@link ExternalProfile}
 * (state, `iss`, code exchange with the PKCE verifier, ID token signature,
 * issuer, audience, times and nonce). Any failure throws a
 * {@link ProviderError}; no token leaves it.
 */
export interface ProviderClient {
  authorizationUrl(request: AuthorizationRequest): Promise<URL>;
  /** `callbackUrl`: the full URL the browser came back to (its query carries code, state, iss or error). */
  exchange(callbackUrl: URL, checks: CallbackChecks): Promise<ExternalProfile>;
}

/** Why a provider round trip failed; `reason` is one of ours, never the provider's text. */
export type ProviderFailure =
  /** The provider answered `error=access_denied` (the user cancelled). */
  | "cancelled"
  /** The provider answered with another `error`. */
  | "provider_error"
  /** The callback's state, `iss` or code did not check out, or the code exchange was refused. */
  | "invalid_response"
  /** The ID token failed a check (signature, issuer, audience, times, nonce). */
  | "invalid_id_token"
  /** Discovery, JWKS, token or user endpoints unreachable, refused by the outbound policy, or misbehaving. */
  | "unavailable";

/** A failed provider round trip. The message is for logs and never holds a token, a code or the provider's text. */
export class ProviderError extends Error {
  readonly reason: ProviderFailure;
  constructor(reason: ProviderFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ProviderError";
    this.reason = reason;
  }
}
