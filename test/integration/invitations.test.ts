import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, lastLink, MAIL_PUBLIC_URL, signedInAccount, startMailHarness, uname } from "../helpers/mail.js";

const DAY = 86_400_000;

describe.each(backendNames())("invitations: admin API and invited registration (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  // Registration stays at its default, closed: invitations work whatever the mode.
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { REGISTRATION: "", MAIL_PRODUCT_NAME: "Acme" }));
  });
  afterAll(async () => close());

  const account = (role: "user" | "admin" | "superadmin", withEmail = true) => signedInAccount(h, role, withEmail);
  const invite = (cookie: string, json: unknown, extra: Record<string, string> = {}) =>
    h.request({ method: "POST", url: "/api/admin/invitations", cookie, json, headers: extra });
  const register = (json: Record<string, unknown>, url = "/api/auth/register") => h.request({ method: "POST", url, json });
  const invitationsOf = async (email: string) => (await h.gh.database.db.selectFrom("invitations").selectAll().where("email_normalized", "=", email.toLowerCase()).execute());
  const auditOf = async (type: string) => (await h.gh.database.db.selectFrom("audit_events").selectAll().where("type", "=", type).orderBy("at", "desc").execute());

  it("a superadmin invites an admin by email: the link is mailed (PUBLIC_URL/invite#token=…), never answered; the invited person registers with it while registration is closed", async () => {
    const sup = await account("superadmin");
    const email = `${uname("ivy")}@Example.test`;
    const res = await invite(sup.cookie, { email, role: "admin" });
    expect(res.statusCode, res.body).toBe(201);
    const inv = res.json().invitation;
    expect(inv).toMatchObject({ email, role: "admin", status: "pending", createdBy: sup.id, usedAt: null, revokedAt: null });
    expect(Date.parse(inv.expiresAt) - Date.parse(inv.createdAt)).toBe(7 * DAY);
    expect(Object.keys(inv).some((k) => /token|link/i.test(k))).toBe(false);

    const { mail, token, link } = await lastLink(h, sink, email);
    expect(link).toBe(`${MAIL_PUBLIC_URL}/invite#token=${token}`);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mail.subject).toBe("You are invited to Acme");
    expect(mail.text).toContain("7 days");
    expect(res.body).not.toContain(token);
    // Stored only as its SHA-256.
    const [row] = await invitationsOf(email);
    expect(row?.token_hash).toBe(createHash("sha256").update(token).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(token);
    const created = (await auditOf("invitation_created")).find((e) => e.details.includes(inv.id));
    expect(created?.actor_id).toBe(sup.id);
    expect(JSON.parse(created?.details ?? "{}")).toMatchObject({ invitationId: inv.id, role: "admin", via: "admin" });

    // Registration is closed for everyone else.
    expect((await register({ username: uname("walk"), password: GOOD_PASSWORD })).json().code).toBe("registration_closed");

    const name = uname("ivy");
    const reg = await register({ invitation: token, username: name, password: GOOD_PASSWORD });
    expect(reg.statusCode, reg.body).toBe(201);
    expect(reg.json().user).toMatchObject({ username: name, email, emailVerified: true, role: "admin" });
    const cookie = sessionCookieFrom(reg);
    expect(cookie).not.toBeNull();
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: cookie! })).json().user.role).toBe("admin");
    const used = (await auditOf("invitation_used")).find((e) => e.details.includes(inv.id));
    expect(used?.user_id).toBe(reg.json().user.id);
    expect(JSON.parse(used?.details ?? "{}")).toMatchObject({ invitationId: inv.id, role: "admin", invitedBy: sup.id });

    const list = await h.request({ method: "GET", url: "/api/admin/invitations", cookie: sup.cookie });
    expect(list.statusCode).toBe(200);
    expect(list.json().invitations.find((i: { id: string }) => i.id === inv.id)).toMatchObject({ status: "used", usedBy: reg.json().user.id });
    expect(list.body).not.toContain(token);
    const reads = (await auditOf("admin_access")).filter((e) => e.actor_id === sup.id && JSON.parse(e.details).what === "invitations");
    expect(reads).toHaveLength(1);
  });

  it("attack: invitation replay — a used link is refused, and of two concurrent uses exactly one creates an account", async () => {
    const admin = await account("admin");
    const email = `${uname("rep")}@example.test`;
    expect((await invite(admin.cookie, { email })).statusCode).toBe(201);
    const { token } = await lastLink(h, sink, email);
    const [a, b] = await Promise.all([
      register({ invitation: token, username: uname("racea"), password: GOOD_PASSWORD }),
      register({ invitation: token, username: uname("raceb"), password: GOOD_PASSWORD }),
    ]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([201, 400]);
    const loser = a.statusCode === 400 ? a : b;
    expect(loser.json()).toEqual({ error: "This link is invalid, was already used or has expired", code: "invalid_token", fields: ["invitation"] });
    const again = await register({ invitation: token, username: uname("later"), password: GOOD_PASSWORD });
    expect(again.statusCode).toBe(400);
    expect(again.json().code).toBe("invalid_token");
    expect(await h.gh.database.db.selectFrom("users").select("id").where("email_normalized", "=", email).execute()).toHaveLength(1);
  });

  it("attack: expired invitation — after 7 days the link is refused", async () => {
    const admin = await account("admin");
    const email = `${uname("exp")}@example.test`;
    await invite(admin.cookie, { email });
    const { token } = await lastLink(h, sink, email);
    h.clock.advance(7 * DAY + 1000);
    const res = await register({ invitation: token, username: uname("late"), password: GOOD_PASSWORD });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_token");
    const list = await h.request({ method: "GET", url: "/api/admin/invitations", cookie: (await account("admin")).cookie });
    expect(list.json().invitations.find((i: { email: string }) => i.email === email)?.status).toBe("expired");
  });

  it("attack: admin invites a superadmin (or an admin) — 403 forbidden, nothing stored, nothing mailed; an admin API token cannot choose a role at all", async () => {
    const admin = await account("admin");
    for (const role of ["superadmin", "admin"]) {
      const email = `${uname("esc")}@example.test`;
      const res = await invite(admin.cookie, { email, role });
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().code).toBe("forbidden");
      expect(await invitationsOf(email)).toHaveLength(0);
      expect(await inbox(h, sink, email)).toHaveLength(0);
    }
    const made = await h.request({ method: "POST", url: "/api/account/tokens", cookie: admin.cookie, json: { name: "inv", scopes: ["admin:write"] } });
    const bearer = { authorization: `Bearer ${made.json().secret as string}`, origin: null } as unknown as Record<string, string>;
    const viaToken = await h.request({ method: "POST", url: "/api/admin/invitations", json: { email: `${uname("tok")}@example.test`, role: "user" }, headers: bearer });
    expect(viaToken.statusCode).toBe(403);
    const plain = await h.request({ method: "POST", url: "/api/admin/invitations", json: { email: `${uname("tok")}@example.test` }, headers: bearer });
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json().invitation.role).toBe("user");
  });

  it("attack: a superadmin's privileged invitation needs a recent re-authentication", async () => {
    const sup = await account("superadmin");
    h.clock.advance(11 * 60_000);
    const res = await invite(sup.cookie, { email: `${uname("stale")}@example.test`, role: "admin" });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe("reauth_required");
    expect((await invite(sup.cookie, { email: `${uname("fresh")}@example.test` })).statusCode).toBe(201);
  });

  it("attack: invitation token in a query string is not accepted, and never logged", async () => {
    const admin = await account("admin");
    const email = `${uname("qs")}@example.test`;
    await invite(admin.cookie, { email });
    const { token } = await lastLink(h, sink, email);
    const inQuery = await h.request({ method: "POST", url: `/api/auth/register?invitation=${token}`, json: { username: uname("qs"), password: GOOD_PASSWORD } });
    expect(inQuery.statusCode).toBe(400);
    expect(inQuery.json().code).toBe("invalid_request");
    const both = await h.request({ method: "POST", url: `/api/auth/register?invitation=${token}`, json: { invitation: token, username: uname("qs"), password: GOOD_PASSWORD } });
    expect(both.statusCode).toBe(400);
    const page = await h.request({ method: "GET", url: `/invite?token=${token}` });
    expect(page.statusCode).toBe(400);
    const form = await h.request({ method: "POST", url: `/invite?token=${token}`, payload: `username=x&password=y`, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form.statusCode).toBeGreaterThanOrEqual(400);
    // Still unused: none of those requests spent it.
    expect((await invitationsOf(email))[0]?.used_at).toBeNull();
    const ok = await register({ invitation: token, username: uname("qs"), password: GOOD_PASSWORD });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(h.logs.text()).not.toContain(token);
  });

  it("attack: revoked invitation — DELETE revokes (audited), the link then fails, and revoking twice is 404", async () => {
    const admin = await account("admin");
    const email = `${uname("rev")}@example.test`;
    const id = (await invite(admin.cookie, { email })).json().invitation.id as string;
    const { token } = await lastLink(h, sink, email);
    const del = await h.request({ method: "DELETE", url: `/api/admin/invitations/${id}`, cookie: admin.cookie });
    expect(del.statusCode).toBe(204);
    const revoked = (await auditOf("invitation_revoked")).find((e) => e.details.includes(id));
    expect(revoked?.actor_id).toBe(admin.id);
    const res = await register({ invitation: token, username: uname("rev"), password: GOOD_PASSWORD });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_token");
    expect((await h.request({ method: "DELETE", url: `/api/admin/invitations/${id}`, cookie: admin.cookie })).statusCode).toBe(404);
    expect((await h.request({ method: "DELETE", url: `/api/admin/invitations/00000000-0000-4000-8000-000000000000`, cookie: admin.cookie })).statusCode).toBe(404);
  });

  it("an admin cannot revoke a superadmin's admin invitation; a user cannot list or invite", async () => {
    const sup = await account("superadmin");
    const admin = await account("admin");
    const user = await account("user");
    const id = (await invite(sup.cookie, { email: `${uname("adm")}@example.test`, role: "admin" })).json().invitation.id as string;
    expect((await h.request({ method: "DELETE", url: `/api/admin/invitations/${id}`, cookie: admin.cookie })).statusCode).toBe(403);
    expect((await h.request({ method: "GET", url: "/api/admin/invitations", cookie: user.cookie })).statusCode).toBe(403);
    expect((await invite(user.cookie, { email: `${uname("u")}@example.test` })).statusCode).toBe(403);
  });

  it("a refused username or password leaves the invitation usable; the email is fixed by the invitation", async () => {
    const admin = await account("admin");
    const email = `${uname("fix")}@example.test`;
    await invite(admin.cookie, { email });
    const { token } = await lastLink(h, sink, email);
    const weak = await register({ invitation: token, username: uname("fix"), password: "short" });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().code).toBe("password_too_short");
    const taken = await register({ invitation: token, username: admin.name, password: GOOD_PASSWORD });
    expect(taken.statusCode).toBe(409);
    const other = await register({ invitation: token, username: uname("fix"), password: GOOD_PASSWORD, email: "someone-else@example.test" });
    expect(other.statusCode).toBe(400);
    expect(other.json()).toMatchObject({ code: "invalid_request", fields: ["email"] });
    const ok = await register({ invitation: token, username: uname("fix"), password: GOOD_PASSWORD, email: email.toUpperCase() });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().user.email).toBe(email);
  });

  it("bad input: an address already registered is 409, a malformed address or unknown role 400, a made-up token 400", async () => {
    const admin = await account("admin");
    const taken = await invite(admin.cookie, { email: `${admin.name}@EXAMPLE.test` });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().code).toBe("email_taken");
    expect((await invite(admin.cookie, { email: "not an address" })).json()).toMatchObject({ code: "invalid_request", fields: ["email"] });
    expect((await invite(admin.cookie, { email: `${uname("r")}@example.test`, role: "emperor" })).statusCode).toBe(400);
    expect((await invite(admin.cookie, { email: `${uname("r")}@example.test`, token: "x" })).statusCode).toBe(400);
    for (const invitation of ["", "x".repeat(43), "a".repeat(256), "../../etc"]) {
      const res = await register({ invitation, username: uname("fake"), password: GOOD_PASSWORD });
      expect(res.statusCode, invitation).toBe(400);
      expect(res.json().code).toBe("invalid_token");
    }
  });
});

