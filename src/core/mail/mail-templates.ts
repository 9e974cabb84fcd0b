import { isHeaderSafe, type MailKind, type MailMessage } from "./mail-message.js";

/** What a deployment may brand its mails with. */
export interface MailBranding {
  /** Shown in subjects and bodies (`MAIL_PRODUCT_NAME`, default "Gatehouse"). */
  productName: string;
  /** The configured `PUBLIC_URL`: the only origin links are built from (RST-03). */
  publicUrl: string;
}

/** Where each token-carrying mail points: a portal page that reads the token from the URL fragment. */
export const LINK_PATHS = {
  password_reset: "/reset-password",
  verify_email: "/verify-email",
  email_change_verify: "/verify-email",
  // An account an admin created: the reset page sets its first password.
  set_password: "/reset-password",
  invitation: "/invite",
} as const satisfies Partial<Record<MailKind, string>>;

/** Builds the link of a token-carrying mail from `PUBLIC_URL` alone (never from a request's Host). */
export function buildLink(publicUrl: string, path: string, token: string): string {
  // The token travels in the fragment: browsers never send it to a server, in a request line or a Referer.
  return `${publicUrl.replace(/\/+$/, "")}${path}#token=${encodeURIComponent(token)}`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Copy {
  subject: string;
  intro: string;
  action?: string;
  outro: string;
}

function copyOf(kind: MailKind, product: string): Copy {
  switch (kind) {
    case "password_reset":
      return {
        subject: `Reset your ${product} password`,
        intro: `Someone asked to reset the password of your ${product} account. If it was you, choose a new password with the link below. The link works once and expires in 60 minutes.`,
        action: "Choose a new password",
        outro: "If you did not ask for this, ignore this mail: your password stays as it is.",
      };
    case "password_changed":
      return {
        subject: `Your ${product} password was changed`,
        intro: `The password of your ${product} account was just reset, and every session and API token of the account was ended.`,
        outro: "If you did not do this, reset your password at once and contact your administrator.",
      };
    case "verify_email":
      return {
        subject: `Confirm your email address for ${product}`,
        intro: `Confirm that this address belongs to your new ${product} account with the link below. The link expires in 24 hours.`,
        action: "Confirm my address",
        outro: "If you did not create an account, ignore this mail.",
      };
    case "already_registered":
      return {
        subject: `You already have a ${product} account`,
        intro: `Someone tried to register a new ${product} account with this address, but it already belongs to an account. Nothing was changed.`,
        outro: "If it was you, sign in instead, or use \"Forgot password\" on the sign-in page. If not, you can ignore this mail.",
      };
    case "username_unavailable":
      return {
        subject: `Choose another username for ${product}`,
        intro: `Someone tried to register a new ${product} account with this address, but the username they chose is already taken. No account was created.`,
        outro: "If it was you, register again with another username. If not, you can ignore this mail.",
      };
    case "email_change_verify":
      return {
        subject: `Confirm your new email address for ${product}`,
        intro: `Someone asked to use this address for a ${product} account. If it was you, confirm with the link below; until then the account keeps its old address. The link expires in 24 hours.`,
        action: "Confirm my new address",
        outro: "If you did not ask for this, ignore this mail.",
      };
    case "invitation":
      return {
        subject: `You are invited to ${product}`,
        intro: `An administrator invited you to create a ${product} account with this address. Choose a username and a password with the link below. The link works once and expires in 7 days.`,
        action: "Create my account",
        outro: "If you do not want an account, ignore this mail: nothing is created without you.",
      };
    case "set_password":
      return {
        subject: `Your ${product} account is ready`,
        intro: `An administrator created a ${product} account for this address. Choose its password with the link below. The link works once and expires in 7 days.`,
        action: "Choose my password",
        outro: "If you did not expect this, ignore this mail and tell your administrator.",
      };
    case "second_factor_added":
      return {
        subject: `A second factor was added to your ${product} account`,
        intro: `A new second factor (an authenticator app, recovery codes or a passkey) was just added to your ${product} account.`,
        outro: "If this was not you, change your password at once, remove the factor on your account page and contact your administrator.",
      };
    case "second_factor_removed":
      return {
        subject: `A second factor was removed from your ${product} account`,
        intro: `A second factor (an authenticator app or a passkey) was just removed from your ${product} account.`,
        outro: "If this was not you, change your password at once and contact your administrator.",
      };
    case "second_factor_locked":
      return {
        subject: `Second-factor sign-in to your ${product} account is paused`,
        intro: `Five wrong second-factor codes in a row were entered for your ${product} account, so second-factor sign-in is paused for 15 minutes. Whoever entered them already knew your password.`,
        outro: "If this was not you, change your password at once and contact your administrator.",
      };
    case "recovery_code_used":
      return {
        subject: `A recovery code of your ${product} account was used`,
        intro: `One of the recovery codes of your ${product} account was just used to sign in. Each code works once; you can make a new set on your account page.`,
        outro: "If this was not you, change your password at once, make new recovery codes and contact your administrator.",
      };
    case "second_factors_reset":
      return {
        subject: `The second factors of your ${product} account were reset`,
        intro: `An administrator removed every second factor (authenticator app, recovery codes and passkeys) of your ${product} account, and every session of the account was ended. Sign in with your password and set up a second factor again.`,
        outro: "If you did not ask for this, contact your administrator.",
      };
    case "email_change_notice":
      return {
        subject: `The email address of your ${product} account is being changed`,
        intro: `Someone signed in to your ${product} account asked to change its email address. The change takes effect only once the new address is confirmed.`,
        outro: "If this was not you, change your password at once and contact your administrator.",
      };
  }
}

/**
 * Renders one mail in plain text and HTML. Only `to` comes from a user, and
 * it must be header-safe (CR/LF refused, RST-10); the subject is fixed per
 * kind. `link` is present for token-carrying kinds.
 */
export function renderMail(kind: MailKind, to: string, branding: MailBranding, link?: string): MailMessage {
  if (!isHeaderSafe(to)) throw new Error("mail recipient is not header-safe");
  const product = branding.productName;
  const copy = copyOf(kind, product);
  if (!isHeaderSafe(copy.subject)) throw new Error("mail subject is not header-safe");
  const signature = `— ${product}, ${branding.publicUrl}`;
  const textParts = [copy.intro, ""];
  if (copy.action && link) textParts.push(`${copy.action}:`, link, "");
  textParts.push(copy.outro, "", signature, "");
  const p = (s: string) => `<p style="margin:0 0 16px">${escapeHtml(s)}</p>`;
  const button =
    copy.action && link
      ? `<p style="margin:0 0 16px"><a href="${escapeHtml(link)}" style="display:inline-block;padding:10px 16px;background:#1f4fd1;color:#ffffff;text-decoration:none;border-radius:4px">${escapeHtml(copy.action)}</a></p><p style="margin:0 0 16px;font-size:12px;color:#555">Or paste this link into your browser: ${escapeHtml(link)}</p>`
      : "";
  const html = `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>${escapeHtml(copy.subject)}</title></head><body style="font-family:sans-serif;font-size:15px;line-height:1.5;color:#111">${p(copy.intro)}${button}${p(copy.outro)}<p style="margin:0;color:#555;font-size:12px">${escapeHtml(signature)}</p></body></html>`;
  return { to, subject: copy.subject, text: textParts.join("\n"), html };
}
