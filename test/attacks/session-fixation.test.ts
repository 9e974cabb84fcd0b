import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { forgedToken, ME, meStatus, tokenOf, uname } from "../helpers/attacks.js";

const NEW_PASSWORD = "velvet-harbor-compass-77";

describe.each(backendNames())("attack: session fixation (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  function loginWith(username: string, cookie: string) {
    return h.request({ method: "POST", url: "/api/auth/login", cookie, json: { username, password: GOOD_PASSWORD } });
  }

  it("session fixation: a planted random cookie is never upgraded at login", async () => {
    const victim = uname("fixvictim");
    await h.register(victim);
    const planted = `gatehouse_session=${forgedToken()}`;
    expect(tokenOf(planted)).toHaveLength(43);

    const res = await loginWith(victim, planted);
    expect(res.statusCode).toBe(200);
    const issued = sessionCookieFrom(res);
    expect(issued).not.toBeNull();
    expect(tokenOf(issued!)).not.toBe(tokenOf(planted));
    expect(await meStatus(h, planted)).toBe(401);
    expect(await meStatus(h, issued!)).toBe(200);
  });

  it("session fixation: an attacker's own valid session cookie is replaced at the victim's login and dies", async () => {
    const attacker = uname("fixattacker");
    const victim = uname("fixvictim");
    const { cookie: attackerCookie } = await h.register(attacker);
    const { res: reg } = await h.register(victim);
    const victimId = reg.json().user.id as string;
    expect(await meStatus(h, attackerCookie)).toBe(200);

    const res = await loginWith(victim, attackerCookie);
    expect(res.statusCode).toBe(200);
    const issued = sessionCookieFrom(res)!;
    expect(tokenOf(issued)).not.toBe(tokenOf(attackerCookie));
    // The planted session must be dead, so the attacker cannot ride the victim's browser state.
    expect(await meStatus(h, attackerCookie)).toBe(401);
    const me = await h.request({ method: "GET", url: ME, cookie: issued });
    expect(me.statusCode).toBe(200);
    expect(me.json().user.id).toBe(victimId);
  });

  it("session fixation: a victim's earlier session cookie presented at login is rotated, not reused", async () => {
    const victim = uname("fixrelogin");
    const { cookie: before } = await h.register(victim);
    const res = await loginWith(victim, before);
    expect(res.statusCode).toBe(200);
    const after = sessionCookieFrom(res)!;
    expect(tokenOf(after)).not.toBe(tokenOf(before));
    expect(await meStatus(h, before)).toBe(401);
    expect(await meStatus(h, after)).toBe(200);
  });

  it("session fixation: a planted cookie is not upgraded at registration either", async () => {
    const planted = `gatehouse_session=${forgedToken()}`;
    const res = await h.request({
      method: "POST",
      url: "/api/auth/register",
      cookie: planted,
      json: { username: uname("fixreg"), password: GOOD_PASSWORD },
    });
    expect(res.statusCode).toBe(201);
    const issued = sessionCookieFrom(res)!;
    expect(tokenOf(issued)).not.toBe(tokenOf(planted));
    expect(await meStatus(h, planted)).toBe(401);
    expect(await meStatus(h, issued)).toBe(200);
  });

  it("session fixation: a failed login leaves no session behind the planted cookie", async () => {
    const victim = uname("fixfail");
    await h.register(victim);
    const planted = `gatehouse_session=${forgedToken()}`;
    const res = await h.request({
      method: "POST",
      url: "/api/auth/login",
      cookie: planted,
      json: { username: victim, password: "definitely-not-it-99" },
    });
    expect(res.statusCode).toBe(401);
    expect(sessionCookieFrom(res)).toBeNull();
    expect(await meStatus(h, planted)).toBe(401);
  });

  it("session fixation: a password change rotates the session (new token, old one dead)", async () => {
    const user = uname("fixpw");
    const { cookie } = await h.register(user);
    const res = await h.request({
      method: "POST",
      url: "/api/account/password",
      cookie,
      json: { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(res.statusCode).toBe(204);
    const rotated = sessionCookieFrom(res);
    expect(rotated).not.toBeNull();
    expect(tokenOf(rotated!)).not.toBe(tokenOf(cookie));
    expect(await meStatus(h, cookie)).toBe(401);
    expect(await meStatus(h, rotated!)).toBe(200);
  });
});