describe.each(backendNames())("invitations in the other registration modes (%s)", (backend) => {
  it("an invitation also works when registration is `invite` or `open`", async () => {
    for (const mode of ["invite", "open"]) {
      const { h, sink, close } = await startMailHarness(backend, { REGISTRATION: mode });
      try {
        const name = uname("sup");
        await h.gh.accounts.register({ username: name, password: GOOD_PASSWORD }, { ip: "127.0.0.1", userAgent: "test" }, { role: "superadmin", signIn: false });
        const sup = await h.login(name);
        const email = `${uname(mode)}@example.test`;
        expect((await h.request({ method: "POST", url: "/api/admin/invitations", cookie: sup.cookie, json: { email } })).statusCode).toBe(201);
        const { token } = await lastLink(h, sink, email);
        const res = await h.request({ method: "POST", url: "/api/auth/register", json: { invitation: token, username: uname("m"), password: GOOD_PASSWORD } });
        expect(res.statusCode, `${mode}: ${res.body}`).toBe(201);
        expect(res.json().user.email).toBe(email);
      } finally {
        await close();
      }
    }
  });
});

describe.each(backendNames())("invitations without a mail transport (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend, { NODE_ENV: "production", PUBLIC_URL: "https://auth.example.test" });
  });
  afterAll(async () => h?.close());

  it("the API refuses with 409 mail_unavailable and stores nothing (the CLI prints the link instead)", async () => {
    const sup = await h.account("superadmin", uname("sup"));
    const res = await h.request({ method: "POST", url: "/api/admin/invitations", cookie: sup.cookie, json: { email: "nomail@example.test" } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({ error: "Outgoing mail is not configured, so no link can be sent", code: "mail_unavailable" });
    expect(await h.gh.database.db.selectFrom("invitations").select("id").execute()).toHaveLength(0);
  });
});
