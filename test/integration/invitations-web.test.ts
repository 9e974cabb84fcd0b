import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { csrfOf, formBody, WebClient } from "../helpers/web-client.js";
import { lastLink, startMailHarness, uname } from "../helpers/mail.js";

describe.each(backendNames())("invitations and admin-made accounts in the dashboard, and the /invite page (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { REGISTRATION: "" }));
  });
  afterAll(async () => close());

  async function browser(role: "user" | "admin" | "superadmin") {
    const name = uname(role.slice(0, 3));
    const { user } = await h.gh.accounts.register({ username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, { ip: "127.0.0.1", userAgent: "test" }, { role, signIn: false });
    const b = new WebClient(h);
    await b.get("/login");
    const res = await b.post("/login", { username: name, password: GOOD_PASSWORD });
    expect(res.statusCode).toBe(303);
    return { b, id: user.id, name };
  }
  const rowsFor = async (email: string) => h.gh.database.db.selectFrom("invitations").selectAll().where("email_normalized", "=", email).execute();

  it("an admin's page: invite and create-account forms offering only the user role, the list, and the nav link; a user gets 403", async () => {
    const { b } = await browser("admin");
    const page = await b.get("/admin/invitations");
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('action="/admin/invitations"');
    expect(page.body).toContain('action="/admin/users"');
    expect(page.body).toContain('<option value="user" selected>user</option>');
    expect(page.body).not.toContain('<option value="admin"');
    expect(page.body).toContain('href="/admin/invitations" aria-current="page"');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const { b: user } = await browser("user");
    expect((await user.get("/admin/invitations")).statusCode).toBe(403);
  });

  it("inviting from the dashboard: without the CSRF token nothing happens; with it the invitation is mailed, listed and revocable", async () => {
    const { b } = await browser("admin");
    await b.get("/admin/invitations");
    const email = `${uname("web")}@example.test`;
    const forged = await h.request({
      method: "POST",
      url: "/admin/invitations",
      payload: formBody({ email, role: "user" }),
      headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
    });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('data-error="csrf"');
    expect(await rowsFor(email)).toHaveLength(0);

    const sent = await b.post("/admin/invitations", { email, role: "user" });
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe("/admin/invitations?notice=invitation_sent");
    const listed = await b.get("/admin/invitations?notice=invitation_sent");
    expect(listed.body).toContain("The invitation was sent.");
    expect(listed.body).toContain(email);
    expect(listed.body).toContain('data-status="pending"');
    const { token } = await lastLink(h, sink, email);
    expect(listed.body).not.toContain(token);

    const [row] = await rowsFor(email);
    const revoke = await b.post(`/admin/invitations/${row!.id}/revoke`, {});
    expect(revoke.statusCode).toBe(303);
    expect(revoke.headers.location).toBe("/admin/invitations?notice=invitation_revoked");
    expect((await rowsFor(email))[0]?.revoked_at).not.toBeNull();
    expect((await b.get("/admin/invitations")).body).toContain('data-status="revoked"');
  });

  it("attack: an admin invites an admin from the dashboard by editing the form — refused (403), nothing stored", async () => {
    const { b } = await browser("admin");
    await b.get("/admin/invitations");
    const email = `${uname("forge")}@example.test`;
    const res = await b.post("/admin/invitations", { email, role: "superadmin" });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain("Only a superadmin can give a role above user.");
    expect(await rowsFor(email)).toHaveLength(0);
  });

  it("a superadmin invites an admin behind sudo: a stale session must type its password first", async () => {
    const { b } = await browser("superadmin");
    const page = await b.get("/admin/invitations");
    expect(page.body).toContain('<option value="admin"');
    h.clock.advance(11 * 60_000);
    await b.get("/admin/invitations");
    const email = `${uname("sudo")}@example.test`;
    const stale = await b.post("/admin/invitations", { email, role: "admin" });
    expect(stale.statusCode).toBe(403);
    expect(stale.body).toContain("Please confirm your password to continue.");
    expect(await rowsFor(email)).toHaveLength(0);
    const ok = await b.post("/admin/invitations", { email, role: "admin", password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(303);
    expect((await rowsFor(email))[0]?.role).toBe("admin");
  });

  it("creating an account from the dashboard mails a set-password link and opens the user's page; the user page sends a reset link", async () => {
    const { b } = await browser("admin");
    await b.get("/admin/invitations");
    const name = uname("dash");
    const email = `${name}@example.test`;
    const res = await b.post("/admin/users", { username: name, email, role: "user" });
    expect(res.statusCode).toBe(303);
    const id = (await h.gh.stores.users.findByLogin({ username: name }))!.id;
    expect(res.headers.location).toBe(`/admin/users/${id}?notice=user_created`);
    const { mail } = await lastLink(h, sink, email);
    expect(mail.subject).toContain("account is ready");
    await b.get("/admin/invitations");
    const taken = await b.post("/admin/users", { username: name, email: `${uname("x")}@example.test` });
    expect(taken.statusCode).toBe(409);
    expect(taken.body).toContain("This username is already taken.");

    const userPage = await b.get(`/admin/users/${id}`);
    expect(userPage.body).toContain(`action="/admin/users/${id}/reset-link"`);
    const sent = await b.post(`/admin/users/${id}/reset-link`, {});
    expect(sent.statusCode).toBe(303);
    expect(sent.headers.location).toBe(`/admin/users/${id}?notice=reset_link_sent`);
    const { mail: reset } = await lastLink(h, sink, email);
    expect(reset.subject).toBe("Reset your Gatehouse password");
    const audited = await h.gh.database.db.selectFrom("audit_events").select("actor_id").where("type", "=", "password_reset_requested").where("user_id", "=", id).execute();
    expect(audited).toHaveLength(1);
  });

  it("the /invite page: the token field is filled by the nonce'd external script from the fragment, with a paste field without JavaScript; no Referer", async () => {
    const b = new WebClient(h);
    const page = await b.get("/invite");
    expect(page.statusCode).toBe(200);
    expect(page.headers["referrer-policy"]).toBe("no-referrer");
    expect(page.body).toContain("data-token-box");
    expect(page.body).toMatch(/<input id="f-invitation" name="invitation" type="text"[^>]*data-fragment-token=""/);
    expect(page.body).toMatch(/<script[^>]+src="\/assets\/gatehouse\.js\?v=[^"]+"[^>]*nonce="[^"]+"|<script[^>]+nonce="[^"]+"[^>]+src="\/assets\/gatehouse\.js/);
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(page.body).not.toContain('name="email"');
  });

  it("accepting an invitation on /invite (JavaScript off: the pasted code) signs the new user in; a bad code says so and keeps the form", async () => {
    const { b: admin } = await browser("admin");
    await admin.get("/admin/invitations");
    const email = `${uname("acc")}@example.test`;
    expect((await admin.post("/admin/invitations", { email })).statusCode).toBe(303);
    const { token } = await lastLink(h, sink, email);

    const b = new WebClient(h);
    await b.get("/invite");
    const name = uname("newbie");
    const bad = await b.post("/invite", { invitation: "x".repeat(43), username: name, password: GOOD_PASSWORD });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain("This invitation is invalid, was already used, was revoked or has expired.");
    const forged = await h.request({
      method: "POST",
      url: "/invite",
      payload: formBody({ invitation: token, username: name, password: GOOD_PASSWORD }),
      headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin" },
    });
    expect(forged.statusCode).toBe(403);
    expect((await rowsFor(email))[0]?.used_at).toBeNull();
    const ok = await b.post("/invite", { invitation: token, username: name, password: GOOD_PASSWORD, _csrf: csrfOf(b.lastPage)! });
    expect(ok.statusCode, ok.body).toBe(303);
    expect(ok.headers.location).toBe("/account");
    const account = await b.get("/account");
    expect(account.statusCode).toBe(200);
    expect(account.body).toContain(name);
    expect((await h.gh.stores.users.findByLogin({ username: name }))?.email).toBe(email);
  });
});
