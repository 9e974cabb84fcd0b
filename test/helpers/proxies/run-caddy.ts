import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary } from "./binaries.js";
import { freePort } from "../processes.js";
import { APP_HOST } from "./gatehouse-listener.js";
import { proxyTempDir, spawnProxy, type RunningProxy } from "./proxy-process.js";
import { renderDocTemplate, type Substitution } from "./templates.js";

/**
 * Runs the real Caddy with docs/proxies/Caddyfile, changed only where a test
 * must differ from a server: global options for loopback ports, certificates
 * from Caddy's own local CA instead of ACME, no admin endpoint, state in a temp dir.
 * `opts.https` fixes the TLS port; `opts.site` adds substitutions (e.g. a second app host).
 */
export async function startCaddy(ports: { gatehouse: number; upstream: number }, opts: { https?: number; site?: Substitution[] } = {}): Promise<RunningProxy> {
  const bin = requireBinary("caddy");
  const dir = proxyTempDir("caddy");
  const https = opts.https ?? (await freePort());
  const http = await freePort();
  const testOptions = caddyTestOptions({ http, https });
  const caddyfile = join(dir, "Caddyfile");
  writeFileSync(
    caddyfile,
    renderDocTemplate("Caddyfile", [
      // The docs' global options block opens on a line of its own.
      ["\n{\n", `\n{\n${testOptions.map((o) => `\t${o}\n`).join("")}`],
      ["127.0.0.1:8080", `127.0.0.1:${ports.gatehouse}`],
      ["127.0.0.1:3000", `127.0.0.1:${ports.upstream}`],
      ...(opts.site ?? []),
    ]),
  );
  return spawnCaddy(bin, dir, caddyfile, https);
}

/** The global options every test Caddy runs with: loopback ports, its own local CA, no admin endpoint, no redirects. */
export function caddyTestOptions(ports: { http: number; https: number }): string[] {
  return ["admin off", "auto_https disable_redirects", `http_port ${ports.http}`, `https_port ${ports.https}`, "default_bind 127.0.0.1", "local_certs", "skip_install_trust"];
}

/** Runs Caddy on `caddyfile` (state kept in `dir`) and waits until it answers TLS on `https`. */
export function spawnCaddy(bin: string, dir: string, caddyfile: string, https: number): Promise<RunningProxy> {
  return spawnProxy("caddy", bin, ["run", "--config", caddyfile, "--adapter", "caddyfile"], {
    dir,
    port: https,
    host: APP_HOST,
    env: { HOME: dir, XDG_DATA_HOME: join(dir, "data"), XDG_CONFIG_HOME: join(dir, "config") },
    logFiles: [],
  });
}
