import type { Page } from "playwright-core";
import { expect } from "vitest";
import { GOOD_PASSWORD } from "../harness.js";
import type { LiveGatehouse } from "./live-gatehouse.js";

/** The path of the page's current URL (no query). */
export function pathOf(page: Page): string {
  return new URL(page.url()).pathname;
}

/** Fills and submits the sign-in form at `/login` (optionally with `?return=`), and waits for the next page. */
export async function signIn(
  page: Page,
  gh: LiveGatehouse,
  login: string,
  o: { password?: string; returnTo?: string; remember?: boolean } = {},
): Promise<void> {
  const query = o.returnTo === undefined ? "" : `?return=${o.returnTo}`;
  await page.goto(gh.url(`/login${query}`));
  await fillSignIn(page, login, o);
}

/** Fills and submits the sign-in form already on screen. */
export async function fillSignIn(page: Page, login: string, o: { password?: string; remember?: boolean } = {}): Promise<void> {
  await page.getByLabel("Username or email").fill(login);
  await page.getByLabel("Password", { exact: true }).fill(o.password ?? GOOD_PASSWORD);
  if (o.remember) await page.getByLabel(/Keep me signed in/).check();
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Sign in", exact: true }).click()]);
}

/** Signs out with the navigation's "Sign out" button (a POST form) and checks the sign-in page shows. */
export async function signOut(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation(), signOutButton(page).click()]);
  expect(pathOf(page)).toBe("/login");
}

/** The navigation's "Sign out" button (a POST form in the page header). */
export function signOutButton(page: Page) {
  return page.locator("header").getByRole("button", { name: "Sign out", exact: true });
}

/** The rows of the account page's sessions table. */
export function sessionRows(page: Page) {
  return page.locator("section[aria-labelledby=sessions-h] tbody tr");
}

/** Fills and submits the registration form; waits for the next page. */
export async function fillRegister(page: Page, o: { username: string; email?: string; password?: string }): Promise<void> {
  await page.getByLabel("Username", { exact: true }).fill(o.username);
  if (o.email !== undefined) await page.getByLabel(/^Email/).fill(o.email);
  await page.getByLabel("Password", { exact: true }).fill(o.password ?? GOOD_PASSWORD);
  await Promise.all([page.waitForNavigation(), page.getByRole("button", { name: "Create account", exact: true }).click()]);
}

/** The page's `_csrf` form token (the first form's). */
export async function csrfTokenOn(page: Page): Promise<string> {
  const value = await page.locator("input[name=_csrf]").first().getAttribute("value");
  expect(value).toBeTruthy();
  return value!;
}

/** Replaces every `_csrf` field on the page with `token` (as an attacker holding another session's token would). */
export async function plantCsrfToken(page: Page, token: string): Promise<void> {
  await page.evaluate(`document.querySelectorAll("input[name=_csrf]").forEach((el) => { el.value = ${JSON.stringify(token)}; })`);
}

/** Puts a session cookie header value (`name=value`, from the harness) into a browser context. */
export async function useSessionCookie(context: import("playwright-core").BrowserContext, gh: LiveGatehouse, cookie: string): Promise<void> {
  const eq = cookie.indexOf("=");
  await context.addCookies([{ name: cookie.slice(0, eq), value: cookie.slice(eq + 1), url: gh.origin }]);
}
