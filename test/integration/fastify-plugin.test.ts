import { randomBytes } from "node:crypto";
import { join } from "node:path";
import fastifyAuth from "@fastify/auth";
import SQLite from "better-sqlite3";
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type LightMyRequestResponse } from "fastify";
import { Kysely, PostgresDialect, sql, SqliteDialect } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { gatehouse } from "gatehouse/fastify";
import { backendNames, createBackend, PG_URL, REDIS_URL, redisTestPrefix, type Backend } from "../helpers/backends.js";
import { GOOD_PASSWORD, RELAXED_LIMITS, sessionCookieFrom } from "../helpers/harness.js";
import { captureLogger } from "../helpers/log-capture.js";

const PUBLIC_URL = "http://localhost:3000";
const ORIGIN = { origin: PUBLIC_URL };

/** The host's own database type: its table, and Gatehouse's `users` read by the test. */
interface HostDb {
  host_notes: { id: number; body: string | null };
  users: { username: string };
}

/** A host app with its own hooks, error handler and routes, and Gatehouse at /auth. */
async function startHost(backend: Backend, database?: { db: Kysely<HostDb>; dialect: "sqlite" | "postgres" }, shared?: { secretKey: string; redisPrefix: string }) {
  const logs = captureLogger();
  const host: FastifyInstance = Fastify({ loggerInstance: logs.logger as FastifyBaseLogger });
  const hostHookRuns: string[] = [];
  // The host's own global hook and error handler.
  host.addHook("onRequest", async (request) => {
    hostHookRuns.push(request.url);
  });
  host.setErrorHandler((err: FastifyError, _request, reply) => reply.code(418).send({ host: "error handler", message: err.message, code: err.code }));
  await host.register(fastifyAuth);
  await host.register(gatehouse, {
    prefix: "/auth",
    env: { NODE_ENV: "test", SECRET_KEY: shared?.secretKey ?? randomBytes(32).toString("hex"), PUBLIC_URL, ...(shared ? { REDIS_URL } : {}), LOG_LEVEL: "debug", ...RELAXED_LIMITS, RATE_LIMIT_ACCOUNT_DELETE: "2/1m", REGISTRATION: "open", MFA_REQUIRED: "off", ...backend.env },
    housekeeping: false,
    ...(database ? { database } : {}),
    overrides: { ...(backend.schema && !database ? { schema: backend.schema } : {}), ...(shared ? { redisPrefix: shared.redisPrefix } : {}) },
  });
  host.get("/plain", async () => ({ plain: true }));
  host.get("/plain-fails", { onRequest: (_req, _reply, done) => done(new Error("host says no")) }, async () => ({}));
  host.get("/me", { config: { access: "user" } }, async (request) => ({ user: request.user, session: request.session }));
  host.get("/maybe", { config: { access: "public" } }, async (request) => ({ user: request.user?.username ?? null }));
  host.get("/limited", { config: { access: "public", rateLimit: "accountDelete" } }, async () => ({ ok: true }));
  host.get("/admin-area", { config: { access: "admin" } }, async (request) => ({ admin: request.user?.username }));
  host.post("/notes", { config: { access: "user" } }, async (request) => ({ saved: true, by: request.user?.username }));
  host.get("/broken", { config: { access: "user" } }, async () => {
    throw new Error("handler failed");
  });
  // @fastify/auth composition: an admin OR a caller with the host's own API key.
  const apiKey: (request: { headers: Record<string, unknown> }, reply: unknown, done: (err?: Error) => void) => void = (request, _reply, done) =>
    done(request.headers["x-api-key"] === "host-key" ? undefined : new Error("no api key"));
  host.get("/reports", { preHandler: host.auth([host.gatehouse.requireRole("admin"), apiKey], { relation: "or" }) }, async (request) => ({ by: request.user?.username ?? "api-key" }));
  host.get("/composed-user", { preHandler: host.auth([host.gatehouse.requireUser]) }, async (request) => ({ by: request.user?.username }));
  await host.ready();
  return { host, logs, hostHookRuns };
}

