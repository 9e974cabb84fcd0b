import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { csrfOf, formBody, WebClient } from "../helpers/web-client.js";
import { meStatus, uname } from "../helpers/attacks.js";

const NEW_PASSWORD = "velvet-harbor-compass-77";

describe.each(backendNames())("attack: cross-site request forgery against the web forms (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  async function victim() {
    const name = uname("webcsrf");
    await h.register(name);
    const b = new WebClient(h);
    expect((await b.signIn(name, GOOD_PASSWORD)).statusCode).toBe(303);
    await b.get("/account");
    return { b, name };
  }

  /** The victim's password is unchanged and their session alive. */
  async function unchanged(b: WebClient, name: string) {
    expect(await meStatus(h, b.session!)).toBe(200);
    const check = await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: NEW_PASSWORD } });
    expect(check.statusCode).toBe(401);
  }

  it("CSRF-03: a form POST without the token is refused (403 csrf page) and changes nothing", async () => {
    const { b, name } = await victim();
    const res = await b.post("/account/password", { _csrf: "", currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain('data-error="csrf"');
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    await unchanged(b, name);
  });

  it("CSRF-03: a wrong or forged token is refused", async () => {
    const { b, name } = await victim();
    const valid = csrfOf(b.lastPage)!;
    const flipped = valid.slice(0, -1) + (valid.endsWith("A") ? "B" : "A");
    for (const token of ["x", "A".repeat(43), flipped, `${valid}x`, "a".repeat(200)]) {
      const res = await b.post("/account/password", { _csrf: token, currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
      expect(res.statusCode, token).toBe(403);
    }
    const twice = await b.post("/account/password", { _csrf: [csrfOf(b.lastPage)!, csrfOf(b.lastPage)!], currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
    expect(twice.statusCode).toBe(403);
    await unchanged(b, name);
  });

  it("CSRF-03: the token of one session is rejected in another (user B's token in A's session)", async () => {
    const a = await victim();
    const attacker = await victim();
    const attackerToken = csrfOf(attacker.b.lastPage)!;
    const res = await a.b.post("/account/sessions/revoke-others", { _csrf: attackerToken });
    expect(res.statusCode).toBe(403);
    const pw = await a.b.post("/account/password", { _csrf: attackerToken, currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD });
    expect(pw.statusCode).toBe(403);
    await unchanged(a.b, a.name);
    // And the token dies with its session: after signing out and in again, the old token is refused.
    const old = csrfOf(a.b.lastPage)!;
    await a.b.post("/logout", {});
    await a.b.signIn(a.name, GOOD_PASSWORD);
    expect((await a.b.post("/account/sessions/revoke-others", { _csrf: old })).statusCode).toBe(403);
  });

  it("login CSRF: POST /login without a token, or with a token from another pre-session, is refused and signs nobody in", async () => {
    const attackerName = uname("attacker");
    await h.register(attackerName);
    // The attacker loads /login in their own browser and copies its token into a page that auto-submits.
    const attacker = new WebClient(h);
    await attacker.get("/login");
    const stolen = csrfOf(attacker.lastPage)!;
    const victimBrowser = new WebClient(h);
    await victimBrowser.get("/login"); // the victim has a pre-session cookie of their own
    const forged = await victimBrowser.post("/login", { _csrf: stolen, username: attackerName, password: GOOD_PASSWORD });
    expect(forged.statusCode).toBe(403);
    expect(victimBrowser.session).toBeNull();
    const bare = new WebClient(h);
    const none = await bare.post("/login", { username: attackerName, password: GOOD_PASSWORD });
    expect(none.statusCode).toBe(403);
    expect(bare.session).toBeNull();
    const noCookie = await h.request({
      method: "POST",
      url: "/login",
      payload: formBody({ _csrf: stolen, username: attackerName, password: GOOD_PASSWORD }),
      headers: { "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
    });
    expect(noCookie.statusCode).toBe(403);
    expect(noCookie.cookies.find((c) => c.name === "gatehouse_session")).toBeUndefined();
  });

  it("CSRF-01: a cross-site form post is refused even with a valid token (the origin check still applies to pages)", async () => {
    const { b, name } = await victim();
    const res = await b.post(
      "/account/password",
      { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
      { "sec-fetch-site": "cross-site", origin: "https://evil.test" },
    );
    expect(res.statusCode).toBe(403);
    await unchanged(b, name);
  });

  it("CSRF-04: a classic text/plain or JSON form post to a page is refused with 415", async () => {
    const { b, name } = await victim();
    const res = await h.request({
      method: "POST",
      url: "/account/password",
      cookie: b.cookie,
      payload: `_csrf=${csrfOf(b.lastPage)}&currentPassword=${GOOD_PASSWORD}&newPassword=${NEW_PASSWORD}`,
      headers: { "content-type": "text/plain" },
    });
    expect(res.statusCode).toBe(415);
    await unchanged(b, name);
  });

  it("CSRF-05 / SESS-09: logout via GET (an <img> tag) does nothing; POST /logout without the token is refused", async () => {
    const { b } = await victim();
    for (const method of ["GET", "HEAD"] as const) {
      const res = await h.request({ method, url: "/logout", cookie: b.cookie });
      expect(res.statusCode).toBe(405);
    }
    expect(await meStatus(h, b.session!)).toBe(200);
    const res = await b.post("/logout", { _csrf: "nope" });
    expect(res.statusCode).toBe(403);
    expect(await meStatus(h, b.session!)).toBe(200);
  });
});
