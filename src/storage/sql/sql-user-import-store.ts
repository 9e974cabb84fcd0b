import type { Kysely } from "kysely";
import type { UserImportStore } from "../../core/user-import/user-import-store.js";
import type { Database } from "./database.js";
import { uniqueViolation } from "./dialects/unique-violation.js";
import { writeTransaction } from "./write-transaction.js";

/** Rows per multi-row INSERT (12 columns: far below SQLite's and PostgreSQL's bound-parameter limits). */
const INSERT_CHUNK = 200;
/** Values per `IN (…)` lookup. */
const LOOKUP_CHUNK = 500;

class ImportConflict extends Error {
  constructor(readonly conflict: "username_taken" | "email_taken") {
    super(conflict);
  }
}

/** The {@link UserImportStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlUserImportStore(db: Kysely<Database>): UserImportStore {
  return {
    async takenLogins(usernames, emails) {
      const takenUsernames = new Set<string>();
      const takenEmails = new Set<string>();
      for (let i = 0; i < usernames.length; i += LOOKUP_CHUNK) {
        const rows = await db.selectFrom("users").select("username_normalized").where("username_normalized", "in", usernames.slice(i, i + LOOKUP_CHUNK)).execute();
        for (const row of rows) takenUsernames.add(row.username_normalized);
      }
      for (let i = 0; i < emails.length; i += LOOKUP_CHUNK) {
        const rows = await db.selectFrom("users").select("email_normalized").where("email_normalized", "in", emails.slice(i, i + LOOKUP_CHUNK)).execute();
        for (const row of rows) if (row.email_normalized !== null) takenEmails.add(row.email_normalized);
      }
      return { usernames: takenUsernames, emails: takenEmails };
    },
    async insertAll(users, at) {
      try {
        await writeTransaction(db, async (trx) => {
          for (let i = 0; i < users.length; i += INSERT_CHUNK) {
            const values = users.slice(i, i + INSERT_CHUNK).map((user) => ({
              id: user.id,
              username: user.username,
              username_normalized: user.usernameNormalized,
              email: user.email,
              email_normalized: user.emailNormalized,
              email_verified: user.emailVerified ? 1 : 0,
              password_hash: user.passwordHash,
              role: user.role,
              blocked: user.blocked ? 1 : 0,
              created_at: at,
              updated_at: at,
              last_login_at: null,
            }));
            try {
              await trx.insertInto("users").values(values).execute();
            } catch (err) {
              const violated = uniqueViolation(err);
              if (violated?.includes("email_normalized")) throw new ImportConflict("email_taken");
              if (violated?.includes("username_normalized")) throw new ImportConflict("username_taken");
              throw err;
            }
          }
        });
        return { ok: true };
      } catch (err) {
        if (err instanceof ImportConflict) return { ok: false, conflict: err.conflict };
        throw err;
      }
    },
  };
}