async function register(host: FastifyInstance, username: string): Promise<{ cookie: string; id: string }> {
  const res = await host.inject({ method: "POST", url: "/auth/api/auth/register", headers: ORIGIN, payload: { username, password: GOOD_PASSWORD, email: `${username}@example.test` } });
  expect(res.statusCode, res.body).toBe(201);
  return { cookie: sessionCookieFrom(res) ?? "", id: res.json().user.id as string };
}

async function makeAdmin(host: FastifyInstance, id: string): Promise<void> {
  await host.gatehouse.services.database.db.updateTable("users").set({ role: "admin" }).where("id", "=", id).execute();
  host.gatehouse.services.sessions.forgetUser(id);
}

const get = (host: FastifyInstance, url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> => host.inject({ method: "GET", url, headers });

describe.each(backendNames())("gatehouse/fastify plugin in a host app (%s)", (backendName) => {
  let backend: Backend;
  let host: FastifyInstance;
  let hostHookRuns: string[];
  beforeAll(async () => {
    backend = await createBackend(backendName);
    ({ host, hostHookRuns } = await startHost(backend));
  });
  afterAll(async () => {
    await host?.close();
    await backend?.cleanup();
  });

  it("signs in through /auth/api/auth/login and a guarded host route sees request.user and request.session", async () => {
    await register(host, "alice");
    const login = await host.inject({ method: "POST", url: "/auth/api/auth/login", headers: ORIGIN, payload: { username: "alice", password: GOOD_PASSWORD } });
    expect(login.statusCode).toBe(200);
    const cookie = sessionCookieFrom(login) ?? "";
    const res = await get(host, "/me", { cookie });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.user).toEqual({ id: expect.any(String), username: "alice", email: "alice@example.test", role: "user", groups: ["user"] });
    expect(body.session).toEqual({ id: expect.any(String), aal: "aal1", amr: ["pwd"], expiresAt: expect.any(Number) });
    expect(res.body).not.toContain(cookie.split("=")[1]);
    expect((await get(host, "/maybe", { cookie })).json()).toEqual({ user: "alice" });
  });

  it("answers an anonymous call to a guarded route with Gatehouse's 401 body, not the host's error handler", async () => {
    const res = await get(host, "/me");
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.any(String), code: "unauthenticated" });
    // The HEAD twin of a guarded GET is guarded too (once).
    expect((await host.inject({ method: "HEAD", url: "/me" })).statusCode).toBe(401);
    // "public" lets anonymous requests through with request.user null.
    expect((await get(host, "/maybe")).json()).toEqual({ user: null });
  });

  it("redirects a browser navigation to a guarded page to the plugin's sign-in page with a safe return target", async () => {
    const res = await get(host, "/me?tab=1", { accept: "text/html" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/auth/login?return=${encodeURIComponent("/me?tab=1")}`);
    const evil = await get(host, "//evil.example/x", { accept: "text/html" });
    expect(String(evil.headers.location ?? "")).not.toContain("evil.example");
  });

  it("gives a user 403 on an admin route and lets an admin in", async () => {
    const user = await register(host, "bob");
    const denied = await get(host, "/admin-area", { cookie: user.cookie });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe("forbidden");
    await makeAdmin(host, user.id);
    const allowed = await get(host, "/admin-area", { cookie: user.cookie });
    expect(allowed.statusCode).toBe(200);
    expect(allowed.json()).toEqual({ admin: "bob" });
  });

  it("leaves host routes without config untouched: no Set-Cookie, no CSP, no request id, no session lookup", async () => {
    const { cookie } = await register(host, "carol");
    const sessions = host.gatehouse.services.sessions;
    const cached = vi.spyOn(sessions, "validateCached");
    const validate = vi.spyOn(sessions, "validate");
    try {
      const res = await get(host, "/plain", { cookie });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ plain: true });
      expect(res.headers["set-cookie"]).toBeUndefined();
      expect(res.headers["content-security-policy"]).toBeUndefined();
      expect(res.headers["x-request-id"]).toBeUndefined();
      expect(res.headers["cache-control"]).toBeUndefined();
      expect(cached).not.toHaveBeenCalled();
      expect(validate).not.toHaveBeenCalled();
      // The host's own hook errors still go to the host's error handler.
      const failing = await get(host, "/plain-fails", { cookie });
      expect(failing.statusCode).toBe(418);
      expect(failing.json()).toMatchObject({ host: "error handler", message: "host says no" });
      // A guarded route does look the session up.
      await get(host, "/me", { cookie });
      expect(cached).toHaveBeenCalled();
    } finally {
      cached.mockRestore();
      validate.mockRestore();
    }
    // A guarded route's handler error is the host's to answer.
    expect((await get(host, "/broken", { cookie })).statusCode).toBe(418);
  });

  it("keeps Gatehouse's own answers under the host's global hook and error handler", async () => {
    hostHookRuns.length = 0;
    const res = await get(host, "/auth/api/auth/me");
    expect(hostHookRuns).toContain("/auth/api/auth/me");
    expect(res.statusCode).toBe(401);
    expect(res.json()).toEqual({ error: expect.any(String), code: "unauthenticated" });
    expect(res.headers["content-security-policy"]).toBeDefined();
    expect(res.headers["x-request-id"]).toBeDefined();
    expect(res.headers["cache-control"]).toBe("no-store");
    const notFound = await get(host, "/auth/api/nothing-here");
    expect(notFound.statusCode).toBe(404);
    expect(notFound.json().code).toBe("not_found");
    // Gatehouse's routes accept JSON only, whatever the host parses.
    const text = await host.inject({ method: "POST", url: "/auth/api/auth/login", headers: { ...ORIGIN, "content-type": "text/plain" }, payload: "x" });
    expect(text.statusCode).toBe(415);
  });

  it("renders the pages under the prefix, with links under /auth", async () => {
    const res = await get(host, "/auth/login", { accept: "text/html" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toContain("text/html");
    const links = [...res.body.matchAll(/(?:href|action|src)="(\/[^"]*)"/g)].map((m) => m[1] as string);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) expect(link.startsWith("/auth/"), link).toBe(true);
    const openapi = await get(host, "/auth/api/openapi.json");
    expect(openapi.statusCode).toBe(200);
    expect(Object.keys(openapi.json().paths as object)).toContain("/auth/api/auth/login");
  });

  it("attack: cross-site POST to a guarded host route", async () => {
    const { cookie } = await register(host, "dave");
    const forged = await host.inject({ method: "POST", url: "/notes", headers: { cookie, origin: "https://evil.example", "sec-fetch-site": "cross-site" }, payload: { x: 1 } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().code).toBe("csrf");
    const noOrigin = await host.inject({ method: "POST", url: "/notes", headers: { cookie }, payload: { x: 1 } });
    expect(noOrigin.statusCode).toBe(403);
    const same = await host.inject({ method: "POST", url: "/notes", headers: { cookie, ...ORIGIN }, payload: { x: 1 } });
    expect(same.statusCode).toBe(200);
    expect(same.json()).toEqual({ saved: true, by: "dave" });
  });

  it("attack: forged identity headers from the client change nothing", async () => {
    const res = await get(host, "/me", { "remote-user": "admin", "x-user": "admin", "x-gatehouse-user": "admin" });
    expect(res.statusCode).toBe(401);
    expect((await get(host, "/maybe", { "remote-user": "admin" })).json()).toEqual({ user: null });
  });

  it("composes with @fastify/auth: requireRole OR the host's API key (denials reach the host's error handler)", async () => {
    const user = await register(host, "erin");
    expect((await get(host, "/reports", { cookie: user.cookie })).statusCode).toBe(418);
    expect((await get(host, "/reports", { "x-api-key": "host-key" })).json()).toEqual({ by: "api-key" });
    await makeAdmin(host, user.id);
    expect((await get(host, "/reports", { cookie: user.cookie })).json()).toEqual({ by: "erin" });
    expect((await get(host, "/composed-user", { cookie: user.cookie })).json()).toEqual({ by: "erin" });
    // Composed guards hand their denial to @fastify/auth, which answers through the host's error handler.
    const anonymous = await get(host, "/composed-user");
    expect(anonymous.statusCode).toBe(418);
    expect(anonymous.json()).toMatchObject({ host: "error handler", code: "unauthenticated" });
  });

  it("counts a guarded route's config.rateLimit with Gatehouse's limiter (429 with Retry-After)", async () => {
    const headers = { "x-forwarded-for": "ignored" };
    expect((await get(host, "/limited", headers)).statusCode).toBe(200);
    expect((await get(host, "/limited", headers)).statusCode).toBe(200);
    const third = await get(host, "/limited", headers);
    expect(third.statusCode).toBe(429);
    expect(third.json().code).toBe("rate_limited");
    expect(third.headers["retry-after"]).toBeDefined();
  });

  it("signing out revokes: the next guarded request is 401", async () => {
    const { cookie } = await register(host, "frank");
    expect((await get(host, "/me", { cookie })).statusCode).toBe(200);
    const out = await host.inject({ method: "POST", url: "/auth/api/auth/logout", headers: { cookie, ...ORIGIN } });
    expect(out.statusCode).toBeLessThan(300);
    const after = await get(host, "/me", { cookie });
    expect(after.statusCode).toBe(401);
    // The dead cookie is expired in the browser.
    expect(String(after.headers["set-cookie"])).toMatch(/gatehouse_session=;.*Expires=Thu, 01 Jan 1970/);
  });
});

describe.each(backendNames())("gatehouse/fastify plugin on the host's own Kysely instance (%s)", (backendName) => {
  let backend: Backend;
  let db: Kysely<HostDb>;
  let host: FastifyInstance;
  beforeAll(async () => {
    backend = await createBackend(backendName);
    if (backendName === "sqlite") {
      const file = new SQLite(join(backend.env.GATEHOUSE_DATA_DIR as string, "host.db"));
      file.pragma("foreign_keys = ON");
      db = new Kysely<HostDb>({ dialect: new SqliteDialect({ database: file }) });
    } else {
      const pool = new pg.Pool({ connectionString: PG_URL, options: `-c search_path=${backend.schema}`, types: { getTypeParser: ((oid: number, format?: "text") => (oid === 20 ? Number : (pg.types.getTypeParser(oid, format) as (value: string) => unknown))) as typeof pg.types.getTypeParser } });
      db = new Kysely<HostDb>({ dialect: new PostgresDialect({ pool }) });
    }
    // The host's own table next to Gatehouse's.
    await db.schema.createTable("host_notes").addColumn("id", "integer", (c) => c.primaryKey()).addColumn("body", "text").execute();
    ({ host } = await startHost(backend, { db, dialect: backendName }));
  });
  afterAll(async () => {
    await host?.close();
    await db?.destroy();
    await backend?.cleanup();
  });

  it("migrates Gatehouse's tables into the host's database, signs in, and leaves the host's connection open on close", async () => {
    const { cookie } = await register(host, "grace");
    expect((await get(host, "/me", { cookie })).json().user.username).toBe("grace");
    const users = await db.selectFrom("users").select("username").execute();
    expect(users.map((u) => u.username)).toContain("grace");
    await host.close();
    const { rows } = await sql<{ n: number }>`select count(*) as n from host_notes`.execute(db);
    expect(Number(rows[0]?.n)).toBe(0);
  });
});

describe.each(backendNames())("two host instances with the plugin on one database and Redis (%s)", (backendName) => {
  let backend: Backend;
  let a: FastifyInstance;
  let b: FastifyInstance;
  beforeAll(async () => {
    backend = await createBackend(backendName);
    const shared = { secretKey: randomBytes(32).toString("hex"), redisPrefix: redisTestPrefix() };
    ({ host: a } = await startHost(backend, undefined, shared));
    ({ host: b } = await startHost(backend, undefined, shared));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await backend?.cleanup();
  });

  it("shares rate limits through Redis, and a sign-out on one instance is refused at once by the other", async () => {
    const { cookie } = await register(a, "henry");
    expect((await get(b, "/me", { cookie })).json().user.username).toBe("henry");
    // config.rateLimit counts in Redis: two on A, the third on B is over the limit of 2.
    expect((await get(a, "/limited")).statusCode).toBe(200);
    expect((await get(a, "/limited")).statusCode).toBe(200);
    expect((await get(b, "/limited")).statusCode).toBe(429);
    // B has the session in its cache; A's sign-out reaches it through the revocation bus.
    expect((await a.inject({ method: "POST", url: "/auth/api/auth/logout", headers: { cookie, ...ORIGIN } })).statusCode).toBeLessThan(300);
    await expect.poll(async () => (await get(b, "/me", { cookie })).statusCode, { timeout: 2_000, interval: 20 }).toBe(401);
  });
});
