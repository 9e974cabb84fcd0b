import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealDocument } from "../../src/backup/backup-document.js";
import { printable } from "../../src/cli/cli-io.js";
import { runCli } from "../../src/cli/run-cli.js";
import { backendNames, PG_URL } from "../helpers/backends.js";
import { GOOD_PASSWORD, startHarness, type Harness } from "../helpers/harness.js";

type Row = Record<string, unknown>;
interface Doc {
  tables: { users: Row[]; settings: Row[]; api_tokens: Row[]; audit_events: Row[] };
  [key: string]: unknown;
}

/** The backup document without its checksum, to tamper with; {@link seal} gives it a VALID checksum, as an attacker would. */
const parse = (file: Buffer): Doc => {
  const { sha256: _sha, ...rest } = JSON.parse(file.toString("utf8")) as Doc & { sha256: string };
  return rest;
};
const seal = (doc: Doc): Buffer => sealDocument(JSON.stringify(doc));

/** The CLI's environment for the harness's database. */
function cliEnv(h: Harness): Record<string, string> {
  const env: Record<string, string> = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: randomBytes(32).toString("hex"), ...h.backend.env };
  // PostgreSQL: the same isolated schema as the harness (never the shared public schema).
  if (h.backend.schema) env.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${h.backend.schema}`)}`;
  return env;
}

/** Runs the real CLI in-process against the harness's database; returns the exit code and what it printed. */
async function cli(h: Harness, args: string[]) {
  const env = cliEnv(h);
  let out = "";
  let err = "";
  const code = await runCli(args, {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    outBytes: async () => undefined,
    env,
    stdoutIsTty: false,
  });
  return { code, out, err };
}

describe.each(backendNames())("attack: a crafted backup's settings break every sign-in after restore (%s)", (backend) => {
  let h: Harness;
  let dir: string;
  let sup: { cookie: string; id: string; name: string };
  let victim: { cookie: string; id: string; name: string };
  let file: Buffer;
  const importFile = (payload: Buffer) =>
    h.request({ method: "POST", url: "/api/admin/import?confirm=true", cookie: sup.cookie, payload, headers: { "content-type": "application/octet-stream" } });
  const settingsRows = () => h.gh.database.db.selectFrom("settings").selectAll().orderBy("key").execute();
  const login = (name: string) => h.request({ method: "POST", url: "/api/auth/login", json: { username: name, password: GOOD_PASSWORD } });

  /** The exported backup with its settings replaced by `settings` (key → JSON value). */
  function withSettings(settings: Record<string, unknown>): Buffer {
    const doc = parse(file);
    doc.tables.settings = Object.entries(settings).map(([key, value]) => ({ key, value: JSON.stringify(value), updated_at: Date.now(), updated_by: null }));
    return seal(doc);
  }

  beforeAll(async () => {
    h = await startHarness(backend);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-restore-attack-"));
    sup = await h.account("superadmin");
    victim = await h.account("user");
    const res = await h.request({ method: "GET", url: "/api/admin/backup", cookie: sup.cookie });
    expect(res.statusCode).toBe(200);
    file = res.rawPayload;
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const CRAFTED: [string, Record<string, unknown>, string][] = [
    ["a word for a number (every login 500)", { sessionAbsoluteMinutes: "forever" }, "settings.sessionAbsoluteMinutes"],
    ["a huge number (sessions until the year 3928)", { sessionAbsoluteMinutes: 999_999_999, sessionRememberDays: 999_999 }, "settings.sessionAbsoluteMinutes"],
    ["a lifetime out of its bounds", { sessionIdleMinutes: 0 }, "settings.sessionIdleMinutes"],
    ["an unknown registration mode", { registration: "everyone" }, "settings.registration"],
    ["an unknown sign-in method", { loginMethods: ["password", "magic"] }, "settings.loginMethods"],
    ["an idle timeout longer than the absolute lifetime", { sessionIdleMinutes: 600, sessionAbsoluteMinutes: 60 }, "settings.sessionIdleMinutes"],
    ["a key this version does not have", { sessionForever: true }, "settings.sessionForever"],
  ];

  it.each(CRAFTED)("API import: %s → 400 invalid_backup naming the setting; nothing changed; sign-in works", async (_name, settings, field) => {
    const before = await settingsRows();
    const users = await h.gh.stores.users.count();
    const res = await importFile(withSettings(settings));
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "invalid_backup", fields: expect.arrayContaining([field]) });
    expect(await settingsRows()).toEqual(before);
    expect(await h.gh.stores.users.count()).toBe(users);
    expect((await h.request({ method: "GET", url: "/api/auth/me", cookie: sup.cookie })).statusCode).toBe(200);
    h.clock.advance(6_000);
    expect((await login(victim.name)).statusCode).toBe(200);
  });

  it("API import: valid settings in a backup are restored (the check refuses only what PATCH refuses)", async () => {
    const res = await importFile(withSettings({ registration: "invite", sessionIdleMinutes: 20, sessionAbsoluteMinutes: 600, loginMethods: ["password"] }));
    expect(res.statusCode, res.body).toBe(200);
    expect((await settingsRows()).map((r) => [r.key, r.value])).toEqual([
      ["loginMethods", '["password"]'],
      ["registration", '"invite"'],
      ["sessionAbsoluteMinutes", "600"],
      ["sessionIdleMinutes", "20"],
    ]);
    h.clock.advance(6_000);
    expect((await login(victim.name)).statusCode).toBe(200);
    sup = { ...sup, cookie: (await h.login(sup.name)).cookie };
  });

  it("CLI restore: the same crafted settings are refused with invalid_backup naming the setting, nothing changed", async () => {
    const before = await settingsRows();
    for (const [name, settings, field] of CRAFTED) {
      const path = join(dir, `crafted-${CRAFTED.findIndex((c) => c[0] === name)}.json`);
      writeFileSync(path, withSettings(settings));
      const r = await cli(h, ["restore", path, "--yes"]);
      expect(r.code, name).toBe(1);
      expect(r.err, name).toContain("(invalid_backup)");
      expect(r.err, name).toContain(field);
      expect(r.err, name).not.toContain("Restored into");
    }
    expect(await settingsRows()).toEqual(before);
    h.clock.advance(6_000);
    expect((await login(victim.name)).statusCode).toBe(200);
  });
});

