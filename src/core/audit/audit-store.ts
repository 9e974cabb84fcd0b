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
  /**
   * Counts of `types` per hour since `from` (epoch ms), up to `to` when given
   * (which lets the store count hour by hour from the (type, at) index):
   * `hour` is the hour's start, epoch ms; hours without events are omitted.
   */
  countByHour(types: readonly string[], from: number, to?: number): Promise<{ type: string; hour: number; count: number }[]>;
  /** How many events of `type` happened at or after `from` (epoch ms); served by the (type, at) index. */
  countSince(type: string, from: number): Promise<number>;
  /** The distinct users named by events of `type` at or after `from`, most recent first, at most `limit`. */
  userIdsSince(type: string, from: number, limit: number): Promise<string[]>;
  /** Retention: deletes events older than `before` (epoch ms); returns the count. Only the pruning job calls this. */
  pruneBefore(before: number): Promise<number>;
}
