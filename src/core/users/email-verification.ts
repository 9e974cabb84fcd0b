import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { hashToken, isWellFormedToken } from "../crypto/tokens.js";
import { GatehouseError, isGatehouseError } from "../errors.js";
import type { EmailTokenRecord, EmailTokenStore } from "../mail/email-token-store.js";
import type { Mailer } from "../mail/mailer.js";
import { checkNewPassword, type PasswordPolicy } from "../passwords/password-policy.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { Session } from "../sessions/session.js";
import type { IssuedSession, SessionOrigin, SessionService } from "../sessions/session-service.js";
import type { AccountService, Registration } from "./account-service.js";
import { cleanEmail, emailProblem, normalizeEmail } from "./email.js";
import type { User } from "./user.js";
import type { UserStore } from "./user-store.js";
import { cleanUsername, usernameProblem } from "./username.js";

/** Email verification (RST-07) and the confirmation of an email change (RST-08). */
export interface EmailVerification {
  /** Whether the runtime setting "email verification required" is on. */
  required(): Promise<boolean>;
  /**
   * Whether `user` may sign in: while verification is required, an account
   * of role `user` with an unverified address may not (admins are exempt, so
   * turning the setting on never locks out the console).
   */
  canSignIn(user: User): Promise<boolean>;
  /**
   * Registration while verification is required: the same outcome, in the
   * same time, whether or not the address or the username is registered.
   * Only the input is checked before answering (invalid input throws); the
   * account is then created in the background and gets a verification link,
   * or the owner of a taken address a "you already have an account" mail, or
   * the address a "choose another username" mail. Never signs in.
   */
  register(input: Registration, origin: SessionOrigin): Promise<void>;
  /** Mails a fresh verification link if `email` belongs to an unverified account; returns at once. */
  resend(email: string, origin: SessionOrigin): void;
  /**
   * Confirms an address with a mailed token (a new account's, or the new
   * address of an email change). Other sessions of the user end; `current`,
   * when it is the user's, is rotated and returned. 400 `invalid_token` when
   * the token is unknown, used, expired, or was issued for another address.
   */
  verify(token: string, origin: SessionOrigin, current: { session: Session; user: User } | null): Promise<IssuedSession | null>;
}

const PURPOSES = ["verify_email", "email_change"] as const;

/** Creates the {@link EmailVerification} flow. */
export function createEmailVerification(deps: {
  users: UserStore;
  accounts: Pick<AccountService, "register">;
  tokens: EmailTokenStore;
  mailer: Mailer;
  sessions: SessionService;
  regulator: SecretRegulator;
  audit: AuditLog;
  clock: Clock;
  /** Reads the runtime setting. */
  verificationRequired: () => Promise<boolean>;
  /** The password policy registration checks before answering. */
  policy: PasswordPolicy;
}): EmailVerification {
  const { users, accounts, tokens, mailer, sessions, regulator, audit, clock } = deps;

  return {
    required: deps.verificationRequired,

    async canSignIn(user) {
      if (user.role !== "user" || user.email === null || user.emailVerified) return true;
      return !(await deps.verificationRequired());
    },

    async register(input, origin) {
      // The answer depends only on the input: whether the username or the address
      // is taken is told by mail to the address, never in the answer (no account
      // oracle). Hashing, the insert and the mail happen after it, so a new and a
      // registered username or address take the same time.
      if (usernameProblem(input.username) !== null) throw new GatehouseError("invalid_request", { fields: ["username"] });
      if (input.email === undefined || emailProblem(input.email) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
      const username = cleanUsername(input.username);
      const email = cleanEmail(input.email);
      const weak = checkNewPassword(input.password, { username, email }, deps.policy);
      if (weak !== null) throw new GatehouseError(weak, { fields: ["password"] });
      mailer.background("register", async () => {
        try {
          const { user } = await accounts.register({ username, password: input.password, email }, origin, { signIn: false });
          if (mailer.enabled && (await mailer.allow(`user:${user.id}`, origin.ip))) {
            await mailer.issueToken("verify_email", user, { email, emailNormalized: normalizeEmail(email) });
          }
        } catch (err) {
          if (!isGatehouseError(err, "email_taken") && !isGatehouseError(err, "username_taken")) throw err;
          if (!mailer.enabled) return;
          // A registered address: its owner is told. Else the username was taken: the address is told to choose another.
          const owner = await users.findByLogin({ email: normalizeEmail(email) });
          if (owner && owner.email !== null) {
            if (await mailer.allow(`user:${owner.id}`, origin.ip)) await mailer.notify("already_registered", owner.email);
            return;
          }
          if (await mailer.allow(`email:${normalizeEmail(email)}`, origin.ip)) await mailer.notify("username_unavailable", email);
        }
      });
    },

    resend(email, origin) {
      if (emailProblem(email) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
      if (!mailer.enabled) return;
      const normalized = normalizeEmail(email);
      mailer.background("verify_email_resend", async () => {
        const user = await users.findByLogin({ email: normalized });
        const allowed = await mailer.allow(user ? `user:${user.id}` : `email:${normalized}`, origin.ip);
        if (!user || user.email === null || user.emailVerified || user.blocked || !allowed) return;
        await mailer.issueToken("verify_email", user, { email: user.email, emailNormalized: normalized });
      });
    },

    async verify(token, origin, current) {
      const tokenHash = isWellFormedToken(token) ? hashToken(token) : null;
      // Guessing tokens counts as failed secret checks of the IP (RL-04).
      const admission = await regulator.admit(origin, null);
      const record: EmailTokenRecord | null = tokenHash === null ? null : await tokens.consume(tokenHash, PURPOSES, clock.now());
      await regulator.record(admission, record !== null);
      if (record === null) throw new GatehouseError("invalid_token", { fields: ["token"] });
      const now = clock.now();
      if (record.purpose === "email_change") {
        const result = await tokens.changeEmail(record.userId, record.email, record.emailNormalized, now);
        if (result === "email_taken") throw new GatehouseError("email_taken", { fields: ["token"] });
        if (result === "no_user") throw new GatehouseError("invalid_token", { fields: ["token"] });
        await tokens.deleteForUser(record.userId, ["email_change", "verify_email"]);
      } else if (!(await tokens.markVerified(record.userId, record.emailNormalized, now))) {
        // Issued for an address the account no longer has.
        throw new GatehouseError("invalid_token", { fields: ["token"] });
      }
      const mine = current !== null && current.user.id === record.userId ? current.session : null;
      await sessions.revokeAllForUser(record.userId, mine?.id);
      sessions.forgetUser(record.userId);
      await audit.record({
        type: "email_verified",
        userId: record.userId,
        actorId: record.userId,
        details: { change: record.purpose === "email_change" },
        ...origin,
      });
      return mine ? sessions.rotate(mine, origin, {}) : null;
    },
  };
}
