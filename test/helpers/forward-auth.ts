import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { LightMyRequestResponse } from "fastify";
import type { Harness } from "./harness.js";

/** The trusted front proxy's address in these suites. */
export const PROXY = "10.9.9.9";
/** "deny /admin to user": admins may, everyone else is denied; /public/ is open; the rest needs a sign-in. */
export const RULES = `
access_control:
  default_policy: deny
  rules:
    - domain: app.example.test
      resources: ["^/public/"]
      policy: bypass
    - domain: app.example.test
      resources: ["^/admin"]
      subject: "group:admin"
      policy: one_factor
    - domain: app.example.test
      resources: ["^/admin"]
      policy: deny
    - domain: ["app.example.test", "*.apps.example.test"]
      policy: one_factor
`;

/** Writes a rules file and returns its path. */
export function rulesFile(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "gh-fwd-")), "rules.yml");
  writeFileSync(path, text);
  return path;
}

export interface Ask {
  uri?: string;
  host?: string;
  method?: string;
  cookie?: string;
  accept?: string;
  from?: string;
  endpoint?: "forward-auth" | "auth-request";
  headers?: Record<string, string>;
}

/** A forward-auth sub-request as Traefik/Caddy (X-Forwarded-*) or nginx (X-Original-*) would send it. */
export function ask(h: Harness, a: Ask): Promise<LightMyRequestResponse> {
  const endpoint = a.endpoint ?? "forward-auth";
  const method = a.method ?? "GET";
  const host = a.host ?? "app.example.test";
  const uri = a.uri ?? "/";
  const headers: Record<string, string> =
    endpoint === "forward-auth"
      ? { "x-forwarded-method": method, "x-forwarded-proto": "https", "x-forwarded-host": host, "x-forwarded-uri": uri }
      : { "x-original-method": method, "x-original-url": `https://${host}${uri}` };
  if (a.cookie) headers.cookie = a.cookie;
  if (a.accept) headers.accept = a.accept;
  return h.gh.app.inject({ method: "GET", url: `/api/authz/${endpoint}`, remoteAddress: a.from ?? PROXY, headers: { ...headers, ...a.headers } });
}

