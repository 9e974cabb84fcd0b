import type { Clock } from "../clock.js";
import { generateToken, hashToken, isWellFormedToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { SecondFactorGuard } from "../mfa/second-factor-guard.js";
import type { SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { UserStore } from "../users/user-store.js";
import type { PendingSignInStore } from "./pending-sign-in-store.js";
import type { SecondFactorMethod, SecondFactors, SecondFactorVerifiers } from "./second-factors.js";
import type { SignedIn, SignIn, SignInRequest } from "./sign-in.js";

/** How long a pending sign-in waits for its second factor (MFA-04: 5 minutes). */
export const PENDING_SIGN_IN_MS = 5 * 60_000;
/** Wrong second factors one pending sign-in takes before it is dropped (a new password login is needed). */
export const PENDING_SIGN_IN_MAX_FAILURES = 5;

/** A pending sign-in just begun, and the token to put in the pending cookie (the only place it ever exists). */
export interface IssuedPendingSignIn {
  token: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * What a proved first factor leads to: a completed sign-in, or, for a user
 * with a second factor, a pending one that grants nothing yet.
 */
export type FirstFactorOutcome =
  | ({ status: "signed_in" } & SignedIn)
  | { status: "mfa_required"; methods: SecondFactorMethod[]; pending: IssuedPendingSignIn };

/** A second factor as a client presents it. */
export interface SecondFactorProof {
  method: string;
  code: string;
}

/**
 * The multi-step sign-in (flow × strategy): the first factor's flow hands
 * its proof to {@link PendingSignIn.afterFirstFactor}, which either signs in
 * at once or parks the sign-in until a second factor completes it through
 * {@link PendingSignIn.complete}. A pending sign-in is not a session: its
 * token lives in its own table and its own cookie, and no session lookup
 * ever reads either.
 */
export interface PendingSignIn {
  /**
   * The end of a first factor's flow. A user without a second factor is
   * signed in at once ({@link SignIn}); a user with one gets a pending sign-in
   * (5 minutes) and the methods that may complete it. The session the client
   * presented ends either way: the browser holds only the pending token.
   */
  afterFirstFactor(request: SignInRequest): Promise<FirstFactorOutcome>;
  /**
   * Completes a pending sign-in with a second factor, under the second factors'
   * brute-force regulation ({@link SecondFactorGuard}). A right factor uses
   * the pending sign-in up (one use, even under concurrent completions) and
   * signs in with the first factor's methods plus the factor's own.
   * Throws 401 `sign_in_expired` when the token is unknown, used, expired,
   * presented by another user agent, or older than the last change to the
   * user's password, role or block, and 401 `invalid_second_factor` for a
   * wrong code or a method the user has not enrolled (five of those drop it).
   */
  complete(token: string, proof: SecondFactorProof, origin: SessionOrigin, replacing: string | null): Promise<SignedIn>;
  /**
   * The methods that may complete the pending sign-in of `token` (for the
   * form a redirect leads to), or null when it is unknown, expired or was
   * begun by another user agent. Reads only; nothing is used up.
   */
  methodsFor(token: string, origin: SessionOrigin): Promise<SecondFactorMethod[] | null>;
  /** Deletes expired pending sign-ins; returns how many. */
  purgeExpired(): Promise<number>;
}

/** Dependencies of {@link createPendingSignIn}. */
export interface PendingSignInDeps {
  store: PendingSignInStore;
  users: Pick<UserStore, "findById">;
  sessions: Pick<SessionService, "revokeToken">;
  signIn: SignIn;
  secondFactors: SecondFactors;
  verifiers: SecondFactorVerifiers;
  /** Brute-force regulation of second factors (the shared regulator plus the MFA-03 pause). */
  guard: SecondFactorGuard;
  clock: Clock;
  random: Random;
  /** Lifetime of a pending sign-in (default 5 min). */
  lifetimeMs?: number;
}

/** Creates the {@link PendingSignIn} flow. */
export function createPendingSignIn(deps: PendingSignInDeps): PendingSignIn {
  const { store, users, sessions, signIn, secondFactors, verifiers, guard, clock, random } = deps;
  const lifetimeMs = deps.lifetimeMs ?? PENDING_SIGN_IN_MS;
  const expired = () => new GatehouseError("sign_in_expired");

  return {
    async afterFirstFactor(request) {
      const methods = await secondFactors.methodsOf(request.user.id);
      if (methods.length === 0) return { status: "signed_in", ...(await signIn(request)) };
      // Whatever session this browser held ends now, as it would at a completed sign-in (SESS-04).
      if (request.replacing !== undefined && request.replacing !== null) await sessions.revokeToken(request.replacing);
      const now = clock.now();
      const token = generateToken(random);
      const expiresAt = now + lifetimeMs;
      await store.insert({
        tokenHash: hashToken(token),
        userId: request.user.id,
        amr: [...request.methods],
        remember: request.remember,
        ip: request.origin.ip,
        userAgent: request.origin.userAgent.slice(0, 512),
        createdAt: now,
        expiresAt,
        failedAttempts: 0,
      });
      return { status: "mfa_required", methods, pending: { token, createdAt: now, expiresAt } };
    },

    async complete(token, proof, origin, replacing) {
      if (!isWellFormedToken(token)) throw expired();
      const tokenHash = hashToken(token);
      const pending = await store.find(tokenHash, clock.now());
      if (pending === null) throw expired();
      // Bound to the user agent that proved the first factor (MFA-04): a copied cookie elsewhere ends it.
      if (pending.userAgent !== origin.userAgent.slice(0, 512)) {
        await store.delete(tokenHash);
        throw expired();
      }
      const user = await users.findById(pending.userId);
      // Blocked, or changed since the password was proved (a new password, a role change, a block lifted):
      // the change ended every session, and it ends this half of one too.
      if (user === null || user.blocked || user.updatedAt > pending.createdAt) {
        await store.delete(tokenHash);
        throw expired();
      }
      const enrolled = await secondFactors.methodsOf(user.id);
      const verifier = enrolled.includes(proof.method) ? verifiers.get(proof.method) : undefined;
      const ok = await guard.check(user, origin, proof.method, async () => verifier !== undefined && (await verifier.verify(user, proof.code, origin, { pendingTokenHash: tokenHash })));
      if (!ok || verifier === undefined) {
        await store.recordFailure(tokenHash, PENDING_SIGN_IN_MAX_FAILURES);
        throw new GatehouseError("invalid_second_factor");
      }
      // One use: of concurrent right answers, the one that deletes the row signs in.
      const won = await store.consume(tokenHash, clock.now());
      if (won === null) throw expired();
      const [first, ...rest] = won.amr;
      return signIn({ user, methods: [first ?? "pwd", ...rest, verifier.amr], flow: "login", origin, remember: won.remember, replacing });
    },

    async methodsFor(token, origin) {
      if (!isWellFormedToken(token)) return null;
      const pending = await store.find(hashToken(token), clock.now());
      if (pending === null || pending.userAgent !== origin.userAgent.slice(0, 512)) return null;
      const methods = await secondFactors.methodsOf(pending.userId);
      return methods.length > 0 ? methods : null;
    },

    purgeExpired: () => store.deleteExpired(clock.now()),
  };
}
