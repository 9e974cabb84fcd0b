import type { ImportedUser, TakenLogins } from "./plan-user-import.js";

/** Persistence port of the user import. */
export interface UserImportStore {
  /** Which of these normalized usernames and addresses already belong to a user. */
  takenLogins(usernames: readonly string[], emails: readonly string[]): Promise<TakenLogins>;
  /**
   * Inserts every user in ONE transaction with the given ids and time: no
   * sessions, no second factors, `blocked` and `email_verified` as given.
   * A username or address taken meanwhile (a concurrent registration) rolls
   * everything back and is answered, not thrown.
   */
  insertAll(users: ReadonlyArray<ImportedUser & { id: string }>, at: number): Promise<{ ok: true } | { ok: false; conflict: "username_taken" | "email_taken" }>;
}
