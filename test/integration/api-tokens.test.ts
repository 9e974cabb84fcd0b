import { createHash, randomBytes, randomUUID } from "node:crypto";
import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, PRODUCTION_LIMITS, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { uname } from "../helpers/names.js";

const MIN = 60_000;
const DAY = 86_400_000;
const SECRET = /^gth_[A-Za-z0-9_-]{43}$/;
const sha256hex = (v: string) => createHash("sha256").update(v, "utf8").digest("hex");
/** A well-formed token nobody was ever issued. */
const forged = () => `gth_${randomBytes(32).toString("base64url")}`;
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

interface Account {
  cookie: string;
  id: string;
  name: string;
}

/** Shared helpers over one harness. */
function helpers(get: () => Harness) {
  const account = (role: Role = "user", name = uname(role)): Promise<Account> => get().account(role, name);
  function createToken(cookie: string, json: unknown, headers: Record<string, string | null> = {}): Promise<LightMyRequestResponse> {
    return get().request({ method: "POST", url: "/api/account/tokens", cookie, json, headers });
  }
  async function issue(cookie: string, scopes: string[] = ["read:account"], extra: Record<string, unknown> = {}) {
    const res = await createToken(cookie, { name: "ci script", scopes, ...extra });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { token: { id: string; prefix: string; scopes: string[]; createdAt: string; expiresAt: string; lastUsedAt: string | null }; secret: string };
  }
  /** A request authenticated only by the bearer token: no cookie, and (unless given) no Origin either. */
  function withToken(secret: string, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, json?: unknown, headers: Record<string, string | null> = {}) {
    return get().request({ method, url, headers: { origin: null, ...bearer(secret), ...headers }, ...(json !== undefined ? { json } : {}) });
  }
  return { account, createToken, issue, withToken };
}

