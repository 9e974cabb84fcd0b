import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseImportMapping } from "../../src/core/user-import/import-mapping.js";
import { readImportFile } from "../../src/core/user-import/read-import-file.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { pathOf, signIn } from "../helpers/browser/portal.js";
import { watchedContext } from "../helpers/browser/watched-context.js";

/**
 * Issue 19's promise seen by a person: users whose passwords a Flask app
 * hashed with werkzeug (Debian's python3-werkzeug, its default
 * pbkdf2:sha256) are imported, then each signs in on the portal's /login page
 * in Chromium with the password they always had; the stored hash becomes
 * Gatehouse's Argon2id. A missing Python module fails, never skips.
 */
const MAKE_CSV = String.raw`
import csv, sys
from werkzeug.security import generate_password_hash
w = csv.writer(sys.stdout)
w.writerow(["login", "mail", "pw"])
for login, password in [("harriet", "harriet old flask pass"), ("ines.k", "Ines-1987-flask"), ("jonas", "jonas: lange Passwörter")]:
    w.writerow([login, login + "@flask.example", generate_password_hash(password)])
`;

const PASSWORDS: Record<string, string> = { harriet: "harriet old flask pass", "ines.k": "Ines-1987-flask", jonas: "jonas: lange Passwörter" };

describeBrowser("browser: users imported from a Flask app sign in on the portal with their old passwords (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  beforeAll(async () => {
    [browser, gh] = await Promise.all([launchChromium(), startLiveGatehouse({ REGISTRATION: "closed" })]);
    const csv = execFileSync("/usr/bin/python3", ["-c", MAKE_CSV]);
    const summary = await gh.h.gh.userImport.importUsers(readImportFile(csv, "csv"), parseImportMapping({ map: "username=login,email=mail,password_hash=pw" }), {
      apply: true,
      source: { format: "csv", kind: "file", sha256: createHash("sha256").update(csv).digest("hex"), bytes: csv.length },
      actor: { actorId: null, ip: "local", userAgent: "test" },
    });
    expect(summary.imported).toBe(3);
    expect(summary.by_scheme).toEqual({ "werkzeug-pbkdf2": 3 });
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
  });

  it("each imported user signs in through /login with the werkzeug-hashed password; the hash is upgraded to Argon2id", async () => {
    for (const [login, password] of Object.entries(PASSWORDS)) {
      const context = await watchedContext(browser);
      const page = await context.page();
      await signIn(page, gh, login, { password });
      expect(pathOf(page), login).toBe("/account");
      await expect.poll(() => page.getByText(login).first().isVisible()).toBe(true);
      expect((await gh.h.gh.stores.users.findByLogin({ username: login }))?.passwordHash).toMatch(/^\$argon2id\$/);
      await context.closeClean();
    }
  });

  it("a wrong password for an imported user is refused on the page like any other", async () => {
    const context = await watchedContext(browser);
    context.allow(/status of 401/);
    const page = await context.page();
    await signIn(page, gh, "harriet@flask.example", { password: "harriet old flask pas" });
    expect(pathOf(page)).toBe("/login");
    await expect.poll(() => page.getByRole("alert").first().textContent()).toMatch(/incorrect|invalid|wrong/i);
    await context.closeClean();
  });
});
