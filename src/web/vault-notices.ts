/** Notices of the vault's pages (`?notice=<key>`), merged into `NOTICES`. */
export const VAULT_NOTICES: Record<string, string> = {
  secret_saved: "The secret was saved. It is never shown again, only its first characters.",
  secret_deleted: "The secret was deleted; the header that used it is no longer sent.",
  key_saved: "Your key was saved. It is sent only with your own requests, and never shown again.",
  key_deleted: "Your key was deleted.",
};
