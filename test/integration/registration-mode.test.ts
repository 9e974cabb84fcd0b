import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/names.js";

const register = (h: Harness, body: Record<string, unknown>) => h.request({ method: "POST", url: "/api/auth/register", json: body });
const userCount = async (h: Harness) => (await h.gh.database.db.selectFrom("users").select("id").execute()).length;

describe.each(backendNames())("registration mode (%s)", (backend) => {
  describe("the default (no REGISTRATION): closed", () => {
    let h: Harness;
    beforeAll(async () => {
      // "" = unset: the shipped default, not the harness's `open`.
      h = await startHarness(backend, { REGISTRATION: "" });
    });
    afterAll(async () => h?.close());

    it("attack: self-registration on a fresh install — POST /api/auth/register answers 403 registration_closed and creates nothing", async () => {
      expect(h.gh.app.hasRoute({ method: "POST", url: "/api/auth/register" })).toBe(true);
      expect((await h.gh.settings.current()).registration).toBe("closed");
      const before = await userCount(h);
      const res = await register(h, { username: uname("walkin"), password: GOOD_PASSWORD, email: "walkin@example.test" });
      expect(res.statusCode).toBe(403);
      expect(res.json()).toEqual({ error: "Registration is closed", code: "registration_closed" });
      expect(sessionCookieFrom(res)).toBeNull();
      expect(await userCount(h)).toBe(before);
    });

    it("the sign-up page says registration is closed (403), its form creates nothing, and sign-in has no “Create an account” link", async () => {
      const b = new WebClient(h);
      const page = await b.get("/register");
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain('data-error="registration_closed"');
      expect(page.body).toContain("Ask an administrator for an account or an invitation.");
      const login = await b.get("/login");
      expect(login.statusCode).toBe(200);
      expect(login.body).not.toContain("Create an account");
      expect(login.body).not.toContain('href="/register"');
      const before = await userCount(h);
      const post = await b.post("/register", { username: uname("formie"), password: GOOD_PASSWORD });
      expect(post.statusCode).toBe(403);
      expect(post.body).toContain('data-error="registration_closed"');
      expect(await userCount(h)).toBe(before);
    });

    it("the quickstart still works: the one-time setup link creates the first superadmin while registration is closed", async () => {
      const first = await h.gh.firstSuperadmin.ensure(null);
      if (first.status !== "setup") throw new Error(`expected a setup link, got ${first.status}`);
      const res = await h.request({ method: "POST", url: "/api/setup", json: { token: first.token, username: "firstboss", password: GOOD_PASSWORD } });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json().user.role).toBe("superadmin");
      expect(sessionCookieFrom(res)).not.toBeNull();
    });

    it("a superadmin opens registration in the settings; the stored mode wins over the environment until changed back", async () => {
      const sup = await h.login("firstboss");
      const patch = (json: unknown) => h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json });
      const open = await patch({ registration: "open" });
      expect(open.statusCode, open.body).toBe(200);
      expect(open.json().registration).toBe("open");
      expect((await register(h, { username: uname("nowopen"), password: GOOD_PASSWORD })).statusCode).toBe(201);
      expect((await new WebClient(h).get("/login")).body).toContain("Create an account");
      const invite = await patch({ registration: "invite" });
      expect(invite.json().registration).toBe("invite");
      const refused = await register(h, { username: uname("noinvite"), password: GOOD_PASSWORD });
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe("registration_closed");
      const page = await new WebClient(h).get("/register");
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain("by invitation only");
      expect((await patch({ registration: "sometimes" })).statusCode).toBe(400);
      expect((await patch({ registrationEnabled: true })).statusCode).toBe(400);
      expect((await patch({ registration: "closed" })).json().registration).toBe("closed");
    });

    it("a stored value of the former boolean setting stays readable: true → open, false → closed; a stored mode wins", async () => {
      const db = h.gh.database.db;
      await db.deleteFrom("settings").execute();
      await db.insertInto("settings").values({ key: "registrationEnabled", value: "true", updated_at: 0, updated_by: null }).execute();
      h.clock.advance(10_000);
      expect((await h.gh.settings.current()).registration).toBe("open");
      await db.updateTable("settings").set({ value: "false" }).where("key", "=", "registrationEnabled").execute();
      h.clock.advance(10_000);
      expect((await h.gh.settings.current()).registration).toBe("closed");
      await db.updateTable("settings").set({ value: "true" }).where("key", "=", "registrationEnabled").execute();
      await db.insertInto("settings").values({ key: "registration", value: '"invite"', updated_at: 0, updated_by: null }).execute();
      h.clock.advance(10_000);
      expect((await h.gh.settings.current()).registration).toBe("invite");
      await db.deleteFrom("settings").execute();
      h.clock.advance(10_000);
      expect((await h.gh.settings.current()).registration).toBe("closed");
    });
  });

  describe("REGISTRATION=invite", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(backend, { REGISTRATION: "invite" });
    });
    afterAll(async () => h?.close());

    it("without an invitation: 403 registration_closed, on the API and the page", async () => {
      const res = await register(h, { username: uname("nope"), password: GOOD_PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(res.json().code).toBe("registration_closed");
      const page = await new WebClient(h).get("/register");
      expect(page.statusCode).toBe(403);
      expect(page.body).toContain("by invitation only");
      expect((await new WebClient(h).get("/login")).body).not.toContain("Create an account");
    });
  });

  describe("REGISTRATION=open with REGISTRATION_EMAIL_DOMAINS", () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness(backend, { REGISTRATION: "open", REGISTRATION_EMAIL_DOMAINS: "example.test, @Acme.test" });
    });
    afterAll(async () => h?.close());

    it("attack: registering without an email, or with another domain (even a look-alike subdomain), is refused with 403 email_domain_not_allowed", async () => {
      const before = await userCount(h);
      for (const email of [undefined, "", "mallory@evil.test", "mallory@example.test.evil.test", "mallory@sub.example.test", "mallory@notexample.test"]) {
        const res = await register(h, { username: uname("mal"), password: GOOD_PASSWORD, ...(email !== undefined ? { email } : {}) });
        expect(res.statusCode, `${email}: ${res.body}`).toBe(403);
        expect(res.json()).toEqual({ error: "Registration is open only to email addresses of the allowed domains", code: "email_domain_not_allowed", fields: ["email"] });
      }
      expect(await userCount(h)).toBe(before);
    });

    it("an address of a listed domain registers, whatever its case", async () => {
      const a = await register(h, { username: uname("ok"), password: GOOD_PASSWORD, email: `${uname("x")}@EXAMPLE.test` });
      expect(a.statusCode, a.body).toBe(201);
      const b = await register(h, { username: uname("ok"), password: GOOD_PASSWORD, email: `${uname("y")}@acme.test` });
      expect(b.statusCode, b.body).toBe(201);
    });

    it("the sign-up page explains a refused domain next to the email field", async () => {
      const b = new WebClient(h);
      expect((await b.get("/register")).statusCode).toBe(200);
      const res = await b.post("/register", { username: uname("pagey"), email: "pagey@evil.test", password: GOOD_PASSWORD });
      expect(res.statusCode).toBe(403);
      expect(res.body).toContain('id="f-email-error"');
      expect(res.body).toContain("Use an address of one of the domains this site accepts.");
    });
  });
});
