/**
 * The reviewed access policy of every route: who may get past the access
 * check. Columns: anonymous, user, admin, superadmin, then API tokens
 * `read:account` (owned by a user), `admin:read` and `admin:write` (owned by
 * an admin). "Y" = allowed, "N" = 401/403. A new route fails the matrix test
 * until it is added here — adding a row is the review.
 */
export const PRINCIPALS = ["anonymous", "user", "admin", "superadmin", "token:read:account", "token:admin:read", "token:admin:write"] as const;
export type Principal = (typeof PRINCIPALS)[number];

const PUBLIC = "YYYYYYY";
const USER = "NYYYNNN";
const USER_READ = "NYYYYNN";
const ADMIN = "NNYYNNN";
const ADMIN_READ = "NNYYNYN";
const ADMIN_WRITE = "NNYYNNY";
const SUPERADMIN = "NNNYNNN";

export const ROUTE_POLICY: Record<string, string> = {
  "GET /healthz": PUBLIC,
  "GET /readyz": PUBLIC,
  "POST /api/auth/register": PUBLIC,
  "POST /api/auth/login": PUBLIC,
  "POST /api/auth/logout": PUBLIC,
  "POST /api/auth/reauth": USER,
  "GET /api/auth/me": USER_READ,
  "GET /api/account/sessions": USER_READ,
  "DELETE /api/account/sessions/:id": USER,
  "DELETE /api/account/sessions": USER,
  "POST /api/account/password": USER,
  "DELETE /api/account": USER,
  "GET /api/account/tokens": USER_READ,
  "GET /api/account/tokens/:id": USER_READ,
  "POST /api/account/tokens": USER,
  "DELETE /api/account/tokens/:id": USER,
  "GET /api/admin/users": ADMIN_READ,
  "GET /api/admin/users/:id": ADMIN_READ,
  "PATCH /api/admin/users/:id": ADMIN_WRITE,
  "DELETE /api/admin/users/:id": ADMIN,
  "GET /api/admin/users/:id/sessions": ADMIN_READ,
  "DELETE /api/admin/users/:id/sessions": ADMIN_WRITE,
  "POST /api/admin/users/:id/unlock": ADMIN_WRITE,
  "GET /api/admin/audit": ADMIN_READ,
  "GET /api/admin/stats": ADMIN_READ,
  "GET /api/admin/bans": ADMIN_READ,
  "DELETE /api/admin/bans/:ip": ADMIN_WRITE,
  "GET /api/admin/backup": SUPERADMIN,
  "POST /api/admin/import": SUPERADMIN,
  "GET /api/admin/settings": SUPERADMIN,
  "PATCH /api/admin/settings": SUPERADMIN,
  "GET /api/setup": PUBLIC,
  "POST /api/setup": PUBLIC,
};
