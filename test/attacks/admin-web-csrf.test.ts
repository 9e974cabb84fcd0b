import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";
import { csrfOf, formBody, WebClient } from "../helpers/web-client.js";
import { uname } from "../helpers/attacks.js";

describe.each(backendNames())("attack: forged admin actions from the dashboard's forms (CSRF-01/03, SESS-08, FILE-02) (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  async function browser(role: "admin" | "superadmin") {
    const acct = await h.account(role, uname(`c${role.slice(0, 3)}`));
    const b = new WebClient(h);
    const [k, v] = acct.cookie.split("=") as [string, string];
    b.jar.set(k, v);
    return { b, ...acct };
  }

  it("a role change without a CSRF token, with another session's token, or cross-site is refused and changes nothing", async () => {
    const { b } = await browser("superadmin");
    const { b: other } = await browser("superadmin");
    const target = await h.account("user", uname("ctarget"));
    await b.get(`/admin/users/${target.id}`);
    await other.get(`/admin/users/${target.id}`);
    const fields = { role: "admin", confirm: "yes", password: GOOD_PASSWORD };
    const post = (extra: Record<string, string>, headers: Record<string, string | null> = {}) =>
      h.request({
        method: "POST",
        url: `/admin/users/${target.id}/role`,
        payload: formBody({ ...fields, ...extra }),
        headers: { cookie: b.cookie, "content-type": "application/x-www-form-urlencoded", "sec-fetch-site": "same-origin", ...headers },
      });
    const none = await post({});
    expect(none.statusCode).toBe(403);
    expect(none.body).toContain('data-error="csrf"');
    expect((await post({ _csrf: csrfOf(other.lastPage)! })).statusCode).toBe(403);
    expect((await post({ _csrf: csrfOf(b.lastPage)! }, { "sec-fetch-site": "cross-site", origin: "https://evil.test" })).statusCode).toBe(403);
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("user");
    expect((await post({ _csrf: csrfOf(b.lastPage)! })).statusCode).toBe(303);
    expect((await h.gh.stores.users.findById(target.id))?.role).toBe("admin");
  });

  it("no admin action runs on GET (CSRF-05): the action URLs only answer POST", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("cget"));
    for (const path of [`/admin/users/${target.id}/block`, `/admin/users/${target.id}/sessions/revoke`, "/admin/bans/lift"]) {
      expect((await b.get(path)).statusCode, path).toBe(405);
    }
    expect((await h.gh.stores.users.findById(target.id))?.blocked).toBe(false);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: target.cookie })).statusCode).toBe(200);
  });

  it("a JSON or text body on a dashboard form route is 415 (CSRF-04)", async () => {
    const { b } = await browser("admin");
    const target = await h.account("user", uname("cjson"));
    for (const type of ["application/json", "text/plain"]) {
      const res = await h.request({
        method: "POST",
        url: `/admin/users/${target.id}/block`,
        payload: JSON.stringify({ blocked: "true" }),
        headers: { cookie: b.cookie, "content-type": type, "sec-fetch-site": "same-origin" },
      });
      expect(res.statusCode, type).toBe(415);
    }
    expect((await h.gh.stores.users.findById(target.id))?.blocked).toBe(false);
  });

  it("backup and restore need a fresh sudo: a stale session without the password gets the prompt, not the file", async () => {
    const { b } = await browser("superadmin");
    h.clock.advance(11 * 60_000);
    await b.get("/admin/settings");
    expect(b.lastPage).toContain('id="f-sudo-password"');
    const res = await b.post("/admin/backup", { passphrase: "" });
    expect(res.statusCode).toBe(403);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.body).toContain("Please confirm your password to continue.");
    expect(await h.gh.stores.audit.list({ type: "backup_exported", limit: 1 })).toHaveLength(0);
    const wrong = await b.post("/admin/backup", { passphrase: "", password: "guess-guess-guess" });
    expect(wrong.statusCode).toBe(403);
    const ok = await b.post("/admin/backup", { passphrase: "a long passphrase here", password: GOOD_PASSWORD });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers["content-disposition"]).toMatch(/\.ghbackup"$/);
  });

  it("an oversized restore upload is refused with 413 while streaming, and a multipart body is refused on other form routes", async () => {
    const { b } = await browser("superadmin");
    await b.get("/admin/settings");
    const csrf = csrfOf(b.lastPage)!;
    const boundary = "xBOUNDARYx";
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="b.json"\r\n\r\n`;
    const declared = await h.request({
      method: "POST",
      url: "/admin/restore",
      payload: head,
      headers: { cookie: b.cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "content-length": String(300 * 1024 * 1024), "sec-fetch-site": "same-origin" },
    });
    expect(declared.statusCode).toBe(413);
    const elsewhere = await h.request({
      method: "POST",
      url: "/admin/settings",
      payload: `${head}x\r\n--${boundary}--\r\n`,
      headers: { cookie: b.cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "sec-fetch-site": "same-origin" },
    });
    expect(elsewhere.statusCode).toBe(415);
    const noFile = await h.request({
      method: "POST",
      url: "/admin/restore",
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--${boundary}--\r\n`,
      headers: { cookie: b.cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "sec-fetch-site": "same-origin" },
    });
    expect(noFile.statusCode).toBe(400);
    expect(noFile.body).toContain("Choose a backup file.");
    const admin = await browser("admin");
    await admin.b.get("/admin");
    const refused = await h.request({
      method: "POST",
      url: "/admin/restore",
      payload: head,
      headers: { cookie: admin.b.cookie, "content-type": `multipart/form-data; boundary=${boundary}`, "sec-fetch-site": "same-origin" },
    });
    expect(refused.statusCode).toBe(403);
  });
});
