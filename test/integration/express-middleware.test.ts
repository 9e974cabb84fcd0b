import type { AddressInfo } from "node:net";
import { createServer, type Server } from "node:http";
import express from "express";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { gatehouseMiddleware, type GatehouseMiddleware, type GatehouseMiddlewareOptions, type GatehouseRequest } from "gatehouse/express";
import { backendNames, REDIS_URL, redisTestPrefix } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { RULES, rulesFile } from "../helpers/forward-auth.js";
import { httpGet, startCountingRelay, type CountingRelay } from "../helpers/express-middleware.js";
import { startTcpRelay } from "../helpers/tcp-relay.js";

/** The app's host in RULES: /public/ open, /admin for admins, the rest for anyone signed in. */
const APP_HOST = "app.example.test";
const PORTAL = "https://auth.example.test";

/**
 * gatehouse/express (docs/express-middleware.md) in front of a real Express 5
 * app, asking a real Gatehouse listening on a loopback port through a counting
 * relay, with real Redis for the revocation channel.
 */
describe.each(backendNames())("gatehouse/express middleware against a remote Gatehouse (%s)", (backend) => {
  let h: Harness;
  let relay: CountingRelay;
  let user: { cookie: string; id: string; name: string };
  let admin: { cookie: string; id: string; name: string };
  const prefix = redisTestPrefix();
  const opened: { mw: GatehouseMiddleware; server: Server }[] = [];

  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: PORTAL, TRUSTED_PROXIES: "127.0.0.1/32", GATEHOUSE_CONFIG: rulesFile(RULES), REDIS_URL, REDIS_PREFIX: prefix });
    await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
    relay = await startCountingRelay((h.gh.app.server.address() as AddressInfo).port);
    user = await h.account("user");
    admin = await h.account("admin");
  });
  afterEach(async () => {
    relay.mode = "pass";
    relay.addHeaders = {};
    for (const { mw, server } of opened.splice(0)) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mw.close();
    }
  });
  afterAll(async () => {
    await relay?.close();
    await h?.close();
  });

  /** An Express 5 app behind the middleware; `get(path, headers)` asks it for APP_HOST. */
  async function app(options: Partial<GatehouseMiddlewareOptions> = {}, trustProxy?: string) {
    const mw = gatehouseMiddleware({ url: relay.url, ...options });
    const a = express();
    if (trustProxy !== undefined) a.set("trust proxy", trustProxy);
    let arrived = 0;
    a.use((_req, _res, next) => {
      arrived++;
      next();
    });
    a.use(mw);
    a.get("/{*path}", (req, res) => {
      res.json({ user: req.user ?? null, jwt: req.gatehouse?.jwt ?? null, remoteUser: req.headers["remote-user"] ?? null, cookie: req.headers.cookie ?? null, raw: req.rawHeaders.filter((_, i) => i % 2 === 0) });
    });
    const server = await new Promise<Server>((resolve) => {
      const s = a.listen(0, "127.0.0.1", () => resolve(s));
    });
    opened.push({ mw, server });
    const port = (server.address() as AddressInfo).port;
    const get = (path: string, headers: Record<string, string> = {}) => httpGet(port, path, { host: APP_HOST, ...headers });
    return { mw, get, arrived: () => arrived };
  }

  it("a signed-in user reaches the app as req.user (username, email, name, groups)", async () => {
    const { get } = await app();
    const res = await get("/dashboard", { cookie: user.cookie });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).user).toEqual({ username: user.name, email: `${user.name}@example.test`, name: user.name, groups: ["user"] });
    const adm = await get("/admin/panel", { cookie: admin.cookie });
    expect(adm.status).toBe(200);
    expect(JSON.parse(adm.body).user.groups).toEqual(["user", "admin"]);
  });

  it("signed in but not allowed (a user on /admin): 403 JSON, or a page for a browser; the app's route does not run", async () => {
    const { get } = await app();
    const res = await get("/admin/panel", { cookie: user.cookie });
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toEqual({ error: "You are not allowed to do this", code: "forbidden" });
    const page = await get("/admin/panel", { cookie: user.cookie, accept: "text/html" });
    expect(page.status).toBe(403);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.body).not.toContain(user.name);
  });

  it("anonymous: a browser navigation is redirected to Gatehouse's sign-in with the original URL (scheme from the app's trust-proxy view); an API client gets 401 JSON", async () => {
    // The app sits behind a TLS-terminating proxy on loopback: Express's `trust proxy` makes req.protocol https.
    const { get } = await app({}, "loopback");
    const nav = await get("/dashboard?x=1", { accept: "text/html,application/xhtml+xml", "x-forwarded-proto": "https" });
    expect(nav.status).toBe(302);
    const location = new URL(nav.headers.location ?? "");
    expect(location.origin).toBe(PORTAL);
    expect(location.pathname).toBe("/login");
    expect(location.searchParams.get("return")).toBe(`https://${APP_HOST}/dashboard?x=1`);
    const api = await get("/dashboard", { accept: "application/json" });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toEqual({ error: "Authentication required", code: "unauthenticated" });
  });

  it("anonymous on a bypass rule: the app runs with req.user null", async () => {
    const { get } = await app();
    const res = await get("/public/readme");
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body).user).toBeNull();
  });

  it("attack: forged identity header: a client's Remote-User/Remote-Groups never reach the app nor change who it is", async () => {
    const { get } = await app();
    const forged = { "remote-user": admin.name, "Remote-Groups": "user,admin,superadmin", remote_user: admin.name, "remote-jwt": "eyJhbGciOiJub25lIn0.e30." };
    // Anonymous on an open path: still anonymous, and the app sees none of the headers.
    const open = JSON.parse((await get("/public/x", forged)).body);
    expect(open.user).toBeNull();
    expect(open.remoteUser).toBeNull();
    expect(open.jwt).toBeNull();
    expect(open.raw.map((n: string) => n.toLowerCase().replace("_", "-")).filter((n: string) => n.startsWith("remote-"))).toEqual([]);
    // Anonymous elsewhere: still asked to sign in.
    expect((await get("/dashboard", forged)).status).toBe(401);
    // A signed-in user claiming to be the admin: still the user, still refused /admin.
    const me = JSON.parse((await get("/dashboard", { ...forged, cookie: user.cookie })).body);
    expect(me.user.username).toBe(user.name);
    expect(me.remoteUser).toBeNull();
    expect((await get("/admin/panel", { ...forged, cookie: user.cookie })).status).toBe(403);
  });

  it("only Gatehouse's cookies are sent to Gatehouse, never the app's own; the app gets only its own", async () => {
    const { get } = await app({ cache: false });
    const res = await get("/dashboard", { cookie: `app_session=app-secret-1; ${user.cookie}; theme=dark` });
    expect(res.status).toBe(200);
    expect(relay.lastCookie()).toBe(user.cookie);
    const seen = JSON.parse(res.body);
    expect(seen.cookie).toBe("app_session=app-secret-1; theme=dark");
    expect(seen.user.username).toBe(user.name);
    expect(JSON.parse((await get("/dashboard", { cookie: user.cookie })).body).cookie).toBeNull();
  });

  it("works as plain node:http middleware (no Express): req.user, or the denial answered by the middleware", async () => {
    const mw = gatehouseMiddleware({ url: relay.url, cache: false });
    const server = createServer((req, res) =>
      mw(req, res, () => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ user: (req as GatehouseRequest).user ?? null }))),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    opened.push({ mw, server });
    const port = (server.address() as AddressInfo).port;
    const me = await httpGet(port, "/dashboard", { host: APP_HOST, cookie: user.cookie });
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body).user.username).toBe(user.name);
    expect((await httpGet(port, "/dashboard", { host: APP_HOST })).status).toBe(401);
    expect((await httpGet(port, "/admin/x", { host: APP_HOST, cookie: user.cookie })).status).toBe(403);
  });

  it("a Remote-JWT in Gatehouse's answer is passed on raw as req.gatehouse.jwt", async () => {
    const { get } = await app({ cache: false });
    relay.addHeaders = { "remote-jwt": "header.payload.signature" };
    expect(JSON.parse((await get("/dashboard", { cookie: user.cookie })).body).jwt).toBe("header.payload.signature");
  });

  it("a cached allow avoids a second forward-auth call; the key covers path, method and cookie; anonymous answers are never cached", async () => {
    const { get, mw } = await app({ cache: { ttlMs: 60_000 } });
    const before = relay.calls();
    expect((await get("/dashboard", { cookie: user.cookie })).status).toBe(200);
    expect((await get("/dashboard", { cookie: user.cookie })).status).toBe(200);
    expect(relay.calls() - before).toBe(1);
    expect(mw.cacheSize()).toBe(1);
    // Another path, another user: asked again (rules depend on the path and the user).
    expect((await get("/admin/panel", { cookie: user.cookie })).status).toBe(403);
    expect((await get("/dashboard", { cookie: admin.cookie })).status).toBe(200);
    expect(relay.calls() - before).toBe(3);
    // Refusals are not cached.
    expect((await get("/admin/panel", { cookie: user.cookie })).status).toBe(403);
    expect(relay.calls() - before).toBe(4);
    // Anonymous (even allowed on /public/): asked every time.
    await get("/public/a");
    await get("/public/a");
    expect(relay.calls() - before).toBe(6);
  });

  it("identical requests arriving together share one forward-auth call", async () => {
    // A clock that jumps past the TTL at every reading: nothing is ever served from the cache, only shared in flight.
    let now = 0;
    const { get, arrived } = await app({ cache: { ttlMs: 1_000 }, now: () => (now += 1_001) });
    const u = await h.account("user");
    const before = relay.calls();
    const release = relay.hold();
    const answers = Promise.all([1, 2, 3, 4, 5].map(() => get("/reports", { cookie: u.cookie })));
    while (arrived() < 5 || relay.calls() === before) await new Promise((r) => setImmediate(r));
    release();
    expect((await answers).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(relay.calls() - before).toBe(1);
    // Once answered, the next one asks again (the cache cannot serve with this clock).
    expect((await get("/reports", { cookie: u.cookie })).status).toBe(200);
    expect(relay.calls() - before).toBe(2);
  });

  it("sign-out on Gatehouse: with the Redis subscription, the next request is refused at once despite a 60 s cache", async () => {
    const { get, mw } = await app({ cache: { ttlMs: 60_000 }, revocations: { redisUrl: REDIS_URL, prefix } });
    expect(await mw.ready(5_000)).toBe(true);
    const u = await h.account("user");
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(200);
    const calls = relay.calls();
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(200);
    expect(relay.calls()).toBe(calls); // served from the cache
    // Wait for the notice itself (a subscriber of the test's own), not for a time.
    const watcher = new Redis(REDIS_URL);
    try {
      const noticed = new Promise<void>((resolve) => watcher.on("message", () => resolve()));
      await watcher.subscribe(`${prefix}revocations`);
      expect((await h.request({ method: "POST", url: "/api/auth/logout", cookie: u.cookie })).statusCode).toBeLessThan(300);
      await noticed;
    } finally {
      watcher.disconnect();
    }
    await new Promise((r) => setImmediate(r));
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(401);
  });

  it("while the Redis subscription is down, nothing is served from the cache; once it is back, the cache is used again", async () => {
    const redisPort = Number(new URL(REDIS_URL).port || 6379);
    const redisRelay = await startTcpRelay(new URL(REDIS_URL).hostname, redisPort);
    try {
      const { get, mw } = await app({ cache: { ttlMs: 60_000 }, revocations: { redisUrl: `redis://127.0.0.1:${redisRelay.port}`, prefix } });
      expect(await mw.ready(5_000)).toBe(true);
      const u = await h.account("user");
      const calls = () => relay.calls();
      const start = calls();
      await get("/dashboard", { cookie: u.cookie });
      await get("/dashboard", { cookie: u.cookie });
      expect(calls() - start).toBe(1);
      await redisRelay.cut();
      // The middleware notices the lost connection (a socket close): wait for the first request that asks again.
      const cutAt = calls();
      for (let i = 0; i < 1_000 && calls() === cutAt; i++) await get("/dashboard", { cookie: u.cookie });
      expect(calls()).toBe(cutAt + 1);
      await get("/dashboard", { cookie: u.cookie });
      await get("/dashboard", { cookie: u.cookie });
      expect(calls()).toBe(cutAt + 3); // every request asks Gatehouse
      expect(mw.cacheSize()).toBe(0);
      await redisRelay.restore();
      expect(await mw.ready(15_000)).toBe(true);
      const back = calls();
      await get("/dashboard", { cookie: u.cookie });
      await get("/dashboard", { cookie: u.cookie });
      expect(calls() - back).toBe(1);
    } finally {
      await redisRelay.close();
    }
  });

  it("sign-out on Gatehouse without the subscription: the cached allow lasts at most the TTL", async () => {
    let now = 1_000_000;
    const { get } = await app({ cache: { ttlMs: 30_000 }, now: () => now });
    const u = await h.account("user");
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/logout", cookie: u.cookie })).statusCode).toBeLessThan(300);
    now += 29_999;
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(200); // the documented bound
    now += 1;
    expect((await get("/dashboard", { cookie: u.cookie })).status).toBe(401);
  });

  it("Gatehouse down, failing (5xx) or too slow: 503 fail-closed, the app's route never runs", async () => {
    const { get } = await app({ cache: false, timeoutMs: 300 });
    for (const mode of ["down", "error", "hang"] as const) {
      relay.mode = mode;
      const res = await get("/dashboard", { cookie: user.cookie });
      expect(res.status, mode).toBe(503);
      expect(JSON.parse(res.body), mode).toEqual({ error: "Service temporarily unavailable; try again later", code: "unavailable" });
      expect(res.body).not.toContain(user.name);
    }
    const browser = await get("/public/x", { accept: "text/html" });
    expect(browser.status).toBe(503);
  });

  it("Gatehouse unreachable (nothing listening): 503", async () => {
    const { get } = await app({ url: "http://127.0.0.1:9", cache: false, timeoutMs: 1_000 });
    expect((await get("/dashboard", { cookie: user.cookie })).status).toBe(503);
  });
});
