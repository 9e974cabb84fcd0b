import { readFileSync } from "node:fs";
import { PROVIDER_TYPES, type ProviderSecondFactor, type ProviderSettings, type ProviderType } from "../core/oauth/identity-provider.js";
import { parseEmailDomains } from "../core/registration/registration-mode.js";

/** A provider as written: the rules file's snake_case keys (the `OAUTH_*` variables are mapped onto them). */
export type RawProvider = Record<string, unknown>;

/** The keys a provider entry may have. */
export const PROVIDER_KEYS = [
  "id", "type", "name", "issuer", "client_id", "client_secret_file", "client_secret_env", "scopes", "enabled", "auto_link",
  "email_domains", "second_factor", "roles", "ca_file", "private_network", "authorization_endpoint", "token_endpoint", "api_url",
] as const;

/** True when the text holds a C0 control character or DEL. */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 32 || c === 127) return true;
  }
  return false;
}

const ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const SECOND_FACTORS: readonly ProviderSecondFactor[] = ["admins", "always", "never"];
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/;
const DEFAULTS: Record<ProviderType, { name: string; issuer: string | null; scopes: string[] }> = {
  oidc: { name: "single sign-on", issuer: null, scopes: ["openid", "email", "profile"] },
  google: { name: "Google", issuer: "https://accounts.google.com", scopes: ["openid", "email", "profile"] },
  github: { name: "GitHub", issuer: "https://github.com", scopes: ["read:user", "user:email"] },
};

/**
 * An https URL without credentials, query or fragment, exactly as written
 * (an issuer is compared character for character with what discovery
 * answers: `https://id.example.com/app/` keeps its slash); null (reported) otherwise.
 */
function httpsUrl(value: unknown, key: string, where: string, problems: string[]): string | null {
  let url: URL | null;
  try {
    url = typeof value === "string" ? new URL(value.trim()) : null;
  } catch {
    url = null;
  }
  if (url === null || url.protocol !== "https:" || url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    problems.push(`${where}: \`${key}\` must be an https URL without credentials, query or fragment`);
    return null;
  }
  return (value as string).trim();
}

function bool(value: unknown, key: string, fallback: boolean, where: string, problems: string[]): boolean {
  if (value === undefined) return fallback;
  if (typeof value === "boolean") return value;
  if (typeof value === "string" && ["true", "false", "on", "off", "yes", "no", "1", "0"].includes(value.trim().toLowerCase())) {
    return ["true", "on", "yes", "1"].includes(value.trim().toLowerCase());
  }
  problems.push(`${where}: \`${key}\` must be true or false`);
  return fallback;
}

function stringList(value: unknown, key: string, where: string, problems: string[]): string[] | null {
  if (value === undefined) return null;
  const list = typeof value === "string" ? value.split(/[\s,]+/).filter((s) => s !== "") : Array.isArray(value) && value.every((v) => typeof v === "string") ? value : null;
  if (list === null) problems.push(`${where}: \`${key}\` must be a list of strings`);
  return list;
}