describe.each(backendNames())("a stored setting made invalid behind Gatehouse's back (%s)", (backend) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(backend);
  });
  afterAll(async () => h?.close());

  it("a stored setting made invalid behind Gatehouse's back (direct SQL) falls back to its default; sign-in still works", async () => {
    const user = await h.account("user");
    const defaults = await h.gh.settings.current();
    const db = h.gh.database.db;
    await db.insertInto("settings").values([
      { key: "sessionAbsoluteMinutes", value: '"forever"', updated_at: 1, updated_by: null },
      { key: "sessionRememberDays", value: "999999", updated_at: 1, updated_by: null },
      { key: "registration", value: "not json", updated_at: 1, updated_by: null },
    ]).execute();
    for (let i = 0; i < 3; i++) {
      h.clock.advance(6_000);
      const res = await h.request({ method: "POST", url: "/api/auth/login", json: { username: user.name, password: GOOD_PASSWORD, remember: i === 0 } });
      expect(res.statusCode, res.body).toBe(200);
    }
    const now = await h.gh.settings.current();
    expect(now.sessionAbsoluteMinutes).toBe(defaults.sessionAbsoluteMinutes);
    expect(now.sessionRememberDays).toBe(defaults.sessionRememberDays);
    expect(now.registration).toBe(defaults.registration);
    // Sessions get the default lifetimes, not NaN or centuries.
    const sessions = await db.selectFrom("sessions").select(["created_at", "expires_at", "remember"]).where("user_id", "=", user.id).execute();
    for (const s of sessions) {
      const lifetime = Number(s.expires_at) - Number(s.created_at);
      expect(lifetime).toBe(Number(s.remember) === 1 ? defaults.sessionRememberDays * 86_400_000 : defaults.sessionAbsoluteMinutes * 60_000);
    }
    // One error log naming the keys (not one per read), never the values.
    const errors = h.logs.lines.filter((l) => l.includes("stored settings are invalid"));
    expect(errors).toHaveLength(1);
    expect(JSON.parse(errors[0]!)).toMatchObject({ level: 50, keys: expect.arrayContaining(["sessionAbsoluteMinutes", "sessionRememberDays", "registration"]) });
    expect(errors[0]).not.toContain("forever");
    // A superadmin can still change the settings (PATCH reads the fallback values, writes valid ones).
    const sup = await h.account("superadmin");
    const patched = await h.request({ method: "PATCH", url: "/api/admin/settings", cookie: sup.cookie, json: { sessionAbsoluteMinutes: 600 } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().sessionAbsoluteMinutes).toBe(600);
  });
});

