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
  // The identity JWT's public keys (IDENTITY_JWT=on; 404 when off): public keys only, they grant nothing.
  "GET /.well-known/jwks.json": PUBLIC,
  // Prometheus (METRICS=on, the matrix runs with it): only METRICS_TOKEN opens it; a session or an API token grants nothing.
  "GET /metrics": "NNNNNNN",
  "POST /api/csp-report": PUBLIC,
  // The API description and its page (issue 17): they describe the routes, they grant nothing.
  "GET /api/openapi.json": PUBLIC,
  "GET /api/docs": PUBLIC,
  // Forward-auth answers only TRUSTED_PROXIES peers: every direct call is 403, whoever signs it.
  "GET /api/authz/forward-auth": "NNNNNNN",
  "GET /api/authz/auth-request": "NNNNNNN",
  "POST /api/auth/register": PUBLIC,
  "POST /api/auth/login": PUBLIC,
  "POST /api/auth/logout": PUBLIC,
  // Needs the pending sign-in cookie of a login that answered mfa_required, or a session stepping up with a second
  // factor (which the access matrix, sending no code, cannot give): a token grants nothing here.
  "POST /api/auth/mfa/verify": PUBLIC,
  // Passwordless options (an anonymous challenge cookie) or, with the pending cookie, second-factor options.
  "POST /api/auth/webauthn/options": PUBLIC,
  "POST /api/auth/webauthn/verify": PUBLIC,
  "POST /api/auth/forgot-password": PUBLIC,
  "POST /api/auth/reset-password": PUBLIC,
  "POST /api/auth/verify-email": PUBLIC,
  "POST /api/auth/resend-verification": PUBLIC,
  "POST /api/auth/reauth": USER,
  "GET /api/auth/me": USER_READ,
  "GET /api/account/sessions": USER_READ,
  "DELETE /api/account/sessions/:id": USER,
  "DELETE /api/account/sessions": USER,
  "POST /api/account/password": USER,
  "GET /api/account/mfa/webauthn": USER_READ,
  "POST /api/account/mfa/webauthn/options": USER,
  "POST /api/account/mfa/webauthn/register": USER,
  "PATCH /api/account/mfa/webauthn/:id": USER,
  "DELETE /api/account/mfa/webauthn/:id": USER,
  "DELETE /api/account": USER,
  "POST /api/account/email": USER,
  "GET /api/account/tokens": USER_READ,
  "GET /api/account/tokens/:id": USER_READ,
  // Provider identities: listed with a read:account token; unlinked with the session only (and a recent re-authentication).
  "GET /api/account/identities": USER_READ,
  "DELETE /api/account/identities/:id": USER,
  "POST /api/account/tokens": USER,
  "DELETE /api/account/tokens/:id": USER,
  // Authenticator app (TOTP): sessions only, never a token.
  "POST /api/account/mfa/totp": USER,
  "POST /api/account/mfa/totp/confirm": USER,
  "DELETE /api/account/mfa/totp": USER,
  // Recovery codes: the session only (a token never reads or makes them); making them needs a recent re-authentication.
  "GET /api/account/mfa/recovery-codes": USER,
  "POST /api/account/mfa/recovery-codes": USER,
  "GET /api/admin/users": ADMIN_READ,
  "GET /api/admin/users/:id": ADMIN_READ,
  "PATCH /api/admin/users/:id": ADMIN_WRITE,
  "DELETE /api/admin/users/:id": ADMIN,
  "GET /api/admin/users/:id/sessions": ADMIN_READ,
  "DELETE /api/admin/users/:id/sessions": ADMIN_WRITE,
  "POST /api/admin/users/:id/unlock": ADMIN_WRITE,
  // Resetting a user's second factors (issue 15): session-only and re-authenticated, like deleting a user.
  "DELETE /api/admin/users/:id/mfa": ADMIN,
  "GET /api/admin/audit": ADMIN_READ,
  "GET /api/admin/stats": ADMIN_READ,
  "GET /api/admin/bans": ADMIN_READ,
  "DELETE /api/admin/bans/:ip": ADMIN_WRITE,
  "GET /api/admin/backup": SUPERADMIN,
  "POST /api/admin/import": SUPERADMIN,
  "POST /api/admin/import/users": SUPERADMIN,
  "GET /api/admin/settings": SUPERADMIN,
  "PATCH /api/admin/settings": SUPERADMIN,
  // The secret vault (docs/secrets.md): superadmins with a session; users' own keys with a session. Never a token.
  "GET /api/admin/secrets": SUPERADMIN,
  "GET /api/admin/secrets/:name": SUPERADMIN,
  "PUT /api/admin/secrets/:name": SUPERADMIN,
  "DELETE /api/admin/secrets/:name": SUPERADMIN,
  "GET /api/account/secrets": USER,
  "GET /api/account/secrets/:name": USER,
  "PUT /api/account/secrets/:name": USER,
  "DELETE /api/account/secrets/:name": USER,
  "GET /api/setup": PUBLIC,
  "POST /api/setup": PUBLIC,
  // Web portal (issue 5). Signed-in pages answer an anonymous visitor with a 303 to /login (a denial, counted
  // as "N" by the matrix), a token holder with 403: pages are for browser sessions only.
  "GET /assets/:name": PUBLIC,
  "GET /login": PUBLIC,
  // Provider sign-in: anyone may start one or come back from the provider; a link or re-authentication (POST, intent)
  // needs the session, which the core checks (the matrix's body asks for a plain sign-in of an unknown provider: 404).
  "GET /api/auth/oauth/:provider/start": PUBLIC,
  "POST /api/auth/oauth/:provider/start": PUBLIC,
  "GET /api/auth/oauth/:provider/callback": PUBLIC,
  "POST /login": PUBLIC,
  // The step-up form: public (a pending sign-in has no session), but without a browser session it sends to /login.
  "GET /login/second-factor": USER,
  "POST /login/second-factor": PUBLIC,
  "POST /logout": PUBLIC,
  "GET /register": PUBLIC,
  "POST /register": PUBLIC,
  "GET /setup": PUBLIC,
  "POST /setup": PUBLIC,
  "GET /account": USER,
  "GET /account/mfa": USER,
  "GET /forgot-password": PUBLIC,
  "POST /forgot-password": PUBLIC,
  "GET /reset-password": PUBLIC,
  "POST /reset-password": PUBLIC,
  "GET /verify-email": PUBLIC,
  "POST /verify-email": PUBLIC,
  "GET /resend-verification": PUBLIC,
  "POST /resend-verification": PUBLIC,
  "GET /account/email": USER,
  "POST /account/email": USER,
  "POST /account/password": USER,
  "GET /account/mfa/totp": USER,
  "POST /account/mfa/totp": USER,
  "POST /account/mfa/totp/confirm": USER,
  "POST /account/mfa/totp/remove": USER,
  "POST /account/sessions/:id/revoke": USER,
  "POST /account/sessions/revoke-others": USER,
  "POST /account/tokens": USER,
  "POST /account/keys": USER,
  "POST /account/keys/:name/delete": USER,
  "POST /account/tokens/:id/revoke": USER,
  "POST /account/recovery-codes": USER,
  "POST /account/delete": USER,
  // Provider sign-in pages (issue 16): the signed-in user's own linked identities (never another account's).
  "POST /account/identities/:id/unlink": USER,
  "POST /account/identities/link/:provider": USER,
  // Admin dashboard (issue 5): admins only; settings, backup and restore superadmin only; no API tokens.
  "GET /admin": ADMIN,
  "GET /admin/users": ADMIN,
  "GET /admin/users/:id": ADMIN,
  "POST /admin/users/:id/role": ADMIN,
  "POST /admin/users/:id/block": ADMIN,
  "POST /admin/users/:id/sessions/revoke": ADMIN,
  "POST /admin/users/:id/unlock": ADMIN,
  "POST /admin/users/:id/mfa/reset": ADMIN,
  "GET /admin/audit": ADMIN,
  "GET /admin/audit.csv": ADMIN,
  "GET /admin/bans": ADMIN,
  "POST /admin/bans/lift": ADMIN,
  "GET /admin/secrets": SUPERADMIN,
  "POST /admin/secrets": SUPERADMIN,
  "POST /admin/secrets/:name/delete": SUPERADMIN,
  "GET /admin/settings": SUPERADMIN,
  "POST /admin/settings": SUPERADMIN,
  "POST /admin/backup": SUPERADMIN,
  "POST /admin/restore": SUPERADMIN,
  // Reverse proxy and demo (issue 6): the internal route every forwarded request is routed to. The access
  // rules decide there (test/integration/reverse-proxy*.test.ts); called directly it is a 404 for everyone.
  "GET /_gatehouse/forward": PUBLIC,
  "POST /_gatehouse/forward": PUBLIC,
  "PUT /_gatehouse/forward": PUBLIC,
  "PATCH /_gatehouse/forward": PUBLIC,
  "DELETE /_gatehouse/forward": PUBLIC,
  "OPTIONS /_gatehouse/forward": PUBLIC,
  // Invitations and admin-made accounts (issue 12): the invitation page is public (the token is the credential);
  // the admin API takes admin tokens (creating with a role above `user` is refused to tokens); the dashboard is session-only.
  "GET /invite": PUBLIC,
  "POST /invite": PUBLIC,
  "GET /api/admin/invitations": ADMIN_READ,
  "POST /api/admin/invitations": ADMIN_WRITE,
  "DELETE /api/admin/invitations/:id": ADMIN_WRITE,
  "POST /api/admin/users": ADMIN_WRITE,
  "POST /api/admin/users/:id/reset-link": ADMIN_WRITE,
  "GET /admin/invitations": ADMIN,
  "POST /admin/invitations": ADMIN,
  "POST /admin/invitations/:id/revoke": ADMIN,
  "POST /admin/users": ADMIN,
  "POST /admin/users/:id/reset-link": ADMIN,
};

