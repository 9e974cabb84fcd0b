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

const HOUR = 3_600_000;
/** Longest span counted hour by hour (31 days); longer ones use one grouped scan. */
const MAX_HOURLY_SPAN = 31 * 24 * HOUR;

/**
 * Per-hour counts as one statement: a recursive list of the hours, and for
 * each hour and type a `count(*)` over a range of the (type, at) index. Many
 * times faster than grouping every event of the week by an expression (which
 * needs a temporary B-tree): 100,000 events in ~20 ms on SQLite instead of ~160.
 */
async function countHourByHour(db: Kysely<Database>, types: readonly string[], from: number, to: number) {
  // The first bucket starts at `from` itself, the next ones on the hour: each count has a single lower
  // bound, so the planner seeks straight to it (two lower bounds made SQLite scan from `from` every time).
  // cast(… as bigint) truncates on both dialects (SQLite may divide bound numbers as REAL).
  const end = sql`cast(hours.s / ${HOUR} as bigint) * ${HOUR} + ${HOUR}`;
  const columns = types.map((type, i) => sql`(select count(*) from audit_events where type = ${type} and at >= hours.s and at < ${end}) as ${sql.ref(`c${i}`)}`);
  const result = await sql<Record<string, number | string>>`with recursive hours(s) as (
      select cast(${from} as bigint) union all select cast(s / ${HOUR} as bigint) * ${HOUR} + ${HOUR} from hours where cast(s / ${HOUR} as bigint) * ${HOUR} + ${HOUR} <= ${to}
    ) select s, ${sql.join(columns)} from hours`.execute(db);
  const out: { type: string; hour: number; count: number }[] = [];
  for (const row of result.rows) {
    const hour = Math.floor(Number(row.s) / HOUR) * HOUR;
    types.forEach((type, i) => {
      const count = Number(row[`c${i}`] ?? 0);
      if (count > 0) out.push({ type, hour, count });
    });
  }
  return out;
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
        // The redundant `at <=` bound keeps a deep page an index range scan (the OR alone is not sargable).
        query = query
          .where("at", "<=", after.at)
          .where((eb) => eb.or([eb("at", "<", after.at), eb.and([eb("at", "=", after.at), eb("id", "<", after.id)])]));
      }
      const rows = await query.orderBy("at", "desc").orderBy("id", "desc").limit(q.limit).execute();
      return rows.map(rowToEvent);
    },
    async countByHour(types, from, to) {
      if (types.length === 0) return [];
      if (to !== undefined && to >= from && to - from <= MAX_HOURLY_SPAN) return countHourByHour(db, types, from, to);
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
    async countSince(type, from) {
      const row = await db
        .selectFrom("audit_events")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("type", "=", type)
        .where("at", ">=", from)
        .executeTakeFirst();
      return Number(row?.n ?? 0);
    },
    async userIdsSince(type, from, limit) {
      const rows = await db
        .selectFrom("audit_events")
        .select(["user_id", (eb) => eb.fn.max("at").as("last")])
        .where("type", "=", type)
        .where("at", ">=", from)
        .where("user_id", "is not", null)
        .groupBy("user_id")
        .orderBy("last", "desc")
        .limit(limit)
        .execute();
      return rows.flatMap((r) => (r.user_id === null ? [] : [r.user_id]));
    },
    async pruneBefore(before) {
      const result = await db.deleteFrom("audit_events").where("at", "<", before).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
