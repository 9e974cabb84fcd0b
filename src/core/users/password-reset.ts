import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { hashToken, isWellFormedToken } from "../crypto/tokens.js";
import { GatehouseError } from "../errors.js";
import type { EmailTokenRecord, EmailTokenStore } from "../mail/email-token-store.js";
import type { Mailer } from "../mail/mailer.js";
import type { PasswordHasher } from "../passwords/password-hasher.js";
import { checkNewPassword, type PasswordPolicy } from "../passwords/password-policy.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { SessionOrigin, SessionService } from "../sessions/session-service.js";
import { emailProblem, normalizeEmail } from "./email.js";
import type { UserStore } from "./user-store.js";

/** Forgot-password and reset (RST-01 to RST-06). */
export interface PasswordReset {
  /**
   * Schedules a reset mail for `email` and returns at once, before any
   * lookup: the caller answers the same 202 in the same time whether or not
   * the address is registered, and no account state changes (RST-01).
   * Throws only for a malformed address.
   */
  request(email: string, origin: SessionOrigin): void;
  /**
   * Sets a new password with a mailed token: single use (of two concurrent
   * uses exactly one succeeds), 60 minutes. Ends every session and API token
   * of the user, marks the address verified, clears a brute-force lock, and
   * mails a notice. Does not sign in. Throws 400 `invalid_token` otherwise.
   */
  reset(token: string, password: string, origin: SessionOrigin): Promise<void>;
}

/** Creates the {@link PasswordReset} flow. */
export function createPasswordReset(deps: {
  users: UserStore;
  tokens: EmailTokenStore;
  mailer: Mailer;
  sessions: SessionService;
  /** Ends every API token of a user. */
  apiTokens: { revokeAllForUser(userId: string): Promise<number> };
  hasher: PasswordHasher;
  policy: PasswordPolicy;
  regulator: SecretRegulator;
  audit: AuditLog;
  clock: Clock;
}): PasswordReset {
  const { users, tokens, mailer, sessions, apiTokens, hasher, policy, regulator, audit, clock } = deps;
  // A set-password link (an admin-made account's first password) is a reset link with a longer life.
  const PURPOSES = ["password_reset", "set_password"] as const;

  return {
    request(email, origin) {
      if (emailProblem(email) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
      if (!mailer.enabled) return;
      const normalized = normalizeEmail(email);
      mailer.background("password_reset_request", async () => {
        const user = await users.findByLogin({ email: normalized });
        // Unknown addresses use up the IP's quota just like known ones.
        const allowed = await mailer.allow(user ? `user:${user.id}` : `email:${normalized}`, origin.ip);
        if (!user || user.email === null || user.blocked || !allowed) return;
        await mailer.issueToken("password_reset", user, { email: user.email, emailNormalized: normalized });
        await audit.record({ type: "password_reset_requested", userId: user.id, ...origin });
      });
    },

    async reset(token, password, origin) {
      const now = clock.now();
      const tokenHash = isWellFormedToken(token) ? hashToken(token) : null;
      // Guessing tokens counts as failed secret checks of the IP (RL-04).
      const admission = await regulator.admit(origin, null);
      const record: EmailTokenRecord | null = tokenHash === null ? null : await tokens.peek(tokenHash, PURPOSES, now);
      await regulator.record(admission, record !== null);
      if (record === null || tokenHash === null) throw new GatehouseError("invalid_token", { fields: ["token"] });
      const user = await users.findById(record.userId);
      if (!user) throw new GatehouseError("invalid_token", { fields: ["token"] });
      const weak = checkNewPassword(password, { username: user.username, email: user.email }, policy);
      if (weak !== null) throw new GatehouseError(weak, { fields: ["password"] });
      const passwordHash = await hasher.hash(password);
      // The atomic use: of two concurrent resets with one token, only one gets past here.
      const used = await tokens.consume(tokenHash, PURPOSES, clock.now());
      if (!used) throw new GatehouseError("invalid_token", { fields: ["token"] });
      const at = clock.now();
      await users.updatePasswordHash(user.id, passwordHash, at);
      await tokens.markVerified(user.id, used.emailNormalized, at);
      await tokens.deleteForUser(user.id, PURPOSES);
      await sessions.revokeAllForUser(user.id);
      await apiTokens.revokeAllForUser(user.id);
      sessions.forgetUser(user.id);
      await regulator.unlock(`user:${user.id}`);
      await audit.record({ type: "password_reset", userId: user.id, actorId: user.id, ...origin });
      if (mailer.enabled) await mailer.notify("password_changed", used.email);
    },
  };
}