/**
 * Acting on an account (AZ-02, issue 13 finding 8): every route that changes
 * the account named by `:id`, with one row per kind of target, over the same
 * principal columns. A route acting in two ways (PATCH: a role change, a
 * block) has one entry per way, the body field in braces. The target is a
 * fresh account of that kind: a plain `user`, `another admin`, a
 * `superadmin`, or the principal's own account (`self`; for a token, its
 * owner's). "Y" = past every authorization rule (the action ran, or stopped
 * at a later check that is not about who acts on whom, such as 409
 * `mail_unavailable`); "N" = 401/403 `forbidden`, and the target unchanged.
 * The rule is `canActOn` (src/core/rbac/role-change-rules.ts): an admin acts
 * on plain users and on their own account; another admin or a superadmin
 * only a superadmin touches; nobody blocks themself; only a superadmin
 * changes roles of admins (and their own).
 */
export const TARGET_KINDS = ["user", "another admin", "superadmin", "self"] as const;
export type TargetKind = (typeof TARGET_KINDS)[number];

const ONLY_SUPERADMIN = "NNNYNNN";
/** Admin-token routes: an admin (and their `admin:write` token) on a plain user or themself. */
const ON_USERS_AND_SELF = { user: ADMIN_WRITE, "another admin": ONLY_SUPERADMIN, superadmin: ONLY_SUPERADMIN, self: ADMIN_WRITE };
/** Session-only routes (the admin API's DELETE and the dashboard). */
const ON_USERS_AND_SELF_SESSION = { user: ADMIN, "another admin": ONLY_SUPERADMIN, superadmin: ONLY_SUPERADMIN, self: ADMIN };
const ROLE_CHANGE = { user: ONLY_SUPERADMIN, "another admin": ONLY_SUPERADMIN, superadmin: ONLY_SUPERADMIN, self: ONLY_SUPERADMIN };

