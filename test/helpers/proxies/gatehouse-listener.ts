import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHarness, type Harness } from "../harness.js";

/** The portal, as users and the proxies' configurations see it. */
export const PORTAL_HOST = "auth.example.com";
/** The protected app's host in docs/proxies. */
export const APP_HOST = "app.example.com";
/** A host the rules let everyone through: the target of a forged X-Forwarded-Host. */
export const OPEN_HOST = "public.example.com";

/**
 * The access rules of the proxy suites (Authelia's `access_control` shape):
 * `/public/` is open to everyone, `/admin` to admins only ("deny /admin to
 * user"), the rest of the app to anyone signed in; OPEN_HOST is open.
 */
export const PROXY_RULES_YAML = `access_control:
  default_policy: deny
  rules:
    - domain: ["${OPEN_HOST}"]
      policy: bypass
    - domain: ["${APP_HOST}"]
      resources: ["^/public/"]
      policy: bypass
    - domain: ["${APP_HOST}"]
      resources: ["^/admin"]
      subject: ["group:admin"]
      policy: one_factor
    - domain: ["${APP_HOST}"]
      resources: ["^/admin"]
      policy: deny
    - domain: ["${APP_HOST}"]
      policy: one_factor
`;

/** A Gatehouse (test harness: real database, captured logs) listening on a real loopback port. */
export interface ListeningGatehouse {
  h: Harness;
  port: number;
  close(): Promise<void>;
}

/**
 * Starts Gatehouse as the docs deploy it behind a proxy: PUBLIC_URL is the
 * portal's https origin, TRUSTED_PROXIES is the proxy's loopback address, and
 * GATEHOUSE_CONFIG points at `rulesYaml` (default PROXY_RULES_YAML) in a temp file.
 */
export async function startListeningGatehouse(env: Record<string, string> = {}, rulesYaml = PROXY_RULES_YAML): Promise<ListeningGatehouse> {
  const dir = mkdtempSync(join(tmpdir(), "gatehouse-proxy-rules-"));
  const rules = join(dir, "gatehouse.yml");
  writeFileSync(rules, rulesYaml);
  let h: Harness;
  try {
    h = await startHarness("sqlite", {
      PUBLIC_URL: `https://${PORTAL_HOST}`,
      TRUSTED_PROXIES: "127.0.0.1/32",
      GATEHOUSE_CONFIG: rules,
      ...env,
    });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  await h.gh.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = h.gh.app.server.address() as AddressInfo;
  return {
    h,
    port,
    async close() {
      try {
        await h.close();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
