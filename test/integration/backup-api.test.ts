import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Role } from "../../src/core/users/user.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";

describe.each(backendNames())("backup and import over the admin API: superadmin, sudo, audited (%s)", (backend) => {
  let h: Harness;
  const account = (role: Role) => h.account(role);
  const backup = (cookie: string, headers: Record<string, string> = {}) => h.request({ method: "GET", url: "/api/admin/backup", cookie, headers });
  const importFile = (cookie: string, payload: Buffer, query = "", type = "application/octet-stream") =>
    h.request({ method: "POST", url: `/api/admin/import${query}`, cookie, payload, headers: { "content-type": type } });

  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("an admin cannot export; a superadmin without a recent re-authentication gets reauth_required", async () => {
    const admin = await account("admin");
    expect((await backup(admin.cookie)).statusCode).toBe(403);
    const sup = await account("superadmin");
    for (let i = 0; i < 2; i++) {
      h.clock.advance(5.5 * 60_000);
      await h.request({ method: "GET", url: "/api/auth/me", cookie: sup.cookie });
    }
    const stale = await backup(sup.cookie);
    expect(stale.statusCode).toBe(403);
    expect(stale.json().code).toBe("reauth_required");
  });

  it("exports an attachment with no-store, audited with its SHA-256; import is a dry run until confirmed, then restores and signs everyone out", async () => {
    const sup = await account("superadmin");
    const victim = await account("user");
    const res = await backup(sup.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-disposition"]).toMatch(/^attachment; filename="gatehouse-backup-.*\.json"$/);
    expect(res.headers["cache-control"]).toBe("no-store");
    const file = res.rawPayload;
    const sha = createHash("sha256").update(file).digest("hex");
    const exported = await h.gh.stores.audit.list({ type: "backup_exported", limit: 1 });
    expect(exported[0]?.details.sha256).toBe(sha);

    // A user registered after the backup disappears with the restore.
    const late = await account("user");
    const dry = await importFile(sup.cookie, file);
    expect(dry.statusCode).toBe(200);
    expect(dry.json().applied).toBe(false);
    expect(dry.json().summary.privileged.map((p: { username: string }) => p.username)).toContain(sup.name);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: late.cookie })).statusCode).toBe(200);

    const applied = await importFile(sup.cookie, file, "?confirm=true");
    expect(applied.statusCode).toBe(200);
    expect(applied.json().applied).toBe(true);
    expect(applied.json().sha256).toBe(sha);
    for (const cookie of [sup.cookie, victim.cookie, late.cookie]) {
      expect((await h.request({ method: "GET", url: "/api/auth/me", cookie })).statusCode).toBe(401);
    }
    const login = await h.request({ method: "POST", url: "/api/auth/login", json: { username: victim.name, password: GOOD_PASSWORD } });
    expect(login.statusCode).toBe(200);
    expect((await h.request({ method: "POST", url: "/api/auth/login", json: { username: late.name, password: GOOD_PASSWORD } })).statusCode).toBe(401);
    const imported = await h.gh.stores.audit.list({ type: "database_imported", limit: 1 });
    expect(imported).toHaveLength(1);
  });

  it("a tampered archive is refused with integrity_error and nothing changes; other content types get 415", async () => {
    const sup = await account("superadmin");
    const file = Buffer.from((await backup(sup.cookie)).rawPayload);
    const middle = Math.floor(file.length / 2);
    file[middle] = file[middle]! ^ 0x01;
    const before = await h.gh.stores.users.count();
    const res = await importFile(sup.cookie, file, "?confirm=true");
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe("integrity_error");
    expect(await h.gh.stores.users.count()).toBe(before);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: sup.cookie })).statusCode).toBe(200);
    expect((await importFile(sup.cookie, file, "", "text/plain")).statusCode).toBe(415);
  });

  it("an encrypted backup needs its passphrase, sent in a header, never in the URL or the logs", async () => {
    const sup = await account("superadmin");
    const passphrase = "violet-harbor-engine-passphrase";
    const res = await backup(sup.cookie, { "x-backup-passphrase": passphrase });
    expect(res.headers["content-disposition"]).toMatch(/\.ghbackup"$/);
    const file = res.rawPayload;
    expect(file.includes(Buffer.from(sup.name))).toBe(false);
    expect((await importFile(sup.cookie, file)).json().code).toBe("passphrase_required");
    const ok = await h.request({
      method: "POST",
      url: "/api/admin/import",
      cookie: sup.cookie,
      payload: file,
      headers: { "content-type": "application/octet-stream", "x-backup-passphrase": passphrase },
    });
    expect(ok.json().applied).toBe(false);
    expect(h.logs.text()).not.toContain(passphrase);
  });
});
