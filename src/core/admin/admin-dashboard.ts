import type { AuditEvent } from "../audit/audit-event.js";
import { AUDIT_CSV_HEADER, auditCsvRecord } from "../audit/audit-csv.js";
import type { AuditLog } from "../audit/audit-log.js";
import type { AuditQuery, AuditStore } from "../audit/audit-store.js";
import type { Clock } from "../clock.js";
import type { Ban } from "../rate-limit/limiter-store.js";
import type { SecretRegulator } from "../rate-limit/secret-regulator.js";
import type { User } from "../users/user.js";
import { decodeUserCursor, encodeUserCursor, type UserListFilter } from "../users/user-list.js";
import type { UserStore } from "../users/user-store.js";
import { normalizeEmail } from "../users/email.js";
import { normalizeUsername } from "../users/username.js";
import type { Actor, AdminService, AdminStats } from "./admin-service.js";

/** The dashboard's overview: the counts of issue 5 and the hourly chart data. */
export interface AdminOverview extends AdminStats {
  /** `login_failure` events in the last 24 hours. */
  failedSignIns24h: number;
  /** Accounts currently hard-locked by the brute-force regulator. */
  lockedAccounts: number;
  /** IP bans in force. */
  bannedIps: number;
}

/** One page of the user list, with opaque cursors to the neighbouring pages. */
export interface UserListPage {
  users: User[];
  /** Users matching the filters, across all pages (at most {@link TOTAL_CAP} for a search). */
  total: number;
  /** True when a search matched more than `total` users (the count stopped at the cap). */
  totalCapped: boolean;
  /** Cursor of the next (older) page, or null at the end. */
  next: string | null;
  /** Cursor of the previous (newer) page, or null on the first page. */
  prev: string | null;
}

/** A user-list request: filters, page size, and at most one of `after`/`before` (cursors). */
export interface UserListRequest extends UserListFilter {
  limit: number;
  after?: string;
  before?: string;
}

/** The audit filters of the CSV export (the audit page's filters, without paging). */
export type AuditExportFilter = Omit<AuditQuery, "limit" | "after">;

/** Dependencies of {@link createAdminDashboard}. */
export interface AdminDashboardDeps {
  admin: AdminService;
  users: UserStore;
  auditStore: AuditStore;
  audit: AuditLog;
  bans: { list(): Promise<Ban[]> };
  regulator: Pick<SecretRegulator, "failures">;
  clock: Clock;
  /** The regulator's hard lock: failures at which an account locks, and how long its counter lives. */
  lock: { at: number; ttlMs: number };
}

/**
 * Reads of the admin dashboard pages (`/admin`) that the JSON admin API does
 * not offer: the overview counts, the keyset-paginated user list and the
 * streamed audit CSV. Changes go through {@link AdminService}, like the API's.
 * Every read is audited as `admin_access`.
 */
export interface AdminDashboard {
  overview(actor: Actor): Promise<AdminOverview>;
  /** Newest first; a malformed cursor is 400 `invalid_request`. */
  listUsers(actor: Actor, request: UserListRequest): Promise<UserListPage>;
  /** The user with this id, username or email (for the audit page's user filter), or null. */
  findUser(actor: Actor, idOrLogin: string): Promise<User | null>;
  /**
   * Usernames of the users these ids name (at most 100 distinct; deleted
   * users are absent), to label the user and actor columns of audit tables.
   * Part of a page already audited: records nothing.
   */
  userNames(ids: readonly (string | null)[]): Promise<Map<string, string>>;
  /** The audit log as CSV (header first, newest event first), read in keyset batches so memory stays flat. */
  exportAudit(actor: Actor, filter: AuditExportFilter): AsyncGenerator<string>;
}

