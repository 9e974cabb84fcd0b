import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GOOD_PASSWORD } from "../helpers/harness.js";
import { RULES, rulesFile } from "../helpers/forward-auth.js";
import { httpGet } from "../helpers/express-middleware.js";
import { freePort, waitForOutput, stopProcessGroup } from "../helpers/processes.js";
import { serve } from "../helpers/run-gatehouse.js";

const ROOT = join(import.meta.dirname, "..", "..");
const APP_HOST = "app.example.test";

/**
 * examples/express-app as its README runs it: Gatehouse (`gatehouse serve`)
 * and the example (tsx) as child processes, the example's address in
 * Gatehouse's TRUSTED_PROXIES, the rules of test/helpers/forward-auth.ts for
 * its host. The browser's session cookie is presented to the app as the SSO
 * cookie would be on a shared parent domain.
 */
describe("examples/express-app with a Gatehouse of its own", () => {
  let gatehouse: { child: ChildProcess } | undefined;
  let example: ChildProcess | undefined;
  let dataDir: string;
  let ghPort: number;
  let appPort: number;
  let publicUrl: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "gh-express-example-"));
    ghPort = await freePort();
    publicUrl = `http://127.0.0.1:${ghPort}`;
    gatehouse = await serve(
      {
        SECRET_KEY: randomBytes(32).toString("hex"),
        GATEHOUSE_DATA_DIR: dataDir,
        PORT: String(ghPort),
        PUBLIC_URL: publicUrl,
        REGISTRATION: "open",
        TRUSTED_PROXIES: "127.0.0.1/32",
        GATEHOUSE_CONFIG: rulesFile(RULES),
      },
      dataDir,
    );
    appPort = await freePort();
    example = spawn(process.execPath, ["--conditions=source", "--import", "tsx", join(ROOT, "examples", "express-app", "server.ts")], {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { PATH: process.env.PATH, HOME: process.env.HOME, GATEHOUSE_URL: publicUrl, PORT: String(appPort) },
    });
    await waitForOutput(example, "Express example listening", 60_000);
  });
  afterAll(async () => {
    await stopProcessGroup(example);
    if (gatehouse?.child.exitCode === null) {
      const closed = new Promise((r) => gatehouse!.child.once("close", r));
      gatehouse.child.kill("SIGTERM");
      await closed;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  const app = (path: string, headers: Record<string, string> = {}) => httpGet(appPort, path, { host: APP_HOST, ...headers });

  async function signUp(username: string): Promise<string> {
    const res = await fetch(`${publicUrl}/api/auth/register`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: publicUrl },
      body: JSON.stringify({ username, password: GOOD_PASSWORD, email: `${username}@example.test` }),
    });
    expect(res.status).toBe(201);
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith("gatehouse_session="));
    if (!cookie) throw new Error("no session cookie");
    return cookie.split(";")[0]!;
  }

  it("after signing in, the app's /whoami shows the user Gatehouse signed in", async () => {
    const cookie = await signUp("carol");
    const res = await app("/whoami", { cookie });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ user: { username: "carol", email: "carol@example.test", name: "carol", groups: ["user"] }, remoteUserHeader: null });
  });

  it("nobody signed in: 401 JSON for an API client, a redirect to Gatehouse's sign-in for a browser", async () => {
    const api = await app("/whoami", { accept: "application/json" });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body).code).toBe("unauthenticated");
    const nav = await app("/whoami", { accept: "text/html" });
    expect(nav.status).toBe(302);
    expect(nav.headers.location?.startsWith(`${publicUrl}/login`)).toBe(true);
  });

  it("attack: forged identity header: Remote-User/Remote-Groups from the client change nothing", async () => {
    const forged = { "remote-user": "admin", "remote-groups": "user,admin,superadmin", "remote-email": "admin@example.test" };
    expect((await app("/whoami", forged)).status).toBe(401);
    const cookie = await signUp("dave");
    const me = JSON.parse((await app("/whoami", { ...forged, cookie })).body);
    expect(me.user.username).toBe("dave");
    expect(me.user.groups).toEqual(["user"]);
    expect(me.remoteUserHeader).toBeNull();
    expect((await app("/admin", { ...forged, cookie })).status).toBe(403);
  });
});
