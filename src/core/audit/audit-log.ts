import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { AuditDetails, AuditEvent, AuditEventType, NewAuditEvent } from "./audit-event.js";
import type { AuditQuery, AuditStore } from "./audit-store.js";

/** Event types sent to the alert webhook. */
export const ALERT_EVENT_TYPES: ReadonlySet<AuditEventType> = new Set(["account_locked", "ip_banned", "suspicious_activity"]);

/** Receives events as they are recorded; must not throw or block (log mirror, alert webhook). */
export type AuditSink = (event: AuditEvent) => void;

/** One page of an audit query. */
export interface AuditPage {
  events: AuditEvent[];
  /** Opaque cursor of the next page, or null at the end. */
  nextCursor: string | null;
}

/** A query as the admin API gives it: filters, a limit and an opaque cursor. */
export type AuditSearch = Omit<AuditQuery, "after"> & { cursor?: string };

/** Records and queries security events. */
export interface AuditLog {
  /** Appends an event (after escaping control characters), then hands it to the sinks. */
  record(event: NewAuditEvent): Promise<AuditEvent>;
  /** Newest first, filtered, cursor-paginated. A malformed cursor is 400 `invalid_request`. */
  search(search: AuditSearch): Promise<AuditPage>;
  /** Deletes events older than the retention period; returns the count. */
  prune(): Promise<number>;
}

/**
 * Escapes control characters (CR, LF, NUL, ESC…) as `\uXXXX`, so a recorded
 * User-Agent or username can never forge a line in a log viewer, a CSV or
 * a terminal (LOG-04).
 */
export function escapeControl(value: string): string {
  let out = "";
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    out += c < 32 || c === 127 ? `\\u${c.toString(16).padStart(4, "0")}` : value[i];
  }
  return out;
}

function cleanDetails(details: AuditDetails): AuditDetails {
  const out: AuditDetails = {};
  for (const [key, value] of Object.entries(details)) {
    out[escapeControl(key).slice(0, 64)] = typeof value === "string" ? escapeControl(value).slice(0, 512) : value;
  }
  return out;
}

/** Encodes a page position as an opaque cursor. */
export function encodeCursor(event: Pick<AuditEvent, "at" | "id">): string {
  return Buffer.from(`${event.at}:${event.id}`, "utf8").toString("base64url");
}

/** Decodes a cursor, or throws 400 `invalid_request`. */
export function decodeCursor(cursor: string): { at: number; id: string } {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const colon = text.indexOf(":");
  const at = Number(text.slice(0, colon));
  const id = text.slice(colon + 1);
  if (colon <= 0 || !Number.isSafeInteger(at) || id.length === 0 || id.length > 64) {
    throw new GatehouseError("invalid_request", { fields: ["cursor"] });
  }
  return { at, id };
}

/** Dependencies of {@link createAuditLog}. */
export interface AuditLogDeps {
  store: AuditStore;
  clock: Clock;
  random: Random;
  /** How long events are kept (default 90 days). */
  retentionMs?: number;
  /** Called with every recorded event (e.g. the JSON log mirror, the alert webhook). */
  sinks?: AuditSink[];
}

/** Creates the {@link AuditLog} over an {@link AuditStore}. */
export function createAuditLog(deps: AuditLogDeps): AuditLog {
  const retentionMs = deps.retentionMs ?? 90 * 86_400_000;
  const sinks = deps.sinks ?? [];
  return {
    async record(input) {
      const event: AuditEvent = {
        id: deps.random.uuid(),
        type: input.type,
        at: deps.clock.now(),
        userId: input.userId ?? null,
        actorId: input.actorId ?? null,
        ip: escapeControl(input.ip).slice(0, 64),
        userAgent: escapeControl(input.userAgent).slice(0, 512),
        requestId: input.requestId ?? null,
        details: cleanDetails(input.details ?? {}),
      };
      await deps.store.append(event);
      for (const sink of sinks) {
        try {
          sink(event);
        } catch {
          // A sink must never break the request that caused the event.
        }
      }
      return event;
    },
    async search({ cursor, ...filters }) {
      const limit = Math.min(200, Math.max(1, filters.limit));
      const events = await deps.store.query({ ...filters, limit: limit + 1, ...(cursor ? { after: decodeCursor(cursor) } : {}) });
      const page = events.slice(0, limit);
      const last = page[page.length - 1];
      return { events: page, nextCursor: events.length > limit && last ? encodeCursor(last) : null };
    },
    prune: () => deps.store.pruneBefore(deps.clock.now() - retentionMs),
  };
}
