import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { proxySuiteRuns } from "../helpers/proxies/binaries.js";
import { proxyRequest } from "../helpers/proxies/client.js";
import { APP_HOST, startListeningGatehouse, type ListeningGatehouse } from "../helpers/proxies/gatehouse-listener.js";
import type { RunningProxy } from "../helpers/proxies/proxy-process.js";
import { startNginx } from "../helpers/proxies/run-nginx.js";
import { startCaddy } from "../helpers/proxies/run-caddy.js";
import { startEchoUpstream, type EchoUpstream } from "../helpers/echo-upstream.js";

const RULES = `access_control:
  default_policy: deny
  rules:
    - domain: ${APP_HOST}
      resources: ["^/generate"]
      policy: one_factor
      rate_limit: { per: user, limit: "3/1m" }
    - domain: ${APP_HOST}
      resources: ["^/admin"]
      policy: deny
    - domain: ${APP_HOST}
      policy: one_factor
`;

// Caddy relays forward-auth's 429 (and its page) as it is. nginx's auth_request cannot relay a 429 (any answer but 2xx,
// 401 and 403 is an error, 500): Gatehouse's auth-request endpoint answers 403 with Retry-After, and the shipped
// configuration (docs/proxies/nginx) turns that into a 429.
const PROXIES = [
  { kind: "nginx" as const, start: startNginx },
  { kind: "caddy" as const, start: startCaddy },
];

describe.each(PROXIES)("a rule's rate_limit through the real $kind (docs/proxies)", ({ kind, start }) => {
  if (!proxySuiteRuns(kind)) {
    it.skip(`${kind} is not installed`, () => undefined);
    return;
  }
  let gh: ListeningGatehouse;
  let upstream: EchoUpstream;
  let proxy: RunningProxy;
  let user: { cookie: string; name: string };
  beforeAll(async () => {
    upstream = await startEchoUpstream();
    gh = await startListeningGatehouse({}, RULES);
    proxy = await start({ gatehouse: gh.port, upstream: upstream.port });
    user = await gh.h.account("user");
    gh.h.clock.advance(60_000 - (gh.h.clock.now() % 60_000));
  });
  afterAll(async () => {
    await proxy?.stop();
    await gh?.close();
    await upstream?.close();
  });

  it("over the limit: 429 with Retry-After (not a 500, not a 403), never forwarded; another path of the same user goes on", async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await proxyRequest(proxy.port, { host: APP_HOST, path: "/generate", cookie: user.cookie });
      expect(ok.status).toBe(200);
    }
    const refused = await proxyRequest(proxy.port, { host: APP_HOST, path: "/generate", cookie: user.cookie, headers: [["Accept", "text/html"]] });
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toBe("60");
    expect(refused.headers["cache-control"]).toBe("no-store");
    // Caddy relays Gatehouse's own page; nginx answers with its short one.
    if (kind === "caddy") expect(refused.body).toContain("<h1>Too many requests</h1>");
    expect(upstream.saw(refused.probe)).toHaveLength(0);
    expect(refused.echoed).toBeNull();
    const api = await proxyRequest(proxy.port, { host: APP_HOST, path: "/generate", method: "POST", cookie: user.cookie, headers: [["Accept", "application/json"]], body: "{}" });
    expect(api.status).toBe(429);
    expect(upstream.saw(api.probe)).toHaveLength(0);
    expect((await proxyRequest(proxy.port, { host: APP_HOST, path: "/dashboard", cookie: user.cookie })).status).toBe(200);
  });

  it("a refusal by the rules stays a 403 with Gatehouse's page and no Retry-After; another user has a budget of their own", async () => {
    const denied = await proxyRequest(proxy.port, { host: APP_HOST, path: "/admin", cookie: user.cookie, headers: [["Accept", "text/html"]] });
    expect(denied.status).toBe(403);
    expect(denied.headers["retry-after"]).toBeUndefined();
    expect(denied.body).toContain("Not allowed");
    const other = await gh.h.account("user");
    for (let i = 0; i < 3; i++) expect((await proxyRequest(proxy.port, { host: APP_HOST, path: "/generate", cookie: other.cookie })).status).toBe(200);
    expect((await proxyRequest(proxy.port, { host: APP_HOST, path: "/generate", cookie: other.cookie })).status).toBe(429);
  });
});
