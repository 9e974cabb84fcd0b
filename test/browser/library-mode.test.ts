import { randomBytes } from "node:crypto";
import Fastify, { type FastifyInstance } from "fastify";
import type { Browser, Page, Route } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { gatehouse } from "gatehouse/fastify";
import { createBackend, type Backend } from "../helpers/backends.js";
import { describeBrowser, launchChromium } from "../helpers/browser/chromium.js";
import { fillRegister, fillSignIn, pathOf } from "../helpers/browser/portal.js";
import { watchedContext, type WatchedContext } from "../helpers/browser/watched-context.js";
import { RELAXED_LIMITS } from "../helpers/harness.js";
import { uname } from "../helpers/names.js";
import { freePort } from "../helpers/processes.js";

/** The deep link of the host's guarded page: a path and a query the browser must come back to exactly. */
const DEEP_LINK = "/projects/board?tab=open&q=red%20car";

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const htmlPage = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body>${body}</body></html>`;

/** A host Fastify app with Gatehouse at /auth (as docs/library.md shows), listening on 127.0.0.1 with PUBLIC_URL its origin. */
interface LiveHost {
  app: FastifyInstance;
  origin: string;
  url(path: string): string;
  close(): Promise<void>;
}

async function startHost(backend: Backend): Promise<LiveHost> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const origin = `http://127.0.0.1:${port}`;
    const app = Fastify();
    await app.register(gatehouse, {
      prefix: "/auth",
      env: { NODE_ENV: "test", SECRET_KEY: randomBytes(32).toString("hex"), PUBLIC_URL: origin, REGISTRATION: "open", MFA_REQUIRED: "off", ...RELAXED_LIMITS, ...backend.env },
      housekeeping: false,
    });
    app.get("/", { config: { access: "public" } }, async (request, reply) =>
      reply.type("text/html; charset=utf-8").send(htmlPage("Host home", `<h1>Host home</h1><p>${escapeHtml(request.user?.username ?? "stranger")}</p>`)),
    );
    app.get("/projects/board", { config: { access: "user" } }, async (request, reply) => {
      const query = new URLSearchParams(request.query as Record<string, string>).toString();
      return reply
        .type("text/html; charset=utf-8")
        .send(htmlPage("Board", `<h1>Project board</h1><p id="who">Signed in as ${escapeHtml(request.user!.username)}</p><p id="query">${escapeHtml(query)}</p>`));
    });
    app.get("/admin/report", { config: { access: "admin" } }, async (request, reply) =>
      reply.type("text/html; charset=utf-8").send(htmlPage("Report", `<h1>Admin report for ${escapeHtml(request.user!.username)}</h1>`)),
    );
    try {
      await app.listen({ port, host: "127.0.0.1" });
    } catch (err) {
      await app.close();
      if ((err as NodeJS.ErrnoException).code === "EADDRINUSE" && attempt < 5) continue;
      throw err;
    }
    return { app, origin, url: (path) => new URL(path, origin).href, close: () => app.close() };
  }
}

/** Signs out with the header's "Sign out" button of a plugin page and checks the plugin's sign-in page shows. */
async function signOutOnPrefix(page: Page): Promise<void> {
  await Promise.all([page.waitForNavigation(), page.locator("header").getByRole("button", { name: "Sign out", exact: true }).click()]);
  expect(pathOf(page)).toBe("/auth/login");
}

/** Registers `username` on the plugin's /auth/register page (REGISTRATION=open), then signs out. */
async function registerThroughPages(w: WatchedContext, host: LiveHost, username: string): Promise<void> {
  const page = await w.page();
  await page.goto(host.url("/auth/register"));
  await fillRegister(page, { username, email: `${username}@example.test` });
  expect(pathOf(page)).toBe("/auth/account");
  await expect.poll(() => page.getByText(username).first().isVisible()).toBe(true);
  await signOutOnPrefix(page);
  await page.close();
}

