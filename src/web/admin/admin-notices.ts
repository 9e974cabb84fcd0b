/** The dashboard's success notices (`?notice=<key>` after a redirect), merged into `NOTICES`. */
export const ADMIN_NOTICES: Record<string, string> = {
  role_changed: "The role was changed. Every session of that user was signed out.",
  role_unchanged: "The role was not changed.",
  user_blocked: "The user is blocked and every session of theirs was signed out.",
  user_unblocked: "The user is unblocked.",
  user_sessions_revoked: "Every session of that user was signed out.",
  user_session_revoked: "The session was signed out.",
  session_gone: "That session had already ended.",
  user_unlocked: "Sign-in failures of that user were cleared.",
  ban_lifted: "The ban was lifted.",
  ban_gone: "That IP was no longer banned.",
  invitation_sent: "The invitation was sent. Its link works once and for 7 days.",
  invitation_revoked: "The invitation was revoked; its link no longer works.",
  user_created: "The account was created and its owner was sent a link to choose a password.",
  reset_link_sent: "A password-reset link was sent to the user's address (valid 60 minutes).",
  settings_saved: "The settings were saved.",
  restore_done: "The backup was restored and everybody was signed out. Sign in again.",
};
