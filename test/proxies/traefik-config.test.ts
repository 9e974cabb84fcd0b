import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { PROXY_DOCS_DIR } from "../helpers/proxies/templates.js";

// Traefik is not packaged in Debian, so docs/proxies/traefik is not run for
// real like nginx and Caddy; this checks the settings the attacks depend on.
interface Dynamic {
  http: {
    middlewares: Record<string, { headers?: { customRequestHeaders: Record<string, string> }; forwardAuth?: { address: string; trustForwardHeader: boolean; authRequestHeaders: string[]; authResponseHeaders: string[] } }>;
    routers: Record<string, { rule: string; middlewares?: string[]; service: string }>;
  };
}

const IDENTITY = ["Remote-User", "Remote-Groups", "Remote-Email", "Remote-Name", "Remote-JWT"];

describe("docs/proxies/traefik: forged identity and forwarded headers", () => {
  const dynamic = parse(readFileSync(join(PROXY_DOCS_DIR, "traefik", "dynamic.yml"), "utf8")) as Dynamic;
  const staticConfig = parse(readFileSync(join(PROXY_DOCS_DIR, "traefik", "traefik.yml"), "utf8")) as { entryPoints: Record<string, { forwardedHeaders?: unknown }> };
  const fa = dynamic.http.middlewares.gatehouse?.forwardAuth;

  it("asks Gatehouse's forward-auth endpoint and copies the four identity headers and the signed Remote-JWT from its answer", () => {
    expect(fa?.address).toMatch(/^http:\/\/127\.0\.0\.1:8080\/api\/authz\/forward-auth$/);
    expect(fa?.authResponseHeaders).toEqual(IDENTITY);
  });

  it("forged X-Forwarded-* / X-Original-URL: client values are never trusted nor passed to Gatehouse", () => {
    expect(fa?.trustForwardHeader).toBe(false);
    expect(fa?.authRequestHeaders.map((h) => h.toLowerCase()).sort()).toEqual(["accept", "authorization", "cookie", "user-agent"]);
    for (const ep of Object.values(staticConfig.entryPoints)) expect(ep.forwardedHeaders).toBeUndefined();
  });

  it("forged Remote-User / Remote_User: every spelling is stripped before forward-auth on the protected router", () => {
    const strip = dynamic.http.middlewares["gatehouse-strip-identity"]?.headers?.customRequestHeaders ?? {};
    for (const name of IDENTITY) {
      expect(strip[name]).toBe("");
      expect(strip[name.replace("-", "_")]).toBe("");
    }
    expect(dynamic.http.routers.app?.middlewares).toEqual(["gatehouse-strip-identity", "gatehouse"]);
  });
});