describe.each(backendNames())("API tokens (%s)", (backend) => {
  let h: Harness;
  const { account, createToken, issue, withToken } = helpers(() => h);

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("the secret is shown once: gth_ + 43 base64url in the create response only; lists and gets never show it; the DB holds only its SHA-256", async () => {
    const me = await account();
    const created = await createToken(me.cookie, { name: "deploy bot", scopes: ["read:account"] });
    expect(created.statusCode).toBe(201);
    expect(created.headers["cache-control"]).toContain("no-store");
    const { token, secret } = created.json();
    expect(secret).toMatch(SECRET);
    expect(Object.keys(created.json()).sort()).toEqual(["secret", "token"]);
    expect(Object.keys(token).sort()).toEqual(["createdAt", "expiresAt", "id", "lastUsedAt", "name", "prefix", "scopes"]);
    expect(token.prefix).toBe(secret.slice(0, 12));
    expect(token.prefix.startsWith("gth_")).toBe(true);
    expect(token.scopes).toEqual(["read:account"]);
    expect(token.lastUsedAt).toBeNull();

    const randomPart = secret.slice(4);
    const list = await h.request({ method: "GET", url: "/api/account/tokens", cookie: me.cookie });
    expect(list.statusCode).toBe(200);
    expect(list.json().tokens).toHaveLength(1);
    expect(list.json().tokens[0]).toEqual(token);
    const one = await h.request({ method: "GET", url: `/api/account/tokens/${token.id}`, cookie: me.cookie });
    expect(one.json()).toEqual({ token });
    for (const res of [list, one]) {
      expect(res.body).not.toContain(randomPart);
      expect(res.body).not.toContain(sha256hex(secret));
      expect(res.body).not.toContain("secret");
    }

    const rows = await h.gh.database.db.selectFrom("api_tokens").selectAll().where("user_id", "=", me.id).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256hex(secret));
    expect(JSON.stringify(rows)).not.toContain(randomPart);

    // It works, as the only credential of the request.
    const meRes = await withToken(secret, "GET", "/api/auth/me");
    expect(meRes.statusCode).toBe(200);
    expect(meRes.json().user.id).toBe(me.id);
    expect(meRes.body).not.toContain(randomPart);
  });

  it("expiry: 90 days by default, at most 365 (over → 400), and an expired token is refused (401)", async () => {
    const me = await account();
    const def = await issue(me.cookie);
    expect(Date.parse(def.token.expiresAt) - Date.parse(def.token.createdAt)).toBe(90 * DAY);
    const year = await issue(me.cookie, ["read:account"], { expiresInDays: 365 });
    expect(Date.parse(year.token.expiresAt) - Date.parse(year.token.createdAt)).toBe(365 * DAY);
    for (const expiresInDays of [366, 10_000, 0, -1, 1.5, "30"]) {
      const res = await createToken(me.cookie, { name: "x", scopes: ["read:account"], expiresInDays });
      expect(res.statusCode, String(expiresInDays)).toBe(400);
      expect(res.json().code).toBe("invalid_request");
    }
    const short = await issue(me.cookie, ["read:account"], { expiresInDays: 1 });
    expect((await withToken(short.secret, "GET", "/api/auth/me")).statusCode).toBe(200);
    h.clock.advance(DAY - MIN);
    expect((await withToken(short.secret, "GET", "/api/auth/me")).statusCode).toBe(200);
    h.clock.advance(MIN);
    const expired = await withToken(short.secret, "GET", "/api/auth/me");
    expect(expired.statusCode).toBe(401);
    expect(expired.json().code).toBe("unauthenticated");
    expect(expired.headers["www-authenticate"]).toContain("Bearer");
    expect((await withToken(def.secret, "GET", "/api/auth/me")).statusCode).toBe(200);
  });

  it("creation is validated: scopes from the fixed list, names up to 100 characters, no unknown fields", async () => {
    const me = await account();
    const bad: unknown[] = [
      { name: "x", scopes: ["root"] },
      { name: "x", scopes: ["read:account", "admin:everything"] },
      { name: "x", scopes: [] },
      { name: "x" },
      { name: "", scopes: ["read:account"] },
      { name: "   ", scopes: ["read:account"] },
      { name: "a\nb", scopes: ["read:account"] },
      { name: "n".repeat(101), scopes: ["read:account"] },
      { name: "x", scopes: ["read:account"], userId: me.id },
      { name: "x", scopes: ["read:account"], expiresAt: "2099-01-01T00:00:00Z" },
      { name: "x", scopes: "read:account" },
    ];
    for (const body of bad) {
      const res = await createToken(me.cookie, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().code).toBe("invalid_request");
    }
    const ok = await issue(me.cookie, ["admin:write", "read:account"], { name: "n".repeat(100) });
    expect(ok.token.scopes).toEqual(["read:account", "admin:write"]);
    expect(await h.gh.database.db.selectFrom("api_tokens").select("id").where("user_id", "=", me.id).execute()).toHaveLength(1);
  });

  it("creating a token needs a recent re-authentication (sudo); anonymous callers get 401", async () => {
    const me = await account();
    h.clock.advance(11 * MIN);
    const stale = await createToken(me.cookie, { name: "x", scopes: ["read:account"] });
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    const reauth = await h.request({ method: "POST", url: "/api/auth/reauth", cookie: me.cookie, json: { password: GOOD_PASSWORD } });
    expect(reauth.statusCode).toBe(204);
    const fresh = sessionCookieFrom(reauth)!;
    expect((await createToken(fresh, { name: "x", scopes: ["read:account"] })).statusCode).toBe(201);
    expect((await h.request({ method: "POST", url: "/api/account/tokens", json: { name: "x", scopes: ["read:account"] } })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/account/tokens" })).statusCode).toBe(401);
  });

  it("tokens are accepted only as Authorization: Bearer — never ?token=, ?access_token= or another scheme (401)", async () => {
    const me = await account();
    const { secret } = await issue(me.cookie);
    for (const param of ["token", "access_token", "api_token", "bearer"]) {
      const res = await h.request({ method: "GET", url: `/api/auth/me?${param}=${encodeURIComponent(secret)}` });
      expect(res.statusCode, param).toBe(401);
      expect(res.json().code).toBe("unauthenticated");
    }
    for (const authorization of [`Basic ${Buffer.from(`x:${secret}`).toString("base64")}`, `Token ${secret}`, secret, `Bearer${secret}`, `Bearer ${secret} extra`]) {
      const res = await h.request({ method: "GET", url: "/api/auth/me", headers: { authorization } });
      expect(res.statusCode, authorization.slice(0, 12)).toBe(401);
    }
    for (const header of ["x-api-token", "x-auth-token", "private-token"]) {
      expect((await h.request({ method: "GET", url: "/api/auth/me", headers: { [header]: secret } })).statusCode, header).toBe(401);
    }
    // A JSON field carrying the token authenticates nothing either.
    const body = await h.request({ method: "DELETE", url: "/api/account/sessions", json: { token: secret } });
    expect(body.statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `bearer ${secret}` } })).statusCode).toBe(200);
  });

  it("IDOR: user A cannot see or delete B's token (404), and B's token keeps working", async () => {
    const a = await account();
    const b = await account();
    const bTok = await issue(b.cookie);
    expect((await h.request({ method: "GET", url: `/api/account/tokens/${bTok.token.id}`, cookie: a.cookie })).statusCode).toBe(404);
    const del = await h.request({ method: "DELETE", url: `/api/account/tokens/${bTok.token.id}`, cookie: a.cookie });
    expect(del.statusCode).toBe(404);
    expect(del.json().code).toBe("not_found");
    expect((await h.request({ method: "GET", url: "/api/account/tokens", cookie: a.cookie })).json().tokens).toEqual([]);
    expect((await h.request({ method: "GET", url: "/api/account/tokens", cookie: b.cookie })).json().tokens).toHaveLength(1);
    expect((await withToken(bTok.secret, "GET", "/api/auth/me")).statusCode).toBe(200);
    expect(await h.gh.stores.audit.list({ userId: b.id, type: "api_token_revoked", limit: 5 })).toEqual([]);
    // An unknown id looks exactly like a foreign one.
    expect((await h.request({ method: "DELETE", url: `/api/account/tokens/${randomUUID()}`, cookie: a.cookie })).statusCode).toBe(404);
  });

  it("a revoked token is refused at once (401); revocation and creation are audited with id and prefix, never the secret", async () => {
    const me = await account();
    const { token, secret } = await issue(me.cookie, ["read:account"]);
    expect((await withToken(secret, "GET", "/api/auth/me")).statusCode).toBe(200);
    const del = await h.request({ method: "DELETE", url: `/api/account/tokens/${token.id}`, cookie: me.cookie });
    expect(del.statusCode).toBe(204);
    expect((await withToken(secret, "GET", "/api/auth/me")).statusCode).toBe(401);
    expect((await h.request({ method: "DELETE", url: `/api/account/tokens/${token.id}`, cookie: me.cookie })).statusCode).toBe(404);

    const created = await h.gh.stores.audit.list({ userId: me.id, type: "api_token_created", limit: 5 });
    const revoked = await h.gh.stores.audit.list({ userId: me.id, type: "api_token_revoked", limit: 5 });
    expect(created).toHaveLength(1);
    expect(revoked).toHaveLength(1);
    for (const e of [...created, ...revoked]) {
      expect(e.actorId).toBe(me.id);
      expect(e.details.tokenId).toBe(token.id);
      expect(e.details.prefix).toBe(token.prefix);
    }
    const randomPart = secret.slice(4);
    const events = await h.gh.stores.audit.list({ limit: 1000 });
    expect(JSON.stringify(events)).not.toContain(randomPart);
    expect(h.logs.text()).not.toContain(randomPart);
    expect(h.logs.text()).not.toContain(sha256hex(secret));
  });

  it("last use is recorded, at most once a minute", async () => {
    const me = await account();
    const { token, secret } = await issue(me.cookie);
    const lastUsed = async () =>
      (await h.gh.database.db.selectFrom("api_tokens").select("last_used_at").where("id", "=", token.id).executeTakeFirstOrThrow()).last_used_at;
    expect(await lastUsed()).toBeNull();
    const t0 = h.clock.now();
    await withToken(secret, "GET", "/api/auth/me");
    expect(Number(await lastUsed())).toBe(t0);
    h.clock.advance(30_000);
    await withToken(secret, "GET", "/api/auth/me");
    expect(Number(await lastUsed())).toBe(t0);
    h.clock.advance(31_000);
    await withToken(secret, "GET", "/api/auth/me");
    expect(Number(await lastUsed())).toBe(t0 + 61_000);
    const listed = (await h.request({ method: "GET", url: "/api/account/tokens", headers: bearer(secret) })).json().tokens[0];
    expect(listed.lastUsedAt).toBe(new Date(t0 + 61_000).toISOString());
  });

  it("scopes: read:account opens GET /api/auth/me and GET /api/account/*, and nothing else", async () => {
    const me = await account("admin");
    const read = await issue(me.cookie, ["read:account"]);
    for (const url of ["/api/auth/me", "/api/account/sessions", "/api/account/tokens", `/api/account/tokens/${read.token.id}`]) {
      const res = await withToken(read.secret, "GET", url);
      expect(res.statusCode, url).toBe(200);
    }
    // The stand-in session of a token is never "current".
    const sessions = (await withToken(read.secret, "GET", "/api/account/sessions")).json().sessions;
    expect(sessions.every((s: { current: boolean }) => !s.current)).toBe(true);
    // An admin's read:account token is still not an admin token.
    const adminRead = await withToken(read.secret, "GET", "/api/admin/users");
    expect(adminRead.statusCode).toBe(403);
    expect(adminRead.json().code).toBe("forbidden");
    // A token without read:account cannot read the account.
    const adminOnly = await issue(me.cookie, ["admin:read"]);
    expect((await withToken(adminOnly.secret, "GET", "/api/auth/me")).statusCode).toBe(403);
    expect((await withToken(adminOnly.secret, "GET", "/api/account/sessions")).statusCode).toBe(403);
  });

  it("scope ∩ role: an admin's admin:read token lists users; once the owner is demoted it is 403 at once", async () => {
    const sup = await account("superadmin");
    const admin = await account("admin");
    const { secret } = await issue(admin.cookie, ["read:account", "admin:read"]);
    for (const url of ["/api/admin/users", `/api/admin/users/${sup.id}`, `/api/admin/users/${sup.id}/sessions`, "/api/admin/audit", "/api/admin/stats", "/api/admin/bans"]) {
      expect((await withToken(secret, "GET", url)).statusCode, url).toBe(200);
    }
    const reads = await h.gh.stores.audit.list({ type: "admin_access", limit: 20 });
    expect(reads.some((e) => e.actorId === admin.id)).toBe(true);
    const demote = await h.request({ method: "PATCH", url: `/api/admin/users/${admin.id}`, cookie: sup.cookie, json: { role: "user" } });
    expect(demote.statusCode).toBe(200);
    const after = await withToken(secret, "GET", "/api/admin/users");
    expect(after.statusCode).toBe(403);
    expect(after.json().code).toBe("forbidden");
    // The rest of the token's scopes still hold for the (now plain) user.
    expect((await withToken(secret, "GET", "/api/auth/me")).json().user.role).toBe("user");
  });

  it("scope ∩ role: a plain user's admin:read / admin:write token is 403 on every admin route", async () => {
    const user = await account("user");
    const victim = await account("user");
    const { secret } = await issue(user.cookie, ["admin:read", "admin:write"]);
    for (const url of ["/api/admin/users", `/api/admin/users/${victim.id}`, "/api/admin/stats", "/api/admin/audit"]) {
      const res = await withToken(secret, "GET", url);
      expect(res.statusCode, url).toBe(403);
    }
    expect((await withToken(secret, "PATCH", `/api/admin/users/${victim.id}`, { blocked: true })).statusCode).toBe(403);
    expect((await withToken(secret, "DELETE", `/api/admin/users/${victim.id}/sessions`)).statusCode).toBe(403);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victim.cookie })).statusCode).toBe(200);
  });

  it("admin:write blocks users and revokes their sessions without Origin (Bearer is exempt from the cross-site rule); admin:read alone cannot", async () => {
    const admin = await account("admin");
    const victim = await account("user");
    const read = await issue(admin.cookie, ["admin:read"]);
    const write = await issue(admin.cookie, ["admin:write"]);
    expect((await withToken(read.secret, "PATCH", `/api/admin/users/${victim.id}`, { blocked: true })).statusCode).toBe(403);
    expect((await withToken(write.secret, "GET", "/api/admin/users")).statusCode).toBe(403);

    const revoke = await withToken(write.secret, "DELETE", `/api/admin/users/${victim.id}/sessions`);
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toEqual({ revoked: 1 });
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victim.cookie })).statusCode).toBe(401);

    const block = await withToken(write.secret, "PATCH", `/api/admin/users/${victim.id}`, { blocked: true }, { "sec-fetch-site": "cross-site" });
    expect(block.statusCode).toBe(200);
    expect(block.json().user.blocked).toBe(true);
    const events = await h.gh.stores.audit.list({ userId: victim.id, type: "user_blocked", limit: 5 });
    expect(events[0]?.actorId).toBe(admin.id);
    const unblock = await withToken(write.secret, "PATCH", `/api/admin/users/${victim.id}`, { blocked: false });
    expect(unblock.json().user.blocked).toBe(false);
  });

  it("a token can never back up, import, change settings or a role, delete a user, change the password, delete the account, re-authenticate, revoke sessions or mint/revoke tokens (403)", async () => {
    const sup = await account("superadmin");
    const target = await account("user");
    const { token, secret } = await issue(sup.cookie, ["read:account", "admin:read", "admin:write"]);
    const attempts: [method: "GET" | "POST" | "PATCH" | "DELETE", url: string, json?: unknown][] = [
      ["GET", "/api/admin/backup"],
      ["POST", "/api/admin/import", {}],
      ["PATCH", "/api/admin/settings", { registration: "closed" }],
      ["PATCH", `/api/admin/users/${target.id}`, { role: "admin" }],
      ["PATCH", `/api/admin/users/${target.id}`, { role: "user", blocked: true }],
      ["DELETE", `/api/admin/users/${target.id}`],
      ["POST", "/api/account/password", { currentPassword: GOOD_PASSWORD, newPassword: "velvet-harbor-compass-77" }],
      ["DELETE", "/api/account", { password: GOOD_PASSWORD }],
      ["POST", "/api/auth/reauth", { password: GOOD_PASSWORD }],
      ["POST", "/api/account/tokens", { name: "child", scopes: ["read:account"] }],
      ["DELETE", `/api/account/tokens/${token.id}`],
      ["DELETE", "/api/account/sessions"],
      ["POST", `/api/auth/logout`],
    ];
    for (const [method, url, json] of attempts) {
      for (const origin of [null, h.publicUrl]) {
        const res = await withToken(secret, method, url, json, { origin });
        if (url === "/api/auth/logout") {
          // Public: the token is ignored, so the request is an anonymous logout (cross-site rule applies).
          expect(res.statusCode, `${method} ${url}`).toBe(origin === null ? 403 : 204);
          continue;
        }
        expect(res.statusCode, `${method} ${url} ${origin ?? "no origin"}`).toBe(403);
        expect(res.json().code).toBe("forbidden");
      }
    }
    // Nothing changed.
    expect((await h.request({ method: "GET", url: `/api/admin/users/${target.id}`, cookie: sup.cookie })).json().user).toMatchObject({ role: "user", blocked: false });
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: sup.name, password: GOOD_PASSWORD } })).statusCode).toBe(200);
    expect(await h.gh.database.db.selectFrom("api_tokens").select("id").where("user_id", "=", sup.id).execute()).toHaveLength(1);
    expect((await withToken(secret, "GET", "/api/auth/me")).statusCode).toBe(200);
  });

  it("a blocked owner's tokens are refused (401) until unblocked; deleting the account deletes its tokens", async () => {
    const admin = await account("admin");
    const owner = await account();
    const { secret } = await issue(owner.cookie);
    const block = await h.request({ method: "PATCH", url: `/api/admin/users/${owner.id}`, cookie: admin.cookie, json: { blocked: true } });
    expect(block.statusCode).toBe(200);
    expect((await withToken(secret, "GET", "/api/auth/me")).statusCode).toBe(401);
    await h.request({ method: "PATCH", url: `/api/admin/users/${owner.id}`, cookie: admin.cookie, json: { blocked: false } });
    expect((await withToken(secret, "GET", "/api/auth/me")).statusCode).toBe(200);

    const leaver = await account();
    const gone = await issue(leaver.cookie);
    const del = await h.request({ method: "DELETE", url: "/api/account", cookie: leaver.cookie, json: { password: GOOD_PASSWORD } });
    expect(del.statusCode).toBe(204);
    expect((await withToken(gone.secret, "GET", "/api/auth/me")).statusCode).toBe(401);
    expect(await h.gh.database.db.selectFrom("api_tokens").select("id").where("user_id", "=", leaver.id).execute()).toEqual([]);
  });

  it("cross-site rule: Bearer requests need no Origin, a cookie request still does, an invalid bearer is 401 and changes nothing", async () => {
    const admin = await account("admin");
    const victim = await account();
    const { secret } = await issue(admin.cookie, ["admin:write"]);
    // Cookie without Origin: refused as cross-site.
    const cookieNoOrigin = await h.request({ method: "DELETE", url: `/api/admin/users/${victim.id}/sessions`, cookie: admin.cookie, headers: { origin: null } });
    expect(cookieNoOrigin.statusCode).toBe(403);
    expect(cookieNoOrigin.json().code).toBe("csrf");
    // Cookie plus a valid bearer, no Origin: the cookie makes it a browser request, still checked.
    const both = await h.request({ method: "DELETE", url: `/api/admin/users/${victim.id}/sessions`, cookie: admin.cookie, headers: { origin: null, ...bearer(secret) } });
    expect(both.json().code).toBe("csrf");
    // An invalid bearer without Origin: 401, nothing revoked.
    for (const bad of [forged(), "not-a-token"]) {
      const res = await withToken(bad, "DELETE", `/api/admin/users/${victim.id}/sessions`);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe("unauthenticated");
    }
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victim.cookie })).statusCode).toBe(200);
    // A public route is never exempt: login without Origin and a bearer header is still cross-site.
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD }, headers: { origin: null, ...bearer(secret) } });
    expect(login.json().code).toBe("csrf");
    // The valid bearer alone: allowed.
    expect((await withToken(secret, "DELETE", `/api/admin/users/${victim.id}/sessions`)).statusCode).toBe(200);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: victim.cookie })).statusCode).toBe(401);
  });

  it("the bearer never overrides a valid session cookie", async () => {
    const a = await account();
    const b = await account();
    const bTok = await issue(b.cookie);
    const res = await h.request({ method: "GET", url: "/api/auth/me", cookie: a.cookie, headers: bearer(bTok.secret) });
    expect(res.json().user.id).toBe(a.id);
  });
});

