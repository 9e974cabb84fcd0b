import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { ME, meStatus, rawSetCookies, sessionSetCookie, sha256hex, tokenOf, uname } from "../helpers/attacks.js";

function loginRequest(h: Harness, username: string) {
  return h.request({ method: "POST", url: "/api/auth/login", json: { username, password: GOOD_PASSWORD } });
}

describe.each(backendNames())("attack: cookie theft and tossing, plain-http deployment (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("cookie theft by script or cross-site send: the login cookie is HttpOnly, SameSite=Lax, Path=/, host-only", async () => {
    const user = uname("cookieattrs");
    await h.register(user);
    const res = await loginRequest(h, user);
    expect(rawSetCookies(res)).toHaveLength(1);
    const c = sessionSetCookie(res);
    expect(c.name).toBe("gatehouse_session");
    expect(c.attrs.has("httponly")).toBe(true);
    expect(c.attrs.get("samesite")?.toLowerCase()).toBe("lax");
    expect(c.attrs.get("path")).toBe("/");
    expect(c.attrs.has("domain")).toBe(false);
    expect(c.attrs.has("secure")).toBe(false); // http public URL: a Secure cookie would never come back
  });

  it("cached credentials: login, register and /me responses carry Cache-Control: no-store", async () => {
    const user = uname("cookiecache");
    const reg = await h.register(user);
    expect(reg.res.headers["cache-control"]).toBe("no-store");
    const login = await loginRequest(h, user);
    expect(login.headers["cache-control"]).toBe("no-store");
    const me = await h.request({ method: "GET", url: ME, cookie: sessionCookieFrom(login)! });
    expect(me.statusCode).toBe(200);
    expect(me.headers["cache-control"]).toBe("no-store");
    const anonymous = await h.request({ method: "GET", url: ME });
    expect(anonymous.headers["cache-control"]).toBe("no-store");
  });

  it("session guessing: the token is 43 base64url characters (32 random bytes) and 200 logins never repeat one", async () => {
    const user = uname("cookieentropy");
    await h.register(user);
    const seen = new Set<string>();
    // Batches of 5: more concurrent attempts on one account than that meet its brute-force delay (from the 6th).
    for (let batch = 0; batch < 40; batch++) {
      const logins = await Promise.all(Array.from({ length: 5 }, () => loginRequest(h, user)));
      for (const res of logins) {
        const token = tokenOf(sessionCookieFrom(res)!);
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(Buffer.from(token, "base64url")).toHaveLength(32);
        seen.add(token);
      }
    }
    expect(seen.size).toBe(200);
    // No shared prefix that would hint at a counter or a timestamp.
    const prefixes = new Set([...seen].map((t) => t.slice(0, 4)));
    expect(prefixes.size).toBeGreaterThan(190);
  });

  it("database theft: the sessions table holds only sha256(token), never the cookie value", async () => {
    const { cookie, res } = await h.register(uname("cookiestore"));
    const token = tokenOf(cookie);
    const userId = res.json().user.id as string;
    const rows = await h.gh.database.db.selectFrom("sessions").selectAll().where("user_id", "=", userId).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).toBe(sha256hex(token));
    const everything = JSON.stringify(await h.gh.database.db.selectFrom("sessions").selectAll().execute());
    expect(everything).not.toContain(token);
    expect(everything).toContain(sha256hex(token));
  });

  it("cookie tossing: two session cookies in one Cookie header are refused (401), in either order", async () => {
    const { cookie } = await h.register(uname("cookietoss"));
    const { cookie: attacker } = await h.register(uname("cookietossattacker"));
    expect(await meStatus(h, cookie)).toBe(200);
    expect(await meStatus(h, `${cookie}; ${attacker}`)).toBe(401);
    expect(await meStatus(h, `${attacker}; ${cookie}`)).toBe(401);
    expect(await meStatus(h, `${cookie}; ${cookie}`)).toBe(401);
    expect(await meStatus(h, `other=1; ${cookie}; theme=dark`)).toBe(200);
  });

  it("cookie tossing: a cookie under the __Host- name is not the session cookie on a plain-http deployment", async () => {
    const { cookie } = await h.register(uname("cookiehostname"));
    expect(await meStatus(h, `__Host-gatehouse_session=${tokenOf(cookie)}`)).toBe(401);
  });
});

describe.each(backendNames())("attack: cookie theft and tossing, https deployment (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.example.test" });
  });
  afterAll(async () => h?.close());

  it("cookie tossing from a sibling subdomain: on https the cookie is __Host-gatehouse_session, Secure, Path=/, no Domain", async () => {
    expect(h.publicUrl).toBe("https://gw.example.test");
    const user = uname("hostcookie");
    await h.register(user);
    const res = await loginRequest(h, user);
    expect(res.statusCode).toBe(200);
    const c = sessionSetCookie(res);
    expect(c.name).toBe("__Host-gatehouse_session");
    expect(c.attrs.has("secure")).toBe(true);
    expect(c.attrs.has("httponly")).toBe(true);
    expect(c.attrs.get("samesite")?.toLowerCase()).toBe("lax");
    expect(c.attrs.get("path")).toBe("/");
    expect(c.attrs.has("domain")).toBe(false);
    expect(await meStatus(h, sessionCookieFrom(res)!)).toBe(200);
  });

  it("cookie tossing: an unprefixed gatehouse_session cookie (settable by a sibling domain) is ignored on https", async () => {
    const { cookie } = await h.register(uname("hostunprefixed"));
    expect(await meStatus(h, cookie)).toBe(200);
    expect(await meStatus(h, `gatehouse_session=${tokenOf(cookie)}`)).toBe(401);
    expect(await meStatus(h, `__Secure-gatehouse_session=${tokenOf(cookie)}`)).toBe(401);
  });

  it("SSL stripping: every https response carries HSTS with max-age of at least one year", async () => {
    const { res } = await h.register(uname("hosthsts"));
    for (const r of [res, await h.request({ method: "GET", url: ME }), await h.request({ method: "GET", url: "/healthz" })]) {
      const hsts = String(r.headers["strict-transport-security"] ?? "");
      const maxAge = Number(/max-age=(\d+)/.exec(hsts)?.[1] ?? 0);
      expect(maxAge, hsts).toBeGreaterThanOrEqual(31_536_000);
      expect(hsts).toContain("includeSubDomains");
    }
  });

  it("cross-site request on https: an Origin of the http twin is refused (403 csrf)", async () => {
    const { cookie } = await h.register(uname("hostcsrf"));
    const res = await h.request({ method: "POST", url: "/api/auth/logout", cookie, headers: { origin: "http://gw.example.test" } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("csrf");
    expect(await meStatus(h, cookie)).toBe(200);
  });
});