export const TARGET_POLICY: Record<string, Record<TargetKind, string>> = {
  "PATCH /api/admin/users/:id {role}": ROLE_CHANGE,
  "PATCH /api/admin/users/:id {blocked}": { ...ON_USERS_AND_SELF, self: "NNNNNNN" },
  "DELETE /api/admin/users/:id": ON_USERS_AND_SELF_SESSION,
  "DELETE /api/admin/users/:id/sessions": ON_USERS_AND_SELF,
  "POST /api/admin/users/:id/unlock": ON_USERS_AND_SELF,
  "POST /api/admin/users/:id/reset-link": ON_USERS_AND_SELF,
  "POST /admin/users/:id/role": ROLE_CHANGE,
  "POST /admin/users/:id/block": { ...ON_USERS_AND_SELF_SESSION, self: "NNNNNNN" },
  "POST /admin/users/:id/sessions/revoke": ON_USERS_AND_SELF_SESSION,
  "POST /admin/users/:id/unlock": ON_USERS_AND_SELF_SESSION,
  "POST /admin/users/:id/reset-link": ON_USERS_AND_SELF_SESSION,
  // Nobody resets their own second factors (their own factor routes remove one at a time, MFA-08).
  "DELETE /api/admin/users/:id/mfa": { ...ON_USERS_AND_SELF_SESSION, self: "NNNNNNN" },
  "POST /admin/users/:id/mfa/reset": { ...ON_USERS_AND_SELF_SESSION, self: "NNNNNNN" },
};
