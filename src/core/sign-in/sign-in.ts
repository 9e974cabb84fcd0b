import type { AuditLog } from "../audit/audit-log.js";
import { assuranceOf, formatAmr, type AuthMethod } from "../sessions/assurance.js";
import type { Clock } from "../clock.js";
import type { IssuedSession, SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { User } from "../users/user.js";
import type { UserStore } from "../users/user-store.js";

export type { AuthMethod } from "../sessions/assurance.js";

/** The `method` an audit event names for the first method (`password`, the name `login_success` has always carried). */
const METHOD_NAMES: Record<AuthMethod, string> = { pwd: "password", otp: "one_time_code", hwk: "hardware_key", swk: "software_key", mfa: "multi_factor", fed: "provider" };

/**
 * The flow that ends in a sign-in. A `login` records `login_success`; a
 * registration, an invitation or the setup link signs in the account it has
 * just created, whose `register` event is its record.
 */
export type SignInFlow = "login" | "registration" | "invitation" | "setup";

/** What {@link SignIn} needs: who was proved, how, and from where. */
export interface SignInRequest {
  /** The user, already proved (the caller checked the secret and whether they may sign in). */
  user: User;
  /**
   * The methods that proved the user, in the order they were checked: the
   * session records them (`amr`) and the assurance they give (`aal2` for two
   * kinds of factor). Only the server's flows name them, never a client.
   */
  methods: readonly [AuthMethod, ...AuthMethod[]];
  flow: SignInFlow;
  origin: SessionOrigin;
  /** "Remember me": a longer, persistent session. */
  remember: boolean;
  /**
   * The session token the client presented with the sign-in, if any. That
   * session ends: a browser leaves a sign-in holding only the new token,
   * whatever was planted in it before (session fixation, SESS-04).
   */
  replacing?: string | null | undefined;
}

/** A completed sign-in: the user (with its new last sign-in) and the session to hand to the client. */
export interface SignedIn {
  user: User;
  issued: IssuedSession;
}

/**
 * The one completion of every sign-in (login, registration, invitation,
 * setup, a second factor completing a pending sign-in): ends the session the
 * client presented, records the last sign-in, issues a brand-new session
 * carrying its assurance and methods, and records the event. It checks nothing: the
 * flow has proved the user, under the brute-force regulator, before calling it.
 */
export type SignIn = (request: SignInRequest) => Promise<SignedIn>;

/** Dependencies of {@link createSignIn}. */
export interface SignInDeps {
  users: Pick<UserStore, "recordLogin">;
  sessions: Pick<SessionService, "create" | "revokeToken" | "forgetUser">;
  audit: AuditLog;
  clock: Clock;
}

/** Creates the {@link SignIn} completion. */
export function createSignIn(deps: SignInDeps): SignIn {
  const { users, sessions, audit, clock } = deps;
  return async ({ user, methods, flow, origin, remember, replacing }) => {
    // First, so the new session never shares the per-user cap with the one it replaces.
    if (replacing !== undefined && replacing !== null) await sessions.revokeToken(replacing);
    const now = clock.now();
    await users.recordLogin(user.id, now);
    // Cached lookups hold the user record, which just changed.
    sessions.forgetUser(user.id);
    const issued = await sessions.create(user.id, origin, remember, methods);
    if (flow === "login") {
      await audit.record({
        type: "login_success",
        userId: user.id,
        actorId: user.id,
        details: { method: METHOD_NAMES[methods[0]], aal: assuranceOf(methods), amr: formatAmr(methods) },
        ...origin,
      });
    }
    return { user: { ...user, lastLoginAt: now }, issued };
  };
}
