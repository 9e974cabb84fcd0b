import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary } from "../proxies/binaries.js";
import { proxyTempDir } from "../proxies/proxy-process.js";
import { nginxCommand } from "../proxies/run-nginx.js";
import { freePort } from "../processes.js";

/** The real nginx, balancing round robin over the instances. */
export interface Balancer {
  port: number;
  /** `http://127.0.0.1:<port>`. */
  url: string;
  /** nginx's output and error log, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

/** The response header naming the instance(s) nginx tried for a request (`127.0.0.1:p1, 127.0.0.1:p2` after a retry). */
export const UPSTREAM_HEADER = "x-gatehouse-upstream";

/**
 * The site: one round-robin upstream of `ports`. A dead instance (connection
 * refused, or cut mid-request) is an `error`, so an idempotent request is
 * retried on the next instance and the dead one is left out for
 * `fail_timeout` after one failure. POSTs are never retried once sent
 * (nginx's default: they may have been executed). The client IP is appended
 * to X-Forwarded-For, which Gatehouse believes from 127.0.0.1 (TRUSTED_PROXIES).
 */
export function balancerSite(listen: number, ports: number[]): string {
  return `upstream gatehouse {
    ${ports.map((p) => `server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join("\n    ")}
}
server {
    listen 127.0.0.1:${listen};
    location / {
        proxy_pass http://gatehouse;
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
        proxy_next_upstream error timeout;
        proxy_next_upstream_tries 3;
        proxy_connect_timeout 1s;
        proxy_read_timeout 15s;
        add_header X-Gatehouse-Upstream $upstream_addr always;
    }
}
`;
}

/** Starts nginx on `listen` (default: a free loopback port) in front of `ports`; resolves once it answers HTTP. */
export async function startBalancer(ports: number[], listen?: number): Promise<Balancer> {
  const bin = requireBinary("nginx");
  const dir = proxyTempDir("nginx-balancer");
  const port = listen ?? (await freePort());
  mkdirSync(join(dir, "conf.d"));
  writeFileSync(join(dir, "conf.d", "balancer.conf"), balancerSite(port, ports));
  const { args, errorLog } = nginxCommand(dir);
  const child = spawn(bin, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const logs = () => `${output}\n--- ${errorLog}\n${existsSync(errorLog) ? readFileSync(errorLog, "utf8") : ""}`.slice(-20_000);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      const text = logs();
      await stop();
      throw new Error(`nginx exited (${child.exitCode}):\n${text}`);
    }
    // Any answer will do (the instances are up already): nginx is listening.
    const up = await fetch(`${url}/healthz`).then(
      () => true,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      const text = logs();
      await stop();
      throw new Error(`nginx did not answer on ${url}:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, url, logs, stop };
}
