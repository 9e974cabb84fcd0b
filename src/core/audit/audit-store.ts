import type { AuditEvent, AuditEventType } from "./audit-event.js";

/** Filters of an audit query; every field is optional but `limit`. */
export interface AuditQuery {
  type?: AuditEventType;
  userId?: string;
  ip?: string;
  /** Inclusive lower bound, epoch ms. */
  from?: number;
  /** Exclusive upper bound, epoch ms. */
  to?: number;
  limit: number;
  /** Continue after this position (from a previous page's last event). */
  after?: { at: number; id: string };
}

/** Append-only persistence port for audit events: the app has no update or delete path. */
export interface AuditStore {
  append(event: AuditEvent): Promise<void>;
  /** Newest first. */
  list(filter: { userId?: string; type?: string; limit: number }): Promise<AuditEvent[]>;
  /** Newest first, filtered, keyset-paginated (stable under concurrent appends). */
  query(query: AuditQuery): Promise<AuditEvent[]>;
  /** Counts of `types` per hour since `from` (epoch ms): `hour` is the hour's start, epoch ms. */
  countByHour(types: readonly string[], from: number): Promise<{ type: string; hour: number; count: number }[]>;
  /** Retention: deletes events older than `before` (epoch ms); returns the count. Only the pruning job calls this. */
  pruneBefore(before: number): Promise<number>;
}
