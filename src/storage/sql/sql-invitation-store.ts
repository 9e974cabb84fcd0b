import type { ExpressionBuilder, Kysely } from "kysely";
import type { Invitation } from "../../core/invitations/invitation.js";
import type { InvitationStore } from "../../core/invitations/invitation-store.js";
import type { Role } from "../../core/users/user.js";
import type { Database, InvitationsTable } from "./database.js";
import { insertOutboxMails } from "./sql-outbox-store.js";

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function toInvitation(row: InvitationsTable): Invitation {
  return {
    id: row.id,
    email: row.email,
    emailNormalized: row.email_normalized,
    role: row.role as Role,
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    usedAt: num(row.used_at),
    usedBy: row.used_by,
    revokedAt: num(row.revoked_at),
  };
}

/** Not used, not revoked and not expired at `now`: the only state in which an invitation can be redeemed or revoked. */
const pendingAt = (now: number) => (eb: ExpressionBuilder<Database, "invitations">) =>
  eb.and([eb("used_at", "is", null), eb("revoked_at", "is", null), eb("expires_at", ">", now)]);

/** The {@link InvitationStore} over Kysely: an invitation and its mail are written in one transaction. */
export function createSqlInvitationStore(db: Kysely<Database>): InvitationStore {
  return {
    async insert(inv, mails) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto("invitations")
          .values({
            id: inv.id,
            token_hash: inv.tokenHash,
            email: inv.email,
            email_normalized: inv.emailNormalized,
            role: inv.role,
            created_by: inv.createdBy,
            created_at: inv.createdAt,
            expires_at: inv.expiresAt,
            used_at: inv.usedAt,
            used_by: inv.usedBy,
            revoked_at: inv.revokedAt,
          })
          .execute();
        await insertOutboxMails(trx, mails);
      });
    },

    async findPending(tokenHash, now) {
      const row = await db
        .selectFrom("invitations")
        .selectAll()
        .where("token_hash", "=", tokenHash)
        .where(pendingAt(now))
        .executeTakeFirst();
      return row ? toInvitation(row) : null;
    },

    async consume(tokenHash, now) {
      // UPDATE … WHERE used_at IS NULL … RETURNING is atomic on both dialects: of two concurrent uses, one gets the row.
      const row = await db
        .updateTable("invitations")
        .set({ used_at: now })
        .where("token_hash", "=", tokenHash)
        .where(pendingAt(now))
        .returningAll()
        .executeTakeFirst();
      return row ? toInvitation(row) : null;
    },

    async consumeByEmail(emailNormalized, now) {
      const newest = db.selectFrom("invitations").select("id").where("email_normalized", "=", emailNormalized).where(pendingAt(now)).orderBy("created_at", "desc").limit(1);
      const row = await db.updateTable("invitations").set({ used_at: now }).where("id", "=", newest).where(pendingAt(now)).returningAll().executeTakeFirst();
      return row ? toInvitation(row) : null;
    },

    async release(id) {
      await db.updateTable("invitations").set({ used_at: null }).where("id", "=", id).where("used_by", "is", null).execute();
    },

    async setUsedBy(id, userId) {
      await db.updateTable("invitations").set({ used_by: userId }).where("id", "=", id).execute();
    },

    async findById(id) {
      const row = await db.selectFrom("invitations").selectAll().where("id", "=", id).executeTakeFirst();
      return row ? toInvitation(row) : null;
    },

    async list(limit) {
      const rows = await db.selectFrom("invitations").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(limit).execute();
      return rows.map(toInvitation);
    },

    async revoke(id, now) {
      const row = await db
        .updateTable("invitations")
        .set({ revoked_at: now })
        .where("id", "=", id)
        .where(pendingAt(now))
        .returningAll()
        .executeTakeFirst();
      return row ? toInvitation(row) : null;
    },
  };
}
