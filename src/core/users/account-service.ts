import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import { legacySchemeOf } from "../passwords/legacy/legacy-verify.js";
import type { PasswordHasher } from "../passwords/password-hasher.js";
import { checkNewPassword, isPasswordTooLong, type PasswordPolicy } from "../passwords/password-policy.js";
import type { Random } from "../random.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import { hasRecentAuth, type Session, type SessionLifetimes } from "../sessions/session.js";
import type { IssuedSession, SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { FirstFactorOutcome } from "../sign-in/pending-sign-in.js";
import type { SignIn, SignInFlow, SignInRequest } from "../sign-in/sign-in.js";
import { cleanEmail, emailProblem, normalizeEmail } from "./email.js";
import type { Role, User } from "./user.js";
import type { UserStore } from "./user-store.js";
import { cleanUsername, normalizeUsername, usernameProblem } from "./username.js";

/** Dependencies of {@link createAccountService}. */
export interface AccountServiceDeps {
  users: UserStore;
  sessions: SessionService;
  hasher: PasswordHasher;
  audit: AuditLog;
  clock: Clock;
  random: Random;
  policy: PasswordPolicy;
  /** Brute-force regulation shared by every secret check. */
  regulator: SecretRegulator;
  /** Lifetimes, for the sudo window. */
  lifetimes: SessionLifetimes;
  /** The completion every sign-in ends with (src/core/sign-in). */
  signIn: SignIn;
  /**
   * Where a proved password goes next (src/core/sign-in/pending-sign-in.ts):
   * a sign-in, or a pending one awaiting the second factor. Default: sign in.
   */
  afterFirstFactor?: (request: SignInRequest) => Promise<FirstFactorOutcome>;
  /**
   * Whether a user whose password was right may sign in (email verification,
   * RST-07); a refusal answers exactly like a wrong password.
   */
  canSignIn?: (user: User) => Promise<boolean>;
  /** `PASSWORD_LOGIN` (default on): off, every password sign-in is refused with 403 `password_login_disabled`. */
  passwordLogin?: boolean;
}

/** Input of a registration. */
export interface Registration {
  username: string;
  password: string;
  email?: string | undefined;
}

/** A registration result: the session is absent when `signIn: false` was asked. */
export interface Registered {
  user: User;
  issued: IssuedSession | null;
}

/** Options of {@link AccountService.register}. */
export interface RegisterOptions {
  role?: Role;
  /** False: create the account only (seeding, the CLI, registration awaiting email verification). */
  signIn?: boolean;
  /** The flow that signs the new account in (default `registration`). */
  flow?: SignInFlow;
  /** The session token the client presented: it ends when the new account signs in. */
  replacing?: string | null;
  emailVerified?: boolean;
  audit?: { actorId: string | null; details: Record<string, string> };
}

/** Options of {@link AccountService.createWithoutPassword}. */
export interface PasswordlessAccountOptions {
  /** The address is already proved (a provider asserted it verified). */
  emailVerified?: boolean;
  /** The `register` event's details (default `{via: "admin", role}`). */
  details?: Record<string, string>;
}

/** Registration, password login, password change and account deletion. */
export interface AccountService {
  /**
   * Creates an account (role `user` unless told otherwise, for the first
   * superadmin) and, unless `signIn` is false, its first session.
   */
  register(input: Registration, origin: SessionOrigin, options?: RegisterOptions): Promise<Registered>;
  /**
   * Creates an account without a password (an admin-made account: its owner
   * chooses the password with a mailed link). Validates like {@link register}; signs nobody in.
   */
  createWithoutPassword(input: { username: string; email: string | null }, role: Role, origin: SessionOrigin, actorId: string | null, options?: PasswordlessAccountOptions): Promise<User>;
  /**
   * Password login. Unknown users and wrong passwords fail identically and
   * take the same time; a blocked user is told so only after the right password.
   * `replacing` is the session token the client presented: it ends at sign-in.
   * A user with a second factor is not signed in: the outcome is a pending
   * sign-in (`mfa_required`) that the second factor completes.
   */
  login(input: { login: string; password: string; remember: boolean; replacing?: string | null }, origin: SessionOrigin): Promise<FirstFactorOutcome>;
  /** Changes the password, ends every other session and rotates the current one. */
  changePassword(
    user: User,
    session: Session,
    input: { currentPassword: string; newPassword: string },
    origin: SessionOrigin,
  ): Promise<IssuedSession>;
  /**
   * Deletes the account after checking its password (and a recent
   * re-authentication); 409 `last_superadmin` for the last active superadmin.
   */
  deleteAccount(user: User, session: Session, password: string, origin: SessionOrigin): Promise<void>;
  /**
   * Re-authentication ("sudo"): checks the password under the shared
   * throttles and rotates the session, marked as freshly authenticated.
   */
  reauthenticate(user: User, session: Session, password: string, origin: SessionOrigin): Promise<IssuedSession>;
  /** Throws 403 `reauth_required` unless the session re-authenticated within the sudo window. */
  requireRecentAuth(session: Session): void;
  /** True when the session re-authenticated within the sudo window (pages ask for the password otherwise). */
  isRecentlyAuthenticated(session: Session): boolean;
  /** Signs out the session of `token` (if any) and records `logout`. */
  logout(token: string, origin: SessionOrigin): Promise<void>;
  /** Ends one of the user's own sessions; false when it is not theirs. */
  revokeSession(user: User, sessionId: string, origin: SessionOrigin): Promise<boolean>;
  /** Ends every session of the user but `keepId`; returns how many ended. */
  revokeOtherSessions(user: User, keepId: string, origin: SessionOrigin): Promise<number>;
}

/**
 * True when no account can have this login name: usernames and emails never
 * hold control characters, and U+0000 would make PostgreSQL throw (a 500
 * instead of the unknown-user answer).
 */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return true;
  }
  return false;
}

