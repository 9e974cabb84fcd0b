import { createHash, pbkdf2Sync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";

const werkzeug = (password: string, salt: string) => `pbkdf2:sha256:1000$${salt}$${pbkdf2Sync(password, salt, 1000, 32, "sha256").toString("hex")}`;

describe.each(backendNames())("POST /api/admin/import/users: superadmin, sudo, CSRF, dry run then one transaction (%s)", (backend) => {
  let h: Harness;
  const upload = (cookie: string, body: string | Buffer, query: string, type = "text/csv", headers: Record<string, string | null> = {}) =>
    h.request({ method: "POST", url: `/api/admin/import/users?${query}`, cookie, payload: body, headers: { "content-type": type, ...headers } });
  const hash = werkzeug("old-password-1", "saltsalt");
  const file = `login,mail,pw,admin\napi1,api1@example.test,${hash},1\napi2,api2@example.test,,0\napi3,bad address,,0\n`;
  const map = `map=${encodeURIComponent("username=login,email=mail,password_hash=pw,role=admin")}&roles=${encodeURIComponent("1=admin,0=user")}`;
  const found = (name: string) => h.gh.stores.users.findByLogin({ username: name });

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("an admin gets 403; a superadmin without a recent re-authentication gets reauth_required; a cross-site upload gets csrf; nothing is imported", async () => {
    const admin = await h.account("admin");
    expect((await upload(admin.cookie, file, `${map}&dry_run=false`)).statusCode).toBe(403);
    const anonymous = await h.request({ method: "POST", url: `/api/admin/import/users?${map}`, payload: file, headers: { "content-type": "text/csv" } });
    expect(anonymous.statusCode).toBe(401);
    const sup = await h.account("superadmin");
    const crossSite = await upload(sup.cookie, file, `${map}&dry_run=false`, "text/csv", { origin: "https://evil.example" });
    expect(crossSite.statusCode).toBe(403);
    expect(crossSite.json().code).toBe("csrf");
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      await h.request({ method: "GET", url: "/api/auth/me", cookie: sup.cookie });
    }
    const stale = await upload(sup.cookie, file, `${map}&dry_run=false`);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
    expect(await found("api1")).toBeNull();
  });

  it("a dry run answers the summary and changes nothing; dry_run=false imports in one go and audits users_imported with the file's SHA-256, never a hash", async () => {
    const sup = await h.account("superadmin");
    const dry = await upload(sup.cookie, file, map);
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toEqual({
      dry_run: true,
      rows: 3,
      importable: 2,
      imported: 0,
      skipped: 1,
      by_scheme: { "werkzeug-pbkdf2": 1 },
      without_password: 1,
      roles: { admin: 1, user: 1 },
      blocked: 0,
      problems: [{ row: 3, field: "email", problem: "invalid_email" }],
      problems_omitted: 0,
    });
    expect(await found("api1")).toBeNull();

    const applied = await upload(sup.cookie, file, `${map}&dry_run=false`, "text/csv; charset=utf-8");
    expect(applied.statusCode).toBe(200);
    expect(applied.json()).toMatchObject({ dry_run: false, importable: 2, imported: 2 });
    expect(applied.body).not.toContain(hash);
    expect(await found("api1")).toMatchObject({ role: "admin", blocked: false });
    const [event] = await h.gh.stores.audit.list({ type: "users_imported", limit: 1 });
    expect(event).toMatchObject({ actorId: (await found(sup.name))!.id, details: { format: "csv", source: "upload", rows: 3, imported: 2, skipped: 1, admins: 1, bytes: Buffer.byteLength(file) } });
    expect(event!.details.sha256).toBe(createHash("sha256").update(file).digest("hex"));
    expect(JSON.stringify(event)).not.toContain(hash);
    expect(h.logs.text()).not.toContain(hash);
  });

  it("JSON lines work as application/x-ndjson; other types 415; a broken file or mapping is 400 import_invalid and imports nothing", async () => {
    const sup = await h.account("superadmin");
    const ok = await upload(sup.cookie, '{"login":"nd1"}\n{"login":"nd2","mail":"nd2@example.test"}\n', `map=${encodeURIComponent("username=login,email=mail")}&dry_run=false`, "application/x-ndjson");
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ imported: 2, roles: { user: 2 } });

    expect((await upload(sup.cookie, file, map, "text/plain")).statusCode).toBe(415);
    const before = await h.gh.stores.users.count();
    for (const [body, query, expected] of [
      ['login\n"zz1\n', "map=username%3Dlogin&dry_run=false", "line 2: unterminated quoted field"],
      ["name\nzz2\n", "map=username%3Dlogin&dry_run=false", "the column mapped to username is not in the source"],
      ["login\nzz3\n", "map=username%3Dlogin&roles=x%3Dsuperadmin&dry_run=false", "roles: an import never assigns superadmin"],
      [Buffer.from([0x6c, 0x0a, 0xc3, 0x28, 0x0a]), "map=username%3Dl&dry_run=false", "the file is not valid UTF-8"],
    ] as const) {
      const res = await upload(sup.cookie, body, query);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toMatchObject({ code: "import_invalid", fields: [expected] });
    }
    const superadminDefault = await upload(sup.cookie, "login\nzz4\n", "map=username%3Dlogin&default_role=superadmin&dry_run=false");
    expect(superadminDefault.statusCode).toBe(400);
    expect((await upload(sup.cookie, "login\nzz5\n", "dry_run=false")).statusCode).toBe(400); // no mapping
    expect(await h.gh.stores.users.count()).toBe(before);
  });
});
