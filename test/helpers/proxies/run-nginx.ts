import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary } from "./binaries.js";
import { freePort } from "../processes.js";
import { APP_HOST } from "./gatehouse-listener.js";
import { proxyTempDir, selfSignedCert, spawnProxy, type RunningProxy } from "./proxy-process.js";
import { renderDocTemplate, type Substitution } from "./templates.js";

const SNIPPETS = ["gatehouse-authz-location.conf", "gatehouse-authrequest.conf", "gatehouse-proxy.conf"];

/**
 * Runs the real nginx with docs/proxies/nginx (site.conf and its snippets),
 * changed only where a test must differ from a server: loopback ports, a
 * self-signed certificate, file paths in a temp dir. `opts.https` fixes the
 * TLS port (a browser suite needs it in PUBLIC_URL before Gatehouse starts);
 * `opts.site` adds substitutions to site.conf (e.g. a second app host).
 */
export async function startNginx(ports: { gatehouse: number; upstream: number }, opts: { https?: number; site?: Substitution[] } = {}): Promise<RunningProxy> {
  const bin = requireBinary("nginx");
  const dir = proxyTempDir("nginx");
  const https = opts.https ?? (await freePort());
  const http = await freePort();
  const { cert, key } = selfSignedCert(dir);
  mkdirSync(join(dir, "snippets"));
  mkdirSync(join(dir, "conf.d"));
  const common: [string, string][] = [["127.0.0.1:8080", `127.0.0.1:${ports.gatehouse}`]];
  for (const name of SNIPPETS) {
    const subs: [string, string][] = name === "gatehouse-authz-location.conf" ? common : [];
    writeFileSync(join(dir, "snippets", name), renderDocTemplate(`nginx/snippets/${name}`, subs));
  }
  writeFileSync(
    join(dir, "conf.d", "gatehouse.conf"),
    renderDocTemplate("nginx/site.conf", [
      ...common,
      ["127.0.0.1:3000", `127.0.0.1:${ports.upstream}`],
      ["listen 443 ", `listen 127.0.0.1:${https} `],
      ["listen 80;", `listen 127.0.0.1:${http};`],
      ["/etc/letsencrypt/live/example.com/fullchain.pem", cert],
      ["/etc/letsencrypt/live/example.com/privkey.pem", key],
      ["/etc/nginx/snippets/", `${join(dir, "snippets")}/`],
      ...(opts.site ?? []),
    ]),
  );
  return spawnNginx(bin, dir, https);
}

/**
 * Writes a stand-in for Debian's /etc/nginx/nginx.conf into `dir` that moves
 * everything nginx would write outside `dir` into it and includes
 * `dir/conf.d/*.conf`; returns nginx's arguments (foreground) and its error log.
 */
export function nginxCommand(dir: string): { args: string[]; errorLog: string } {
  const errorLog = join(dir, "error.log");
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${errorLog} info;
events { worker_connections 256; }
http {
    access_log ${join(dir, "access.log")};
    client_body_temp_path ${join(dir, "client_body")};
    proxy_temp_path ${join(dir, "proxy")};
    fastcgi_temp_path ${join(dir, "fastcgi")};
    uwsgi_temp_path ${join(dir, "uwsgi")};
    scgi_temp_path ${join(dir, "scgi")};
    include ${join(dir, "conf.d")}/*.conf;
}
`,
  );
  return { args: ["-p", `${dir}/`, "-e", errorLog, "-c", join(dir, "nginx.conf"), "-g", "daemon off;"], errorLog };
}

/**
 * Starts nginx on `dir/conf.d/*.conf` (already written) with nginxCommand's
 * main configuration; waits until it answers TLS on `https`.
 */
export function spawnNginx(bin: string, dir: string, https: number): Promise<RunningProxy> {
  const { args, errorLog } = nginxCommand(dir);
  return spawnProxy("nginx", bin, args, {
    dir,
    port: https,
    host: APP_HOST,
    logFiles: [errorLog],
  });
}
