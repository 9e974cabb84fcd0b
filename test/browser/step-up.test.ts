import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { startLiveGatehouse, type LiveGatehouse } from "../helpers/browser/live-gatehouse.js";
import { fillSignIn } from "../helpers/browser/portal.js";
import { watchedContext } from "../helpers/browser/watched-context.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { secondFactorDouble, TEST_CODE } from "../helpers/second-factor-double.js";

/** The app's host, mapped to loopback for Chromium; Gatehouse proxies it to the echo app. */
const APP = "app.example.com";

describeBrowser("browser: a two_factor rule sends a password-only session to enrol, then to step up, then back to the app (sqlite)", () => {
  let browser: Browser;
  let gh: LiveGatehouse;
  let upstream: EchoUpstream;
  let dir: string;
  const factors = secondFactorDouble();

  beforeAll(async () => {
    upstream = await startEchoUpstream();
    dir = mkdtempSync(join(tmpdir(), "gh-stepup-"));
    const rules = join(dir, "rules.yml");
    writeFileSync(rules, `access_control:\n  default_policy: deny\n  rules:\n    - domain: ${APP}\n      resources: ["^/secure"]\n      policy: two_factor\n    - domain: ${APP}\n      policy: one_factor\n`);
    [browser, gh] = await Promise.all([
      launchChromium([`--host-resolver-rules=MAP ${APP} 127.0.0.1`]),
      startLiveGatehouse({ UPSTREAM_URL: upstream.url, GATEHOUSE_CONFIG: rules }, undefined, { secondFactors: factors.secondFactors, secondFactorVerifiers: factors.secondFactorVerifiers }),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await gh?.close();
    await upstream?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("sign in with the password → enrol page (no factor yet) → with a factor, the second-factor page → a wrong code, the right one → back on the exact app URL, with the identity", async () => {
    // Registered on the portal's own host (any other host is the app's, proxied).
    const name = "stepup.user";
    const res = await gh.h.request({ method: "POST", url: "/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, headers: { host: new URL(gh.origin).host } });
    expect(res.statusCode).toBe(201);
    const account = { id: res.json().user.id as string, name };
    const app = `http://${APP}:${new URL(gh.origin).port}`;
    const deep = `${app}/secure/report?x=1&y=2`;
    const context = await watchedContext(browser);
    // The wrong code's page is a 401; the app's host is plain http here, where Chromium ignores the COOP header.
    context.allow(/status of 401/);
    context.allow(/Cross-Origin-Opener-Policy header has been ignored/);
    const page = await context.page();

    await page.goto(deep);
    expect(new URL(page.url()).pathname).toBe("/.gatehouse/login");
    await fillSignIn(page, account.name);
    // Signed in with the password alone and no second factor: the enrolment page, not the app.
    expect(new URL(page.url()).pathname).toBe("/.gatehouse/account/mfa");
    await expect.poll(() => page.getByRole("heading", { name: "Two-factor authentication" }).isVisible()).toBe(true);
    expect(upstream.seen.filter((r) => r.url.startsWith("/secure"))).toHaveLength(0);

    // The user now has a second factor: the same link asks for it.
    factors.enrolled.add(account.id);
    await page.goto(deep);
    expect(new URL(page.url()).pathname).toBe("/.gatehouse/login/second-factor");
    expect(new URL(page.url()).searchParams.get("return")).toBe(deep);
    await page.getByLabel("Code").fill("999999");
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Continue" }).click()]);
    await expect.poll(() => page.getByText("The code is incorrect.").isVisible()).toBe(true);
    await page.getByLabel("Code").fill(TEST_CODE);
    await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Continue" }).click()]);
    expect(page.url()).toBe(deep);
    const seen = upstream.seen.filter((r) => r.url === "/secure/report?x=1&y=2");
    expect(seen.map((r) => r.headers["remote-user"])).toEqual([account.name]);
    await context.closeClean();
  });
});
