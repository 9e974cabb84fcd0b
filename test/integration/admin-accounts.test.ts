import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { inbox, lastLink, MAIL_PUBLIC_URL, signedInAccount, startMailHarness, uname } from "../helpers/mail.js";

const DAY = 86_400_000;
const NEW_PASSWORD = "harbor-velvet-quartz-77";

describe.each(backendNames())("admin-made accounts and admin-sent reset links (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { REGISTRATION: "", MAIL_PRODUCT_NAME: "Acme" }));
  });
  afterAll(async () => close());

  const account = (role: "user" | "admin" | "superadmin", withEmail = true) => signedInAccount(h, role, withEmail);
  const create = (cookie: string, json: unknown) => h.request({ method: "POST", url: "/api/admin/users", cookie, json });
  const resetLink = (cookie: string, id: string) => h.request({ method: "POST", url: `/api/admin/users/${id}/reset-link`, cookie });
  const login = (username: string, password: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username, password } });

  it("an admin creates an account: no password exists until its owner chooses one with the mailed 7-day link; audited with the admin as actor", async () => {
    const admin = await account("admin");
    const name = uname("made");
    const email = `${name}@example.test`;
    const res = await create(admin.cookie, { username: name, email });
    expect(res.statusCode, res.body).toBe(201);
    const user = res.json().user;
    expect(user).toMatchObject({ username: name, email, role: "user", emailVerified: false });
    const row = await h.gh.database.db.selectFrom("users").select(["password_hash"]).where("id", "=", user.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toBeNull();
    // Nobody can sign in to it yet, with any password.
    expect((await login(name, GOOD_PASSWORD)).statusCode).toBe(401);
    expect((await login(name, "")).statusCode).toBe(401);

    const { mail, token, link } = await lastLink(h, sink, email);
    expect(mail.subject).toBe("Your Acme account is ready");
    expect(link).toBe(`${MAIL_PUBLIC_URL}/reset-password#token=${token}`);
    expect(mail.text).toContain("7 days");
    expect(res.body).not.toContain(token);
    const events = await h.gh.database.db.selectFrom("audit_events").selectAll().where("type", "=", "register").where("user_id", "=", user.id).execute();
    expect(events).toHaveLength(1);
    expect(events[0]?.actor_id).toBe(admin.id);
    expect(JSON.parse(events[0]?.details ?? "{}")).toEqual({ via: "admin", role: "user" });

    // Six days later the link still works; it sets the first password and verifies the address.
    h.clock.advance(6 * DAY);
    const set = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } });
    expect(set.statusCode, set.body).toBe(204);
    const signedIn = await login(name, NEW_PASSWORD);
    expect(signedIn.statusCode).toBe(200);
    expect(signedIn.json().user.emailVerified).toBe(true);
    expect((await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: GOOD_PASSWORD } })).statusCode).toBe(400);
  });

  it("attack: an expired set-password link (after 7 days) is refused", async () => {
    const admin = await account("admin");
    const name = uname("slow");
    expect((await create(admin.cookie, { username: name, email: `${name}@example.test` })).statusCode).toBe(201);
    const { token } = await lastLink(h, sink, `${name}@example.test`);
    h.clock.advance(7 * DAY + 1000);
    const res = await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("invalid_token");
  });

  it("attack: an admin creates an admin or superadmin account — 403, nothing created; a superadmin may; an admin never sets a password", async () => {
    const admin = await account("admin");
    for (const role of ["admin", "superadmin"]) {
      const name = uname("esc");
      const res = await create(admin.cookie, { username: name, email: `${name}@example.test`, role });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe("forbidden");
      expect(await h.gh.database.db.selectFrom("users").select("id").where("username", "=", name).execute()).toHaveLength(0);
    }
    const withPassword = await create(admin.cookie, { username: uname("pw"), email: `${uname("pw")}@example.test`, password: GOOD_PASSWORD });
    expect(withPassword.statusCode).toBe(400);
    const sup = await account("superadmin");
    const name = uname("newadm");
    const ok = await create(sup.cookie, { username: name, email: `${name}@example.test`, role: "admin" });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(ok.json().user.role).toBe("admin");
  });

  it("bad input: a taken username or address is 409, a missing email or bad username 400", async () => {
    const admin = await account("admin");
    expect((await create(admin.cookie, { username: admin.name, email: `${uname("t")}@example.test` })).json().code).toBe("username_taken");
    expect((await create(admin.cookie, { username: uname("t"), email: `${admin.name}@example.test` })).json().code).toBe("email_taken");
    expect((await create(admin.cookie, { username: uname("t") })).statusCode).toBe(400);
    expect((await create(admin.cookie, { username: "no spaces allowed", email: `${uname("t")}@example.test` })).json()).toMatchObject({ code: "invalid_request", fields: ["username"] });
  });

  it("an admin sends a user a password-reset link (60 minutes), audited; the user resets with it", async () => {
    const admin = await account("admin");
    const user = await account("user");
    const email = `${user.name}@example.test`;
    const res = await resetLink(admin.cookie, user.id);
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ status: "sent" });
    const { mail, token } = await lastLink(h, sink, email);
    expect(mail.subject).toBe("Reset your Acme password");
    expect(res.body).not.toContain(token);
    const events = await h.gh.database.db.selectFrom("audit_events").selectAll().where("type", "=", "password_reset_requested").where("user_id", "=", user.id).execute();
    expect(events.map((e) => e.actor_id)).toEqual([admin.id]);
    expect((await h.request({ method: "POST", url: "/api/auth/reset-password", json: { token, password: NEW_PASSWORD } })).statusCode).toBe(204);
    expect((await login(user.name, NEW_PASSWORD)).statusCode).toBe(200);
  });

  it("attack: an admin sends a reset link to a superadmin — 403 and nothing mailed; no address 409; unknown 404; a user 403", async () => {
    const admin = await account("admin");
    const sup = await account("superadmin");
    const refused = await resetLink(admin.cookie, sup.id);
    expect(refused.statusCode).toBe(403);
    expect(await inbox(h, sink, `${sup.name}@example.test`)).toHaveLength(0);
    const noEmail = await account("user", false);
    expect((await resetLink(admin.cookie, noEmail.id)).json()).toEqual({ error: "This user has no email address", code: "user_has_no_email" });
    expect((await resetLink(admin.cookie, "00000000-0000-4000-8000-000000000000")).statusCode).toBe(404);
    const user = await account("user");
    expect((await resetLink(user.cookie, admin.id)).statusCode).toBe(403);
    // A superadmin may.
    expect((await resetLink(sup.cookie, admin.id)).statusCode).toBe(202);
  });

  it("RL-05: reset links to one account are capped at 3 per 15 minutes (429 beyond)", async () => {
    const admin = await account("admin");
    const user = await account("user");
    for (let i = 0; i < 3; i++) expect((await resetLink(admin.cookie, user.id)).statusCode).toBe(202);
    const fourth = await resetLink(admin.cookie, user.id);
    expect(fourth.statusCode).toBe(429);
    expect(fourth.json().code).toBe("rate_limited");
  });

  it("the created account cannot be signed in to before its password is set, even through a session cookie of the creator", async () => {
    const admin = await account("admin");
    const name = uname("nosess");
    const res = await create(admin.cookie, { username: name, email: `${name}@example.test` });
    expect(sessionCookieFrom(res)).toBeNull();
  });
});
