import { ProviderError, type ProviderSettings } from "../../core/oauth/identity-provider.js";
import { loadProviders, ProviderConfigError } from "../../oauth/load-providers.js";
import type { Finding } from "../doctor-checks.js";
import type { DoctorContext } from "./doctor-context.js";

/** Dummy authorization request values: building the URL runs discovery, nothing is sent to a browser. */
const PROBE = { state: "gatehouse-doctor", nonce: "gatehouse-doctor", codeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" };

const TLS_CODE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL|DEPTH_ZERO|HOSTNAME_MISMATCH|ALTNAME/i;
const NETWORK_CODE = /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_SOCKET)$/;

/** The error codes along a cause chain (undici and Node put the TLS or socket code a few causes deep). */
function codesIn(err: unknown): string[] {
  const codes: string[] = [];
  for (let e = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") codes.push(code);
    if (e instanceof AggregateError) for (const inner of e.errors) codes.push(...codesIn(inner));
  }
  return codes;
}

/** Why discovery failed, in an operator's words (ours, never the provider's text). */
function discoveryFailure(err: unknown, settings: ProviderSettings): { reason: string; fix: string } {
  const message = err instanceof ProviderError ? err.message : "discovery failed";
  const codes = codesIn(err);
  const tls = codes.find((c) => TLS_CODE.test(c));
  const network = codes.find((c) => NETWORK_CODE.test(c));
  if (message.includes("another issuer")) {
    return {
      reason: `issuer mismatch: the discovery document names another issuer than ${settings.issuer}`,
      fix: "set `issuer` to exactly the `issuer` of the provider's /.well-known/openid-configuration (scheme, host, path, trailing slash)",
    };
  }
  if (message.includes("redirect")) {
    return { reason: "redirect refused: the discovery URL answered a redirect, and provider calls never follow redirects", fix: "set `issuer` to the URL the provider really serves its discovery document under" };
  }
  if (tls !== undefined) {
    return { reason: `TLS: the certificate is not trusted (${tls})`, fix: "a private CA: set `ca_file` (OAUTH_CA_FILE) to its PEM certificate; otherwise fix the provider's certificate" };
  }
  if (message.includes("address") || message.includes("only https")) {
    return { reason: `refused by the outbound policy (${message.replace(/^outbound call refused: /, "")})`, fix: "a provider on a loopback or private address needs `private_network: true` (OAUTH_PRIVATE_NETWORK); link-local addresses are always refused" };
  }
  if (message.includes("timed out")) return { reason: "unreachable: no answer within the deadline", fix: "check that this host can reach the provider (DNS, firewall, outbound proxy)" };
  if (network !== undefined || message.includes("network or TLS")) {
    return { reason: `unreachable${network ? ` (${network})` : ""}`, fix: "check the issuer URL and that this host can reach the provider (DNS, firewall, outbound proxy)" };
  }
  return { reason: message, fix: "check the issuer URL and the provider's discovery document" };
}

/** The live part: discovery through the provider's own client and outbound policy (what the first sign-in would do). */
async function discoveryFinding(settings: ProviderSettings, redirectUri: string): Promise<Finding> {
  const label = `identity provider \`${settings.id}\` (${settings.name})`;
  try {
    const { providerClientFor } = await import("../../oauth/provider-client-for.js");
    await providerClientFor(settings).authorizationUrl({ ...PROBE, redirectUri });
    return { level: "ok", message: `${label}: discovery at ${settings.issuer} answered with the configured issuer`, fix: "" };
  } catch (err) {
    const { reason, fix } = discoveryFailure(err, settings);
    return { level: "error", message: `${label}: discovery at ${settings.issuer} failed: ${reason}`, fix: `${fix}; sign-in with this provider fails until then` };
  }
}

/**
 * The identity providers (`OAUTH_*` and the rules file's
 * `identity_providers`): their settings load as the start loads them
 * (problems are errors), each provider's redirect URI to register at the
 * provider, and for OpenID Connect providers (`oidc`, `google`) a live
 * discovery through the same outbound policy as sign-in, whose issuer must be
 * exactly the configured one. GitHub has no discovery: information only. No
 * finding holds a client secret.
 */
export async function identityProvidersCheck(ctx: DoctorContext): Promise<Finding[]> {
  const config = ctx.config;
  if (config === null || ctx.broken.has("PASSWORD_LOGIN") || [...ctx.broken].some((name) => name.startsWith("OAUTH_"))) return [];
  let providers: ProviderSettings[];
  try {
    providers = loadProviders(config, ctx.env);
  } catch (err) {
    if (!(err instanceof ProviderConfigError)) throw err;
    return err.problems.map((problem) => ({ level: "error" as const, message: `identity providers: ${ctx.scrub(problem)}`, fix: "fix the provider settings; the server refuses to start until then" }));
  }
  const secrets = providers.map((p) => p.clientSecret).filter((s) => s.length >= 4);
  const scrub = (f: Finding): Finding => {
    const hide = (text: string) => ctx.scrub(secrets.reduce((t, s) => t.split(s).join("***"), text));
    return { ...f, message: hide(f.message), fix: hide(f.fix) };
  };
  const findings: Finding[] = [];
  for (const settings of providers) {
    const redirectUri = `${config.publicUrl}/api/auth/oauth/${settings.id}/callback`;
    const label = `identity provider \`${settings.id}\` (${settings.name})`;
    findings.push({
      level: "info",
      message: `${label}: ${settings.type}${settings.enabled ? "" : ", disabled"}; redirect URI ${redirectUri}`,
      fix: "register exactly this redirect (callback) URI with the provider",
    });
    if (!settings.enabled) continue;
    if (settings.type === "github") {
      findings.push({ level: "info", message: `${label}: GitHub has no discovery; sign-in uses ${settings.github?.authorizationEndpoint ?? ""}`, fix: "" });
      continue;
    }
    findings.push(await discoveryFinding(settings, redirectUri));
  }
  return findings.map(scrub);
}
