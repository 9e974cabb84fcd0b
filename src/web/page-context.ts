import type { Role } from "../core/users/user.js";
import { ADMIN_NOTICES } from "./admin/admin-notices.js";
import { MAIL_NOTICES } from "./mail/mail-notices.js";
import { VAULT_NOTICES } from "./vault-notices.js";

/** What every page needs from the request, built by `pageContext()` in the web routes. */
export interface PageContext {
  /** The prefix of every internal link and form action ("" or e.g. "/.gatehouse"). */
  basePath: string;
  /** The CSRF token for this session (or pre-session); goes in every form as `_csrf`. */
  csrfToken: string;
  /** This response's CSP nonce: every `<script>` carries it (HDR-02). */
  nonce: string;
  /** The signed-in user, or null. */
  user: { id: string; username: string; role: Role } | null;
  /** The page's own path without the base path (for `aria-current` in the nav). */
  path: string;
  /** A one-line notice chosen by key from {@link NOTICES} (never request text). */
  notice: string | null;
  /** Whether anyone may create an account (registration mode `open`): only then do pages link to /register. */
  registrationOpen?: boolean;
  /** An admin page for an account within its MFA grace period: the date (ISO) by which it must add a second factor. */
  mfaEnrollBy?: string;
  /**
   * Set on a page served on a proxied app host: the portal's URL. Passkeys
   * are used there, since every ceremony is bound to the portal's origin.
   */
  portalUrl?: string;
}

/**
 * Success notices shown after a redirect (`?notice=<key>`). Only these fixed
 * strings can appear, so the query string can never inject text.
 */
export const NOTICES: Record<string, string> = {
  mfa_enrollment_required: "Administrators must have a second factor: add one here to use the admin dashboard.",
  password_changed: "Your password was changed. Your other sessions were signed out.",
  session_revoked: "The session was signed out.",
  sessions_revoked: "All your other sessions were signed out.",
  token_revoked: "The API token was revoked.",
  signed_out: "You are signed out.",
  account_deleted: "Your account was deleted.",
  setup_done: "Welcome! Your superadmin account is ready.",
  totp_enabled: "Your authenticator app is set up: sign-ins now ask for its code.",
  totp_removed: "Your authenticator app was removed.",
  provider_linked: "Linked.",
  provider_unlinked: "Unlinked.",
  setup_done_add_factor: "Welcome! Your superadmin account is ready. Add a second factor now: the admin dashboard opens once you have one and sign in with it.",
  ...ADMIN_NOTICES,
  ...MAIL_NOTICES,
  ...VAULT_NOTICES,
};

/** `basePath + path`: the only way to build an internal link or form action. */
export function href(ctx: Pick<PageContext, "basePath">, path: string): string {
  return ctx.basePath + path;
}
