import type { AuditLog } from "../audit/audit-log.js";
import type { Clock } from "../clock.js";
import { GatehouseError } from "../errors.js";
import type { Random } from "../random.js";
import type { ImportMapping } from "./import-mapping.js";
import type { ImportFormat, ImportTable } from "./import-table.js";
import { checkMappedColumns, loginsOf, planUserImport, type ImportProblem } from "./plan-user-import.js";
import type { UserImportStore } from "./user-import-store.js";

/** At most this many problems are listed in a summary; the rest are counted in `problems_omitted`. */
export const MAX_LISTED_PROBLEMS = 1000;

/** Where the rows came from, for the summary and the audit event (no value of any row). */
export interface ImportSource {
  format: ImportFormat;
  /** `upload` (the admin API), `file` (CLI), `sqlite` or `postgres` (a table read by the CLI). */
  kind: "upload" | "file" | "sqlite" | "postgres";
  /** SHA-256 (hex) of the file, or of the rows read from a table as JSON lines. */
  sha256: string;
  /** Size of the file in bytes (of the JSON lines for a table). */
  bytes: number;
}

/** Who runs the import, for the audit event. */
export interface ImportActor {
  actorId: string | null;
  ip: string;
  userAgent: string;
  requestId?: string | null;
}

/** The answer of an import (a dry run or an applied one): counts and problems by row number, never a value. */
export interface ImportSummary {
  dry_run: boolean;
  rows: number;
  /** Rows without problems: imported when applied. */
  importable: number;
  /** Rows inserted (0 on a dry run). */
  imported: number;
  /** Rows skipped for their problems. */
  skipped: number;
  /** Importable rows by the scheme of their password hash. */
  by_scheme: Record<string, number>;
  /** Importable rows with no password hash (the user sets one with a reset link). */
  without_password: number;
  /** Importable rows by the role they get. */
  roles: Record<string, number>;
  /** Importable rows that arrive blocked. */
  blocked: number;
  problems: ImportProblem[];
  /** Problems beyond the first {@link MAX_LISTED_PROBLEMS}, counted only. */
  problems_omitted: number;
}

/** Imports users from another app's table or file (docs/migrating-users.md). */
export interface UserImportService {
  /**
   * Plans the import of `table` under `mapping` and, when `apply` is true,
   * inserts every importable row in one transaction and records
   * `users_imported`. Throws `import_invalid` when a mapped column is
   * missing, 409 `import_conflict` when a name was taken during the insert
   * (nothing is imported then).
   */
  importUsers(table: ImportTable, mapping: ImportMapping, options: { apply: boolean; source: ImportSource; actor: ImportActor }): Promise<ImportSummary>;
}

function count<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

/** Creates the {@link UserImportService}. */
export function createUserImportService(deps: { store: UserImportStore; audit: AuditLog; clock: Clock; random: Random }): UserImportService {
  return {
    async importUsers(table, mapping, { apply, source, actor }) {
      checkMappedColumns(table, mapping);
      const logins = loginsOf(table, mapping);
      const taken = await deps.store.takenLogins(logins.usernames, logins.emails);
      const plan = planUserImport(table, mapping, taken);
      const withPassword = plan.users.filter((u) => u.scheme !== null);
      const summary: ImportSummary = {
        dry_run: !apply,
        rows: plan.rows,
        importable: plan.users.length,
        imported: 0,
        skipped: new Set(plan.problems.map((p) => p.row)).size,
        by_scheme: count(withPassword, (u) => u.scheme ?? ""),
        without_password: plan.users.length - withPassword.length,
        roles: count(plan.users, (u) => u.role),
        blocked: plan.users.filter((u) => u.blocked).length,
        problems: plan.problems.slice(0, MAX_LISTED_PROBLEMS),
        problems_omitted: Math.max(0, plan.problems.length - MAX_LISTED_PROBLEMS),
      };
      if (!apply) return summary;
      const at = deps.clock.now();
      const result = plan.users.length === 0 ? { ok: true as const } : await deps.store.insertAll(plan.users.map((u) => ({ ...u, id: deps.random.uuid() })), at);
      if (!result.ok) throw new GatehouseError("import_conflict", { fields: [result.conflict] });
      summary.imported = plan.users.length;
      await deps.audit.record({
        type: "users_imported",
        actorId: actor.actorId,
        ip: actor.ip,
        userAgent: actor.userAgent,
        requestId: actor.requestId ?? null,
        details: {
          format: source.format,
          source: source.kind,
          sha256: source.sha256,
          bytes: source.bytes,
          rows: summary.rows,
          imported: summary.imported,
          skipped: summary.skipped,
          without_password: summary.without_password,
          admins: summary.roles.admin ?? 0,
          blocked: summary.blocked,
        },
      });
      return summary;
    },
  };
}
