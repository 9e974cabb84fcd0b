import type { Session } from "../sessions/session.js";
import type { SessionOrigin } from "../sessions/session-service.js";
import { GatehouseError } from "../errors.js";
import type { Mailer } from "../mail/mailer.js";
import { cleanEmail, emailProblem, normalizeEmail } from "./email.js";
import type { User } from "./user.js";
import type { UserStore } from "./user-store.js";

/** Changing one's email address (RST-08). */
export interface EmailChange {
  /**
   * Asks to move the account to `newEmail`: needs a recent re-authentication
   * (403 `reauth_required`). The account keeps its address until the link
   * mailed to the new one is confirmed; the old address is told. The outcome
   * is the same whether or not the new address is free (its owner is told
   * instead), and mails beyond the quota are dropped silently.
   */
  request(user: User, session: Session, newEmail: string, origin: SessionOrigin): Promise<void>;
}

/** Creates the {@link EmailChange} flow. */
export function createEmailChange(deps: {
  users: UserStore;
  mailer: Mailer;
  requireRecentAuth: (session: Session) => void;
}): EmailChange {
  const { users, mailer } = deps;
  return {
    async request(user, session, newEmail, origin) {
      deps.requireRecentAuth(session);
      if (emailProblem(newEmail) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
      const email = cleanEmail(newEmail);
      const normalized = normalizeEmail(email);
      if (user.email !== null && normalizeEmail(user.email) === normalized) throw new GatehouseError("invalid_request", { fields: ["email"] });
      if (!mailer.enabled) throw new GatehouseError("unavailable");
      mailer.background("email_change", async () => {
        if (!(await mailer.allow(`user:${user.id}`, origin.ip))) return;
        const owner = await users.findByLogin({ email: normalized });
        if (owner !== null) {
          if (owner.id !== user.id && owner.email !== null) await mailer.notify("already_registered", owner.email);
          return;
        }
        const notice = user.email === null ? [] : [{ kind: "email_change_notice" as const, to: user.email }];
        await mailer.issueToken("email_change", user, { email, emailNormalized: normalized }, notice);
      });
    },
  };
}
