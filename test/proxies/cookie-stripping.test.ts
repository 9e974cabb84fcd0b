import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { proxyRequest, type ProxyResponse } from "../helpers/proxies/client.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";
import { APP_HOST, startListeningGatehouse, type ListeningGatehouse } from "../helpers/proxies/gatehouse-listener.js";
import type { RunningProxy } from "../helpers/proxies/proxy-process.js";
import { startCaddy } from "../helpers/proxies/run-caddy.js";
import { startNginx } from "../helpers/proxies/run-nginx.js";

type StartProxy = (ports: { gatehouse: number; upstream: number }) => Promise<RunningProxy>;

/** Every `Cookie` header the app received for one request (raw, as sent on the wire). */
function cookiesSeen(res: ProxyResponse, upstream: EchoUpstream): string[] {
  const out: string[] = [];
  for (const req of upstream.saw(res.probe)) {
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === "cookie") out.push(req.rawHeaders[i + 1] ?? "");
  }
  return out;
}

function describeResponse(res: ProxyResponse): string {
  return `status ${res.status}, location ${String(res.headers.location)}, body ${res.body.slice(0, 300)}`;
}

/**
 * Forward-auth mode: the proxy, not Gatehouse, forwards the request to the
 * app, so it is the proxy's configuration (docs/proxies) that must keep
 * Gatehouse's cookies away from the app. Real nginx and Caddy, the
 * templates as shipped.
 */
for (const [kind, start] of [["nginx", startNginx], ["caddy", startCaddy]] as [("nginx" | "caddy"), StartProxy][]) {
  describe.runIf(proxySuiteRuns(kind))(`attack: app (or a compromised/logging app) reads the Gatehouse session cookie, through real ${kind} (docs/proxies)`, () => {
    let gh: ListeningGatehouse;
    let upstream: EchoUpstream;
    let proxy: RunningProxy;
    let user: { cookie: string; name: string };

    beforeAll(async () => {
      upstream = await startEchoUpstream();
      gh = await startListeningGatehouse();
      proxy = await start({ gatehouse: gh.port, upstream: upstream.port });
      user = await gh.h.account("user");
    });
    afterAll(async () => {
      await proxy?.stop();
      await gh?.close();
      await upstream?.close();
    });

    it("a signed-in request reaches the app with the app's cookies in order and none of Gatehouse's", async () => {
      const session = user.cookie.slice(user.cookie.indexOf("=") + 1);
      const jar = [
        "theme=dark",
        user.cookie,
        "__Host-gatehouse_csrf=pre-session-value",
        "lang=fr-CH",
        "__Secure-gatehouse_session=sso-value",
        "my_gatehouse_session=app-owned",
        "gatehouse_session=tossed",
        "cart=3",
      ].join("; ");
      const res = await proxyRequest(proxy.port, { host: APP_HOST, path: "/dashboard", cookie: jar });
      // Gatehouse itself still saw the session cookie: the request is signed in.
      expect(res.status, describeResponse(res)).toBe(200);
      expect(res.echoed?.headers["remote-user"]).toBe(user.name);
      expect(cookiesSeen(res, upstream)).toEqual(["theme=dark; lang=fr-CH; my_gatehouse_session=app-owned; cart=3"]);
      expect(res.body).not.toContain(session);
      expect(res.body).not.toContain("pre-session-value");
      expect(res.body).not.toContain("sso-value");
    });

    it("the session cookie first, last or alone: the app's cookies come through intact", async () => {
      const first = await proxyRequest(proxy.port, { host: APP_HOST, path: "/a", cookie: `${user.cookie}; a=1;b=2` });
      expect(first.status, describeResponse(first)).toBe(200);
      expect(cookiesSeen(first, upstream)).toEqual(["a=1;b=2"]);
      const last = await proxyRequest(proxy.port, { host: APP_HOST, path: "/b", cookie: `a=1; ${user.cookie}` });
      expect(cookiesSeen(last, upstream)).toEqual(["a=1"]);
      const alone = await proxyRequest(proxy.port, { host: APP_HOST, path: "/c", cookie: `${user.cookie}; __Host-gatehouse_csrf=x` });
      expect(alone.status, describeResponse(alone)).toBe(200);
      // nginx sends no header for an empty value; Caddy 2.6 sends an empty one (docs/proxies/README.md).
      expect(cookiesSeen(alone, upstream).filter((c) => c !== "")).toEqual([]);
    });

    it("without any Gatehouse cookie (a bypass path), the app's Cookie header is passed on unchanged", async () => {
      const res = await proxyRequest(proxy.port, { host: APP_HOST, path: "/public/page", cookie: "a=1;b=2 ;  c=3" });
      expect(res.status, describeResponse(res)).toBe(200);
      expect(cookiesSeen(res, upstream)).toEqual(["a=1;b=2 ;  c=3"]);
    });
  });
}