/** Creates the {@link AccountService}. */
export function createAccountService(deps: AccountServiceDeps): AccountService {
  const { users, sessions, hasher, audit, clock, random, policy, regulator, lifetimes, signIn } = deps;
  const afterFirstFactor = deps.afterFirstFactor ?? (async (request: SignInRequest): Promise<FirstFactorOutcome> => ({ status: "signed_in", ...(await signIn(request)) }));

  function isRecentlyAuthenticated(session: Session): boolean {
    return hasRecentAuth(session, lifetimes, clock.now());
  }

  function requireRecentAuth(session: Session): void {
    if (!isRecentlyAuthenticated(session)) throw new GatehouseError("reauth_required");
  }

  function invalid(field: string): GatehouseError {
    return new GatehouseError("invalid_request", { fields: [field] });
  }

  /**
   * After a proved password: a hash of other parameters, or of a legacy
   * scheme (an imported account), becomes a current Argon2id hash. The swap
   * is compare-and-set on the hash that was verified, so of two concurrent
   * first sign-ins exactly one upgrades (and is audited); the old hash is gone.
   */
  async function upgradeHash(user: User, verified: string, password: string, origin: SessionOrigin): Promise<void> {
    if (!hasher.needsRehash(verified)) return;
    const swapped = await users.replacePasswordHash(user.id, verified, await hasher.hash(password), clock.now());
    const from = legacySchemeOf(verified);
    if (swapped && from !== null) await audit.record({ type: "password_upgraded", userId: user.id, actorId: user.id, details: { from }, ...origin });
  }

  /** A current-password check (change, deletion, later sudo), under the same throttles as login (RL-04). */
  async function checkCurrentPassword(user: User, password: string, origin: SessionOrigin): Promise<boolean> {
    const hash = user.passwordHash;
    if (isPasswordTooLong(password, policy) || hash === null) return false;
    const admission = await regulator.admit(origin, { key: `user:${user.id}`, userId: user.id });
    const ok = await hasher.verify(hash, password);
    await regulator.record(admission, ok);
    return ok;
  }

  return {
    async register(input, origin, options = {}) {
      if (usernameProblem(input.username) !== null) throw invalid("username");
      const email = input.email === undefined || input.email.trim() === "" ? null : input.email;
      if (email !== null && emailProblem(email) !== null) throw invalid("email");
      const username = cleanUsername(input.username);
      const weak = checkNewPassword(input.password, { username, email }, policy);
      if (weak !== null) throw new GatehouseError(weak, { fields: ["password"] });

      const now = clock.now();
      const id = random.uuid();
      const result = await users.insert({
        id,
        username,
        usernameNormalized: normalizeUsername(username),
        email: email === null ? null : cleanEmail(email),
        emailNormalized: email === null ? null : normalizeEmail(email),
        passwordHash: await hasher.hash(input.password),
        role: options.role ?? "user",
        createdAt: now,
        ...(options.emailVerified === true && email !== null ? { emailVerified: true } : {}),
      });
      if (!result.ok) throw new GatehouseError(result.conflict, { fields: [result.conflict === "email_taken" ? "email" : "username"] });
      const user = await users.findById(id);
      if (!user) throw new Error("registered user vanished");
      await audit.record({ type: "register", userId: id, actorId: options.audit ? options.audit.actorId : id, ...(options.audit ? { details: options.audit.details } : {}), ...origin });
      if (options.signIn === false) return { user, issued: null };
      return signIn({ user, methods: ["pwd"], flow: options.flow ?? "registration", origin, remember: false, replacing: options.replacing });
    },

    async createWithoutPassword(input, role, origin, actorId, options = {}) {
      if (usernameProblem(input.username) !== null) throw invalid("username");
      if (input.email !== null && emailProblem(input.email) !== null) throw invalid("email");
      const username = cleanUsername(input.username);
      const id = random.uuid();
      const result = await users.insert({
        id,
        username,
        usernameNormalized: normalizeUsername(username),
        email: input.email === null ? null : cleanEmail(input.email),
        emailNormalized: input.email === null ? null : normalizeEmail(input.email),
        passwordHash: null,
        role,
        createdAt: clock.now(),
        ...(options.emailVerified === true && input.email !== null ? { emailVerified: true } : {}),
      });
      if (!result.ok) throw new GatehouseError(result.conflict, { fields: [result.conflict === "email_taken" ? "email" : "username"] });
      const user = await users.findById(id);
      if (!user) throw new Error("created user vanished");
      await audit.record({ type: "register", userId: id, actorId, details: options.details ?? { via: "admin", role }, ...origin });
      return user;
    },

    async login(input, origin) {
      if (deps.passwordLogin === false) throw new GatehouseError("password_login_disabled");
      if (isPasswordTooLong(input.password, policy)) throw invalid("password");
      const login = input.login.trim();
      const byEmail = login.includes("@");
      const normalized = byEmail ? normalizeEmail(login) : normalizeUsername(login);
      // The lookup runs only once the IP check passed. Every spelling of one account
      // shares a counter; an unknown login gets its own, throttled the same way.
      const admission = await regulator.admit(origin, async () => {
        const user = hasControlCharacter(login) ? null : await users.findByLogin(byEmail ? { email: normalized } : { username: normalized });
        return { key: user ? `user:${user.id}` : `login:${normalized}`, userId: user?.id ?? null, user };
      });
      const { user } = admission.subject;
      const hash = user?.passwordHash ?? null;
      let ok = false;
      // An unknown user (or one without a password) costs a hash too: the answer takes the same time.
      if (hash === null) await hasher.verifyDummy(input.password);
      else ok = await hasher.verify(hash, input.password);
      await regulator.record(admission, ok);
      if (user === null || hash === null || !ok) {
        const reason = user === null || hash === null ? "unknown_user" : "wrong_password";
        await audit.record({ type: "login_failure", userId: user?.id ?? null, details: { reason }, ...origin });
        throw new GatehouseError("invalid_credentials");
      }
      if (user.blocked) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "blocked" }, ...origin });
        throw new GatehouseError("account_blocked");
      }
      if (deps.canSignIn && !(await deps.canSignIn(user))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "email_unverified" }, ...origin });
        throw new GatehouseError("invalid_credentials");
      }
      await upgradeHash(user, hash, input.password, origin);
      return afterFirstFactor({ user, methods: ["pwd"], flow: "login", origin, remember: input.remember, replacing: input.replacing });
    },

    async changePassword(user, session, input, origin) {
      requireRecentAuth(session);
      if (!(await checkCurrentPassword(user, input.currentPassword, origin))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "wrong_current_password" }, ...origin });
        throw new GatehouseError("invalid_password", { fields: ["currentPassword"] });
      }
      const weak = checkNewPassword(input.newPassword, { username: user.username, email: user.email }, policy);
      if (weak !== null) throw new GatehouseError(weak, { fields: ["newPassword"] });
      await users.updatePasswordHash(user.id, await hasher.hash(input.newPassword), clock.now());
      await sessions.revokeAllForUser(user.id, session.id);
      const issued = await sessions.rotate(session, origin, { renew: true, reauthenticated: true });
      await audit.record({ type: "password_change", userId: user.id, actorId: user.id, ...origin });
      return issued;
    },

    async deleteAccount(user, session, password, origin) {
      requireRecentAuth(session);
      if (!(await checkCurrentPassword(user, password, origin))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "wrong_current_password" }, ...origin });
        throw new GatehouseError("invalid_password", { fields: ["password"] });
      }
      // The last active superadmin cannot delete their account (409 `last_superadmin`), even racing another removal.
      const result = await users.changeGuardingLastSuperadmin(user.id, { kind: "delete" }, clock.now());
      if (result === "last_superadmin") throw new GatehouseError("last_superadmin");
      // The session rows went with the user (foreign key); this empties the session cache.
      await sessions.revokeAllForUser(user.id);
      if (result === "not_found") return;
      await audit.record({ type: "user_deleted", userId: user.id, actorId: user.id, ...origin });
    },

    async reauthenticate(user, session, password, origin) {
      if (!(await checkCurrentPassword(user, password, origin))) {
        await audit.record({ type: "login_failure", userId: user.id, details: { reason: "wrong_reauth_password" }, ...origin });
        throw new GatehouseError("invalid_password", { fields: ["password"] });
      }
      if (user.passwordHash !== null) await upgradeHash(user, user.passwordHash, password, origin);
      return sessions.rotate(session, origin, { reauthenticated: true });
    },

    requireRecentAuth,
    isRecentlyAuthenticated,

    async logout(token, origin) {
      const current = await sessions.validate(token);
      await sessions.revokeToken(token);
      if (current) await audit.record({ type: "logout", userId: current.user.id, actorId: current.user.id, ...origin });
    },

    async revokeSession(user, sessionId, origin) {
      const revoked = await sessions.revokeById(user.id, sessionId);
      if (revoked) {
        await audit.record({ type: "session_revoked", userId: user.id, actorId: user.id, details: { sessionId }, ...origin });
      }
      return revoked;
    },

    async revokeOtherSessions(user, keepId, origin) {
      const count = await sessions.revokeAllForUser(user.id, keepId);
      if (count > 0) {
        await audit.record({ type: "session_revoked", userId: user.id, actorId: user.id, details: { count, scope: "others" }, ...origin });
      }
      return count;
    },
  };
}
