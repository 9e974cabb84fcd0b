import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/names.js";

/** The number shown on an overview stat card. */
function stat(body: string, label: string): number {
  const m = new RegExp(`stat-value[^"]*">([0-9,]+)</span>(?:</a>)?<span class="stat-label">${label.replace(/[()]/g, "\\$&")}<`).exec(body);
  if (!m) throw new Error(`no stat ${label}`);
  return Number(m[1]!.replace(/,/g, ""));
}

/** Usernames in the users table, in order. */
function listed(body: string): string[] {
  return [...body.matchAll(/<td class="wrap"><a href="\/admin\/users\/[0-9a-f-]{36}">([^<]+)<\/a><\/td>/g)].map((m) => m[1]!);
}

function link(body: string, rel: "next" | "prev"): string | null {
  const m = new RegExp(`<a rel="${rel}" href="([^"]+)"`).exec(body);
  return m ? m[1]!.replace(/&amp;/g, "&") : null;
}

describe.each(backendNames())("admin dashboard pages (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  /** A browser holding the session of a fresh account with `role`. */
  async function browser(role: "user" | "admin" | "superadmin") {
    const acct = await h.account(role, uname(role.slice(0, 3)));
    const b = new WebClient(h);
    const [k, v] = acct.cookie.split("=") as [string, string];
    b.jar.set(k, v);
    return { b, ...acct };
  }

  it("AZ-01: the dashboard is for admins: anonymous → sign-in, user → 403 page, admin → every admin page, settings only for a superadmin", async () => {
    const anon = await h.request({ method: "GET", url: "/admin/users?q=a" });
    expect(anon.statusCode).toBe(303);
    expect(anon.headers.location).toBe("/login?return=%2Fadmin%2Fusers%3Fq%3Da");
    const { b: user } = await browser("user");
    const refused = await user.get("/admin");
    expect(refused.statusCode).toBe(403);
    expect(refused.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(refused.body).toContain('data-error="forbidden"');
    const { b: admin } = await browser("admin");
    for (const url of ["/admin", "/admin/users", "/admin/audit", "/admin/bans"]) {
      const res = await admin.get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain('aria-label="Administration"');
      expect(res.body).not.toContain(">Settings</a>");
    }
    expect((await admin.get("/admin/settings")).statusCode).toBe(403);
    const { b: sup } = await browser("superadmin");
    const settings = await sup.get("/admin/settings");
    expect(settings.statusCode).toBe(200);
    expect(settings.body).toContain(">Settings</a>");
  });

  it("the overview shows users, active sessions, failed sign-ins in 24 h, locked accounts and banned IPs, and an SVG chart", async () => {
    const { b } = await browser("admin");
    const before = await b.get("/admin");
    expect(before.statusCode).toBe(200);
    const victim = await h.account("user", uname("locked"));
    for (let i = 0; i < 3; i++) await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: "wrong-password-123" } });
    // A hard-locked account: the regulator's counter at the lock threshold, and its audit event.
    for (let i = 0; i < 100; i++) await h.gh.limiter.attempt(`fail:acct:user:${victim.id}`, [], h.clock.now(), 86_400_000);
    await h.gh.audit.record({ type: "account_locked", userId: victim.id, ip: "192.0.2.50", userAgent: "test" });
    await h.gh.limiter.ban("198.51.100.77", h.clock.now() + 3_600_000);
    const after = await b.get("/admin");
    expect(stat(after.body, "Users")).toBe(stat(before.body, "Users") + 1);
    expect(stat(after.body, "Active sessions")).toBeGreaterThanOrEqual(stat(before.body, "Active sessions") + 1);
    expect(stat(after.body, "Failed sign-ins (24 h)")).toBe(stat(before.body, "Failed sign-ins (24 h)") + 3);
    expect(stat(after.body, "Locked accounts")).toBe(stat(before.body, "Locked accounts") + 1);
    expect(stat(after.body, "Banned IPs")).toBe(stat(before.body, "Banned IPs") + 1);
    expect(after.body).toMatch(/<svg viewBox="0 0 840 220" role="img"/);
    expect(after.body).toContain('class="series-fail"');
    // Unlocking from the user page clears the lock.
    await b.get(`/admin/users/${victim.id}`);
    const unlocked = await b.post(`/admin/users/${victim.id}/unlock`, {});
    expect(unlocked.statusCode).toBe(303);
    expect(stat((await b.get("/admin")).body, "Locked accounts")).toBe(stat(before.body, "Locked accounts"));
    // Failed sign-ins older than 24 h drop out of the count.
    h.clock.advance(25 * 3_600_000);
    const later = await b.get("/admin");
    if (later.statusCode === 303) return; // the admin session itself expired: nothing more to see
    expect(stat(later.body, "Failed sign-ins (24 h)")).toBe(0);
  });

  it("the users list searches by username or email prefix, filters by role and status, and pages with Older/Newer links", async () => {
    const { b } = await browser("admin");
    const stem = uname("pg").toLowerCase();
    const names: string[] = [];
    for (let i = 0; i < 7; i++) {
      const name = `${stem}m${i}`;
      await h.register(name, GOOD_PASSWORD, `${name}@mail.example`);
      names.push(name);
      h.clock.advance(1000);
    }
    const first = await b.get(`/admin/users?q=${stem.toUpperCase()}&limit=3`);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain("7 users match");
    expect(link(first.body, "prev")).toBeNull();
    const seen = [...listed(first.body)];
    let next = link(first.body, "next");
    const pages = [first.body];
    while (next) {
      const page = await b.get(next);
      pages.push(page.body);
      seen.push(...listed(page.body));
      next = link(page.body, "next");
    }
    expect(seen).toEqual([...names].reverse());
    expect(pages).toHaveLength(3);
    const back = await b.get(link(pages[2]!, "prev")!);
    expect(listed(back.body)).toEqual(listed(pages[1]!));
    // Search by email prefix, filters, and no match.
    expect(listed((await b.get(`/admin/users?q=${names[2]}%40mail`)).body)).toEqual([names[2]]);
    const victim = await h.gh.stores.users.findByLogin({ username: names[4]! });
    await h.gh.stores.users.update(victim!.id, { blocked: true, role: "admin" }, h.clock.now());
    expect(listed((await b.get(`/admin/users?q=${stem}&status=blocked`)).body)).toEqual([names[4]]);
    expect(listed((await b.get(`/admin/users?q=${stem}&role=admin`)).body)).toEqual([names[4]]);
    expect(listed((await b.get(`/admin/users?q=${stem}&status=active&role=user`)).body)).toHaveLength(6);
    expect((await b.get(`/admin/users?q=${stem}zzz`)).body).toContain("No users match these filters.");
    // A substring that is not a prefix does not match; bad input is a 400 page, not a 500.
    expect(listed((await b.get(`/admin/users?q=m3`)).body)).not.toContain(names[3]);
    expect((await b.get("/admin/users?after=%%%")).statusCode).toBe(400);
    expect((await b.get("/admin/users?after=bm9wZQ")).statusCode).toBe(400);
    expect((await b.get("/admin/users?role=root")).statusCode).toBe(400);
  });

  it("the user page shows profile, sessions and recent events; blocking ends the user's sessions at once", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("target"));
    const page = await b.get(`/admin/users/${target.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain(target.name);
    expect(page.body).toContain(`${target.name}@example.test`);
    expect(page.body).toContain("Sessions (1)");
    expect(page.body).toContain(">register</span>");
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: target.cookie })).statusCode).toBe(200);
    const blocked = await b.post(`/admin/users/${target.id}/block`, { blocked: "true" });
    expect(blocked.statusCode).toBe(303);
    expect(blocked.headers.location).toBe(`/admin/users/${target.id}?notice=user_blocked`);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: target.cookie })).statusCode).toBe(401);
    const after = await b.get(blocked.headers.location as string);
    expect(after.body).toContain("The user is blocked and every session of theirs was signed out.");
    expect(after.body).toContain("Sessions (0)");
    expect(after.body).toContain(">user_blocked</span>");
    const unblocked = await b.post(`/admin/users/${target.id}/unblock`.replace("/unblock", "/block"), { blocked: "false" });
    expect(unblocked.statusCode).toBe(303);
    expect((await h.gh.stores.users.findById(target.id))?.blocked).toBe(false);
    // A missing user is a 404 page; a malformed id a 400 page.
    expect((await b.get("/admin/users/00000000-0000-4000-8000-000000000000")).statusCode).toBe(404);
    expect((await b.get("/admin/users/not-a-uuid")).statusCode).toBe(400);
  });

  it("revokes one session or all sessions of a user", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("sess"));
    const second = await h.login(target.name);
    const page = await b.get(`/admin/users/${target.id}`);
    expect(page.body).toContain("Sessions (2)");
    const sessionId = /name="session" value="([0-9a-f-]{36})"/.exec(page.body)?.[1];
    expect(sessionId).toBeTruthy();
    expect((await b.post(`/admin/users/${target.id}/sessions/revoke`, { session: sessionId! })).headers.location).toContain("notice=user_session_revoked");
    const statuses = await Promise.all([target.cookie, second.cookie].map(async (cookie) => (await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode));
    expect(statuses.sort()).toEqual([200, 401]);
    await b.get(`/admin/users/${target.id}`);
    expect((await b.post(`/admin/users/${target.id}/sessions/revoke`, {})).headers.location).toContain("notice=user_sessions_revoked");
    for (const cookie of [target.cookie, second.cookie]) expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
  });

  it("SESS-08: a role change asks for confirmation, then for the admin's password when sudo is stale, and ends the user's sessions", async () => {
    const { b, id: supId } = await browser("superadmin");
    const sup = await h.gh.stores.users.findById(supId);
    const target = await h.account("user", uname("promo"));
    h.clock.advance(11 * 60_000);
    await b.get(`/admin/users/${target.id}`);
    const confirm = await b.post(`/admin/users/${target.id}/role`, { role: "admin" });
    expect(confirm.statusCode).toBe(200);
    expect(confirm.body).toContain("Change role of");
    expect(confirm.body).toContain('name="confirm" value="yes"');
    expect(confirm.body).toContain('name="password" type="password"');
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("user");
    const noPassword = await b.post(`/admin/users/${target.id}/role`, { role: "admin", confirm: "yes" });
    expect(noPassword.statusCode).toBe(403);
    expect(noPassword.body).toContain("Please confirm your password to continue.");
    const wrong = await b.post(`/admin/users/${target.id}/role`, { role: "admin", confirm: "yes", password: "not-my-password-1" });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.body).toContain("The current password is incorrect.");
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("user");
    const oldCookie = b.session;
    const done = await b.post(`/admin/users/${target.id}/role`, { role: "admin", confirm: "yes", password: GOOD_PASSWORD });
    expect(done.statusCode).toBe(303);
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("admin");
    // Sudo rotated the admin's session (SESS-04) and the target was signed out (SESS-11).
    expect(b.session).not.toBe(oldCookie);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: oldCookie! })).statusCode).toBe(401);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: target.cookie })).statusCode).toBe(401);
    const events = await h.gh.stores.audit.list({ userId: target.id, type: "role_change", limit: 5 });
    expect(events).toHaveLength(1);
    expect(events[0]?.actorId).toBe(sup?.id);
    // Within the sudo window, the confirmation step no longer asks for the password.
    const again = await b.get(`/admin/users/${target.id}`);
    expect(again.statusCode).toBe(200);
    const step = await b.post(`/admin/users/${target.id}/role`, { role: "user" });
    expect(step.body).not.toContain('name="password"');
  });

  it("AZ-02: an admin cannot change roles or touch a superadmin from the pages", async () => {
    const { b } = await browser("admin");
    const { id: supId } = await browser("superadmin");
    const target = await h.account("user", uname("norole"));
    const page = await b.get(`/admin/users/${target.id}`);
    expect(page.body).toContain("Only a superadmin can change roles.");
    expect((await b.post(`/admin/users/${target.id}/role`, { role: "admin", confirm: "yes", password: GOOD_PASSWORD })).statusCode).toBe(403);
    await b.get(`/admin/users/${supId}`);
    const block = await b.post(`/admin/users/${supId}/block`, { blocked: "true" });
    expect(block.statusCode).toBe(403);
    expect((await h.gh.stores.users.findById(supId))?.blocked).toBe(false);
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("user");
  });

  it("the audit page filters by type, user, IP and time, and pages with a cursor", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("aud"));
    for (let i = 0; i < 3; i++) {
      await h.request({ method: "POST", url: "/api/auth/login", json: { username: target.name, password: "wrong-password-123" }, headers: { "x-forwarded-for": "203.0.113.5" } });
    }
    const byUser = await b.get(`/admin/audit?type=login_failure&user=${target.name}`);
    expect(byUser.statusCode).toBe(200);
    expect(byUser.body.match(/>login_failure<\/span>/g)).toHaveLength(3);
    const byEmail = await b.get(`/admin/audit?user=${encodeURIComponent(`${target.name}@EXAMPLE.test`)}&type=register`);
    expect(byEmail.body.match(/>register<\/span>/g)).toHaveLength(1);
    const byId = await b.get(`/admin/audit?user=${target.id}&type=login_failure`);
    expect(byId.body.match(/>login_failure<\/span>/g)).toHaveLength(3);
    expect((await b.get(`/admin/audit?user=nobody-${uname("x")}`)).body).toContain("No user has that name, email or ID.");
    const future = new Date(h.clock.now() + 3_600_000).toISOString().slice(0, 16);
    expect((await b.get(`/admin/audit?user=${target.id}&from=${future}`)).body).toContain("No events.");
    expect((await b.get(`/admin/audit?user=${target.id}&to=${future}&type=login_failure`)).body.match(/>login_failure<\/span>/g)).toHaveLength(3);
    expect((await b.get("/admin/audit?from=yesterday")).statusCode).toBe(400);
    expect((await b.get("/admin/audit?ip=192.0.2.254")).body).toContain("No events.");
    expect((await b.get(`/admin/audit?ip=127.0.0.1&user=${target.id}&type=login_failure`)).body.match(/>login_failure<\/span>/g)).toHaveLength(3);
    // Cursor pages: 50 per page, "Older" continues without repeats.
    for (let i = 0; i < 55; i++) {
      h.clock.advance(1);
      await h.gh.audit.record({ type: "suspicious_activity", userId: target.id, ip: "192.0.2.9", userAgent: "pager", details: { n: i } });
    }
    const first = await b.get(`/admin/audit?user=${target.id}&type=suspicious_activity`);
    const older = link(first.body, "next");
    expect(older).toBeTruthy();
    const second = await b.get(older!);
    const ns = (body: string) => [...body.matchAll(/n=(\d+)</g)].map((m) => Number(m[1]));
    expect([...ns(first.body), ...ns(second.body)]).toEqual(Array.from({ length: 55 }, (_, i) => 54 - i));
    expect(link(second.body, "next")).toBeNull();
  });

  it("INP-07: the audit CSV export streams the filtered events with formula cells neutralized", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("csv"));
    const evil = new WebClient(h);
    evil.userAgent = "=HYPERLINK(\"http://evil.test\",\"click\")";
    await evil.signIn(target.name, GOOD_PASSWORD);
    const page = await b.get(`/admin/audit?user=${target.name}&type=login_success`);
    const exportLink = /href="(\/admin\/audit\.csv[^"]*)"/.exec(page.body)?.[1]?.replace(/&amp;/g, "&");
    expect(exportLink).toBe(`/admin/audit.csv?type=login_success&user=${target.name}`);
    const csv = await b.get(exportLink!);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers["content-type"]).toBe("text/csv; charset=utf-8");
    expect(csv.headers["content-disposition"]).toMatch(/^attachment; filename="gatehouse-audit-\d{8}T\d{6}\.csv"$/);
    expect(csv.headers["cache-control"]).toBe("no-store");
    const lines = csv.body.split("\r\n").filter(Boolean);
    expect(lines[0]).toBe("id,at,type,user_id,actor_id,ip,user_agent,request_id,details");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(`,login_success,${target.id},`);
    expect(lines[1]).toContain('"\'=HYPERLINK(""http://evil.test"",""click"")"');
    expect(csv.body).not.toMatch(/(^|,)"?=/m);
    // The export itself is audited.
    const accesses = await h.gh.stores.audit.query({ type: "admin_access", limit: 50 });
    expect(accesses.some((e) => e.details.what === "audit_export" && e.details.userId === target.id)).toBe(true);
    expect((await h.request({ method: "GET", url: exportLink! })).statusCode).toBe(303);
  });

  it("banned IPs are listed and a ban can be lifted", async () => {
    const { b } = await browser("admin");
    await h.gh.limiter.ban("198.51.100.23", h.clock.now() + 3_600_000);
    const page = await b.get("/admin/bans");
    expect(page.body).toContain("198.51.100.23");
    const lifted = await b.post("/admin/bans/lift", { ip: "198.51.100.23" });
    expect(lifted.headers.location).toBe("/admin/bans?notice=ban_lifted");
    expect((await b.get("/admin/bans")).body).not.toContain("198.51.100.23");
    expect(await h.gh.limiter.bannedUntil("198.51.100.23", h.clock.now())).toBeNull();
    expect((await b.post("/admin/bans/lift", { ip: "198.51.100.23" })).headers.location).toBe("/admin/bans?notice=ban_gone");
  });

  it("a superadmin changes settings behind sudo, with per-field errors", async () => {
    const { b } = await browser("superadmin");
    await b.get("/admin/settings");
    const fields = { form: "settings", registration: "closed", sessionIdleMinutes: "20", sessionAbsoluteMinutes: "600", sessionRememberDays: "14", loginMethods: "password" };
    const bad = await b.post("/admin/settings", { ...fields, sessionIdleMinutes: "lots" });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('id="f-sessionIdleMinutes-error"');
    const outOfRange = await b.post("/admin/settings", { ...fields, sessionRememberDays: "365" });
    expect(outOfRange.statusCode).toBe(400);
    expect(outOfRange.body).toContain('id="f-sessionRememberDays-error"');
    const saved = await b.post("/admin/settings", fields);
    expect(saved.statusCode).toBe(303);
    const current = await h.gh.settings.current();
    expect(current).toMatchObject({ registration: "closed", sessionIdleMinutes: 20, sessionAbsoluteMinutes: 600, sessionRememberDays: 14 });
    h.clock.advance(11 * 60_000);
    await b.get("/admin/settings");
    const stale = await b.post("/admin/settings", { ...fields, registration: "open" });
    expect(stale.statusCode).toBe(403);
    expect(stale.body).toContain("Please confirm your password to continue.");
    expect((await h.gh.settings.current()).registration).toBe("closed");
    const ok = await b.post("/admin/settings", { ...fields, registration: "open", password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(303);
    expect((await h.gh.settings.current()).registration).toBe("open");
  });

  it("BKP-01: a superadmin downloads a backup (POST, sudo, audited) and restores it after checking what it holds", async () => {
    const { b, id } = await browser("superadmin");
    await b.get("/admin/settings");
    const download = await b.post("/admin/backup", { passphrase: "" });
    expect(download.statusCode).toBe(200);
    expect(download.headers["content-disposition"]).toMatch(/^attachment; filename="gatehouse-backup-.*\.json"$/);
    expect(download.headers["cache-control"]).toBe("no-store");
    const exported = await h.gh.stores.audit.list({ type: "backup_exported", limit: 1 });
    expect(exported[0]?.actorId).toBe(id);
    const file = download.rawPayload;
    const other = await h.account("user", uname("gone"));
    const upload = async (fields: Record<string, string>) => {
      await b.get("/admin/settings");
      const csrf = /name="_csrf" value="([^"]+)"/.exec(b.lastPage)![1]!;
      const boundary = "----gatehouse-test-boundary";
      const parts = Object.entries({ _csrf: csrf, ...fields }).map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`);
      const body = Buffer.concat([
        Buffer.from(parts.join("")),
        Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="../../etc/passwd"\r\nContent-Type: text/html\r\n\r\n`),
        file,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      return h.request({
        method: "POST",
        url: "/admin/restore",
        payload: body,
        headers: { cookie: b.cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "sec-fetch-site": "same-origin" },
      });
    };
    const check = await upload({});
    expect(check.statusCode, check.body).toBe(200);
    expect(check.body).toContain("Restore this backup?");
    const sha = /name="confirm" value="([0-9a-f]{64})"/.exec(check.body)?.[1];
    expect(sha).toBeTruthy();
    expect((await h.gh.stores.users.findById(other.id))).not.toBeNull();
    const mismatch = await upload({ confirm: "0".repeat(64) });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.body).toContain("That is not the file you checked.");
    const restored = await upload({ confirm: sha! });
    expect(restored.statusCode).toBe(303);
    expect(restored.headers.location).toBe("/login?notice=restore_done");
    // The user created after the backup is gone, and everybody (the superadmin too) is signed out.
    expect(await h.gh.stores.users.findById(other.id)).toBeNull();
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: b.session ?? "" })).statusCode).toBe(401);
    const imported = await h.gh.stores.audit.list({ type: "database_imported", limit: 1 });
    expect(imported[0]?.actorId).toBe(id);
  });
});
