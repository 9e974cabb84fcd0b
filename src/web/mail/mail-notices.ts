/** Notices of the email pages (`?notice=<key>` after a redirect), merged into `NOTICES`. */
export const MAIL_NOTICES: Record<string, string> = {
  password_reset: "Your password was reset and every session was signed out. Sign in with the new password.",
  email_verified: "Your email address is confirmed.",
  email_change_sent: "Check the new address: the change takes effect once you follow the link we sent there.",
};
