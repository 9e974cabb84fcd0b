import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames, createBackend, PG_URL, type Backend } from "../helpers/backends.js";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { freePort, stopProcessGroup, waitForOutput } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");

describe.each(backendNames())("examples/fastify-app: a Fastify app embedding gatehouse/fastify, as a child process (%s)", (backendName) => {
  let backend: Backend;
  let child: ChildProcess;
  let base: string;

  beforeAll(async () => {
    backend = await createBackend(backendName);
    const port = await freePort();
    base = `http://localhost:${port}`;
    // PostgreSQL: the test's schema through the URL's search path.
    const database = backend.schema ? { DATABASE_URL: `${PG_URL}?options=${encodeURIComponent(`-c search_path=${backend.schema}`)}` } : {};
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...backend.env,
      ...database,
      NODE_ENV: "test",
      SECRET_KEY: randomBytes(32).toString("hex"),
      REGISTRATION: "open",
      MFA_REQUIRED: "off",
      LOG_LEVEL: "warn",
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: base,
    };
    child = spawn(process.execPath, ["--conditions=source", "--import", "tsx", "examples/fastify-app/server.ts"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    await waitForOutput(child, "fastify-app listening on", 60_000);
  }, 70_000);

  afterAll(async () => {
    if (child) await stopProcessGroup(child);
    await backend?.cleanup();
  });

  it("signs up through /auth, and the app's guarded route sees the right user; a forged Remote-User/X-User header changes nothing", async () => {
    const headers = { "content-type": "application/json", origin: base };
    const reg = await fetch(`${base}/auth/api/auth/register`, { method: "POST", headers, body: JSON.stringify({ username: "ex-user", password: GOOD_PASSWORD }) });
    expect(reg.status).toBe(201);
    const cookie = (reg.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^gatehouse_session=/);

    const forged = { "remote-user": "admin", "x-user": "admin", "remote-groups": "user,admin,superadmin" };
    const who = await fetch(`${base}/whoami`, { headers: { cookie, ...forged } });
    expect(who.status).toBe(200);
    const body = (await who.json()) as { user: { username: string; role: string; groups: string[] } };
    expect(body.user).toMatchObject({ username: "ex-user", role: "user", groups: ["user"] });
    // The forged headers neither sign in an anonymous client nor raise a user's role.
    expect((await fetch(`${base}/whoami`, { headers: forged })).status).toBe(401);
    expect((await fetch(`${base}/admin/report`, { headers: { cookie, ...forged } })).status).toBe(403);
    expect(((await (await fetch(`${base}/`, { headers: forged })).json()) as { hello: string }).hello).toBe("stranger");
  });

  it("refuses a cross-site POST to the app's guarded route, accepts a same-origin one", async () => {
    const login = await fetch(`${base}/auth/api/auth/login`, { method: "POST", headers: { "content-type": "application/json", origin: base }, body: JSON.stringify({ username: "ex-user", password: GOOD_PASSWORD }) });
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    const evil = await fetch(`${base}/notes`, { method: "POST", headers: { cookie, "content-type": "application/json", origin: "https://evil.example" }, body: "{}" });
    expect(evil.status).toBe(403);
    const ok = await fetch(`${base}/notes`, { method: "POST", headers: { cookie, "content-type": "application/json", origin: base }, body: "{}" });
    expect(ok.status).toBe(200);
  });

  it("leaves the app's unguarded route alone and serves the sign-in page under /auth", async () => {
    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get("content-security-policy")).toBeNull();
    const page = await fetch(`${base}/auth/login`, { headers: { accept: "text/html" } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('action="/auth/');
  });
});
