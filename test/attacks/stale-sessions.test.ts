import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { clearsSessionCookie, ME, meStatus, sessionSetCookie, uname } from "../helpers/attacks.js";

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

describe.each(backendNames())("attack: stale session replay (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("stale session: a cookie captured before logout is dead after it", async () => {
    const { cookie } = await h.register(uname("stalelogout"));
    expect((await h.request({ method: "POST", url: "/api/auth/logout", cookie })).statusCode).toBe(204);
    expect(await meStatus(h, cookie)).toBe(401);
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie });
    expect(list.statusCode).toBe(401);
  });

  it("stale session: a password change kills every other session of the user", async () => {
    const user = uname("stalepw");
    const stolen = await h.register(user);
    const other = await h.login(user);
    const current = await h.login(user);
    const res = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie: current.cookie,
      json: { currentPassword: GOOD_PASSWORD, newPassword: "velvet-harbor-compass-77" },
    });
    expect(res.statusCode).toBe(204);
    expect(await meStatus(h, stolen.cookie)).toBe(401);
    expect(await meStatus(h, other.cookie)).toBe(401);
    expect(await meStatus(h, sessionCookieFrom(res)!)).toBe(200);
  });

  it("stale session: cookies of a deleted account are dead, including the one that deleted it", async () => {
    const user = uname("staledel");
    const a = await h.register(user);
    const b = await h.login(user);
    expect(await meStatus(h, b.cookie)).toBe(200); // cached now: deletion must still reach it
    const res = await h.request({ method: "DELETE", url: "/api/account", cookie: a.cookie, json: { password: GOOD_PASSWORD } });
    expect(res.statusCode).toBe(204);
    expect(await meStatus(h, a.cookie)).toBe(401);
    expect(await meStatus(h, b.cookie)).toBe(401);
  });

  it("stale session: idle timeout — alive at +29 min, dead after 31 min idle, and the cookie is cleared", async () => {
    const { cookie } = await h.register(uname("staleidle"));
    h.clock.advance(29 * MIN);
    expect(await meStatus(h, cookie)).toBe(200);
    h.clock.advance(31 * MIN);
    const res = await h.request({ method: "GET", url: ME, cookie });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe("unauthenticated");
    expect(clearsSessionCookie(res)).toBe(true);
    h.clock.advance(1000);
    expect(await meStatus(h, cookie)).toBe(401); // stays dead; no resurrection by a later request
  });

  it("stale session: absolute lifetime — a keep-alive every 10 min still ends at 12 h", async () => {
    const { cookie } = await h.register(uname("staleabs"));
    for (let t = 10; t < 12 * 60; t += 10) {
      h.clock.advance(10 * MIN);
      expect(await meStatus(h, cookie), `keep-alive at +${t} min`).toBe(200);
    }
    h.clock.advance(10 * MIN);
    const res = await h.request({ method: "GET", url: ME, cookie });
    expect(res.statusCode).toBe(401);
    expect(clearsSessionCookie(res)).toBe(true);
  });

  it("stale session: a normal login sets a browser-session cookie (no Max-Age/Expires)", async () => {
    const user = uname("stalenorem");
    await h.register(user);
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user, password: GOOD_PASSWORD } });
    const c = sessionSetCookie(res);
    expect(c.attrs.has("max-age")).toBe(false);
    expect(c.attrs.has("expires")).toBe(false);
  });

  it("stale session: 'remember me' lasts 30 days at most (Max-Age ≈ 30 d), survives 2 days idle, then dies", async () => {
    const user = uname("staleremember");
    await h.register(user);
    const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user, password: GOOD_PASSWORD, remember: true } });
    expect(res.statusCode).toBe(200);
    const c = sessionSetCookie(res);
    const maxAge = Number(c.attrs.get("max-age"));
    expect(maxAge).toBeGreaterThanOrEqual(30 * 86_400 - 60);
    expect(maxAge).toBeLessThanOrEqual(30 * 86_400);
    const cookie = sessionCookieFrom(res)!;

    h.clock.advance(2 * DAY);
    expect(await meStatus(h, cookie)).toBe(200);
    h.clock.advance(27 * DAY + 23 * HOUR);
    expect(await meStatus(h, cookie)).toBe(200); // just before the 30-day end
    h.clock.advance(HOUR + MIN);
    expect(await meStatus(h, cookie)).toBe(401);
  });

  it("stale session: concurrent-session cap — the 11th login evicts the oldest session", async () => {
    const user = uname("stalecap");
    const first = await h.register(user);
    const later: string[] = [];
    for (let i = 0; i < 10; i++) {
      h.clock.advance(1000);
      later.push((await h.login(user)).cookie);
    }
    expect(await meStatus(h, first.cookie)).toBe(401);
    for (const [i, cookie] of later.entries()) expect(await meStatus(h, cookie), `login #${i + 2}`).toBe(200);
    const list = await h.request({ method: "GET", url: "/api/account/sessions", cookie: later[9]! });
    expect(list.json().sessions).toHaveLength(10);
  });

  it("stale session: a successful login at the cap is never handed a session the cap already evicted", async () => {
    const user = uname("staleselfevict");
    await h.register(user);
    for (let i = 0; i < 40; i++) {
      const { cookie } = await h.login(user); // same millisecond: the manual clock does not move
      expect(await meStatus(h, cookie), `login #${i + 2} answered 200 but its cookie is already dead`).toBe(200);
    }
  });
});
