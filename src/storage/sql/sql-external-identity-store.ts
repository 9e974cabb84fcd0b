import type { Kysely, Selectable } from "kysely";
import type { ExternalIdentity, ExternalIdentityStore } from "../../core/oauth/external-identity-store.js";
import type { Database, ExternalIdentitiesTable } from "./database.js";
import { uniqueViolation } from "./dialects/unique-violation.js";

function rowToIdentity(row: Selectable<ExternalIdentitiesTable>): ExternalIdentity {
  return {
    id: row.id,
    userId: row.user_id,
    provider: row.provider,
    issuer: row.issuer,
    subject: row.subject,
    email: row.email,
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** The {@link ExternalIdentityStore} over Kysely, for SQLite and PostgreSQL alike. */
export function createSqlExternalIdentityStore(db: Kysely<Database>): ExternalIdentityStore {
  return {
    async insert(identity) {
      try {
        await db
          .insertInto("external_identities")
          .values({
            id: identity.id,
            user_id: identity.userId,
            provider: identity.provider,
            issuer: identity.issuer,
            subject: identity.subject,
            email: identity.email,
            created_at: identity.createdAt,
            last_used_at: identity.lastUsedAt,
          })
          .execute();
        return { ok: true };
      } catch (err) {
        // The unique keys decide races. SQLite names the columns
        // ("external_identities.issuer, external_identities.subject"), PostgreSQL
        // the constraint ("external_identities_issuer_subject_key"): both contain
        // "issuer" for one key and "provider" for the other.
        const violated = uniqueViolation(err);
        if (violated?.includes("issuer")) return { ok: false, conflict: "identity_taken" };
        if (violated?.includes("provider")) return { ok: false, conflict: "provider_already_linked" };
        throw err;
      }
    },
    async findBySubject(issuer, subject) {
      const row = await db.selectFrom("external_identities").selectAll().where("issuer", "=", issuer).where("subject", "=", subject).executeTakeFirst();
      return row ? rowToIdentity(row) : null;
    },
    async listByUser(userId) {
      const rows = await db.selectFrom("external_identities").selectAll().where("user_id", "=", userId).orderBy("created_at").orderBy("id").execute();
      return rows.map(rowToIdentity);
    },
    async recordUse(id, email, at) {
      await db.updateTable("external_identities").set({ email, last_used_at: at }).where("id", "=", id).execute();
    },
    async delete(userId, id) {
      const result = await db.deleteFrom("external_identities").where("id", "=", id).where("user_id", "=", userId).executeTakeFirst();
      return Number(result.numDeletedRows) === 1;
    },
  };
}
