import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

interface Opened {
  ws: WebSocket;
  hello: { url: string; headers: Record<string, string> };
  closed: Promise<{ code: number; at: number }>;
}

/** Opens a WebSocket through Gatehouse; resolves with the upstream's greeting, or rejects with the HTTP status of a refusal. */
function connect(base: string, path: string, headers: Record<string, string>, protocols: string[] = []): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`, protocols, { headers });
    const closed = new Promise<{ code: number; at: number }>((r) => ws.once("close", (code) => r({ code, at: performance.now() })));
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      reject(Object.assign(new Error(`refused ${res.statusCode}`), { status: res.statusCode }));
    });
    ws.once("error", reject);
    ws.once("message", (data) => resolve({ ws, hello: JSON.parse(String(data)).hello, closed }));
  });
}

async function refusal(promise: Promise<Opened>): Promise<number> {
  try {
    const opened = await promise;
    opened.ws.terminate();
    return 101;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

async function signInOnApp(h: Harness, name: string): Promise<string> {
  const res = await h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
  expect(res.statusCode).toBe(200);
  return sessionCookieFrom(res) as string;
}

describe.each(backendNames())("WebSockets through the reverse proxy are authorized by the same rules, and re-checked while open (%s)", (backend) => {
  let p: ProxyHarness;
  let base: string;
  let superadmin: { cookie: string; id: string; name: string };
  const ws = (cookie?: string, extra: Record<string, string> = {}) => ({ host: APP_HOST, origin: APP_ORIGIN, ...(cookie ? { cookie } : {}), ...extra });
  const admin = (method: "PATCH" | "DELETE", id: string, json?: unknown) =>
    p.h.request({ method, url: `/api/admin/users/${id}${method === "DELETE" ? "/sessions" : ""}`, cookie: superadmin.cookie, ...(json ? { json } : {}) });

  beforeAll(async () => {
    p = await startProxyHarness(backend);
    superadmin = await p.h.account("superadmin");
    base = await listen(p.h);
  });
  afterAll(async () => p?.close());

  it("an anonymous upgrade is refused with 401 and never reaches the app", async () => {
    const before = p.upstream.seen.length;
    expect(await refusal(connect(base, "/ws", ws()))).toBe(401);
    expect(p.upstream.seen.length).toBe(before);
  });

  it("a signed-in upgrade reaches the app with the identity headers; forged ones and the session cookie are stripped", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const opened = await connect(base, "/ws?room=1", ws(`${cookie}; theme=dark`, { "remote-user": "admin", "remote-groups": "superadmin", remote_user: "root" }), ["chat", "v2"]);
    expect(opened.hello.url).toBe("/ws?room=1");
    expect(opened.hello.headers["remote-user"]).toBe(user.name);
    expect(opened.hello.headers["remote-groups"]).toBe("user");
    expect(opened.hello.headers.cookie).toBe("theme=dark");
    expect(opened.ws.protocol).toBe("chat");
    const echoed = new Promise<string>((r) => opened.ws.once("message", (d) => r(String(d))));
    opened.ws.send("ping 42");
    expect(await echoed).toBe("ping 42");
    opened.ws.close();
  });

  it("cross-site WebSocket hijacking: an upgrade carrying the cookie from another origin is refused", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const before = p.upstream.seen.length;
    expect(await refusal(connect(base, "/ws", ws(cookie, { origin: "https://evil.test" })))).toBe(403);
    expect(p.upstream.seen.length).toBe(before);
  });

  it("a user below the rule cannot open /admin sockets", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    expect(await refusal(connect(base, "/admin/live", ws(cookie)))).toBe(403);
  });

  it("sign-out closes the open socket within one second", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const opened = await connect(base, "/ws", ws(cookie));
    const t0 = performance.now();
    const out = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/logout", cookie, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    expect(out.statusCode).toBeLessThan(300);
    const { code, at } = await opened.closed;
    expect(code).toBe(1008);
    expect(at - t0).toBeLessThan(1000);
  });

  it("an admin revoking the user's sessions closes the socket within one second", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const opened = await connect(base, "/ws", ws(cookie));
    const t0 = performance.now();
    expect((await admin("DELETE", user.id)).statusCode).toBe(200);
    const { code, at } = await opened.closed;
    expect(code).toBe(1008);
    expect(at - t0).toBeLessThan(1000);
  });

  it("blocking the user closes the socket within one second, and the next upgrade is refused", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const opened = await connect(base, "/ws", ws(cookie));
    const t0 = performance.now();
    expect((await admin("PATCH", user.id, { blocked: true })).statusCode).toBe(200);
    const { code, at } = await opened.closed;
    expect(code).toBe(1008);
    expect(at - t0).toBeLessThan(1000);
    expect(await refusal(connect(base, "/ws", ws(cookie)))).toBe(401);
  });

  it("demoting an admin below the rule closes their /admin socket within one second", async () => {
    const adm = await p.h.account("admin");
    const cookie = await signInOnApp(p.h, adm.name);
    const opened = await connect(base, "/admin/live", ws(cookie));
    expect(opened.hello.headers["remote-groups"]).toBe("user,admin");
    const t0 = performance.now();
    expect((await admin("PATCH", adm.id, { role: "user" })).statusCode).toBe(200);
    const { code, at } = await opened.closed;
    expect(code).toBe(1008);
    expect(at - t0).toBeLessThan(1000);
  });

  it("a session deleted behind this process's back (another instance) is noticed from the store once the cached lookup ages", async () => {
    const user = await p.h.account("user");
    const cookie = await signInOnApp(p.h, user.name);
    const opened = await connect(base, "/ws", ws(cookie));
    await p.h.gh.database.db.deleteFrom("sessions").where("user_id", "=", user.id).execute();
    const t0 = performance.now();
    p.h.clock.advance(600);
    const { code, at } = await opened.closed;
    expect(code).toBe(1008);
    expect(at - t0).toBeLessThan(1000);
  });
});
