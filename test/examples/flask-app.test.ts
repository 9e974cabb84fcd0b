import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeProtectedHeader, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock, createManualClock } from "../../src/core/clock.js";
import { createIdentityTokens } from "../../src/core/identity/identity-tokens.js";
import { cryptoRandom } from "../../src/core/random.js";
import { backendNames } from "../helpers/backends.js";
import { GOOD_PASSWORD, sessionCookieFrom, startHarness, type Harness } from "../helpers/harness.js";
import { freePort, stopProcessGroup, waitForOutput } from "../helpers/processes.js";

const PYTHON = "/usr/bin/python3";
const APP = join(import.meta.dirname, "..", "..", "examples", "flask-app", "app.py");
const APP_HOST = "app.test";

/** Debian's Python with Flask and PyJWT: required under CI (a missing one fails this suite, never skips it). */
function pythonReady(): string | null {
  const r = spawnSync(PYTHON, ["-c", "import flask, jwt, cryptography; assert jwt.__version__ >= '2.6'"], { encoding: "utf8" });
  return r.status === 0 ? null : `${PYTHON} with flask, jwt (PyJWT >= 2.6) and cryptography is needed: ${r.error?.message ?? r.stderr}`;
}
const missing = pythonReady();
if (missing !== null && process.env.CI === "true") throw new Error(missing);

const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: ${APP_HOST}
      policy: one_factor
