import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";

let seq = 0;

describe.each(backendNames())("attack: an admin deletes or blocks another admin (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  const account = (role: Role) => h.account(role, `${role.slice(0, 3)}${++seq}aa${process.pid % 1000}`);
  const me = (cookie: string) => h.request({ method: "GET", url: "/api/auth/me", cookie });

  async function browserOf(acct: { cookie: string }): Promise<WebClient> {
    const b = new WebClient(h);
    const [k, v] = acct.cookie.split("=") as [string, string];
    b.jar.set(k, v);
    return b;
  }

  /** The victim admin is untouched: same role, not blocked, still signed in. */
  async function expectUntouched(victim: { id: string; cookie: string }) {
    const row = await h.gh.stores.users.findById(victim.id);
    expect(row).toMatchObject({ role: "admin", blocked: false });
    expect((await me(victim.cookie)).statusCode).toBe(200);
  }

  it("admin API: blocking, deleting, signing out, unlocking or mailing a reset link to another admin is 403 forbidden", async () => {
    const attacker = await account("admin");
    const victim = await account("admin");
    const attempts = [
      { method: "PATCH" as const, url: `/api/admin/users/${victim.id}`, json: { blocked: true } },
      { method: "PATCH" as const, url: `/api/admin/users/${victim.id}`, json: { role: "user" } },
      { method: "DELETE" as const, url: `/api/admin/users/${victim.id}` },
      { method: "DELETE" as const, url: `/api/admin/users/${victim.id}/sessions` },
      { method: "POST" as const, url: `/api/admin/users/${victim.id}/unlock` },
      { method: "POST" as const, url: `/api/admin/users/${victim.id}/reset-link` },
    ];
    for (const attempt of attempts) {
      const res = await h.request({ ...attempt, cookie: attacker.cookie });
      expect(res.statusCode, `${attempt.method} ${attempt.url} ${JSON.stringify(attempt.json ?? {})}`).toBe(403);
      expect(res.json().code).toBe("forbidden");
    }
    await expectUntouched(victim);
    expect(await h.gh.stores.audit.list({ userId: victim.id, type: "user_blocked", limit: 5 })).toEqual([]);
  });

  it("admin API with an admin:write token: blocking another admin is 403 forbidden", async () => {
    const attacker = await account("admin");
    const victim = await account("admin");
    const created = await h.request({ method: "POST", url: "/api/account/tokens", cookie: attacker.cookie, json: { name: "ops", scopes: ["admin:write"] } });
    expect(created.statusCode).toBe(201);
    const authorization = `Bearer ${created.json().secret as string}`;
    const block = await h.request({ method: "PATCH", url: `/api/admin/users/${victim.id}`, json: { blocked: true }, headers: { authorization } });
    expect(block.statusCode).toBe(403);
    expect(block.json().code).toBe("forbidden");
    const signOut = await h.request({ method: "DELETE", url: `/api/admin/users/${victim.id}/sessions`, headers: { authorization } });
    expect(signOut.statusCode).toBe(403);
    await expectUntouched(victim);
  });

  it("dashboard forms: blocking, signing out, unlocking or mailing a reset link to another admin is refused with 403", async () => {
    const attacker = await account("admin");
    const victim = await account("admin");
    const b = await browserOf(attacker);
    const page = await b.get(`/admin/users/${victim.id}`);
    expect(page.statusCode).toBe(200);
    // The page offers no action the server would refuse.
    expect(page.body).not.toContain(`/admin/users/${victim.id}/block`);
    expect(page.body).not.toContain(`/admin/users/${victim.id}/sessions/revoke`);
    for (const [path, fields] of [
      ["block", { blocked: "true" }],
      ["sessions/revoke", {}],
      ["unlock", {}],
      ["reset-link", {}],
    ] as const) {
      const res = await b.post(`/admin/users/${victim.id}/${path}`, fields);
      expect(res.statusCode, path).toBe(403);
      expect(res.body, path).toContain("You are not allowed to do this");
    }
    await expectUntouched(victim);
  });

  it("the same admin still manages plain users, and a superadmin still manages admins (the refusal is about the target)", async () => {
    const admin = await account("admin");
    const user = await account("user");
    expect((await h.request({ method: "PATCH", url: `/api/admin/users/${user.id}`, json: { blocked: true }, cookie: admin.cookie })).statusCode).toBe(200);
    expect((await h.request({ method: "DELETE", url: `/api/admin/users/${user.id}`, cookie: admin.cookie })).statusCode).toBe(204);
    const sup = await account("superadmin");
    const other = await account("admin");
    expect((await h.request({ method: "PATCH", url: `/api/admin/users/${other.id}`, json: { blocked: true }, cookie: sup.cookie })).statusCode).toBe(200);
    const b = await browserOf(sup);
    await b.get(`/admin/users/${other.id}`);
    expect((await b.post(`/admin/users/${other.id}/block`, { blocked: "false" })).statusCode).toBe(303);
    expect((await h.request({ method: "DELETE", url: `/api/admin/users/${other.id}`, cookie: sup.cookie })).statusCode).toBe(204);
  });

  it("an admin still acts on their own account where that makes sense: signs out their sessions, cannot block themself", async () => {
    const admin = await account("admin");
    const block = await h.request({ method: "PATCH", url: `/api/admin/users/${admin.id}`, json: { blocked: true }, cookie: admin.cookie });
    expect(block.statusCode).toBe(403);
    const revoke = await h.request({ method: "DELETE", url: `/api/admin/users/${admin.id}/sessions`, cookie: admin.cookie });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json()).toEqual({ revoked: 1 });
  });
});
