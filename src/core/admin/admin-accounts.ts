import type { AuditLog } from "../audit/audit-log.js";
import { GatehouseError } from "../errors.js";
import type { Mailer } from "../mail/mailer.js";
import { checkCanActOn, checkRoleGrant } from "../rbac/role-change-rules.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import type { AccountService } from "../users/account-service.js";
import { normalizeEmail } from "../users/email.js";
import type { Role, User } from "../users/user.js";
import type { UserStore } from "../users/user-store.js";

/** An admin acting (`user: null`: the operator's CLI). */
export interface AccountActor {
  user: User | null;
  origin: SessionOrigin;
}

/**
 * Accounts made by admins, and links sent by them. An admin never chooses
 * or sees a user's password: the owner receives a link by email.
 */
export interface AdminAccounts {
  /**
   * Creates an account without a password and mails its owner a
   * set-password link (7 days, single use). Role within the actor's rights
   * (403 otherwise); 409 `username_taken`/`email_taken`; 409
   * `mail_unavailable` when mail is off (nothing is created then).
   */
  createUser(actor: AccountActor, input: { username: string; email: string; role?: Role }): Promise<User>;
  /**
   * Mails user `id` a password-reset link (60 minutes, single use; earlier
   * links die). 404 unknown user; 403 for an admin acting on another admin or a superadmin;
   * 409 `user_has_no_email`; 409 `mail_unavailable`; 429 beyond the mail quota.
   */
  sendResetLink(actor: AccountActor, id: string): Promise<void>;
}

/** Creates {@link AdminAccounts}. */
export function createAdminAccounts(deps: { users: UserStore; accounts: AccountService; mailer: Mailer; audit: AuditLog }): AdminAccounts {
  const { users, accounts, mailer, audit } = deps;

  return {
    async createUser(actor, input) {
      const role = input.role ?? "user";
      if (actor.user !== null) checkRoleGrant(actor.user, role);
      if (!mailer.enabled) throw new GatehouseError("mail_unavailable");
      const user = await accounts.createWithoutPassword({ username: input.username, email: input.email }, role, actor.origin, actor.user?.id ?? null);
      const email = user.email as string;
      try {
        await mailer.issueToken("set_password", user, { email, emailNormalized: normalizeEmail(email) });
      } catch (err) {
        // No mail, no account: the admin can try again with the same name.
        await users.delete(user.id);
        throw err;
      }
      return user;
    },

    async sendResetLink(actor, id) {
      const target = await users.findById(id);
      if (!target) throw new GatehouseError("not_found");
      if (actor.user !== null) checkCanActOn(actor.user, target, "send-reset-link");
      if (target.email === null) throw new GatehouseError("user_has_no_email");
      if (!mailer.enabled) throw new GatehouseError("mail_unavailable");
      if (!(await mailer.allow(`user:${target.id}`, actor.origin.ip))) throw new GatehouseError("rate_limited", { retryAfter: 60 });
      await mailer.issueToken("password_reset", target, { email: target.email, emailNormalized: normalizeEmail(target.email) });
      await audit.record({ type: "password_reset_requested", userId: target.id, actorId: actor.user?.id ?? null, details: { via: actor.user === null ? "cli" : "admin" }, ...actor.origin });
    },
  };
}
