import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";

describe.each(backendNames())("admin settings: superadmin only, sudo to change, applied without a restart (%s)", (backend) => {
  let h: Harness;
  const account = (role: Role) => h.account(role);
  const patch = (json: unknown, cookie: string) => h.request({ method: "PATCH", url: "/api/admin/settings", json, cookie });

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("only a superadmin reads the settings; defaults follow the environment (the harness sets REGISTRATION=open)", async () => {
    const admin = await account("admin");
    const sup = await account("superadmin");
    expect((await h.request({ method: "GET", url: "/api/admin/settings", cookie: admin.cookie })).statusCode).toBe(403);
    const res = await h.request({ method: "GET", url: "/api/admin/settings", cookie: sup.cookie });
    expect(res.json()).toEqual({
      registration: "open",
      emailVerificationRequired: false,
      sessionIdleMinutes: 30,
      sessionAbsoluteMinutes: 720,
      sessionRememberDays: 30,
      loginMethods: ["password"],
    });
  });

  it("closing registration answers 403 registration_closed at once, and is audited", async () => {
    const sup = await account("superadmin");
    const res = await patch({ registration: "closed" }, sup.cookie);
    expect(res.statusCode).toBe(200);
    const reg = await h.request({ method: "POST", url: "/api/auth/register", json: { username: "latecomer", password: GOOD_PASSWORD } });
    expect(reg.statusCode).toBe(403);
    expect(reg.json().code).toBe("registration_closed");
    const events = await h.gh.stores.audit.list({ type: "settings_changed", limit: 5 });
    expect(events[0]?.details).toEqual({ keys: "registration" });
    expect(events[0]?.actorId).toBe(sup.id);
    expect((await patch({ registration: "open" }, sup.cookie)).statusCode).toBe(200);
    const stored = await h.gh.database.db.selectFrom("settings").selectAll().execute();
    expect(stored.map((r) => r.key)).toContain("registration");
  });

  it("a shorter idle timeout applies to existing sessions on their next request", async () => {
    const sup = await account("superadmin");
    const user = await account("user");
    expect((await patch({ sessionIdleMinutes: 5 }, sup.cookie)).json().sessionIdleMinutes).toBe(5);
    h.clock.advance(6 * 60_000);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: user.cookie })).statusCode).toBe(401);
    // The superadmin's own session idled out too; a fresh one restores the default.
    expect((await patch({ sessionIdleMinutes: 30 }, sup.cookie)).statusCode).toBe(401);
    expect((await patch({ sessionIdleMinutes: 30 }, (await account("superadmin")).cookie)).statusCode).toBe(200);
  });

  it("refuses invalid settings and unknown keys with 400, changing nothing", async () => {
    const sup = await account("superadmin");
    for (const body of [{ sessionIdleMinutes: 0 }, { sessionIdleMinutes: 800, sessionAbsoluteMinutes: 700 }, { loginMethods: [] }, { loginMethods: ["magic"] }, { adminPassword: "x" }, {}]) {
      expect((await patch(body, sup.cookie)).statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it("changing settings needs a re-authentication within 10 minutes", async () => {
    const sup = await account("superadmin");
    // Stay active (admins idle out after 15 minutes) while the sudo window closes.
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: sup.cookie })).statusCode).toBe(200);
    }
    const stale = await patch({ emailVerificationRequired: true }, sup.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
  });
});
