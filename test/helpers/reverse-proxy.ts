import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Clock } from "../../src/core/clock.js";
import type { Backend } from "./backends.js";
import { startEchoUpstream, type EchoUpstream } from "./echo-upstream.js";
import { startHarness, type Harness, type HarnessOptions } from "./harness.js";
import WebSocket from "ws";

/** The rules of the reverse-proxy suites, on host `app.test`. */
export const APP_RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.test
      resources: ["^/public/"]
      policy: bypass
    - domain: app.test
      resources: ["^/admin"]
      subject: ["group:admin"]
      policy: one_factor
    - domain: app.test
      resources: ["^/admin"]
      policy: deny
    - domain: app.test
      policy: one_factor
`;

export const APP_HOST = "app.test";
export const APP_ORIGIN = "http://app.test";

/** A Gatehouse in reverse-proxy mode in front of an echo upstream. */
export interface ProxyHarness {
  h: Harness;
  upstream: EchoUpstream;
  rulesDir: string;
  close(): Promise<void>;
}

/** Starts an echo upstream and a Gatehouse proxying every non-portal host to it (`UPSTREAM_URL`) with {@link APP_RULES}. */
export async function startProxyHarness(
  backend: Backend["name"],
  env: Record<string, string> = {},
  rules = APP_RULES,
  clock?: Clock,
  options: HarnessOptions = {},
): Promise<ProxyHarness> {
  const upstream = await startEchoUpstream({ plantCookies: true });
  const rulesDir = mkdtempSync(join(tmpdir(), "gatehouse-rules-"));
  const file = join(rulesDir, "gatehouse.yml");
  writeFileSync(file, rules);
  let h: Harness;
  try {
    h = await startHarness(backend, { UPSTREAM_URL: upstream.url, GATEHOUSE_CONFIG: file, ...env }, clock, options);
  } catch (err) {
    await upstream.close();
    throw err;
  }
  return {
    h,
    upstream,
    rulesDir,
    async close() {
      await h.close();
      await upstream.close();
      rmSync(rulesDir, { recursive: true, force: true });
    },
  };
}

/** Listens on an ephemeral loopback port (for streaming and WebSocket suites); returns the base URL. */
export async function listen(h: Harness): Promise<string> {
  await h.gh.app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = h.gh.app.server.address() as AddressInfo;
  return `http://127.0.0.1:${port}`;
}

/** The HTTP status of a refused WebSocket upgrade of `base` + `path` (a listening Gatehouse), or 101 when it opened. */
export function upgradeStatus(base: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`${base.replace("http", "ws")}${path}`, [], { headers });
    ws.once("unexpected-response", (_req, res) => {
      res.resume();
      resolve(res.statusCode ?? -1);
    });
    ws.once("open", () => {
      ws.terminate();
      resolve(101);
    });
    ws.once("error", () => resolve(-1));
  });
}
