import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { csrfTokenFor } from "../../src/core/csrf/csrf-token.js";
import { deriveKey } from "../../src/core/crypto/derive-key.js";
import { hashToken } from "../../src/core/crypto/tokens.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { uname } from "../helpers/names.js";
import { startProviderStack, type ProviderStack } from "../helpers/oauth/provider-stack.js";
import { providerSettings } from "../helpers/oauth/provider-settings.js";
import { WebClient } from "../helpers/web-client.js";

const ORIGIN = { ip: "127.0.0.1", userAgent: "test" };
const OFF_SECRET = "0123456789abcdef".repeat(4);
const HOSTILE = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;
/** An address that passes the email plausibility check (no spaces) and is still markup. */
const HOSTILE_EMAIL = `"><img/src=x/onerror=alert(3)><script>alert(4)</script>@evil.test`;
const HOSTILE_EMAIL_ESCAPED = "&quot;&gt;&lt;img/src=x/onerror=alert(3)&gt;&lt;script&gt;alert(4)&lt;/script&gt;@evil.test";

/** A browser signed in with a password as a fresh account (with `role`). */
async function passwordBrowser(h: Harness, role: "user" | "admin" = "user") {
  const name = uname(role.slice(0, 3));
  const { user } = await h.gh.accounts.register({ username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, ORIGIN, { role, signIn: false });
  const b = new WebClient(h);
  const res = await b.signIn(name, GOOD_PASSWORD);
  expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
  return { b, id: user.id, name };
}

/** The identity ids of the unlink forms of an account page. */
function unlinkIds(page: string): string[] {
  return [...page.matchAll(/action="\/account\/identities\/([0-9a-f-]{36})\/unlink"/g)].map((m) => m[1]!);
}

/** An attacker's markup must never reach a page raw. */
function expectNoRawMarkup(body: string): void {
  expect(body).not.toMatch(/<script>alert/);
  expect(body).not.toMatch(/<img[\s/]/);
  expect(body).not.toMatch(/<[^>]+[\s/]onerror=/i);
}

describe.each(backendNames())("provider sign-in pages (%s)", (backend) => {
  let s: ProviderStack;
  beforeAll(async () => {
    s = await startProviderStack(backend);
  });
  afterAll(async () => s?.close());

  /** A user of the test IdP. */
  function idpUser(fields: { email?: string; email_verified?: boolean; name?: string; preferred_username?: string } = {}) {
    const login = uname("idp");
    const user = { sub: `sub-${login}`, login, password: `pw-${login}`, email: `${login}@idp.test`, email_verified: true, preferred_username: login, ...fields };
    s.idp.addUser(user);
    return user;
  }

  /** Links the test IdP as `login` through the account page's "Link Test IdP" form; the callback's answer. */
  async function linkThroughPage(b: WebClient, login: string, password: string, fields: Record<string, string> = {}) {
    await b.get("/account");
    const started = await b.post("/account/identities/link/test-idp", fields);
    expect(started.statusCode, started.body.slice(0, 300)).toBe(303);
    const location = new URL(String(started.headers.location));
    expect(location.origin).toBe(s.idp.issuer);
    const callback = await s.authorize(location, login, password);
    return b.get(callback);
  }

  it("/login and /register: one button per enabled provider with the start URL, the return value carried", async () => {
    const login = await s.h.request({ method: "GET", url: `/login?return=${encodeURIComponent("/account?tab=1&x=2")}` });
    expect(login.statusCode).toBe(200);
    expect(login.body).toContain(`<a class="button provider" href="/api/auth/oauth/test-idp/start?return=%2Faccount%3Ftab%3D1%26x%3D2">Sign in with Test IdP</a>`);
    expect(login.body).toContain('name="password"');
    const plain = await s.h.request({ method: "GET", url: "/login" });
    expect(plain.body).toContain(`<a class="button provider" href="/api/auth/oauth/test-idp/start">Sign in with Test IdP</a>`);
    const register = await s.h.request({ method: "GET", url: "/register" });
    expect(register.statusCode).toBe(200);
    expect(register.body).toContain(`<a class="button provider" href="/api/auth/oauth/test-idp/start">Sign up with Test IdP</a>`);
  });

  it("the sign-in button starts a round trip that ends signed in on the return target", async () => {
    const u = idpUser();
    const page = await s.h.request({ method: "GET", url: "/login?return=%2Faccount%3Fnotice%3Dsigned_out" });
    const href = /<a class="button provider" href="([^"]+)">Sign in with Test IdP<\/a>/.exec(page.body)?.[1];
    expect(href).toBeDefined();
    const b = new WebClient(s.h);
    const started = await b.get(href!.replaceAll("&amp;", "&"));
    expect(started.statusCode).toBe(303);
    const done = await b.get(await s.authorize(new URL(String(started.headers.location)), u.login, u.password));
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe("/account?notice=signed_out");
    expect(b.session).not.toBeNull();
  });

  it("/invite offers provider sign-up with the invited address", async () => {
    const res = await s.h.request({ method: "GET", url: "/invite" });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain("Or sign up with Test IdP using the invited address.");
    expect(res.body).toContain(`<a class="button provider" href="/api/auth/oauth/test-idp/start">Sign up with Test IdP</a>`);
    expect(res.body).toContain('name="invitation"');
  });

  it("link through the account page form: listed with provider, email and dates, the notice shown; then signs in with it", async () => {
    const { b, name } = await passwordBrowser(s.h);
    const before = await b.get("/account");
    expect(before.body).toContain('id="identities-h">Linked accounts</h2>');
    expect(before.body).toContain("No linked accounts.");
    expect(before.body).toContain('action="/account/identities/link/test-idp"');
    expect(before.body).toContain(">Link Test IdP</button>");
    const u = idpUser({ email: `${name}@elsewhere.test` });
    const done = await linkThroughPage(b, u.login, u.password);
    expect(done.statusCode, done.body.slice(0, 300)).toBe(303);
    expect(done.headers.location).toBe("/account?notice=provider_linked");
    const after = await b.get("/account?notice=provider_linked");
    expect(after.body).toContain("Linked.");
    expect(after.body).toMatch(/<tr data-identity="test-idp">\s*<td class="wrap" data-label="Provider">Test IdP<\/td>/);
    expect(after.body).toContain(`${name}@elsewhere.test`);
    expect(after.body).not.toContain(">Link Test IdP</button>");
    expect(unlinkIds(after.body)).toHaveLength(1);
    // The linked account now signs in with the provider.
    const again = await s.signIn(u.login, u.password);
    expect(again.res.statusCode).toBe(303);
    const me = await s.h.request({ method: "GET", url: "/api/auth/me", cookie: again.cookie });
    expect(me.json().user.username).toBe(name);
  });

  it("unlink through the page form (recent sign-in): gone from the list, the Link form back", async () => {
    const { b } = await passwordBrowser(s.h);
    const u = idpUser();
    expect((await linkThroughPage(b, u.login, u.password)).statusCode).toBe(303);
    const page = await b.get("/account");
    const [id] = unlinkIds(page.body);
    const res = await b.post(`/account/identities/${id}/unlink`, {});
    expect(res.statusCode, res.body.slice(0, 300)).toBe(303);
    expect(res.headers.location).toBe("/account?notice=provider_unlinked");
    const after = await b.get("/account?notice=provider_unlinked");
    expect(after.body).toContain("Unlinked.");
    expect(unlinkIds(after.body)).toHaveLength(0);
    expect(after.body).toContain(">Link Test IdP</button>");
  });

  it("unlinking the last way to sign in is refused on the page (409), the identity kept", async () => {
    // An account made by the provider: no password, no passkey, this one identity.
    const u = idpUser();
    const { res, cookie } = await s.signIn(u.login, u.password, { returnTo: "/account" });
    expect(res.statusCode).toBe(303);
    const b = new WebClient(s.h);
    for (const part of cookie.split("; ")) b.jar.set(part.slice(0, part.indexOf("=")), part.slice(part.indexOf("=") + 1));
    const page = await b.get("/account");
    expect(page.statusCode).toBe(200);
    const [id] = unlinkIds(page.body);
    expect(page.body).not.toContain(`id="idp-pw-`);
    const refused = await b.post(`/account/identities/${id}/unlink`, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.body).toContain("This is your last way to sign in; set a password or add another sign-in method first.");
    expect(unlinkIds(refused.body)).toEqual([id]);
  });

  it("a link or unlink of an identity that is not yours: 404, nothing changed; an unknown provider: 404", async () => {
    const owner = await passwordBrowser(s.h);
    const u = idpUser();
    expect((await linkThroughPage(owner.b, u.login, u.password)).statusCode).toBe(303);
    const [id] = unlinkIds((await owner.b.get("/account")).body);
    const other = await passwordBrowser(s.h);
    await other.b.get("/account");
    const res = await other.b.post(`/account/identities/${id}/unlink`, {});
    expect(res.statusCode).toBe(404);
    expect(await s.h.gh.linkedIdentities.list(owner.id)).toHaveLength(1);
    expect((await other.b.post("/account/identities/link/no-such-idp", {})).statusCode).toBe(404);
  });

  it("the callback's refusals are HTML pages with fixed titles: an expired round trip, a provider account linked elsewhere", async () => {
    const b = new WebClient(s.h);
    const stale = await b.get("/api/auth/oauth/test-idp/callback?code=x&state=not-a-real-state-value-0123456789abcdef01234");
    expect(stale.statusCode).toBe(400);
    expect(stale.body).toContain('data-error="oauth_state_invalid"');
    expect(stale.body).toContain("<h1>This sign-in has expired</h1>");
    expect(stale.body).toContain("Start again from the sign-in page.");
    expect(stale.body).toContain('<a href="/login">Go to sign in</a>');

    const first = await passwordBrowser(s.h);
    const u = idpUser();
    expect((await linkThroughPage(first.b, u.login, u.password)).statusCode).toBe(303);
    const second = await passwordBrowser(s.h);
    const taken = await linkThroughPage(second.b, u.login, u.password);
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain('data-error="identity_in_use"');
    expect(taken.body).toContain("<h1>Already linked to another account</h1>");
    expect(taken.body).toContain('<a href="/account">Back to your account</a>');
  });

  it("the provider's error text is never shown: a cancelled sign-in is the fixed oauth_failed page", async () => {
    const b = new WebClient(s.h);
    const started = await b.get("/api/auth/oauth/test-idp/start");
    const state = new URL(String(started.headers.location)).searchParams.get("state");
    const res = await b.get(`/api/auth/oauth/test-idp/callback?error=access_denied&error_description=${encodeURIComponent(`Injected ${HOSTILE} text`)}&state=${state}&iss=${encodeURIComponent(s.idp.issuer)}`);
    expect(res.statusCode).toBe(400);
    expect(res.body).toContain('data-error="oauth_failed"');
    expect(res.body).not.toContain("Injected");
    expectNoRawMarkup(res.body);
  });

  it("attack: stored XSS through the IdP's name and email claims, on the account page and the admin user view", async () => {
    const { b, id } = await passwordBrowser(s.h);
    const u = idpUser({ name: HOSTILE, email: HOSTILE_EMAIL, email_verified: false, preferred_username: HOSTILE });
    const linked = await linkThroughPage(b, u.login, u.password);
    expectNoRawMarkup(linked.body);
    const [identity] = await s.h.gh.linkedIdentities.list(id);
    expect(identity).toBeDefined();
    const page = await b.get("/account");
    expectNoRawMarkup(page.body);
    expect(identity!.email).toBe(HOSTILE_EMAIL);
    expect(page.body).toContain(HOSTILE_EMAIL_ESCAPED);
    const admin = await passwordBrowser(s.h, "admin");
    const view = await admin.b.get(`/admin/users/${id}`);
    expect(view.statusCode).toBe(200);
    expectNoRawMarkup(view.body);
    expect(view.body).toContain("Linked accounts (1)");
    expect(view.body).toContain(HOSTILE_EMAIL_ESCAPED);

    // An account created by the provider from hostile claims: the username and the identity render escaped too.
    const v = idpUser({ name: HOSTILE, preferred_username: HOSTILE, email: `${uname("x")}@idp.test` });
    const created = await s.signIn(v.login, v.password, { returnTo: "/account" });
    expect(created.res.statusCode).toBe(303);
    const me = await s.h.request({ method: "GET", url: "/api/auth/me", cookie: created.cookie });
    const newId = me.json().user.id as string;
    expectNoRawMarkup((await s.h.request({ method: "GET", url: "/account", cookie: created.cookie })).body);
    expectNoRawMarkup((await admin.b.get(`/admin/users/${newId}`)).body);
  });

  it("the admin user view lists the user's linked accounts, read-only", async () => {
    const { b, id, name } = await passwordBrowser(s.h);
    const u = idpUser({ email: `${name}@corp.test` });
    expect((await linkThroughPage(b, u.login, u.password)).statusCode).toBe(303);
    const admin = await passwordBrowser(s.h, "admin");
    const view = await admin.b.get(`/admin/users/${id}`);
    expect(view.statusCode).toBe(200);
    expect(view.body).toContain("Linked accounts (1)");
    expect(view.body).toMatch(/<tr data-identity="test-idp"><td class="wrap">Test IdP<\/td><td class="wrap">[^<]+@corp\.test<\/td><td>\d{4}-\d\d-\d\d \d\d:\d\d UTC<\/td><td>never<\/td><\/tr>/);
    expect(view.body).not.toContain("/unlink");
    const fresh = await passwordBrowser(s.h);
    expect((await admin.b.get(`/admin/users/${fresh.id}`)).body).toContain('data-identities="none"');
  });

  // Moves the harness clock past the sudo window: kept last in this suite.
  it("after the sudo window: link and unlink ask for the password (403 on the form without it, wrong one refused), then work", async () => {
    const { b } = await passwordBrowser(s.h);
    const u = idpUser();
    expect((await linkThroughPage(b, u.login, u.password)).statusCode).toBe(303);
    s.h.clock.advance(11 * 60_000);
    const page = await b.get("/account");
    expect(page.body).toContain("Linking or unlinking asks for your password");
    const [id] = unlinkIds(page.body);
    expect(page.body).toContain(`id="idp-pw-${id}" name="password" type="password" autocomplete="current-password"`);
    const bare = await b.post(`/account/identities/${id}/unlink`, {});
    expect(bare.statusCode).toBe(403);
    expect(bare.body).toContain("Confirm your password to continue");
    const wrong = await b.post(`/account/identities/${id}/unlink`, { password: "not-the-password-at-all" });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain("The password is incorrect.");
    expect(unlinkIds(wrong.body)).toEqual([id]);
    const ok = await b.post(`/account/identities/${id}/unlink`, { password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(303);

    // Linking after the window: the password first, then the provider.
    s.h.clock.advance(11 * 60_000);
    await b.get("/account");
    const refused = await b.post("/account/identities/link/test-idp", {});
    expect(refused.statusCode).toBe(403);
    expect(refused.body).toContain('id="link-pw-test-idp"');
    const started = await b.post("/account/identities/link/test-idp", { password: GOOD_PASSWORD });
    expect(started.statusCode).toBe(303);
    expect(new URL(String(started.headers.location)).origin).toBe(s.idp.issuer);
  });

  it("a passwordless account after the sudo window is offered a provider re-authentication (intent=reauth, return=/account)", async () => {
    const u = idpUser();
    const { cookie } = await s.signIn(u.login, u.password, { returnTo: "/account" });
    s.h.clock.advance(11 * 60_000);
    const page = await s.h.request({ method: "GET", url: "/account", cookie });
    expect(page.body).toMatch(
      /<form class="inline" method="post" action="\/api\/auth\/oauth\/test-idp\/start"><input type="hidden" name="_csrf" value="[^"]+"><input type="hidden" name="intent" value="reauth"><input type="hidden" name="return" value="\/account"><button type="submit" class="secondary small">Sign in again with Test IdP to confirm<\/button><\/form>/,
    );
    expect(page.body).not.toContain('name="password" type="password" autocomplete="current-password" placeholder');
  });
});

