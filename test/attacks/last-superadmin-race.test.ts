import type { LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";

/** Rounds per race: each fires both requests at once against two fresh superadmins. */
const ROUNDS = 20;

type Boss = { cookie: string; id: string; name: string };

describe.each(backendNames())("attack: concurrent removals leave no superadmin (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  /** Two fresh superadmins, and nobody else holding the role. */
  async function pair(): Promise<[Boss, Boss]> {
    const a = await h.account("superadmin");
    const b = await h.account("superadmin");
    await h.gh.database.db.updateTable("users").set({ role: "user" }).where("role", "=", "superadmin").where("id", "not in", [a.id, b.id]).execute();
    return [a, b];
  }

  async function activeSuperadmins(): Promise<number> {
    const rows = await h.gh.database.db.selectFrom("users").select("id").where("role", "=", "superadmin").where("blocked", "=", 0).execute();
    return rows.length;
  }

  const patch = (boss: Boss, id: string, json: unknown) => h.request({ method: "PATCH", url: `/api/admin/users/${id}`, cookie: boss.cookie, json });
  const remove = (boss: Boss, id: string) => h.request({ method: "DELETE", url: `/api/admin/users/${id}`, cookie: boss.cookie });
  const deleteOwn = (boss: Boss) => h.request({ method: "DELETE", url: "/api/account", cookie: boss.cookie, json: { password: GOOD_PASSWORD } });

  /** The refusal the loser must see: 409 `last_superadmin` (JSON from the API, the error shown on the dashboard page). */
  function refusedAsLast(res: LightMyRequestResponse): boolean {
    if (res.statusCode !== 409) return false;
    const html = String(res.headers["content-type"] ?? "").startsWith("text/html");
    return html ? res.body.includes("The last superadmin cannot be demoted, blocked or deleted") : res.json().code === "last_superadmin";
  }

  /** A denial of rights the winner took away first (the loser was demoted, blocked or deleted before its own check). */
  function deniedAfterLosingRights(res: LightMyRequestResponse): boolean {
    if (res.statusCode === 401) return true;
    if (res.statusCode === 303) return /\/login(\?|$)/.test(String(res.headers.location ?? ""));
    if (res.statusCode !== 403) return false;
    const html = String(res.headers["content-type"] ?? "").startsWith("text/html");
    return html ? res.body.includes('data-error="forbidden"') : res.json().code === "forbidden";
  }

  /**
   * Fires both removals together ROUNDS times. Each time exactly one wins, the
   * other is refused with 409 `last_superadmin`, one active superadmin remains
   * and the setup link stays closed. When the two requests come from the two
   * superadmins, or one of them demotes its own sender (`cross`), the loser
   * may also be stopped earlier, because the winner already took its role or
   * session (401/403): that is counted apart.
   */
  async function race(fire: (a: Boss, b: Boss) => Promise<LightMyRequestResponse>[] | Promise<Promise<LightMyRequestResponse>[]>, cross = false) {
    const tally = { conflict: 0, deniedEarlier: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const [a, b] = await pair();
      const results = await Promise.all(await fire(a, b));
      const seen = `round ${round}: ${results.map((r) => `${r.statusCode} ${r.body.slice(0, 100)}`).join(" | ")}`;
      expect(results.filter((r) => r.statusCode < 400), seen).toHaveLength(1);
      const loser = results.find((r) => r.statusCode >= 400)!;
      if (refusedAsLast(loser)) tally.conflict++;
      else if (cross && deniedAfterLosingRights(loser)) tally.deniedEarlier++;
      else expect.fail(`the loser must get 409 last_superadmin; ${seen}`);
      expect(await activeSuperadmins(), seen).toBe(1);
      expect((await h.request({ method: "GET", url: "/api/setup" })).statusCode, `${seen}: setup must stay closed`).toBe(404);
    }
    return tally;
  }

  it("attack: a superadmin demotes the other superadmin and themself at once (admin API)", async () => {
    // When the self-demotion lands first, the other request is checked against the sender's new role (admin),
    // and an admin may not touch a superadmin: 403 is then the right refusal, as in the cross races.
    const tally = await race((a, b) => [patch(a, b.id, { role: "admin" }), patch(a, a.id, { role: "admin" })], true);
    console.info(`[${backend}] demote other ‖ demote self: ${tally.conflict} refused 409 last_superadmin, ${tally.deniedEarlier} stopped earlier (rights already taken)`);
  });

  it("attack: two superadmins demote and block each other at once (admin API)", async () => {
    const tally = await race((a, b) => [patch(a, b.id, { role: "user" }), patch(b, a.id, { blocked: true })], true);
    console.info(`[${backend}] demote ‖ block: ${tally.conflict} refused 409 last_superadmin, ${tally.deniedEarlier} stopped earlier (rights already taken)`);
  });

  it("attack: two superadmins delete their own accounts at once (DELETE /api/account)", async () => {
    await race((a, b) => [deleteOwn(a), deleteOwn(b)]);
  });

  it("attack: a superadmin deletes the other and their own account at once (admin API + DELETE /api/account)", async () => {
    // When the self-deletion lands first, the sender's session is gone: 401 is then the right refusal.
    const tally = await race((a, b) => [remove(a, b.id), deleteOwn(a)], true);
    console.info(`[${backend}] delete other ‖ delete self: ${tally.conflict} refused 409 last_superadmin, ${tally.deniedEarlier} stopped earlier (rights already taken)`);
  });

  it("attack: two superadmins block each other at once from the dashboard forms", async () => {
    const tally = await race(async (a, b) => {
      const browsers = [a, b].map((boss) => {
        const client = new WebClient(h);
        const [k, v] = boss.cookie.split("=") as [string, string];
        client.jar.set(k, v);
        return client;
      });
      const [wa, wb] = browsers as [WebClient, WebClient];
      await wa.get(`/admin/users/${b.id}`);
      await wb.get(`/admin/users/${a.id}`);
      return [wa.post(`/admin/users/${b.id}/block`, { blocked: "true" }), wb.post(`/admin/users/${a.id}/block`, { blocked: "true" })];
    }, true);
    console.info(`[${backend}] dashboard block ‖ block: ${tally.conflict} refused 409 last_superadmin, ${tally.deniedEarlier} stopped earlier (rights already taken)`);
  });

  it("attack: the sole superadmin deletes their own account (409, and the setup link stays closed)", async () => {
    const [a, b] = await pair();
    await h.gh.database.db.updateTable("users").set({ role: "user" }).where("id", "=", b.id).execute();
    const res = await deleteOwn(a);
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("last_superadmin");
    expect(await h.gh.stores.users.findById(a.id)).not.toBeNull();
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: a.cookie })).statusCode).toBe(200);
    // The Delete account form says why, and deletes nothing.
    const browser = new WebClient(h);
    const [k, v] = a.cookie.split("=") as [string, string];
    browser.jar.set(k, v);
    await browser.get("/account");
    const form = await browser.post("/account/delete", { password: GOOD_PASSWORD });
    expect(form.statusCode).toBe(409);
    expect(form.body).toContain("The last superadmin cannot be demoted, blocked or deleted");
    expect(await h.gh.stores.users.findById(a.id)).not.toBeNull();
    expect((await h.request({ method: "GET", url: "/api/setup" })).statusCode).toBe(404);
  });

  it("attack: the only active superadmin demotes themself while another superadmin is blocked (409: a blocked superadmin does not count)", async () => {
    const [a, b] = await pair();
    await h.gh.database.db.updateTable("users").set({ blocked: 1 }).where("id", "=", b.id).execute();
    const res = await patch(a, a.id, { role: "admin" });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe("last_superadmin");
    expect(await activeSuperadmins()).toBe(1);
  });
});
