import type { Mailer } from "../mail/mailer.js";
import type { MailKind } from "../mail/mail-message.js";

/** The security notices a second-factor change sends to the account's owner. */
export type SecondFactorNotice = Extract<MailKind, "second_factor_added" | "second_factor_removed" | "second_factor_locked" | "recovery_code_used" | "second_factors_reset">;

/**
 * Mails a security notice to a user, after the answer (never delaying or
 * failing it). A user without an address, or a deployment without mail, gets
 * nothing; the audit log records the event either way.
 */
export type NotifyUser = (kind: SecondFactorNotice, user: { email: string | null }) => void;

/** The {@link NotifyUser} that queues through the {@link Mailer}'s outbox. */
export function createNotifyUser(mailer: Pick<Mailer, "enabled" | "background" | "notify">): NotifyUser {
  return (kind, user) => {
    const email = user.email;
    if (!mailer.enabled || email === null) return;
    mailer.background(kind, async () => {
      await mailer.notify(kind, email);
    });
  };
}
