/**
 * If `err` is a unique-constraint violation, the text that names the
 * violated constraint (SQLite: "users.email_normalized", PostgreSQL: the
 * constraint name); otherwise null. The one place the dialects differ here.
 */
export function uniqueViolation(err: unknown): string | null {
  if (typeof err !== "object" || err === null) return null;
  const e = err as { code?: unknown; message?: unknown; constraint?: unknown };
  if (e.code === "SQLITE_CONSTRAINT_UNIQUE" || e.code === "SQLITE_CONSTRAINT_PRIMARYKEY") {
    return typeof e.message === "string" ? e.message : "";
  }
  if (e.code === "23505") return typeof e.constraint === "string" ? e.constraint : "";
  return null;
}