describe.each(backendNames())("attack: terminal escapes in a restored username hide added superadmins (%s)", (backend) => {
  let h: Harness;
  let dir: string;
  let file: Buffer;
  beforeAll(async () => {
    h = await startHarness(backend);
    dir = mkdtempSync(join(tmpdir(), "gatehouse-restore-escapes-"));
    const sup = await h.account("superadmin");
    file = (await h.request({ method: "GET", url: "/api/admin/backup", cookie: sup.cookie })).rawPayload;
  });
  afterAll(async () => {
    await h?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The backup plus a superadmin whose username (and email) carry `name`. */
  function withSuperadmin(name: string, email: string | null = null): Buffer {
    const doc = parse(file);
    const model = doc.tables.users[0]!;
    doc.tables.users.push({
      ...model,
      id: "00000000-0000-4000-8000-00000000e5c0",
      username: name,
      username_normalized: name.toLowerCase(),
      email,
      email_normalized: email === null ? null : email.toLowerCase(),
      role: "superadmin",
    });
    return seal(doc);
  }

  const HIDDEN = [
    ["ESC[2K erases the line", "\u001b[2K\rnobody"],
    ["ESC[8m conceals the text", "\u001b[8mevil-root\u001b[0m"],
    ["zero-width characters", "ad\u200bmin\u200d"],
    ["a right-to-left override", "\u202etoor"],
    ["a BOM and a word joiner", "\ufeffroot\u2060"],
    ["C1 control (CSI)", "root\u009b2K"],
  ] as const;

  it.each(HIDDEN)("CLI restore of a backup whose superadmin's username hides itself (%s) is refused; nothing printed raw, nothing changed", async (_name, username) => {
    const path = join(dir, "crafted.json");
    writeFileSync(path, withSuperadmin(username));
    const users = await h.gh.stores.users.count();
    let out = "";
    let err = "";
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t), outBytes: async () => undefined, env: cliEnv(h), stdoutIsTty: false };
    for (const args of [["restore", path], ["restore", path, "--yes"]]) {
      const code = await runCli(args, io);
      expect(code).toBe(1);
      expect(err).toContain("(invalid_backup)");
      expect(err).toMatch(/users\[\d+\]\.username/);
    }
    // Nothing but line breaks among the control/format characters of what was printed.
    expect((out + err).replace(/\n/g, "")).not.toMatch(/[\p{Cc}\p{Cf}]/u);
    expect(await h.gh.stores.users.count()).toBe(users);
  });

  it("an email with a bidi override in a restored account is refused the same way (API import)", async () => {
    const sup = await h.account("superadmin");
    const res = await h.request({
      method: "POST",
      url: "/api/admin/import?confirm=true",
      cookie: sup.cookie,
      payload: withSuperadmin("plain-name", "moc.elpmaxe\u202e@evil.test"),
      headers: { "content-type": "application/octet-stream" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: "invalid_backup", fields: expect.arrayContaining([expect.stringMatching(/^users\[\d+\]\.email$/)]) });
  });
});

describe("attack: terminal escapes in a restored username hide added superadmins (the CLI's escape helper)", () => {
  it("printable shows control, format, bidi and zero-width characters as visible escapes", () => {
    expect(printable("\u001b[2K\rnobody")).toBe("\\u{1b}[2K\\u{d}nobody");
    expect(printable("\u001b[8mevil\u001b[0m")).toBe("\\u{1b}[8mevil\\u{1b}[0m");
    expect(printable("ad\u200bmin\u200c\u200d\u2060\ufeff")).toBe("ad\\u{200b}min\\u{200c}\\u{200d}\\u{2060}\\u{feff}");
    expect(printable("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")).toBe(
      "\\u{202a}\\u{202b}\\u{202c}\\u{202d}\\u{202e}\\u{2066}\\u{2067}\\u{2068}\\u{2069}\\u{200e}\\u{200f}\\u{61c}",
    );
    expect(printable("a\u0000b\u007fc\u009bd\u2028e")).toBe("a\\u{0}b\\u{7f}c\\u{9b}d\\u{2028}e");
  });

  it("printable leaves ordinary text alone and escaping twice changes nothing", () => {
    expect(printable("alice (superadmin) Zoë 名前 ✓ C:\\path")).toBe("alice (superadmin) Zoë 名前 ✓ C:\\path");
    const once = printable("\u001b[8mevil\u200b");
    expect(printable(once)).toBe(once);
  });
});
