import type { Kysely } from "kysely";
import type { AuditDetails, AuditEvent, AuditEventType } from "../../core/audit/audit-event.js";
import type { AuditStore } from "../../core/audit/audit-store.js";
import type { AuditEventsTable } from "./database.js";
import { sql, type Selectable } from "kysely";
import type { Database } from "./database.js";

function rowToEvent(r: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: r.id,
    type: r.type as AuditEventType,
    at: r.at,
    userId: r.user_id,
    actorId: r.actor_id,
    ip: r.ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    details: JSON.parse(r.details) as AuditDetails,
  };
}

/** The append-only {@link AuditStore} over Kysely. */
export function createSqlAuditStore(db: Kysely<Database>): AuditStore {
  return {
    async append(e) {
      await db
        .insertInto("audit_events")
        .values({
          id: e.id,
          type: e.type,
          at: e.at,
          user_id: e.userId,
          actor_id: e.actorId,
          ip: e.ip,
          user_agent: e.userAgent,
          details: JSON.stringify(e.details),
          request_id: e.requestId,
        })
        .execute();
    },
    async list({ userId, type, limit }) {
      let query = db.selectFrom("audit_events").selectAll();
      if (userId !== undefined) query = query.where("user_id", "=", userId);
      if (type !== undefined) query = query.where("type", "=", type);
      const rows = await query.orderBy("at", "desc").orderBy("id", "desc").limit(limit).execute();
      return rows.map(rowToEvent);
    },
    async query(q) {
      let query = db.selectFrom("audit_events").selectAll();
      if (q.type !== undefined) query = query.where("type", "=", q.type);
      if (q.userId !== undefined) query = query.where("user_id", "=", q.userId);
      if (q.ip !== undefined) query = query.where("ip", "=", q.ip);
      if (q.from !== undefined) query = query.where("at", ">=", q.from);
      if (q.to !== undefined) query = query.where("at", "<", q.to);
      const after = q.after;
      if (after !== undefined) {
        query = query.where((eb) => eb.or([eb("at", "<", after.at), eb.and([eb("at", "=", after.at), eb("id", "<", after.id)])]));
      }
      const rows = await query.orderBy("at", "desc").orderBy("id", "desc").limit(q.limit).execute();
      return rows.map(rowToEvent);
    },
    async countByHour(types, from) {
      if (types.length === 0) return [];
      // Integer division of epoch ms by an hour works the same on SQLite and PostgreSQL (bigint).
      const hour = sql<number>`(at / 3600000)`;
      const rows = await db
        .selectFrom("audit_events")
        .select(["type", hour.as("h"), (eb) => eb.fn.countAll<number>().as("n")])
        .where("type", "in", [...types])
        .where("at", ">=", from)
        .groupBy(["type", hour])
        .execute();
      return rows.map((r) => ({ type: r.type, hour: Number(r.h) * 3_600_000, count: Number(r.n) }));
    },
    async pruneBefore(before) {
      const result = await db.deleteFrom("audit_events").where("at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
