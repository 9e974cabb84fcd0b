import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { startHarness, type Harness } from "../helpers/harness.js";
import { listen } from "../helpers/reverse-proxy.js";

describe("the demo's WebSocket goes through the same rules and identity injection", () => {
  let h: Harness;
  let base: string;

  beforeAll(async () => {
    h = await startHarness("sqlite");
    base = await listen(h);
  });
  afterAll(async () => h?.close());

  function open(headers: Record<string, string>): Promise<{ status: number; hello?: Record<string, string> }> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base.replace("http", "ws")}/demo/ws`, { headers: { origin: h.publicUrl, host: new URL(h.publicUrl).host, ...headers } });
      ws.once("unexpected-response", (_req, res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0 });
      });
      ws.once("error", reject);
      ws.once("message", (data) => {
        ws.close();
        resolve({ status: 101, hello: JSON.parse(String(data)).hello });
      });
    });
  }

  it("anonymous: 401; signed in: greeted with the injected identity, forged headers gone", async () => {
    expect((await open({})).status).toBe(401);
    const user = await h.account("user");
    const res = await open({ cookie: user.cookie, "remote-user": "admin", "remote-groups": "superadmin" });
    expect(res.status).toBe(101);
    expect(res.hello).toEqual({ "remote-user": user.name, "remote-email": `${user.name}@example.test`, "remote-name": user.name, "remote-groups": "user" });
  });

  it("the demo app itself refuses anyone but Gatehouse (no per-process key)", async () => {
    const res = await h.request({ method: "GET", url: "/demo/api/whoami", cookie: (await h.account("user")).cookie });
    expect(res.statusCode).toBe(200);
    // Reach the demo's loopback port directly, as another local process could: refused.
    const demo = await h.gh.app.proxyDemoOrigin();
    expect(demo.hostname).toBe("127.0.0.1");
    const direct = await fetch(new URL("/demo/api/whoami", demo), { headers: { "remote-user": "admin" } });
    expect(direct.status).toBe(403);
  });
});
