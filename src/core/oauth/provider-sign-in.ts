import { createHash } from "node:crypto";
import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { generateToken, hashToken, isWellFormedToken, safeEqual } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { Session } from "../sessions/session.js";
import type { IssuedSession, SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { FirstFactorOutcome } from "../sign-in/pending-sign-in.js";
import type { SignIn, SignInRequest } from "../sign-in/sign-in.js";
import { emailProblem } from "../users/email.js";
import type { User } from "../users/user.js";
import type { ExternalIdentityStore } from "./external-identity-store.js";
import { ProviderError, type ExternalProfile, type ProviderSettings } from "./identity-provider.js";
import type { OAuthIntent, OAuthTransactionStore } from "./oauth-transaction-store.js";
import type { ProviderAccounts } from "./provider-account.js";
import type { ProviderRegistry } from "./provider-registry.js";

/** How long a provider round trip may take (OIDC-02: at most 10 minutes). */
export const OAUTH_TRANSACTION_MS = 10 * 60_000;

/** The signed-in browser that starts a `link` or `reauth`, or presents a session at the callback. */
export interface PresentedSession {
  user: User;
  session: Session;
  /** True when the session re-authenticated within the sudo window. */
  recentlyAuthenticated: boolean;
}

/** What {@link ProviderSignIn.start} needs. */
export interface StartRequest {
  provider: string;
  intent: OAuthIntent;
  /** The return target, already validated by the caller (REDIR-01), or null. */
  returnTo: string | null;
  remember: boolean;
  /** The session of the browser (required for `link` and `reauth`). */
  current: PresentedSession | null;
}

/** A started round trip: where to send the browser, and the value of its transaction cookie. */
export interface StartedRoundTrip {
  redirectTo: URL;
  /** The random value of the browser's transaction cookie (only its SHA-256 is stored). */
  binding: string;
  expiresAt: number;
}

/** What {@link ProviderSignIn.callback} needs. */
export interface CallbackRequest {
  provider: string;
  /** The full callback URL (code, state, iss, or error). */
  url: URL;
  /** The transaction cookie's value, or null. */
  binding: string | null;
  origin: SessionOrigin;
  /** The session token the browser presented: it ends at sign-in (SESS-04). */
  replacing: string | null;
  /** The browser's session, if valid (a `link` or `reauth` must come back in the session that started it). */
  current: PresentedSession | null;
}

/** Where a callback ended. `returnTo` is the validated target given at the start (null: the default). */
export type CallbackOutcome =
  | ({ intent: "login"; returnTo: string | null } & FirstFactorOutcome)
  | { intent: "link"; returnTo: string | null; provider: string }
  | { intent: "reauth"; returnTo: string | null; issued: IssuedSession };

/**
 * Sign-in through an identity provider (flow × strategy: the provider proves
 * the first factor, the pending sign-in asks Gatehouse's second factor when
 * the provider's `second_factor` says so). The round trip is authorization
 * code with PKCE S256, `state` and `nonce` of 256 bits each, single use, at
 * most 10 minutes, bound to the browser by a cookie and to one provider's
 * callback (OIDC-01, -02, -04). No provider token is kept (OIDC-06).
 */
export interface ProviderSignIn {
  start(request: StartRequest): Promise<StartedRoundTrip>;
  /**
   * Checks the callback and ends the round trip. Throws 400
   * `oauth_state_invalid` (state missing, unknown, used, expired, of another
   * provider, or without this browser's cookie), 400 `oauth_failed` (the
   * provider's error, a bad code or ID token), 502
   * `oauth_provider_unavailable`, 403 `oauth_account_not_linked`,
   * `registration_closed`-like refusals of the account rules, 403
   * `account_blocked`; 409 `identity_in_use` / `provider_already_linked` for a link.
   */
  callback(request: CallbackRequest): Promise<CallbackOutcome>;
  /** Deletes round trips expired now; returns how many. */
  purgeExpired(): Promise<number>;
}

/** Dependencies of {@link createProviderSignIn}. */
export interface ProviderSignInDeps {
  providers: ProviderRegistry;
  transactions: OAuthTransactionStore;
  identities: Pick<ExternalIdentityStore, "findBySubject" | "insert" | "listByUser">;
  accounts: ProviderAccounts;
  /** Where a proved first factor goes: a sign-in, or a pending one awaiting the second factor. */
  afterFirstFactor: (request: SignInRequest) => Promise<FirstFactorOutcome>;
  signIn: SignIn;
  sessions: Pick<SessionService, "rotate">;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  /** The exact redirect URI of a provider: `<PUBLIC_URL>/api/auth/oauth/<id>/callback` (one per provider, OIDC-04). */
  redirectUri: (providerId: string) => string;
  /** Round-trip lifetime (default 10 minutes). */
  lifetimeMs?: number;
}

/** base64url SHA-256, the PKCE S256 challenge of a verifier (RFC 7636 §4.2). */
function s256(verifier: string): string {
  return createHash("sha256").update(verifier).digest("base64url");
}

/** The profile as Gatehouse keeps it: an address only when it is one (else none), the flag false without it. */
function cleaned(profile: ExternalProfile): ExternalProfile {
  const email = profile.email !== null && emailProblem(profile.email) === null ? profile.email : null;
  return { ...profile, email, emailVerified: email !== null && profile.emailVerified };
}

/** True when this provider's sign-ins ask Gatehouse's own second factor of this account. */
function asksSecondFactor(provider: ProviderSettings, user: User): boolean {
  if (provider.secondFactor === "always") return true;
  if (provider.secondFactor === "never") return false;
  return user.role === "admin" || user.role === "superadmin";
}

/** Creates the {@link ProviderSignIn} flow. */
export function createProviderSignIn(deps: ProviderSignInDeps): ProviderSignIn {
  const { providers, transactions, identities, accounts, afterFirstFactor, signIn, sessions, audit, clock, random, redirectUri } = deps;
  const lifetimeMs = deps.lifetimeMs ?? OAUTH_TRANSACTION_MS;

  function configured(id: string) {
    const provider = providers.get(id);
    if (provider === null) throw new GatehouseError("not_found");
    return provider;
  }

  async function failure(provider: string, reason: string, origin: SessionOrigin, userId: string | null = null): Promise<void> {
    await audit.record({ type: "oauth_failure", userId, details: { provider, reason }, ...origin });
  }

  return {
    async start({ provider: id, intent, returnTo, remember, current }) {
      const { settings, client } = configured(id);
      if (intent !== "login") {
        if (current === null) throw new GatehouseError("unauthenticated");
        // GitHub cannot be asked for a fresh sign-in (no prompt=login, no auth_time): its remembered session would pass for one.
        if (intent === "reauth" && settings.type === "github") throw new GatehouseError("invalid_request");
        if (intent === "link") {
          if (!current.recentlyAuthenticated) throw new GatehouseError("reauth_required");
          if ((await identities.listByUser(current.user.id)).some((i) => i.provider === settings.id)) throw new GatehouseError("provider_already_linked");
        }
      }
      const now = clock.now();
      const state = generateToken(random);
      const nonce = generateToken(random);
      // 32 random bytes: 43 base64url characters (OIDC-01).
      const codeVerifier = generateToken(random);
      const binding = generateToken(random);
      const expiresAt = now + lifetimeMs;
      await transactions.insert({
        id: random.uuid(),
        stateHash: hashToken(state),
        bindingHash: hashToken(binding),
        provider: settings.id,
        intent,
        nonce,
        codeVerifier,
        returnTo,
        userId: intent === "login" ? null : (current?.user.id ?? null),
        sessionHash: intent === "login" ? null : (current?.session.tokenHash ?? null),
        invitationHash: null,
        remember,
        createdAt: now,
        expiresAt,
      });
      let redirectTo: URL;
      try {
        redirectTo = await client.authorizationUrl({ state, nonce, codeChallenge: s256(codeVerifier), redirectUri: redirectUri(settings.id), ...(intent === "reauth" ? { prompt: "login" as const } : {}) });
      } catch (err) {
        throw new GatehouseError("oauth_provider_unavailable", { cause: err });
      }
      return { redirectTo, binding, expiresAt };
    },

    async callback({ provider: id, url, binding, origin, replacing, current }) {
      const { settings, client } = configured(id);
      const state = url.searchParams.get("state") ?? "";
      const invalid = async (reason: string): Promise<never> => {
        await failure(settings.id, reason, origin, current?.user.id ?? null);
        throw new GatehouseError("oauth_state_invalid");
      };
      if (!isWellFormedToken(state)) return invalid("state_missing");
      // Single use: the one DELETE … RETURNING that finds the row ends it, right or wrong.
      const tx = await transactions.consume(hashToken(state), clock.now());
      if (tx === null) return invalid("state_unknown_used_or_expired");
      // Started with another provider: a code or state carried to this callback (mix-up, OIDC-04).
      if (tx.provider !== settings.id) return invalid("state_of_another_provider");
      // Started in another browser: an attacker's callback URL opened by the victim (login CSRF, OIDC-02).
      if (binding === null || !isWellFormedToken(binding) || !safeEqual(hashToken(binding), tx.bindingHash)) return invalid("browser_mismatch");

      let profile: ExternalProfile;
      try {
        const checks = { state, nonce: tx.nonce, codeVerifier: tx.codeVerifier, redirectUri: redirectUri(settings.id) };
        // A re-authentication must be a fresh sign-in at the provider, not its remembered session.
        profile = cleaned(await client.exchange(url, tx.intent === "reauth" ? { ...checks, maxAge: 0 } : checks));
      } catch (err) {
        const reason = err instanceof ProviderError ? err.reason : "unavailable";
        await failure(settings.id, reason, origin, tx.userId);
        throw new GatehouseError(reason === "unavailable" ? "oauth_provider_unavailable" : "oauth_failed", { cause: err });
      }

      if (tx.intent !== "login") {
        // A link or re-authentication comes back in the very session that started it.
        if (current === null || current.user.id !== tx.userId || !safeEqual(current.session.tokenHash, tx.sessionHash ?? "")) return invalid("session_changed");
        if (tx.intent === "reauth") {
          const known = await identities.findBySubject(profile.issuer, profile.subject);
          if (known === null || known.userId !== current.user.id) {
            await failure(settings.id, "reauth_other_identity", origin, current.user.id);
            throw new GatehouseError("oauth_failed");
          }
          const issued = await sessions.rotate(current.session, origin, { reauthenticated: true });
          return { intent: "reauth", returnTo: tx.returnTo, issued };
        }
        const result = await identities.insert({ id: random.uuid(), userId: current.user.id, provider: settings.id, issuer: profile.issuer, subject: profile.subject, email: profile.email, createdAt: clock.now(), lastUsedAt: null });
        if (!result.ok) {
          await failure(settings.id, result.conflict, origin, current.user.id);
          throw new GatehouseError(result.conflict === "identity_taken" ? "identity_in_use" : "provider_already_linked");
        }
        await audit.record({ type: "oauth_link", userId: current.user.id, actorId: current.user.id, details: { provider: settings.id }, ...origin });
        return { intent: "link", returnTo: tx.returnTo, provider: settings.id };
      }

      let proved;
      try {
        proved = await accounts.resolve(settings, profile, origin);
      } catch (err) {
        if (err instanceof GatehouseError) await failure(settings.id, err.code, origin);
        throw err;
      }
      const user = await accounts.applyRoles(settings, profile, proved.user, origin);
      if (user.blocked) {
        await failure(settings.id, "blocked", origin, user.id);
        throw new GatehouseError("account_blocked");
      }
      await audit.record({ type: "oauth_login", userId: user.id, actorId: user.id, details: { provider: settings.id, account: proved.how }, ...origin });
      const request: SignInRequest = { user, methods: ["fed"], flow: "login", origin, remember: tx.remember, replacing };
      const outcome = asksSecondFactor(settings, user) ? await afterFirstFactor(request) : { status: "signed_in" as const, ...(await signIn(request)) };
      return { intent: "login", returnTo: tx.returnTo, ...outcome };
    },

    purgeExpired: () => transactions.deleteExpired(clock.now()),
  };
}