`;

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");

/** Both signature algorithms reach the app: ES256 on SQLite, EdDSA (Ed25519) on PostgreSQL. */
const algOf = (backend: string): "ES256" | "EdDSA" => (backend === "postgres" ? "EdDSA" : "ES256");

describe.skipIf(missing !== null).each(backendNames())("examples/flask-app behind Gatehouse's reverse proxy believes only a valid Remote-JWT (%s)", (backend) => {
  let h: Harness;
  let flask: ChildProcess | undefined;
  let flaskUrl: string;
  let gatehouseUrl: string;
  let rulesDir: string;
  let user: { id: string; name: string };
  let cookie: string;

  /** A request straight to the Flask app (the "misconfigured proxy" that lets a client's headers through). */
  const direct = (path: string, headers: Record<string, string>) => fetch(`${flaskUrl}${path}`, { headers });
  /** A request through Gatehouse on the app's host. */
  const proxied = (path: string) => h.request({ method: "GET", url: path, cookie, headers: { host: APP_HOST } });
  /** A JWT of the signed-in user for `audience`, minted by Gatehouse's own signer (at `clock`'s time: the test seam for an expired one). */
  const mint = async (audience = APP_HOST, clock = systemClock) => {
    const signedIn = await h.gh.sessions.validate(decodeURIComponent(cookie.split("=")[1]!.split(";")[0]!));
    expect(signedIn).not.toBeNull();
    const tokens = clock === systemClock ? h.gh.identityTokens : createIdentityTokens({ store: h.gh.stores.signingKeys, box: h.gh.secretBox, clock, random: cryptoRandom, issuer: h.publicUrl, ttlMs: 10_000, alg: "ES256" });
    return tokens.mint(signedIn!, audience);
  };

  beforeAll(async () => {
    const [gPort, fPort] = [await freePort(), await freePort()];
    gatehouseUrl = `http://127.0.0.1:${gPort}`;
    flaskUrl = `http://127.0.0.1:${fPort}`;
    flask = spawn(PYTHON, [APP], {
      env: { PATH: process.env.PATH, HOST: "127.0.0.1", PORT: String(fPort), GATEHOUSE_JWKS_URL: `${gatehouseUrl}/.well-known/jwks.json`, GATEHOUSE_ISSUER: gatehouseUrl, APP_AUDIENCE: APP_HOST, JWKS_CACHE_SECONDS: "1" },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    await waitForOutput(flask, "Running on", 20_000);
    rulesDir = mkdtempSync(join(tmpdir(), "gatehouse-flask-"));
    writeFileSync(join(rulesDir, "rules.yml"), RULES);
    h = await startHarness(backend, { PUBLIC_URL: gatehouseUrl, PORT: String(gPort), UPSTREAM_URL: flaskUrl, GATEHOUSE_CONFIG: join(rulesDir, "rules.yml"), IDENTITY_JWT: "on", IDENTITY_JWT_TTL: "10s", IDENTITY_JWT_ALG: algOf(backend) }, systemClock);
    await h.gh.app.listen({ port: gPort, host: "127.0.0.1" });
    // Signed up and in on the app's host, under Gatehouse's prefix, as a browser would.
    const name = `flask${process.pid % 1000}`;
    const signUp = await h.request({ method: "POST", url: "/.gatehouse/api/auth/register", json: { username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, headers: { host: APP_HOST, origin: `http://${APP_HOST}` } });
    expect(signUp.statusCode, signUp.body).toBe(201);
    user = { id: (signUp.json() as { user: { id: string } }).user.id, name };
    cookie = sessionCookieFrom(signUp) as string;
  }, 60_000);
  afterAll(async () => {
    await h?.close();
    await stopProcessGroup(flask);
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  it("signed in through the proxy, /whoami shows the verified user (sub, preferred_username, groups)", async () => {
    const res = await proxied("/whoami");
    expect(res.statusCode, res.body).toBe(200);
    expect((await h.gh.identityTokens.list()).map((k) => k.alg)).toEqual([algOf(backend)]);
    expect(res.json()).toMatchObject({ sub: user.id, preferred_username: user.name, groups: ["user"], iss: gatehouseUrl, aud: APP_HOST, acr: "aal1", amr: ["pwd"] });
    const page = await proxied("/");
    expect(page.body).toContain(`Hello, ${user.name} (user)`);
    // Anonymous through the proxy: Gatehouse itself refuses (the app never sees the request).
    expect((await h.request({ method: "GET", url: "/whoami", headers: { host: APP_HOST } })).statusCode).toBe(401);
  });

  it("attack: forged Remote-User: admin straight to the app, without a JWT, is 401", async () => {
    const res = await direct("/whoami", { "Remote-User": "admin", "Remote-Groups": "user,admin,superadmin", "Remote-Email": "admin@example.test" });
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain("admin@example.test");
  });

  it("attack: an `alg: none` token, and garbage, are 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: gatehouseUrl, aud: APP_HOST, sub: "admin", preferred_username: "admin", groups: ["superadmin"], iat: now, nbf: now, exp: now + 60 };
    const kid = decodeProtectedHeader(await mint()).kid!;
    for (const token of [`${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`, `${b64({ alg: "none", typ: "JWT", kid })}.${b64(claims)}.`, "not-a-jwt", ""]) {
      expect((await direct("/whoami", { "Remote-JWT": token, "Remote-User": "admin" })).status).toBe(401);
    }
  });

  it("attack: a JWT signed by an attacker's key, under its own kid or under Gatehouse's kid, is 401", async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { iss: gatehouseUrl, aud: APP_HOST, sub: "admin", preferred_username: "admin", groups: ["superadmin"], iat: now, nbf: now, exp: now + 60 };
    const kid = decodeProtectedHeader(await mint()).kid!;
    for (const alg of ["ES256", "EdDSA"] as const) {
      const attacker = await generateKeyPair(alg);
      for (const k of ["attacker-key", kid]) {
        const forged = await new SignJWT(claims).setProtectedHeader({ alg, kid: k, typ: "JWT" }).sign(attacker.privateKey);
        expect((await direct("/whoami", { "Remote-JWT": forged })).status).toBe(401);
      }
    }
    // HS256 keyed with the published public key (algorithm confusion).
    const jwks = (await (await fetch(`${gatehouseUrl}/.well-known/jwks.json`)).json()) as { keys: object[] };
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid, typ: "JWT" }).sign(new TextEncoder().encode(JSON.stringify(jwks.keys[0])));
    expect((await direct("/whoami", { "Remote-JWT": hmac })).status).toBe(401);
    // And a genuine one is accepted straight away (the app itself works).
    const ok = await direct("/whoami", { "Remote-JWT": await mint() });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { sub: string }).sub).toBe(user.id);
  });

  it("attack: a valid Gatehouse JWT for another app's host is 401 here", async () => {
    expect((await direct("/whoami", { "Remote-JWT": await mint("other.test") })).status).toBe(401);
    expect((await direct("/whoami", { "Remote-JWT": await mint(`${APP_HOST}:8443`) })).status).toBe(401);
  });

  it("attack: an expired Gatehouse JWT (signed with the real key, a minute ago) is 401", async () => {
    const old = await mint(APP_HOST, createManualClock(Date.now() - 60_000));
    expect((await direct("/whoami", { "Remote-JWT": old })).status).toBe(401);
  });

  it("rotation: an old key's token still works during the grace period; once the key is removed, it is 401 after the app's JWKS cache refreshes", async () => {
    const before = await mint();
    const oldKid = decodeProtectedHeader(before).kid!;
    expect((await direct("/whoami", { "Remote-JWT": before })).status).toBe(200);
    const { to } = await h.gh.identityTokens.rotate();
    expect((await direct("/whoami", { "Remote-JWT": before })).status).toBe(200);
    // The proxy now signs with the new key, which the app fetches on first sight of its kid.
    const now = await proxied("/whoami");
    expect(now.statusCode, now.body).toBe(200);
    expect(decodeProtectedHeader(await mint()).kid).toBe(to);
    // The old key removed at once (compromised): the app refuses its still-unexpired token once its cache (1 s) expires.
    await h.gh.identityTokens.remove(oldKid);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await direct("/whoami", { "Remote-JWT": before })).status).toBe(401);
    expect((await proxied("/whoami")).statusCode).toBe(200);
  });
});
