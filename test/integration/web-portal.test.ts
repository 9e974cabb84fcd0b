import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { csrfOf, WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/names.js";

/**
 * The page CSP of a response whose one script carries `nonce` (HDR-02).
 * `form-action` adds the hosts a sign-in may return to: here the built-in
 * demo's rules, which name the portal's host (docs/adr/0006).
 */
const pageCsp = (nonce: string) =>
  `default-src 'none';script-src 'nonce-${nonce}';style-src 'self';img-src 'self' data:;connect-src 'self';object-src 'none';form-action 'self' http://localhost:*;frame-ancestors 'none';base-uri 'none';report-uri /api/csp-report;report-to csp`;
/** The nonce the page's `<script>` tag carries. */
const nonceIn = (body: string) => /<script [^>]*nonce="([A-Za-z0-9+/=]{24})"/.exec(body)?.[1] ?? "(no nonce)";

describe.each(backendNames())("web portal (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  /** A registered user signed in through the form. */
  async function signedIn(prefix = "web") {
    const name = uname(prefix);
    await h.register(name);
    const b = new WebClient(h);
    const res = await b.signIn(name, GOOD_PASSWORD);
    expect(res.statusCode, res.body).toBe(303);
    return { b, name };
  }

  it("the sign-in page is HTML with the strict page CSP, no-store, anti-framing headers and only self-hosted assets", async () => {
    const res = await h.request({ method: "GET", url: "/login" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toBe(pageCsp(nonceIn(res.body)));
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-frame-options"]).toBe("DENY");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(res.body).not.toMatch(/<script>|<style|style="|\son[a-z]+=/);
    // AUTH-07: a password input for the password manager, nothing blocking paste.
    expect(res.body).toContain('type="password" autocomplete="current-password"');
    expect(res.body).toContain('autocomplete="username"');
    expect(res.body).toContain('<a href="/forgot-password">Forgot your password?</a>');
    expect(res.body).toContain("Keep me signed in on this device for 30 days");
    const css = /href="(\/assets\/gatehouse\.css\?v=[^"]+)"/.exec(res.body)?.[1];
    const js = /src="(\/assets\/gatehouse\.js\?v=[^"]+)"/.exec(res.body)?.[1];
    expect(css && js).toBeTruthy();
    const cssRes = await h.request({ method: "GET", url: css! });
    expect(cssRes.statusCode).toBe(200);
    expect(cssRes.headers["content-type"]).toBe("text/css; charset=utf-8");
    expect(cssRes.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(cssRes.body).toContain("prefers-color-scheme: dark");
    const jsRes = await h.request({ method: "GET", url: js! });
    expect(jsRes.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    const again = await h.request({ method: "GET", url: "/assets/gatehouse.css", headers: { "if-none-match": String(cssRes.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect((await h.request({ method: "GET", url: "/assets/nope.css" })).statusCode).toBe(404);
    expect((await h.request({ method: "GET", url: "/assets/..%2Fhtml.ts" })).statusCode).toBe(404);
  });

  it("signs in without JavaScript: form POST → session cookie → 303 to the return target → the account page", async () => {
    const name = uname("nojs");
    await h.register(name, GOOD_PASSWORD, `${name}@example.test`);
    const b = new WebClient(h);
    const page = await b.get("/login?return=%2Faccount%3Ftab%3Dx");
    expect(page.body).toContain('name="return" value="/account?tab=x"');
    const res = await b.post("/login", { username: `${name}@example.test`, password: GOOD_PASSWORD, return: "/account?tab=x" });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/account?tab=x");
    const cookie = res.cookies.find((c) => c.name === "gatehouse_session");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.maxAge).toBeUndefined(); // no "remember me": a browser-session cookie
    const account = await b.get("/account");
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(name);
    expect(account.body).toContain('<a href="/account/email">Change</a>');
    expect(account.headers["content-security-policy"]).toBe(pageCsp(nonceIn(account.body)));
    expect(account.headers["cache-control"]).toBe("no-store");
    // Signed in, /login goes straight on.
    const again = await b.get("/login");
    expect(again.statusCode).toBe(303);
    expect(again.headers.location).toBe("/account");
  });

  it("'remember me' makes the cookie persistent", async () => {
    const name = uname("remember");
    await h.register(name);
    const b = new WebClient(h);
    const res = await b.signIn(name, GOOD_PASSWORD, { remember: "on" });
    expect(res.cookies.find((c) => c.name === "gatehouse_session")?.maxAge).toBe(30 * 86_400);
  });

  it("a wrong password re-renders the form with docs/api.md's 401 message, keeps the login name and never echoes the password", async () => {
    const name = uname("wrongpw");
    await h.register(name);
    const b = new WebClient(h);
    const res = await b.signIn(name, "not-the-password-123");
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain("Invalid username or password");
    expect(res.body).toContain(`value="${name}"`);
    expect(res.body).not.toContain("not-the-password-123");
    expect(b.session).toBeNull();
    const unknown = await b.signIn(uname("nobody"), "not-the-password-123");
    expect(unknown.statusCode).toBe(401);
    const empty = await b.post("/login", { username: "", password: "" });
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain("Enter your password.");
  });

  it("an anonymous visit to a signed-in page is sent to /login with the return target, and comes back after signing in", async () => {
    const name = uname("ret");
    await h.register(name);
    const b = new WebClient(h);
    const res = await b.get("/account");
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/login?return=%2Faccount");
    const login = await b.get(String(res.headers.location));
    expect(login.body).toContain('name="return" value="/account"');
    const done = await b.post("/login", { username: name, password: GOOD_PASSWORD, return: "/account" });
    expect(done.headers.location).toBe("/account");
  });

  it("registration: the policy is explained up front, violations are shown per field, success signs in", async () => {
    const b = new WebClient(h);
    const page = await b.get("/register");
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/At least 12 characters/);
    expect(page.body).toContain('autocomplete="new-password"');
    const short = await b.post("/register", { username: uname("reg"), email: "", password: "short" });
    expect(short.statusCode).toBe(400);
    expect(short.body).toMatch(/id="f-password-error">Use at least 12 characters\./);
    expect(short.body).toContain('aria-invalid="true"');
    const badName = await b.post("/register", { username: "a b", password: GOOD_PASSWORD });
    expect(badName.statusCode).toBe(400);
    expect(badName.body).toMatch(/id="f-username-error">Use 3 to 64 letters/);
    const taken = uname("taken");
    await h.register(taken);
    const dup = await b.post("/register", { username: taken, password: GOOD_PASSWORD });
    expect(dup.statusCode).toBe(409);
    expect(dup.body).toMatch(/id="f-username-error">This username is already taken\./);
    const contextual = uname("ctx");
    const ctxRes = await b.post("/register", { username: contextual, password: `${contextual}-long-enough` });
    expect(ctxRes.body).toMatch(/id="f-password-error">The password must not contain your username/);
    const fresh = uname("newbie");
    const ok = await b.post("/register", { username: fresh, email: `${fresh}@example.test`, password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/account");
    expect((await b.get("/account")).body).toContain(fresh);
  });

  it("registration closed in the settings: the page says so (403) and the form creates nothing", async () => {
    const sup = await h.account("superadmin");
    const off = await h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json: { registration: "closed" } });
    expect(off.statusCode, off.body).toBe(200);
    try {
      const b = new WebClient(h);
      const page = await b.get("/register");
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain("Registration is closed");
      await b.get("/login");
      const name = uname("closed");
      const post = await b.post("/register", { username: name, password: GOOD_PASSWORD });
      expect(post.statusCode).toBe(403);
      expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } })).statusCode).toBe(401);
    } finally {
      await h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json: { registration: "open" } });
    }
  });

  it("registration with email verification required: 'check your email' (202), no session, same page for a taken address", async () => {
    const sup = await h.account("superadmin");
    const on = await h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json: { emailVerificationRequired: true } });
    expect(on.statusCode, on.body).toBe(200);
    try {
      const b = new WebClient(h);
      const page = await b.get("/register");
      expect(page.body).toMatch(/<input id="f-email" name="email" type="email"[^>]* required/);
      const name = uname("verify");
      const res = await b.post("/register", { username: name, email: `${name}@example.test`, password: GOOD_PASSWORD });
      expect(res.statusCode, /data-error="[^"]+"|<h1>[^<]*/.exec(res.body)?.[0]).toBe(202);
      expect(res.body).toContain("Check your email");
      expect(b.session).toBeNull();
      const other = uname("verify");
      await b.get("/register");
      const again = await b.post("/register", { username: other, email: `${name}@example.test`, password: GOOD_PASSWORD });
      expect(again.statusCode).toBe(202);
      // Identical but for form values and the per-response CSP nonce.
      const shape = (body: string) => body.replace(/(?:value|nonce)="[^"]*"/g, "");
      expect(shape(again.body)).toBe(shape(res.body));
    } finally {
      await h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json: { emailVerificationRequired: false } });
    }
  });

  it("account: the sessions list marks this device, and revoking another session signs that browser out on its next navigation", async () => {
    const { b, name } = await signedIn("sess");
    const other = new WebClient(h);
    other.userAgent = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1";
    await other.signIn(name, GOOD_PASSWORD);
    const page = await b.get("/account");
    expect(page.body).toContain("This device");
    expect(page.body).toContain("Firefox on Linux");
    expect(page.body).toContain("Safari on iOS");
    const rows = page.body.split("<tr>").slice(1);
    expect(rows.find((r) => r.includes("This device"))).not.toMatch(/\/revoke"/); // no revoke button on this device
    const phone = rows.find((r) => r.includes("Safari on iOS"));
    const id = /action="\/account\/sessions\/([0-9a-f-]{36})\/revoke"/.exec(phone ?? "")?.[1];
    expect(id).toBeTruthy();
    const res = await b.post(`/account/sessions/${id}/revoke`, {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/account?notice=session_revoked");
    expect((await b.get(String(res.headers.location))).body).toContain("The session was signed out.");
    const kicked = await other.get("/account");
    expect(kicked.statusCode).toBe(303);
    expect(kicked.headers.location).toBe("/login?return=%2Faccount");
  });

  it("account: 'sign out all other sessions' ends every other session and keeps this one", async () => {
    const { b, name } = await signedIn("others");
    const o1 = new WebClient(h);
    const o2 = new WebClient(h);
    await o1.signIn(name, GOOD_PASSWORD);
    await o2.signIn(name, GOOD_PASSWORD);
    await b.get("/account");
    const res = await b.post("/account/sessions/revoke-others", {});
    expect(res.headers.location).toBe("/account?notice=sessions_revoked");
    expect((await o1.get("/account")).statusCode).toBe(303);
    expect((await o2.get("/account")).statusCode).toBe(303);
    expect((await b.get("/account")).statusCode).toBe(200);
  });

  it("account: change password needs the current one; it signs out other sessions and keeps this one (rotated)", async () => {
    const { b, name } = await signedIn("pw");
    const other = new WebClient(h);
    await other.signIn(name, GOOD_PASSWORD);
    await b.get("/account");
    const wrong = await b.post("/account/password", { currentPassword: "wrong-password-000", newPassword: "meadow-copper-sparrow-19" });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toMatch(/id="f-currentPassword-error">The current password is incorrect\./);
    const weak = await b.post("/account/password", { currentPassword: GOOD_PASSWORD, newPassword: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).toMatch(/id="f-newPassword-error">Use at least 12 characters\./);
    const before = b.session;
    const ok = await b.post("/account/password", { currentPassword: GOOD_PASSWORD, newPassword: "meadow-copper-sparrow-19" });
    expect(ok.statusCode, ok.body).toBe(303);
    expect(ok.headers.location).toBe("/account?notice=password_changed");
    expect(b.session).not.toBe(before);
    expect((await b.get("/account")).statusCode).toBe(200);
    expect((await other.get("/account")).statusCode).toBe(303);
    const fresh = new WebClient(h);
    expect((await fresh.signIn(name, "meadow-copper-sparrow-19")).statusCode).toBe(303);
  });

  it("account: an API token is created with scopes and expiry, shown once with a copy button, works as a Bearer token, and is revoked", async () => {
    const { b } = await signedIn("tok");
    const page = await b.get("/account");
    expect(page.body).toContain('value="read:account"');
    expect(page.body).not.toContain('value="admin:read"'); // a user's role cannot use admin scopes
    const res = await b.post("/account/tokens", { name: "backup script", scopes: ["read:account"], expiresInDays: "30" });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["referrer-policy"]).toBe("no-referrer");
    const secret = /<code id="new-token">(gth_[A-Za-z0-9_-]{43})<\/code>/.exec(res.body)?.[1];
    expect(secret).toBeTruthy();
    expect(res.body).toContain('data-copy="#new-token"');
    const me = await h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${secret}` } });
    expect(me.statusCode).toBe(200);
    const later = await b.get("/account");
    expect(later.body).toContain("backup script");
    expect(later.body).toContain(secret!.slice(0, 12));
    expect(later.body).not.toContain(secret!);
    const bad = await b.post("/account/tokens", { name: "x", scopes: [], expiresInDays: "999" });
    expect(bad.statusCode).toBe(400);
    const id = /action="\/account\/tokens\/([0-9a-f-]{36})\/revoke"/.exec(later.body)?.[1];
    await b.get("/account");
    const revoke = await b.post(`/account/tokens/${id}/revoke`, {});
    expect(revoke.headers.location).toBe("/account?notice=token_revoked");
    expect((await h.request({ method: "GET", url: "/api/auth/me", headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(401);
  });

  it("account: after the sudo window a new token needs the password again, asked for on the form", async () => {
    const { b } = await signedIn("sudo");
    h.clock.advance(11 * 60_000);
    const page = await b.get("/account");
    expect(page.body).toContain("Confirm your password");
    const refused = await b.post("/account/tokens", { name: "ci", scopes: ["read:account"], expiresInDays: "90" });
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain("Confirm your password to create a token.");
    const ok = await b.post("/account/tokens", { name: "ci", scopes: ["read:account"], expiresInDays: "90", password: GOOD_PASSWORD });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.body).toMatch(/gth_/);
    // The session was rotated by the re-authentication, and the page's forms carry the new session's token.
    const next = await b.post("/account/sessions/revoke-others", { _csrf: csrfOf(ok.body)! });
    expect(next.statusCode).toBe(303);
  });

  it("account: deleting the account needs the password, ends every session and the account", async () => {
    const { b, name } = await signedIn("delete");
    const other = new WebClient(h);
    await other.signIn(name, GOOD_PASSWORD);
    await b.get("/account");
    const wrong = await b.post("/account/delete", { password: "not-my-password-1" });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toMatch(/id="f-delete-password-error">The password is incorrect\./);
    const ok = await b.post("/account/delete", { password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe("/login?notice=account_deleted");
    expect(ok.headers["clear-site-data"]).toBe('"cache", "cookies", "storage"');
    expect(b.session).toBeNull();
    expect((await other.get("/account")).statusCode).toBe(303);
    expect((await new WebClient(h).signIn(name, GOOD_PASSWORD)).statusCode).toBe(401);
  });

  it("a blocked user's open page sends them to /login on the next navigation", async () => {
    const { b, name } = await signedIn("blocked");
    const admin = await h.account("admin");
    const id = (await h.gh.stores.users.findByLogin({ username: name.toLowerCase() }))?.id;
    const res = await h.request({ method: "PATCH", url: `/api/admin/users/${id}`, cookie: admin.cookie, json: { blocked: true } });
    expect(res.statusCode, res.body).toBe(200);
    const next = await b.get("/account");
    expect(next.statusCode).toBe(303);
    expect(next.headers.location).toBe("/login?return=%2Faccount");
    const again = await b.signIn(name, GOOD_PASSWORD);
    expect(again.statusCode).toBe(403);
    expect(again.body).toContain("This account is blocked");
  });

  it("logout is a POST with the CSRF field: session ended, cookie expired, Clear-Site-Data; GET /logout does nothing", async () => {
    const { b } = await signedIn("logout");
    const session = b.session!;
    const get = await b.get("/logout");
    expect(get.statusCode).toBe(405);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: session })).statusCode).toBe(200);
    const page = await b.get("/account");
    expect(page.body).toMatch(/<form class="inline" method="post" action="\/logout"><input type="hidden" name="_csrf"/);
    const res = await b.post("/logout", {});
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe("/login?notice=signed_out");
    expect(res.headers["clear-site-data"]).toBe('"cache", "cookies", "storage"');
    expect(res.cookies.find((c) => c.name === "gatehouse_session")?.value).toBe("");
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: session })).statusCode).toBe(401);
    expect((await b.get("/login?notice=signed_out")).body).toContain("You are signed out.");
    expect((await b.get("/login?notice=%3Cb%3Ex")).body).not.toContain("<b>x");
  });

  it("JSON and other body types are refused on page routes (415); the JSON API is untouched", async () => {
    const b = new WebClient(h);
    await b.get("/login");
    const res = await h.request({ method: "POST", url: "/login", cookie: b.cookie, json: { username: "x", password: "y", _csrf: csrfOf(b.lastPage) } });
    expect(res.statusCode).toBe(415);
    const text = await h.request({ method: "POST", url: "/login", cookie: b.cookie, payload: "x", headers: { "content-type": "text/plain" } });
    expect(text.statusCode).toBe(415);
    const api = await h.request({ method: "POST", url: "/api/auth/login", payload: "username=x&password=y", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(api.statusCode).toBe(415);
    const many = Array.from({ length: 100 }, (_, i) => `f${i}=1`).join("&");
    const tooMany = await h.request({ method: "POST", url: "/login", cookie: b.cookie, payload: many, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(tooMany.statusCode).toBe(400);
    const proto = await h.request({ method: "POST", url: "/login", cookie: b.cookie, payload: "__proto__=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(proto.statusCode).toBe(400);
  });
});

describe.each(backendNames())("web portal: first-superadmin setup page (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("the one-time link's page takes the token from the fragment, creates the superadmin, then is gone (404)", async () => {
    const first = await h.gh.firstSuperadmin.ensure(null);
    if (first.status !== "setup") throw new Error(`expected setup, got ${first.status}`);
    const b = new WebClient(h);
    const page = await b.get("/setup");
    expect(page.statusCode).toBe(200);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect(page.body).toContain("data-fragment-token");
    expect(page.body).not.toContain(first.token);
    // A weak password is caught before the one-time token is spent.
    const weak = await b.post("/setup", { token: first.token, username: "root1", password: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.body).not.toContain(first.token);
    const wrong = await b.post("/setup", { token: "A".repeat(43), username: "root1", password: GOOD_PASSWORD });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain("This setup token is invalid, used or expired.");
    const ok = await b.post("/setup", { token: first.token, username: "root1", password: GOOD_PASSWORD });
    expect(ok.statusCode, ok.body).toBe(303);
    expect(ok.headers.location).toBe("/account?notice=setup_done");
    const account = await b.get("/account?notice=setup_done");
    expect(account.body).toContain("Welcome! Your superadmin account is ready.");
    expect(account.body).toMatch(/<span class="badge">superadmin<\/span>/);
    expect((await b.get("/setup")).statusCode).toBe(404);
  });
});
