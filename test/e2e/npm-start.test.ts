import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, waitForOutput, stopProcessGroup } from "../helpers/processes.js";

const ROOT = join(import.meta.dirname, "..", "..");



describe("npm start: the real server process on a fresh data dir", () => {
  let child: ChildProcess;
  let dataDir: string;
  let base: string;
  let output = "";

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "gatehouse-e2e-"));
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, GATEHOUSE_DATA_DIR: dataDir, PORT: String(port), PUBLIC_URL: base, NODE_ENV: "development", REGISTRATION: "open" };
    delete env.SECRET_KEY;
    delete env.DATABASE_URL;
    child = spawn("npm", ["start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
    // The first `npm start` after a change to src/ compiles it (prestart) before the server starts.
    await waitForOutput(child, "Gatehouse is running", 150_000);
  }, 160_000);

  afterAll(async () => {
    await stopProcessGroup(child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("runs the compiled server (node dist/main.js), not a TypeScript loader", () => {
    const pids = spawnSync("pgrep", ["-g", String(child.pid), "-a"], { encoding: "utf8" }).stdout;
    expect(pids).toMatch(/node dist\/main\.js/);
    expect(pids).not.toMatch(/tsx|main\.ts/);
  });

  it("generates a development secret (mode 0600) and a SQLite database in the data dir", () => {
    expect(statSync(join(dataDir, "secret.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "gatehouse.db")).isFile()).toBe(true);
  });

  it("registers, signs in and reads /me over real HTTP", async () => {
    const headers = { "content-type": "application/json", origin: base };
    const password = "meadow-copper-signal-19";
    const reg = await fetch(`${base}/api/auth/register`, { method: "POST", headers, body: JSON.stringify({ username: "e2e-user", password }) });
    expect(reg.status).toBe(201);
    const login = await fetch(`${base}/api/auth/login`, { method: "POST", headers, body: JSON.stringify({ username: "E2E-User", password }) });
    expect(login.status).toBe(200);
    const setCookie = login.headers.get("set-cookie") ?? "";
    expect(setCookie).toMatch(/^gatehouse_session=[A-Za-z0-9_-]{43};/);
    const cookie = setCookie.split(";")[0]!;
    const me = await fetch(`${base}/api/auth/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { username: string } }).user.username).toBe("e2e-user");
    const logout = await fetch(`${base}/api/auth/logout`, { method: "POST", headers: { cookie, origin: base } });
    expect(logout.status).toBe(204);
    expect((await fetch(`${base}/api/auth/me`, { headers: { cookie } })).status).toBe(401);
  });

  it("shuts down gracefully on SIGTERM and never logs the secret or the password", async () => {
    // npm may exit before the server has written its last line; "close" fires
    // only once every process holding stdout/stderr (npm, node) is gone.
    const exited = new Promise((r) => child.once("close", r));
    // The whole group, as a terminal's Ctrl-C would: node gets the signal directly and again from npm, which is one request.
    process.kill(-child.pid!, "SIGTERM");
    await exited;
    expect(output).toContain('"msg":"shutting down"');
    expect(output).toContain('"msg":"shut down"');
    expect(output).not.toContain("second signal");
    expect(output).not.toContain("meadow-copper-signal-19");
  });
});