describe("provider buttons: names escaped, absent without providers, PASSWORD_LOGIN=off, proxied hosts (sqlite)", () => {
  const hostile = providerSettings({ issuer: "https://127.0.0.1:9", clientId: "c", clientSecret: "s", id: "corp", name: `Corp ${HOSTILE}` });
  let h: Harness;
  let none: Harness;
  let off: Harness;
  beforeAll(async () => {
    [h, none, off] = await Promise.all([
      // An upstream (nothing listens there): app hosts get Gatehouse's pages under /.gatehouse.
      startHarness("sqlite", { UPSTREAM_URL: "http://127.0.0.1:9" }, undefined, { providers: [hostile] }),
      startHarness("sqlite", {}, undefined, { providers: [] }),
      startHarness("sqlite", { PASSWORD_LOGIN: "off", SECRET_KEY: OFF_SECRET }, undefined, { providers: [providerSettings({ issuer: "https://127.0.0.1:9", clientId: "c", clientSecret: "s" })] }),
    ]);
  });
  afterAll(async () => Promise.all([h?.close(), none?.close(), off?.close()]));

  it("attack: a provider name with HTML and script is escaped on /login, /register and /invite", async () => {
    for (const url of ["/login", "/register", "/invite"]) {
      const res = await h.request({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expectNoRawMarkup(res.body);
      expect(res.body).toContain("with Corp &lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img src=x onerror=alert(2)&gt;</a>");
    }
  });

  it("no provider: no buttons, no provider note, no Linked accounts section", async () => {
    for (const url of ["/login", "/register", "/invite"]) {
      const res = await none.request({ method: "GET", url });
      expect(res.body, url).not.toContain('class="button provider"');
      expect(res.body, url).not.toContain("data-provider-note");
    }
    const { cookie } = await none.register(uname("np"), GOOD_PASSWORD);
    const account = await none.request({ method: "GET", url: "/account", cookie });
    expect(account.statusCode).toBe(200);
    expect(account.body).not.toContain('id="identities"');
  });

  it("PASSWORD_LOGIN=off: /login, /register and /invite show the buttons without the password form; posting it is refused with 403 password_login_disabled", async () => {
    for (const url of ["/login", "/register", "/invite"]) {
      const res = await off.request({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).not.toContain('name="password"');
      expect(res.body, url).toContain('<a class="button provider" href="/api/auth/oauth/test-idp/start">');
    }
    // No form on the page carries a CSRF token: a stale or scripted post gets one made as the page would.
    const b = new WebClient(off);
    await b.get("/login");
    const csrf = () => csrfTokenFor(deriveKey(OFF_SECRET, "csrf"), `pre-session:${hashToken(b.jar.get("gatehouse_csrf")!)}`);
    const login = await b.post("/login", { _csrf: csrf(), username: "someone", password: GOOD_PASSWORD });
    expect(login.statusCode).toBe(403);
    expect(login.body).toContain("Password sign-in is turned off; sign in with an identity provider.");
    expect(login.body).toContain("Sign in with Test IdP");
    await b.get("/register");
    const register = await b.post("/register", { _csrf: csrf(), username: uname("off"), email: "off@example.test", password: GOOD_PASSWORD });
    expect(register.statusCode).toBe(403);
    expect(register.body).toContain("Password sign-in is turned off; sign in with an identity provider.");
    expect(register.body).not.toContain('name="password"');
  });

  it("on a proxied app host the buttons point at the portal's start URL, the return carried", async () => {
    const back = "http://app.example.test/deep?x=1";
    const res = await h.request({ method: "GET", url: `/.gatehouse/login?return=${encodeURIComponent(back)}`, headers: { host: "app.example.test" } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain(`<a class="button provider" href="${h.publicUrl}/api/auth/oauth/corp/start?return=${encodeURIComponent(back)}">Sign in with Corp `);
    expect(res.body).not.toContain('href="/.gatehouse/api/auth/oauth');
  });
});