/** The client secret, from a file or a named environment variable (never written in the rules file itself). */
function clientSecret(raw: RawProvider, where: string, env: NodeJS.ProcessEnv, problems: string[]): string {
  const before = problems.length;
  const file = raw.client_secret_file;
  const name = raw.client_secret_env;
  if ((file === undefined) === (name === undefined)) {
    problems.push(`${where}: set exactly one of \`client_secret_file\` or \`client_secret_env\` (the secret itself never goes in the file)`);
    return "";
  }
  let secret = "";
  if (file !== undefined) {
    if (typeof file !== "string" || file.trim() === "") problems.push(`${where}: \`client_secret_file\` must be a path`);
    else {
      try {
        secret = readFileSync(file.trim(), "utf8").trim();
      } catch (err) {
        problems.push(`${where}: cannot read \`client_secret_file\` ${file.trim()} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
        return "";
      }
    }
  } else if (typeof name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) problems.push(`${where}: \`client_secret_env\` must name an environment variable`);
  else secret = (env[name] ?? "").trim();
  // Only this entry's own secret problems count (an earlier entry's must not hide an empty secret here).
  if (secret === "" && problems.length === before) problems.push(`${where}: the client secret is empty`);
  if (secret.length > 1024) problems.push(`${where}: the client secret is longer than 1024 characters`);
  return secret;
}

function roles(value: unknown, where: string, problems: string[]): ProviderSettings["roles"] {
  if (value === undefined) return null;
  const r = value as { claim?: unknown; map?: unknown };
  const claimOk = typeof r === "object" && r !== null && typeof r.claim === "string" && /^[A-Za-z0-9_.:-]{1,64}$/.test(r.claim);
  const mapOk = typeof r === "object" && r !== null && typeof r.map === "object" && r.map !== null && !Array.isArray(r.map);
  if (!claimOk || !mapOk || Object.keys(r).some((k) => k !== "claim" && k !== "map")) {
    problems.push(`${where}: \`roles\` must be {claim: <claim name>, map: {<claim value>: user | admin}}`);
    return null;
  }
  const map: Record<string, "user" | "admin"> = Object.create(null) as Record<string, "user" | "admin">;
  for (const [claimValue, role] of Object.entries(r.map as Record<string, unknown>)) {
    if (role === "superadmin") problems.push(`${where}: \`roles.map\` cannot grant superadmin (a provider maps to user or admin at most)`);
    else if (role !== "user" && role !== "admin") problems.push(`${where}: \`roles.map\` values must be user or admin`);
    else map[claimValue] = role;
  }
  return { claim: r.claim as string, map };
}

/**
 * Validates one provider entry and fills its defaults (per type: issuer,
 * name, scopes, GitHub's endpoints). Every problem goes to `problems`,
 * prefixed with `where` (a line number, or `OAUTH_*`); no message ever holds
 * the client secret. Returns null when the entry is unusable.
 */
export function providerSettingsFrom(raw: RawProvider, where: string, env: NodeJS.ProcessEnv, problems: string[]): ProviderSettings | null {
  const before = problems.length;
  for (const key of Object.keys(raw)) {
    if (!(PROVIDER_KEYS as readonly string[]).includes(key)) problems.push(`${where}: unknown key \`${key.slice(0, 40)}\` (allowed: ${PROVIDER_KEYS.join(", ")})`);
  }
  const type = raw.type;
  if (typeof type !== "string" || !(PROVIDER_TYPES as readonly string[]).includes(type)) {
    problems.push(`${where}: \`type\` must be one of ${PROVIDER_TYPES.join(", ")}`);
    return null;
  }
  const t = type as ProviderType;
  const defaults = DEFAULTS[t];
  const id = raw.id === undefined ? t : typeof raw.id === "string" ? raw.id : "";
  if (!ID.test(id)) problems.push(`${where}: \`id\` must be 1 to 32 lower-case letters, digits or dashes (it is part of the callback URL)`);
  const rawName = raw.name ?? defaults.name;
  const name = typeof rawName === "string" ? rawName : "";
  if (name.trim() === "" || name.length > 64 || hasControl(name)) problems.push(`${where}: \`name\` must be 1 to 64 characters`);
  if (t === "oidc" && raw.issuer === undefined) problems.push(`${where}: \`issuer\` is required for an OpenID Connect provider`);
  if (t === "google" && raw.issuer !== undefined) problems.push(`${where}: Google's issuer is fixed; remove \`issuer\` (or use type oidc)`);
  const issuer = raw.issuer === undefined ? defaults.issuer : httpsUrl(raw.issuer, "issuer", where, problems);
  const clientId = typeof raw.client_id === "string" ? raw.client_id : "";
  if (clientId.trim() === "" || clientId.length > 255 || hasControl(clientId) || clientId.includes(" ")) problems.push(`${where}: \`client_id\` is required (1 to 255 visible characters)`);
  const secret = clientSecret(raw, where, env, problems);
  const scopes = stringList(raw.scopes, "scopes", where, problems) ?? defaults.scopes;
  if (scopes.some((s) => !SCOPE.test(s))) problems.push(`${where}: \`scopes\` must be OAuth scope names`);
  if (t !== "github" && !scopes.includes("openid")) problems.push(`${where}: \`scopes\` must include openid for an OpenID Connect provider`);
  let emailDomains: string[] = [];
  const domains = stringList(raw.email_domains, "email_domains", where, problems);
  if (domains !== null) {
    try {
      emailDomains = parseEmailDomains(domains.join(","));
    } catch (err) {
      problems.push(`${where}: \`email_domains\` ${(err as Error).message}`);
    }
  }
  const secondFactor = raw.second_factor ?? "admins";
  if (typeof secondFactor !== "string" || !(SECOND_FACTORS as readonly string[]).includes(secondFactor)) problems.push(`${where}: \`second_factor\` must be one of ${SECOND_FACTORS.join(", ")}`);
  const caFile = raw.ca_file;
  if (caFile !== undefined && (typeof caFile !== "string" || caFile.trim() === "")) problems.push(`${where}: \`ca_file\` must be a path`);
  let github: ProviderSettings["github"] = null;
  if (t === "github") {
    const base = (issuer ?? "https://github.com").replace(/\/$/, "");
    const onGithubCom = base === "https://github.com";
    github = {
      authorizationEndpoint: raw.authorization_endpoint === undefined ? `${base}/login/oauth/authorize` : httpsUrl(raw.authorization_endpoint, "authorization_endpoint", where, problems) ?? "",
      tokenEndpoint: raw.token_endpoint === undefined ? `${base}/login/oauth/access_token` : httpsUrl(raw.token_endpoint, "token_endpoint", where, problems) ?? "",
      apiUrl: raw.api_url === undefined ? (onGithubCom ? "https://api.github.com" : `${base}/api/v3`) : httpsUrl(raw.api_url, "api_url", where, problems) ?? "",
    };
  } else {
    for (const key of ["authorization_endpoint", "token_endpoint", "api_url"]) {
      if (raw[key] !== undefined) problems.push(`${where}: \`${key}\` is only for type github (OpenID Connect providers are discovered from their issuer)`);
    }
  }
  const settings: ProviderSettings = {
    id,
    type: t,
    name: name.trim(),
    issuer: issuer ?? "",
    clientId: clientId.trim(),
    clientSecret: secret,
    scopes,
    enabled: bool(raw.enabled, "enabled", true, where, problems),
    autoLink: bool(raw.auto_link, "auto_link", false, where, problems),
    emailDomains,
    secondFactor: secondFactor as ProviderSecondFactor,
    roles: roles(raw.roles, where, problems),
    caFile: typeof caFile === "string" && caFile.trim() !== "" ? caFile.trim() : null,
    privateNetwork: bool(raw.private_network, "private_network", false, where, problems),
    github,
  };
  if (settings.caFile !== null) {
    try {
      readFileSync(settings.caFile, "utf8");
    } catch (err) {
      problems.push(`${where}: cannot read \`ca_file\` ${settings.caFile} (${(err as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  return problems.length > before ? null : settings;
}
