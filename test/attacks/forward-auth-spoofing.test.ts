import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

describe.each(backendNames())("attack: forward-auth header spoofing (FWD-02, FWD-03) (%s)", (backend) => {
  let h: Harness;
  let user: { cookie: string; name: string };
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) });
    user = await h.account("user");
  });
  afterAll(async () => h?.close());

  it("X-Forwarded-Host from an untrusted peer is ignored: a direct call is denied, signed in or not", async () => {
    for (const from of ["192.0.2.50", "127.0.0.1", "::1"]) {
      const signed = await ask(h, { from, host: "admin.internal", uri: "/", cookie: user.cookie });
      expect(signed.statusCode).toBe(403);
      expect(signed.headers["remote-user"]).toBeUndefined();
      const anon = await ask(h, { from, host: "app.example.test", uri: "/public/x" });
      expect(anon.statusCode).toBe(403);
    }
  });

  it("X-Forwarded-For naming a trusted proxy does not make an untrusted peer trusted", async () => {
    const res = await ask(h, { from: "192.0.2.50", uri: "/home", cookie: user.cookie, headers: { "x-forwarded-for": PROXY, "x-real-ip": PROXY, forwarded: `for=${PROXY}` } });
    expect(res.statusCode).toBe(403);
  });

  it("client-forged Remote-User / Remote-Groups never come back as the identity", async () => {
    const forged = { "remote-user": "admin", "remote-groups": "superadmin", "remote-email": "root@evil.test", "remote-name": "Root" };
    const anon = await ask(h, { uri: "/public/x", headers: forged });
    expect(anon.statusCode).toBe(200);
    expect(anon.headers["remote-user"]).toBe("");
    expect(anon.headers["remote-groups"]).toBe("");
    const signed = await ask(h, { uri: "/home", cookie: user.cookie, headers: forged });
    expect(signed.headers["remote-user"]).toBe(user.name);
    expect(signed.headers["remote-groups"]).toBe("user");
    expect((await ask(h, { uri: "/admin", headers: forged, cookie: user.cookie })).statusCode).toBe(403);
  });

  it("duplicated or list-valued forwarded headers are refused, not guessed", async () => {
    const res = await ask(h, { uri: "/home", cookie: user.cookie, headers: { "x-forwarded-host": "app.example.test, evil.test" } });
    expect(res.statusCode).toBe(403);
    const proto = await ask(h, { uri: "/home", cookie: user.cookie, headers: { "x-forwarded-proto": "https, http" } });
    expect(proto.statusCode).toBe(403);
  });

  it("a session cookie planted in a query parameter is not a session (SESS-05)", async () => {
    const token = user.cookie.split("=")[1]!;
    const res = await h.gh.app.inject({
      method: "GET",
      url: `/api/authz/forward-auth?session=${token}&gatehouse_session=${token}`,
      remoteAddress: PROXY,
      headers: { "x-forwarded-method": "GET", "x-forwarded-proto": "https", "x-forwarded-host": "app.example.test", "x-forwarded-uri": "/home" },
    });
    expect(res.statusCode).toBe(401);
  });
});
