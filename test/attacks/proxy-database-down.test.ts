import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness, type ProxyHarness } from "../helpers/reverse-proxy.js";

describe.each(backendNames())("database stopped: the reverse proxy forwards nothing that needs a session (fail closed) (%s)", (backend) => {
  let p: ProxyHarness;
  let warm: string;
  let cold: string;
  let base: string;
  let socket: WebSocket;
  let socketClosed: Promise<number>;

  const signIn = async () => {
    const account = await p.h.account("user");
    const res = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: account.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
    return sessionCookieFrom(res) as string;
  };

  beforeAll(async () => {
    p = await startProxyHarness(backend);
    base = await listen(p.h);
    warm = await signIn();
    cold = await signIn();
    expect((await p.h.request({ method: "GET", url: "/x", cookie: warm, headers: { host: APP_HOST } })).statusCode).toBe(200);
    socket = new WebSocket(`${base.replace("http", "ws")}/ws`, { headers: { host: APP_HOST, origin: APP_ORIGIN, cookie: warm } });
    socketClosed = new Promise((r) => socket.once("close", (code) => r(code)));
    await new Promise((r) => socket.once("message", r));
    await p.h.gh.database.close();
    p.upstream.seen.length = 0;
  });
  afterAll(async () => {
    socket?.terminate();
    await p?.h.gh.app.close();
    await p?.h.backend.cleanup();
    await p?.upstream.close();
  });

  it("a session the process has not cached: 503, not forwarded", async () => {
    const res = await p.h.request({ method: "GET", url: "/x", cookie: cold, headers: { host: APP_HOST } });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: "Service temporarily unavailable; try again later", code: "unavailable" });
    expect(p.upstream.seen).toEqual([]);
  });

  it("a cached session, once its lookup is older than the cache age: 503, not forwarded", async () => {
    p.h.clock.advance(6_000);
    const res = await p.h.request({ method: "POST", url: "/api/x", cookie: warm, payload: "{}", headers: { host: APP_HOST, origin: APP_ORIGIN, "content-type": "application/json" } });
    expect(res.statusCode).toBe(503);
    expect(p.upstream.seen).toEqual([]);
  });

  it("an anonymous request to a protected path: refused, not forwarded", async () => {
    const res = await p.h.request({ method: "GET", url: "/x", headers: { host: APP_HOST } });
    expect(res.statusCode).toBe(401);
    expect(p.upstream.seen).toEqual([]);
  });

  it("an open WebSocket whose session can no longer be checked is closed (1011)", async () => {
    expect(await socketClosed).toBe(1011);
  });

  it("the outage is logged for the operator once, not once per refused request", () => {
    const errors = p.h.logs.lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level >= 50 && l.msg.startsWith("database unavailable"));
    expect(errors).toHaveLength(1);
  });
});
