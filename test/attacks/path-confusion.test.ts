import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backendNames } from "../helpers/backends.js";
import { startHarness, type Harness } from "../helpers/harness.js";
import { ask, PROXY, RULES, rulesFile } from "../helpers/forward-auth.js";

describe.each(backendNames())("attack: path confusion against the rule \"deny /admin to user\" (FWD-04) (%s)", (backend) => {
  let h: Harness;
  let user: { cookie: string };
  beforeAll(async () => {
    h = await startHarness(backend, { PUBLIC_URL: "https://gw.test", TRUSTED_PROXIES: PROXY, GATEHOUSE_CONFIG: rulesFile(RULES) });
    user = await h.account("user");
  });
  afterAll(async () => h?.close());

  it("control: the user reaches other paths, and /admin is 403", async () => {
    expect((await ask(h, { uri: "/home", cookie: user.cookie })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/admin", cookie: user.cookie })).statusCode).toBe(403);
  });

  const payloads = [
    "/Admin", "/ADMIN", "/admin/", "//admin", "///admin", "/./admin", "/public/../admin", "/public/%2e%2e/admin", "/%61dmin", "/%2561dmin",
    "/admin%2f", "/admin%2Fx", "/%2e%2e/admin", "/.%2e/admin", "/admin;x=y", "/admin;", "/public;/../admin", "/admin%00", "/admin%5c", "/admin\\x",
    "/public/..%2fadmin", "/public%2f..%2fadmin",
  ];
  for (const endpoint of ["forward-auth", "auth-request"] as const) {
    it.each(payloads)(`path confusion via ${endpoint}: %j never gets 2xx`, async (uri) => {
      const res = await ask(h, { endpoint, uri, cookie: user.cookie });
      expect([400, 403]).toContain(res.statusCode);
      expect(res.headers["remote-user"]).toBeUndefined();
    });
  }

  it("path confusion: the host App.Example.test. with the default port is the same protected host", async () => {
    expect((await ask(h, { host: "App.Example.test.", uri: "/admin", cookie: user.cookie })).statusCode).toBe(403);
    expect((await ask(h, { host: "APP.EXAMPLE.TEST:443", uri: "/Admin", cookie: user.cookie })).statusCode).toBe(403);
  });

  it("path confusion: an ambiguous path is refused even on a bypass rule", async () => {
    expect((await ask(h, { uri: "/public/x" })).statusCode).toBe(200);
    expect((await ask(h, { uri: "/public/..%2f..%2fadmin" })).statusCode).toBe(403);
    expect((await ask(h, { uri: "/public/%2e%2e/admin" })).statusCode).toBe(403);
  });
});
