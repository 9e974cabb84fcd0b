import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { expectErrorBody, ME, postRaw, uname } from "../helpers/attacks.js";

const INTERNAL = { error: "An internal error occurred", code: "internal" };

/** Clickjacking, sniffing, referrer and isolation headers every response must carry. */
function expectHardened(res: LightMyRequestResponse, label: string) {
  const csp = String(res.headers["content-security-policy"] ?? "");
  const directives = new Map(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([k = "", ...v]) => [k.toLowerCase(), v]));
  expect(directives.get("frame-ancestors"), `${label}: ${csp}`).toEqual(["'none'"]);
  expect(directives.get("object-src"), label).toEqual(["'none'"]);
  expect(directives.get("base-uri"), label).toEqual(["'none'"]);
  expect(csp, label).not.toMatch(/unsafe-inline|unsafe-eval|\*/);
  expect(res.headers["x-frame-options"], label).toBe("DENY");
  expect(res.headers["x-content-type-options"], label).toBe("nosniff");
  expect(res.headers["referrer-policy"], label).toBe("strict-origin-when-cross-origin");
  expect(res.headers["cross-origin-opener-policy"], label).toBe("same-origin");
  expect(res.headers["cross-origin-resource-policy"], label).toBe("same-origin");
  expect(String(res.headers["permissions-policy"] ?? ""), label).toMatch(/camera=\(\)/);
  expect(String(res.headers["content-type"] ?? ""), label).toMatch(/; charset=utf-8$/i);
  expect(String(res.headers["x-request-id"] ?? ""), label).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.headers["x-powered-by"], label).toBeUndefined();
  expect(res.headers["strict-transport-security"], `${label}: no HSTS over plain http`).toBeUndefined();
  expect(String(res.headers.server ?? ""), label).not.toMatch(/\d/);
}

describe.each(backendNames())("attack: clickjacking, sniffing and information leakage (%s)", (backend) => {
  let h: Harness;
  let cookie: string;
  beforeAll(async () => {
    h = await startHarness(backend);
    ({ cookie } = await h.register(uname("hdrowner")));
  });
  afterAll(async () => h?.close());

  it("clickjacking and sniffing: 200, 401, 404, 400 and 405 responses all carry the hardening headers", async () => {
    const ok = await h.request({ method: "GET", url: ME, cookie });
    expect(ok.statusCode).toBe(200);
    expectHardened(ok, "200");
    const unauth = await h.request({ method: "GET", url: ME });
    expect(unauth.statusCode).toBe(401);
    expectHardened(unauth, "401");
    const missing = await h.request({ method: "GET", url: "/no/such/page" });
    expect(missing.statusCode).toBe(404);
    expectHardened(missing, "404");
    const bad = await postRaw(h, "/api/auth/login", "{not json");
    expect(bad.statusCode).toBe(400);
    expectHardened(bad, "400");
    const method = await h.request({ method: "GET", url: "/api/auth/logout" });
    expect(method.statusCode).toBe(405);
    expectHardened(method, "405");
    expect(new Set([ok, unauth, missing, bad, method].map((r) => r.headers["x-request-id"])).size).toBe(5);
  });

  it("request-id injection: a client-sent X-Request-Id is not echoed back", async () => {
    const res = await h.request({ method: "GET", url: "/healthz", headers: { "x-request-id": "forged\r\nSet-Cookie: a=b" } });
    expect(res.headers["x-request-id"]).not.toContain("forged");
    expect(res.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("fingerprinting: TRACE / and PROPFIND /api/auth/me are 405", async () => {
    for (const [method, url] of [["TRACE", "/"], ["PROPFIND", ME]] as const) {
      const res = await h.request({ method, url, cookie });
      expectErrorBody(res, 405, "method_not_allowed");
      expect(res.body).not.toContain("gatehouse_session");
    }
  });

  it.each(["/.git/HEAD", "/.git/config", "/app.js.map", "/src/main.ts", "/.env", "/__test/clock", "/metrics", "/package.json", "/..%2f..%2fetc%2fpasswd"])(
    "file and debug probing: GET %s is 404 with no content",
    async (url) => {
      const res = await h.request({ method: "GET", url });
      expectErrorBody(res, 404, "not_found");
    },
  );
});

describe.each(backendNames())("attack: failures that must stay closed and quiet (%s)", (backend) => {
  let h: Harness;
  const freshUser = uname("faultfresh");
  let dbClosed = false;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => {
    if (!h) return;
    if (dbClosed) await h.gh.app.close().then(() => h.backend.cleanup());
    else await h.close();
  });

  it("database fault during the session lookup: 500 internal, no leak, logged with the response's request id", async () => {
    const fresh = await h.register(freshUser);
    const warm = await h.register(uname("faultwarm"));
    expect((await h.request({ method: "GET", url: ME, cookie: warm.cookie })).statusCode).toBe(200); // now in the session cache
    await h.gh.database.db.schema.dropTable("sessions").execute();

    const res = await h.request({ method: "GET", url: ME, cookie: fresh.cookie });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual(INTERNAL);
    expectErrorBody(res, 500, "internal");
    expect(res.body).not.toMatch(/sessions|no such table|relation/i);

    const requestId = String(res.headers["x-request-id"]);
    const logged = h.logs.lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.reqId === requestId && l.level === 50);
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0]!.err)).toMatch(/sessions/);

    // A cached session must not outlive the database for longer than one touch interval.
    h.clock.advance(61_000);
    const cached = await h.request({ method: "GET", url: ME, cookie: warm.cookie });
    expect(cached.statusCode).toBeGreaterThanOrEqual(500);
    expect(cached.json()).toEqual(INTERNAL);
  });

  it("database fault during login: 500 internal, never a cookie", async () => {
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: freshUser, password: GOOD_PASSWORD } });
    expectErrorBody(res, 500, "internal");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });

  it("database down: /readyz is 503, protected routes never answer 2xx, /healthz stays up", async () => {
    await h.gh.database.close();
    dbClosed = true;
    const ready = await h.request({ method: "GET", url: "/readyz" });
    expectErrorBody(ready, 503, "not_ready");
    const me = await h.request({ method: "GET", url: ME, cookie: `gatehouse_session=${"A".repeat(43)}` });
    expect(me.statusCode).toBeGreaterThanOrEqual(400);
    expectErrorBody(me, me.statusCode, me.json().code);
    expect((await h.request({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
  });
});
