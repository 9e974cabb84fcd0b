import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, stopProcessGroup, waitForOutput } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");
const HTML = { accept: "text/html" };


describe("npm start with no configuration shows the demo flow in the browser", () => {
  let child: ChildProcess;
  let dataDir: string;
  let base: string;
  let output = "";

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "gatehouse-demo-e2e-"));
    const port = await freePort();
    base = `http://localhost:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, PORT: String(port), NODE_ENV: "development" };
    for (const name of ["SECRET_KEY", "DATABASE_URL", "PUBLIC_URL", "UPSTREAM_URL", "GATEHOUSE_CONFIG"]) delete env[name];
    child = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    // The setup link goes to stderr, the "running" line to stdout: wait for both.
    // The first `npm start` after a change to src/ compiles it (prestart) before the server starts.
    output = await waitForOutput(child, ["Gatehouse is running", "/setup#token="], 150_000);
  }, 160_000);

  afterAll(async () => {
    await stopProcessGroup(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("/ → /demo/ → sign-in → setup link (registration closed by default) → the demo shows who you are; /demo/admin lets the superadmin in", async () => {
    const home = await fetch(`${base}/`, { headers: HTML, redirect: "manual" });
    expect(home.status).toBe(302);
    expect(home.headers.get("location")).toBe("/demo/");
    const demo = await fetch(`${base}/demo/`, { headers: HTML, redirect: "manual" });
    expect(demo.status).toBe(302);
    expect(new URL(demo.headers.get("location") ?? "", base).pathname).toBe("/login");
    expect((await fetch(`${base}/login`, { headers: HTML })).status).toBe(200);

    // Registration is closed by default: the quickstart's first account comes from the one-time setup link in the log.
    const closed = await fetch(`${base}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ username: "demo-visitor", password: "tulip-orbit-lantern-42" }),
    });
    expect(closed.status).toBe(403);
    expect(((await closed.json()) as { code: string }).code).toBe("registration_closed");
    const token = /\/setup#token=([A-Za-z0-9_-]{43})/.exec(output)?.[1];
    expect(token, output).toBeDefined();
    const reg = await fetch(`${base}/api/setup`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ token, username: "demo-visitor", password: "tulip-orbit-lantern-42" }),
    });
    expect(reg.status).toBe(201);
    const cookie = (reg.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const page = await fetch(`${base}/demo/`, { headers: { ...HTML, cookie } });
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain("Remote-User");
    expect(text).toContain("demo-visitor");
    // The setup link made a superadmin, whom the demo's admin page lets in.
    expect((await fetch(`${base}/demo/admin`, { headers: { ...HTML, cookie } })).status).toBe(200);
  });
});