describeBrowser("browser: library mode — gatehouse/fastify in a host app at /auth (sqlite)", () => {
  let browser: Browser;
  let backend: Backend;
  let host: LiveHost;
  beforeAll(async () => {
    backend = await createBackend("sqlite");
    [browser, host] = await Promise.all([launchChromium(), startHost(backend)]);
  });
  afterAll(async () => {
    await browser?.close();
    await host?.close();
    await backend?.cleanup();
  });

  it("deep link to a guarded host page → the plugin's /auth/login → back on the exact URL with the user's name; admin route 403; sign out → login again", async () => {
    const name = uname("libuser");
    const w = await watchedContext(browser);
    // Only the admin route's refusal is an expected error.
    w.allow(/status of 403/);
    const assets: { type: string; url: string; status: number }[] = [];
    w.context.on("response", (response) => {
      const type = response.request().resourceType();
      if (type === "stylesheet" || type === "script" || type === "image" || type === "font") assets.push({ type, url: response.url(), status: response.status() });
    });
    await registerThroughPages(w, host, name);

    const page = await w.page();
    const first = await page.goto(host.url(DEEP_LINK));
    expect(first?.status()).toBe(200);
    expect(pathOf(page)).toBe("/auth/login");
    expect(new URL(page.url()).searchParams.get("return")).toBe(DEEP_LINK);
    await fillSignIn(page, name);
    expect(page.url()).toBe(host.url(DEEP_LINK));
    expect(await page.locator("#who").textContent()).toBe(`Signed in as ${name}`);
    expect(await page.locator("#query").textContent()).toBe("tab=open&q=red+car");

    // The plugin's pages loaded their assets under the prefix (and only there on this origin).
    expect(assets.map((a) => a.type)).toEqual(expect.arrayContaining(["stylesheet", "script"]));
    for (const asset of assets) {
      expect(new URL(asset.url).origin, asset.url).toBe(host.origin);
      expect(new URL(asset.url).pathname.startsWith("/auth/"), asset.url).toBe(true);
      expect(asset.status, asset.url).toBe(200);
    }

    // A plain user on the admin-only route: 403, Gatehouse's "Not allowed" page (its stylesheet under the prefix), no redirect to sign in.
    const admin = await page.goto(host.url("/admin/report"));
    expect(admin?.status()).toBe(403);
    expect(pathOf(page)).toBe("/admin/report");
    await expect.poll(() => page.getByRole("heading", { name: "Not allowed" }).isVisible()).toBe(true);
    expect(await page.locator('link[rel="stylesheet"]').getAttribute("href")).toBe("/auth/assets/gatehouse.css");

    // The account page under the prefix shows the user; its sign-out ends the session for the host's routes too.
    await page.goto(host.url("/auth/account"));
    expect(pathOf(page)).toBe("/auth/account");
    await expect.poll(() => page.getByText(name).first().isVisible()).toBe(true);
    await signOutOnPrefix(page);
    await page.goto(host.url(DEEP_LINK));
    expect(pathOf(page)).toBe("/auth/login");
    expect(new URL(page.url()).searchParams.get("return")).toBe(DEEP_LINK);
    // The public host page no longer knows the visitor.
    await page.goto(host.url("/"));
    expect(await page.locator("p").textContent()).toBe("stranger");
    await w.closeClean();
  });

  it("with JavaScript disabled the plugin's forms do the same: deep link → sign in → back on the exact URL → sign out", async () => {
    const name = uname("libnojs");
    const signUp = await watchedContext(browser);
    await registerThroughPages(signUp, host, name);
    await signUp.closeClean();
    const w = await watchedContext(browser, { javaScriptEnabled: false });
    const page = await w.page();
    await page.goto(host.url(DEEP_LINK));
    expect(pathOf(page)).toBe("/auth/login");
    await fillSignIn(page, name);
    expect(page.url()).toBe(host.url(DEEP_LINK));
    expect(await page.locator("#who").textContent()).toBe(`Signed in as ${name}`);
    await page.goto(host.url("/auth/account"));
    await signOutOnPrefix(page);
    await page.goto(host.url(DEEP_LINK));
    expect(pathOf(page)).toBe("/auth/login");
    await w.closeClean();
  });

  it("an admin passes the admin-only host route", async () => {
    const name = uname("libadmin");
    const w = await watchedContext(browser);
    await registerThroughPages(w, host, name);
    const core = host.app.gatehouse.services;
    const user = await core.database.db.selectFrom("users").select("id").where("username", "=", name).executeTakeFirstOrThrow();
    await core.database.db.updateTable("users").set({ role: "admin" }).where("id", "=", user.id).execute();
    core.sessions.forgetUser(user.id);
    const page = await w.page();
    await page.goto(host.url("/admin/report"));
    expect(pathOf(page)).toBe("/auth/login");
    await fillSignIn(page, name);
    expect(page.url()).toBe(host.url("/admin/report"));
    expect(await page.locator("h1").textContent()).toBe(`Admin report for ${name}`);
    await w.closeClean();
  });

  it("attack: open redirect through the plugin's login", async () => {
    const name = uname("libredir");
    const w = await watchedContext(browser);
    await registerThroughPages(w, host, name);
    const offsite: string[] = [];
    await w.context.route(
      (url) => !url.href.startsWith(host.origin),
      (route: Route) => {
        offsite.push(route.request().url());
        return route.fulfill({ status: 200, contentType: "text/html", body: "<p>evil</p>" });
      },
    );
    const page = await w.page();
    // Signing in through the form with the payload: the browser stays on the host's origin.
    await page.goto(`${host.origin}/auth/login?return=//evil.test`);
    await fillSignIn(page, name);
    expect(new URL(page.url()).origin).toBe(host.origin);
    expect(pathOf(page)).toBe("/auth/account");
    // Already signed in, /auth/login?return=… redirects at once: still on the host's origin.
    for (const payload of ["//evil.test", "/\\evil.test", "https://evil.test", "/%2F%2Fevil.test"]) {
      await page.goto(`${host.origin}/auth/login?return=${payload}`);
      expect(new URL(page.url()).origin, payload).toBe(host.origin);
      expect(pathOf(page), payload).toBe("/auth/account");
    }
    expect(offsite).toEqual([]);
    await w.closeClean();
  });
});
