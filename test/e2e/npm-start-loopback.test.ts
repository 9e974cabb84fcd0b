import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitForOutput, stopProcessGroup } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const HTML = "text/html,application/xhtml+xml";



/** The cookies a response sets, as a `Cookie` header (name=value pairs only). */
function cookieHeader(res: Response, previous = ""): string {
  const jar = new Map(previous.split("; ").filter((p) => p.includes("=")).map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)] as [string, string]));
  for (const line of res.headers.getSetCookie()) {
    const pair = line.split(";")[0] ?? "";
    jar.set(pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1));
  }
  return [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
}

/**
 * The fresh-clone quickstart exactly as the README gives it: `npm start`, no
 * configuration at all (SQLite, a generated development secret, PUBLIC_URL
 * defaulting to http://localhost:$PORT). A person may type either
 * http://localhost:$PORT or http://127.0.0.1:$PORT; both must lead to a
 * working sign-in.
 */
describe("npm start with no configuration: works on http://localhost:PORT and http://127.0.0.1:PORT", () => {
  let child: ChildProcess;
  let dataDir: string;
  let port: number;
  let localhost: string;
  let loopback: string;
  let output: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-loopback-"));
    port = await freePort();
    localhost = `http://localhost:${port}`;
    loopback = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, PORT: String(port) };
    for (const name of ["SECRET_KEY", "DATABASE_URL", "PUBLIC_URL", "NODE_ENV", "HOST", "UPSTREAM_URL", "GATEHOUSE_CONFIG", "SMTP_URL", "REDIS_URL"]) delete env[name];
    child = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    // The setup link goes to stderr, the "running" line to stdout: wait for both.
    // The first `npm start` after a change to src/ compiles it (prestart) before the server starts.
    output = await waitForOutput(child, ["Gatehouse is running", "/setup#token="], 150_000);
  }, 160_000);

  afterAll(async () => {
    await stopProcessGroup(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("the sign-in page opened on 127.0.0.1 leads to the same page on localhost (PUBLIC_URL), which answers", async () => {
    const first = await fetch(`${loopback}/login?return=%2Faccount`, { headers: { accept: HTML }, redirect: "manual" });
    expect(first.status).toBe(302);
    expect(first.headers.get("location")).toBe(`${localhost}/login?return=%2Faccount`);
    const page = await fetch(first.headers.get("location")!, { headers: { accept: HTML }, redirect: "manual" });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('name="password"');
  });

  it("a person who typed 127.0.0.1 creates the first superadmin from the printed setup link, signs in with the form, then sees the account page", async () => {
    const password = "quartz-meadow-lantern-58";
    // Registration is closed by default: the one-time setup link printed at start makes the first account.
    const closed = await fetch(`${localhost}/api/auth/register`, { method: "POST", headers: { "content-type": "application/json", origin: localhost }, body: JSON.stringify({ username: "loopback-e2e", password }) });
    expect(closed.status).toBe(403);
    const token = /\/setup#token=([A-Za-z0-9_-]{43})/.exec(output)?.[1];
    expect(token, output).toBeDefined();
    // The link opened on 127.0.0.1 leads to the same page on localhost (the #token stays in the browser).
    const setupPage = await fetch(`${loopback}/setup`, { headers: { accept: HTML }, redirect: "manual" });
    expect(setupPage.status).toBe(302);
    expect(setupPage.headers.get("location")).toBe(`${localhost}/setup`);
    const setup = await fetch(`${localhost}/api/setup`, { method: "POST", headers: { "content-type": "application/json", origin: localhost }, body: JSON.stringify({ token, username: "loopback-e2e", password }) });
    expect(setup.status).toBe(201);

    // What a browser does: follow the redirect from 127.0.0.1, load the form (pre-session cookie + CSRF field), post it.
    const redirected = await fetch(`${loopback}/login`, { headers: { accept: HTML }, redirect: "manual" });
    const formUrl = redirected.headers.get("location")!;
    const form = await fetch(formUrl, { headers: { accept: HTML } });
    let cookies = cookieHeader(form);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(await form.text())?.[1];
    expect(csrf).toBeDefined();
    const signIn = await fetch(formUrl, {
      method: "POST",
      redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(formUrl).origin, cookie: cookies, accept: HTML },
      body: new URLSearchParams({ _csrf: csrf!, return: "", username: "loopback-e2e", password }).toString(),
    });
    expect(signIn.status).toBe(303);
    cookies = cookieHeader(signIn, cookies);
    expect(cookies).toMatch(/gatehouse_session=/);
    const account = await fetch(`${localhost}/account`, { headers: { accept: HTML, cookie: cookies }, redirect: "manual" });
    expect(account.status).toBe(200);
    expect(await account.text()).toContain("loopback-e2e");
  });

  it("health checks answer on the address too, without a redirect", async () => {
    for (const base of [loopback, localhost]) {
      const res = await fetch(`${base}/healthz`, { redirect: "manual" });
      expect(res.status, base).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    }
  });
});
