import { isLoopback, type Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/**
 * TRUSTED_PROXIES when `X-Forwarded-*` will be needed: PUBLIC_URL's scheme
 * or port differs from what Gatehouse listens on (a proxy is in front,
 * terminating TLS or mapping ports), or forward-auth is in use (a rules file
 * or COOKIE_DOMAIN; the forward-auth endpoints answer trusted proxies only).
 */
export function proxyHeadersCheck(ctx: DoctorContext): Finding[] {
  const config = ctx.config;
  if (config === null || ctx.broken.has("TRUSTED_PROXIES")) return [];
  // Already reported by the settings check, with its own advice.
  if (!isLoopback(config.host) && config.trustedProxies.length === 0) return [];
  const url = new URL(config.publicUrl);
  const publicPort = Number(url.port || (url.protocol === "https:" ? 443 : 80));
  const reasons: string[] = [];
  if (url.protocol === "https:") reasons.push(`PUBLIC_URL is https while Gatehouse listens on plain http (${config.host}:${config.port}): a proxy terminates TLS`);
  else if (config.port !== 0 && publicPort !== config.port) reasons.push(`PUBLIC_URL's port ${publicPort} is not the port Gatehouse listens on (${config.port})`);
  if (config.configFile !== null) reasons.push("forward-auth rules are configured (GATEHOUSE_CONFIG)");
  if (config.cookieDomain !== null) reasons.push("COOKIE_DOMAIN is set (forward-auth single sign-on)");
  if (reasons.length === 0) return [];
  if (config.trustedProxies.length > 0) return [{ level: "ok", message: `a proxy is in front and TRUSTED_PROXIES is set (${config.trustedProxies.join(", ")})`, fix: "" }];
  return [
    {
      level: ctx.production ? "error" : "warn",
      message: `TRUSTED_PROXIES is empty but a proxy is in front: ${reasons.join("; ")}`,
      fix: "set TRUSTED_PROXIES to the proxy's address (e.g. 127.0.0.1): without it every client appears as the proxy, so one client's rate limits and bans hit everyone, and forward-auth answers 403",
    },
  ];
}
