import { expect, it } from "vitest";
import WebSocket from "ws";
import { GOOD_PASSWORD, sessionCookieFrom } from "../helpers/harness.js";
import { APP_HOST, APP_ORIGIN, listen, startProxyHarness } from "../helpers/reverse-proxy.js";

it("shutdown is not held up by open proxied WebSockets: they are closed (1001) first", async () => {
  const p = await startProxyHarness("sqlite");
  const base = await listen(p.h);
  const u = await p.h.account("user");
  const login = await p.h.request({ method: "POST", url: "/.gatehouse/api/auth/login", json: { username: u.name, password: GOOD_PASSWORD }, headers: { host: APP_HOST, origin: APP_ORIGIN } });
  const ws = new WebSocket(`${base.replace("http", "ws")}/ws`, { headers: { host: APP_HOST, origin: APP_ORIGIN, cookie: sessionCookieFrom(login) as string } });
  const closed = new Promise<number>((r) => ws.once("close", (code) => r(code)));
  await new Promise((r) => ws.once("message", r));
  expect(p.h.gh.app.proxySockets.size()).toBe(1);
  const t0 = performance.now();
  await p.close();
  expect(performance.now() - t0).toBeLessThan(3_000);
  expect(await closed).toBe(1001);
});