const DAY = 86_400_000;
/** A search counts its matches up to this many ("10,000+"): counting every match of a broad prefix costs a scan. */
export const TOTAL_CAP = 10_000;
/** Accounts examined for a hard lock (the most recently locked first). */
const LOCK_CANDIDATES = 500;
const EXPORT_BATCH = 500;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Creates the {@link AdminDashboard}. */
export function createAdminDashboard(deps: AdminDashboardDeps): AdminDashboard {
  const { users, auditStore, audit, clock } = deps;

  async function access(actor: Actor, what: string, details: Record<string, string | number | boolean | null> = {}): Promise<void> {
    await audit.record({ type: "admin_access", actorId: actor.user.id, details: { what, ...details }, ...actor.origin });
  }

  async function countLocked(now: number): Promise<number> {
    const candidates = await auditStore.userIdsSince("account_locked", now - deps.lock.ttlMs, LOCK_CANDIDATES);
    const failures = await Promise.all(candidates.map((id) => deps.regulator.failures(`user:${id}`)));
    return failures.filter((n) => n >= deps.lock.at).length;
  }

  return {
    async overview(actor) {
      const now = clock.now();
      const [stats, failedSignIns24h, lockedAccounts, bans] = await Promise.all([
        deps.admin.stats(actor),
        auditStore.countSince("login_failure", now - DAY),
        countLocked(now),
        deps.bans.list(),
      ]);
      return { ...stats, failedSignIns24h, lockedAccounts, bannedIps: bans.length };
    },

    async listUsers(actor, request) {
      const { limit, after, before, ...filter } = request;
      const position = after !== undefined ? { after: decodeUserCursor(after, "after") } : before !== undefined ? { before: decodeUserCursor(before, "before") } : {};
      await access(actor, "users");
      const search = (filter.q ?? "").trim() !== "";
      const [rows, counted] = await Promise.all([
        users.list({ ...filter, ...position, limit: limit + 1 }),
        search ? users.countMatching(filter, TOTAL_CAP + 1) : users.countMatching(filter),
      ]);
      const totalCapped = counted > TOTAL_CAP;
      const total = Math.min(counted, search ? TOTAL_CAP : counted);
      const more = rows.length > limit;
      const cursor = (u: User | undefined) => (u ? encodeUserCursor(u) : null);
      if ("before" in position) {
        const page = more ? rows.slice(rows.length - limit) : rows;
        return { users: page, total, totalCapped, prev: more ? cursor(page[0]) : null, next: cursor(page.at(-1)) };
      }
      const page = rows.slice(0, limit);
      return { users: page, total, totalCapped, next: more ? cursor(page.at(-1)) : null, prev: "after" in position ? cursor(page[0]) : null };
    },

    async findUser(actor, idOrLogin) {
      const value = idOrLogin.trim();
      if (value === "" || value.length > 255) return null;
      await access(actor, "user_lookup");
      if (UUID.test(value)) return users.findById(value.toLowerCase());
      return value.includes("@") ? users.findByLogin({ email: normalizeEmail(value) }) : users.findByLogin({ username: normalizeUsername(value) });
    },

    async userNames(ids) {
      const distinct = [...new Set(ids.filter((id): id is string => id !== null))].slice(0, 100);
      const found = await Promise.all(distinct.map((id) => users.findById(id)));
      return new Map(found.flatMap((u) => (u ? [[u.id, u.username] as const] : [])));
    },

    async *exportAudit(actor, filter) {
      await access(actor, "audit_export", {
        type: filter.type ?? null,
        userId: filter.userId ?? null,
        ip: filter.ip ?? null,
        from: filter.from ?? null,
        to: filter.to ?? null,
      });
      yield AUDIT_CSV_HEADER;
      let after: { at: number; id: string } | undefined;
      for (;;) {
        const batch: AuditEvent[] = await auditStore.query({ ...filter, limit: EXPORT_BATCH, ...(after ? { after } : {}) });
        if (batch.length > 0) yield batch.map(auditCsvRecord).join("");
        const last = batch.at(-1);
        if (batch.length < EXPORT_BATCH || !last) return;
        after = { at: last.at, id: last.id };
      }
    },
  };
}
