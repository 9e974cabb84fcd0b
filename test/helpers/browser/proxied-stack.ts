import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GOOD_PASSWORD } from "../harness.js";
import { requireBinary } from "../proxies/binaries.js";
import { freePort } from "../processes.js";
import { startEchoUpstream, type EchoUpstream } from "../echo-upstream.js";
import { APP_HOST, PORTAL_HOST, startListeningGatehouse, type ListeningGatehouse } from "../proxies/gatehouse-listener.js";
import { proxyTempDir, selfSignedCert, type RunningProxy } from "../proxies/proxy-process.js";
import { caddyTestOptions, spawnCaddy, startCaddy } from "../proxies/run-caddy.js";
import { spawnNginx, startNginx } from "../proxies/run-nginx.js";

/** A second protected app on another subdomain: reached through COOKIE_DOMAIN single sign-on. */
export const APP2_HOST = "app2.example.com";

/** Every test host, for Chromium's `--host-resolver-rules` (nothing else is mapped). */
export const BROWSER_HOSTS = [PORTAL_HOST, APP_HOST, APP2_HOST];

/** Chromium flags: the test hosts resolve to loopback (the URL keeps the proxy's random port). */
export const HOST_RESOLVER_ARGS = [`--host-resolver-rules=${BROWSER_HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(",")}`];

/**
 * The rules of the browser suites: `/admin` on the app is for admins only,
 * the rest of both apps for anyone signed in. In reverse-proxy mode
 * UPSTREAM_URL sends both app hosts to the echo app.
 */
export const BROWSER_RULES_YAML = `access_control:
  default_policy: deny
  rules:
    - domain: ["${APP_HOST}"]
      resources: ["^/admin"]
      subject: ["group:admin"]
      policy: one_factor
    - domain: ["${APP_HOST}"]
      resources: ["^/admin"]
      policy: deny
    - domain: ["${APP_HOST}", "${APP2_HOST}"]
      policy: one_factor
`;

/**
 * How the proxy and Gatehouse are arranged:
 * - `forward-auth`: the docs/proxies configuration (nginx `auth_request`,
 *   Caddy `forward_auth`), the portal on its own host, the apps behind the proxy;
 * - `reverse-proxy`: the proxy only terminates TLS in front of Gatehouse
 *   (`UPSTREAM_URL`), which forwards to the app itself.
 */
export type StackMode = "forward-auth" | "reverse-proxy";

/** A real proxy with TLS, a Gatehouse behind it and the echo app, all on random loopback ports. */
export interface ProxiedStack {
  kind: "nginx" | "caddy";
  mode: StackMode;
  gh: ListeningGatehouse;
  upstream: EchoUpstream;
  proxy: RunningProxy;
  /** The proxy's https port (in every URL the browser opens). */
  port: number;
  /** `https://<host>:<port><path>` */
  url(host: string, path: string): string;
  /**
   * A new plain user, made through the account service (not the sign-up
   * page, whatever REGISTRATION says), with password GOOD_PASSWORD and
   * email `<name>@example.test`; `cookie` is a session cookie header value.
   */
  user(): Promise<{ id: string; name: string; cookie: string }>;
  close(): Promise<void>;
}

/** nginx as a TLS terminator in front of Gatehouse: the Host header kept as the browser sent it (with its port). */
function nginxTerminator(dir: string, https: number, gatehouse: number): void {
  const { cert, key } = selfSignedCert(dir);
  mkdirSync(join(dir, "conf.d"));
  writeFileSync(
    join(dir, "conf.d", "gatehouse.conf"),
    `map $http_upgrade $gatehouse_connection_upgrade {
    default upgrade;
    ""      close;
}
server {
    listen 127.0.0.1:${https} ssl;
    server_name ${BROWSER_HOSTS.join(" ")};
    ssl_certificate     ${cert};
    ssl_certificate_key ${key};
    location / {
        proxy_pass http://127.0.0.1:${gatehouse};
        proxy_http_version 1.1;
        proxy_set_header Host              $http_host;
        proxy_set_header X-Forwarded-For   $remote_addr;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_set_header X-Forwarded-Host  "";
        proxy_set_header Forwarded         "";
        proxy_set_header Upgrade           $http_upgrade;
        proxy_set_header Connection        $gatehouse_connection_upgrade;
    }
}
`,
  );
}

async function startTerminator(kind: "nginx" | "caddy", https: number, gatehouse: number): Promise<RunningProxy> {
  const bin = requireBinary(kind);
  const dir = proxyTempDir(kind);
  if (kind === "nginx") {
    nginxTerminator(dir, https, gatehouse);
    return spawnNginx(bin, dir, https);
  }
  const caddyfile = join(dir, "Caddyfile");
  const options = caddyTestOptions({ http: await freePort(), https });
  writeFileSync(caddyfile, `{\n${options.map((o) => `\t${o}\n`).join("")}}\n\n${BROWSER_HOSTS.join(", ")} {\n\treverse_proxy 127.0.0.1:${gatehouse}\n}\n`);
  return spawnCaddy(bin, dir, caddyfile, https);
}

let userSeq = 0;

/**
 * Starts the echo app, Gatehouse (PUBLIC_URL `https://auth.example.com:<port>`,
 * COOKIE_DOMAIN `.example.com`) and the real proxy on one random https port,
 * with the access rules `rulesYaml` (default {@link BROWSER_RULES_YAML});
 * `extraEnv` adds to (or overrides) Gatehouse's environment, e.g. the
 * `OAUTH_*` variables of an identity provider.
 */
export async function startProxiedStack(
  kind: "nginx" | "caddy",
  mode: StackMode,
  rulesYaml = BROWSER_RULES_YAML,
  extraEnv: Record<string, string> = {},
): Promise<ProxiedStack> {
  const port = await freePort();
  const upstream = await startEchoUpstream();
  const env: Record<string, string> = { PUBLIC_URL: `https://${PORTAL_HOST}:${port}`, COOKIE_DOMAIN: ".example.com", REGISTRATION: "open", ...extraEnv };
  if (mode === "reverse-proxy") env.UPSTREAM_URL = `http://127.0.0.1:${upstream.port}`;
  let gh: ListeningGatehouse | null = null;
  try {
    gh = await startListeningGatehouse(env, rulesYaml);
    const ports = { gatehouse: gh.port, upstream: upstream.port };
    let proxy: RunningProxy;
    if (mode === "reverse-proxy") proxy = await startTerminator(kind, port, gh.port);
    else if (kind === "nginx") proxy = await startNginx(ports, { https: port, site: [["server_name app.example.com;", `server_name ${APP_HOST} ${APP2_HOST};`]] });
    else proxy = await startCaddy(ports, { https: port, site: [["\napp.example.com {", `\n${APP_HOST}, ${APP2_HOST} {`]] });
    const started = gh;
    return {
      kind,
      mode,
      gh: started,
      upstream,
      proxy,
      port,
      url: (host, path) => `https://${host}:${port}${path}`,
      async user() {
        const name = `reader${++userSeq}x${process.pid % 1000}`;
        const origin = { ip: "127.0.0.1", userAgent: "proxied-stack" };
        const { user, issued } = await started.h.gh.accounts.register({ username: name, password: GOOD_PASSWORD, email: `${name}@example.test` }, origin);
        if (issued === null) throw new Error("no session issued");
        return { id: user.id, name, cookie: `__Host-gatehouse_session=${issued.token}` };
      },
      async close() {
        await proxy.stop();
        await started.close();
        await upstream.close();
      },
    };
  } catch (err) {
    await gh?.close();
    await upstream.close();
    throw err;
  }
}
