import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../src/cli/run-cli.js";
import { isGatehouseError } from "../../src/core/errors.js";
import { backendNames, PG_URL } from "../helpers/backends.js";
import { GOOD_PASSWORD, type Harness } from "../helpers/harness.js";
import type { SmtpSink } from "../helpers/smtp-sink.js";
import { signedInAccount, startMailHarness } from "../helpers/mail.js";

/**
 * Names that show as (or hide inside) "admin": zero-width, bidi, BOM, soft
 * hyphen, terminal escapes, line separators. Some would be trimmed away
 * silently before the fix (U+FEFF, U+2028), making "admin" look typed twice.
 */
const IMPERSONATIONS: [string, string][] = [
  ["zero-width space", "ad\u200bmin"],
  ["zero-width joiner and non-joiner", "ad\u200cmi\u200dn"],
  ["word joiner", "admin\u2060"],
  ["leading BOM (trimmed away before)", "\ufeffadmin"],
  ["trailing line separator (trimmed away before)", "admin\u2028"],
  ["right-to-left override", "\u202enimda"],
  ["bidi isolate", "\u2066admin\u2069"],
  ["left-to-right and Arabic letter marks", "admin\u200e\u061c"],
  ["soft hyphen", "ad\u00admin"],
  ["terminal escape", "\u001b[8madmin"],
  ["C1 control", "admin\u0085"],
];

describe.each(backendNames())("attack: invisible or bidi characters in a username (impersonation) (%s)", (backend) => {
  let h: Harness;
  let sink: SmtpSink;
  let close: () => Promise<void> = async () => {};
  let dir: string;
  beforeAll(async () => {
    ({ h, sink, close } = await startMailHarness(backend, { REGISTRATION: "open" }));
    void sink;
    dir = mkdtempSync(join(tmpdir(), "gatehouse-impersonation-"));
  });
  afterAll(async () => {
    await close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const users = () => h.gh.stores.users.count();
  const invalid = (res: { statusCode: number; json(): unknown }, field: string) => {
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), code: "invalid_request", fields: [field] });
  };

  it("setup and the first-superadmin seed (GATEHOUSE_ADMIN_*) refuse such a username; the setup link still works", async () => {
    for (const [, username] of IMPERSONATIONS) {
      const err = await h.gh.firstSuperadmin.ensure({ username, password: GOOD_PASSWORD }).then(() => null, (e: unknown) => e);
      expect(isGatehouseError(err, "invalid_request") && err.fields?.[0] === "username", username).toBe(true);
    }
    expect(await users()).toBe(0);
    const first = await h.gh.firstSuperadmin.ensure(null);
    if (first.status !== "setup") throw new Error(`expected a setup token, got ${first.status}`);
    for (const [name, username] of IMPERSONATIONS) {
      const res = await h.request({ method: "POST", url: "/api/setup", json: { token: first.token, username, password: GOOD_PASSWORD } });
      expect(res.statusCode, name).toBe(400);
      invalid(res, "username");
    }
    expect(await users()).toBe(0);
    expect((await h.request({ method: "GET", url: "/api/setup" })).json()).toEqual({ setup: "open" });
    const owner = await h.request({ method: "POST", url: "/api/setup", json: { token: first.token, username: "admin", password: GOOD_PASSWORD } });
    expect(owner.statusCode, owner.body).toBe(201);
  });

  it("self-registration refuses such a username (and such an email) with 400 invalid_request; nothing is created", async () => {
    const before = await users();
    for (const [name, username] of IMPERSONATIONS) {
      const res = await h.request({ method: "POST", url: "/api/auth/register", json: { username, password: GOOD_PASSWORD } });
      expect(res.statusCode, name).toBe(400);
      invalid(res, "username");
    }
    for (const email of ["admin\u202e@example.test", "ad\u200bmin@example.test", "admin@example.test\ufeff"]) {
      invalid(await h.request({ method: "POST", url: "/api/auth/register", json: { username: "plainname", password: GOOD_PASSWORD, email } }), "email");
    }
    expect(await users()).toBe(before);
  });

  it("an invited registration refuses such a username; the invitation is not used up", async () => {
    const email = "invitee@example.test";
    const { link } = await h.gh.invitations.create({ user: null, origin: { ip: "127.0.0.1", userAgent: "test" } }, { email, role: "admin" });
    const invitation = new URL(link).hash.replace(/^#token=/, "");
    const before = await users();
    for (const [name, username] of IMPERSONATIONS) {
      const res = await h.request({ method: "POST", url: "/api/auth/register", json: { username, password: GOOD_PASSWORD, email, invitation } });
      expect(res.statusCode, name).toBe(400);
      invalid(res, "username");
    }
    expect(await users()).toBe(before);
    const ok = await h.request({ method: "POST", url: "/api/auth/register", json: { username: "invitee", password: GOOD_PASSWORD, email, invitation } });
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it("an admin-made account (POST /api/admin/users) refuses such a username or email", async () => {
    const admin = await signedInAccount(h, "admin", true);
    const before = await users();
    for (const [name, username] of IMPERSONATIONS) {
      const res = await h.request({ method: "POST", url: "/api/admin/users", cookie: admin.cookie, json: { username, email: "someone@example.test" } });
      expect(res.statusCode, name).toBe(400);
      invalid(res, "username");
    }
    invalid(await h.request({ method: "POST", url: "/api/admin/users", cookie: admin.cookie, json: { username: "someone", email: "some\u2066one@example.test" } }), "email");
    expect(await users()).toBe(before);
  });

  it("the CLI (gatehouse user create) refuses such a username and prints it escaped", async () => {
    writeFileSync(join(dir, "pw.txt"), `${GOOD_PASSWORD}\n`);
    const env: Record<string, string> = { NODE_ENV: "test", LOG_LEVEL: "silent", SECRET_KEY: randomBytes(32).toString("hex"), ...h.backend.env };
    if (h.backend.schema) env.DATABASE_URL = `${PG_URL}?options=${encodeURIComponent(`-c search_path=${h.backend.schema}`)}`;
    const before = await users();
    let err = "";
    const io = { out: () => undefined, err: (t: string) => void (err += t), outBytes: async () => undefined, env, stdoutIsTty: false };
    for (const [, username] of [IMPERSONATIONS[0]!, IMPERSONATIONS[9]!]) {
      expect(await runCli(["user", "create", username, "--password-file", join(dir, "pw.txt")], io)).toBe(1);
    }
    expect(err).toContain("(invalid_request) [username]");
    expect(await users()).toBe(before);
    // An unknown name from the command line is echoed escaped, never raw.
    expect(await runCli(["user", "block", "\u001b[2Kghost\u200b"], io)).toBe(1);
    expect(err).toContain('no user named "\\u{1b}[2Kghost\\u{200b}"');
    expect(err.replace(/\n/g, "")).not.toMatch(/[\p{Cc}\p{Cf}]/u);
  });
});
