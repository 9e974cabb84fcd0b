/**
 * True when PostgreSQL refused a statement for lack of privilege (SQLSTATE
 * 42501: `permission denied for schema …`, `must be owner of table …`), here
 * or in the error's causes: the runtime role of a least-privilege setup
 * meeting a migration.
 */
export function isInsufficientPrivilege(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === "object" && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === "42501") return true;
  }
  return false;
}