describe.each(backendNames())("API tokens: bad tokens are throttled by the shared mechanism (%s, production limits)", (backend) => {
  let h: Harness;
  const { account, issue } = helpers(() => h);

  beforeAll(async () => {
    h = await startHarness(backend, PRODUCTION_LIMITS);
  });
  afterAll(async () => h?.close());

  it("a script's concurrent calls with a valid token are never throttled (valid tokens are not counted as guesses)", async () => {
    const me = await account();
    const { secret } = await issue(me.cookie);
    const answers = await Promise.all(Array.from({ length: 30 }, () => h.request({ method: "GET", url: "/api/auth/me", headers: bearer(secret) })));
    expect(answers.map((r) => r.statusCode)).toEqual(Array(30).fill(200));
  });

  it("10 bad tokens from one IP get 401, the 11th gets 429 with Retry-After; a valid token does not reset the count; logs hold no full token", async () => {
    const me = await account();
    const { secret } = await issue(me.cookie);
    const guesses: string[] = [];
    for (let i = 0; i < 10; i++) {
      const guess = i === 3 ? "gth_short" : forged();
      guesses.push(guess);
      const res = await h.request({ method: "GET", url: "/api/auth/me", headers: bearer(guess) });
      expect(res.statusCode, `guess ${i + 1}`).toBe(401);
      // A valid token in between neither fails nor resets the IP's failure count.
      if (i === 5) expect((await h.request({ method: "GET", url: "/api/auth/me", headers: bearer(secret) })).statusCode).toBe(200);
    }
    const eleventh = await h.request({ method: "GET", url: "/api/auth/me", headers: bearer(forged()) });
    expect(eleventh.statusCode).toBe(429);
    expect(eleventh.json().code).toBe("rate_limited");
    expect(Number(eleventh.headers["retry-after"])).toBeGreaterThan(60);
    // The same throttle on every route a token may call, state-changing ones included.
    expect((await h.request({ method: "DELETE", url: "/api/admin/bans/192.0.2.1", headers: { ...bearer(forged()), origin: null } })).statusCode).toBe(429);

    const failures = await h.gh.stores.audit.list({ type: "login_failure", limit: 50 });
    const tokenFailures = failures.filter((e) => e.details.method === "api_token");
    expect(tokenFailures).toHaveLength(10);
    for (const e of tokenFailures) {
      if (e.details.reason === "malformed") expect(e.details.prefix).toBeUndefined();
      else expect(String(e.details.prefix)).toMatch(/^gth_[A-Za-z0-9_-]{8}$/);
    }
    const text = h.logs.text() + JSON.stringify(failures);
    for (const g of [...guesses, secret]) {
      if (g.length > 12) expect(text).not.toContain(g.slice(12));
    }

    // The block lifts after its 10 minutes.
    h.clock.advance(10 * 60_000 + 1_000);
    expect((await h.request({ method: "GET", url: "/api/auth/me", headers: bearer(forged()) })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", headers: bearer(forged()) })).statusCode).toBe(429);
  });

  it("RL-07: 30 concurrent bad tokens from one IP — at most 10 answered 401, the rest 429", async () => {
    h.clock.advance(24 * 3_600_000);
    const answers = await Promise.all(Array.from({ length: 30 }, () => h.request({ method: "GET", url: "/api/auth/me", headers: bearer(forged()) })));
    const codes = answers.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 401).length).toBeLessThanOrEqual(10);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThanOrEqual(20);
    expect(codes.every((c) => c === 401 || c === 429)).toBe(true);
  });
});
