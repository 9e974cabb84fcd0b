import type { Kysely, Transaction } from "kysely";
import type { MailKind } from "../../core/mail/mail-message.js";
import type { NewOutboxMail, OutboxStore } from "../../core/mail/outbox-store.js";
import type { Database } from "./database.js";

/** Writes outbox rows on `db` (or inside a transaction: the token and its mail commit together). */
export async function insertOutboxMails(db: Kysely<Database> | Transaction<Database>, mails: NewOutboxMail[]): Promise<void> {
  if (mails.length === 0) return;
  await db
    .insertInto("mail_outbox")
    .values(
      mails.map((m) => ({
        id: m.id,
        kind: m.kind,
        payload: m.payload,
        status: "pending",
        attempts: 0,
        created_at: m.createdAt,
        next_attempt_at: m.createdAt,
        lease_owner: null,
        lease_until: null,
        sent_at: null,
        last_error: null,
      })),
    )
    .execute();
}

/** The {@link OutboxStore} over Kysely (SQLite and PostgreSQL). */
export function createSqlOutboxStore(db: Kysely<Database>): OutboxStore {
  return {
    enqueue: (mail) => insertOutboxMails(db, [mail]),

    async claimDue(owner, now, leaseMs, limit) {
      const candidates = await db
        .selectFrom("mail_outbox")
        .select(["id", "kind", "payload", "attempts"])
        .where("status", "=", "pending")
        .where("next_attempt_at", "<=", now)
        .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", now)]))
        .orderBy("next_attempt_at")
        .limit(limit)
        .execute();
      const claimed = [];
      for (const row of candidates) {
        // The conditional update is the claim: of two workers, only one matches the row.
        const result = await db
          .updateTable("mail_outbox")
          .set({ lease_owner: owner, lease_until: now + leaseMs })
          .where("id", "=", row.id)
          .where("status", "=", "pending")
          .where("attempts", "=", row.attempts)
          .where((eb) => eb.or([eb("lease_until", "is", null), eb("lease_until", "<=", now)]))
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) === 1) claimed.push({ ...row, kind: row.kind as MailKind, attempts: Number(row.attempts) });
      }
      return claimed;
    },

    async markSent(id, owner, now) {
      const result = await db
        .updateTable("mail_outbox")
        .set((eb) => ({ status: "sent", payload: "", sent_at: now, lease_owner: null, lease_until: null, attempts: eb("attempts", "+", 1), last_error: null }))
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .where("status", "=", "pending")
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },

    async markFailed(id, owner, nextAttemptAt, error) {
      await db
        .updateTable("mail_outbox")
        .set((eb) => ({
          attempts: eb("attempts", "+", 1),
          last_error: error.slice(0, 200),
          lease_owner: null,
          lease_until: null,
          ...(nextAttemptAt === null ? { status: "failed", payload: "" } : { next_attempt_at: nextAttemptAt }),
        }))
        .where("id", "=", id)
        .where("lease_owner", "=", owner)
        .where("status", "=", "pending")
        .execute();
    },

    async purge(before) {
      const result = await db.deleteFrom("mail_outbox").where("status", "in", ["sent", "failed"]).where("created_at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    async counts() {
      const rows = await db.selectFrom("mail_outbox").select(["status", db.fn.countAll<string | number>().as("n")]).groupBy("status").execute();
      const counts = { pending: 0, sent: 0, failed: 0 };
      for (const r of rows) if (r.status in counts) counts[r.status as keyof typeof counts] = Number(r.n);
      return counts;
    },
  };
}
