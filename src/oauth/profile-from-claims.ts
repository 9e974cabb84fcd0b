import type { ExternalProfile, ProviderSettings } from "../core/oauth/identity-provider.js";

type Claims = Record<string, unknown>;

const str = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The string values of a role claim: an array's strings, or a space/comma separated string. */
export function roleClaimValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === "string" && v !== "");
  if (typeof value === "string") return value.split(/[\s,]+/).filter((v) => v !== "");
  return [];
}

/**
 * Turns checked OpenID Connect claims (the ID token's, with the user info
 * response's as a fallback for what the ID token lacks) into an
 * {@link ExternalProfile}. The email and its `email_verified` come from the same
 * source; `emailVerified` is true only for a boolean `true`.
 */
export function profileFromClaims(settings: ProviderSettings, idToken: Claims & { sub: string }, userInfo: Claims | null): ExternalProfile {
  const emailSource = str(idToken.email) !== null || userInfo === null ? idToken : userInfo;
  const email = str(emailSource.email);
  const pick = (name: string): unknown => idToken[name] ?? userInfo?.[name];
  const at = email?.lastIndexOf("@") ?? -1;
  const localPart = email !== null && at > 0 ? email.slice(0, at) : null;
  return {
    issuer: settings.issuer,
    subject: idToken.sub,
    email,
    emailVerified: email !== null && emailSource.email_verified === true,
    preferredUsername: str(pick("preferred_username")) ?? localPart,
    name: str(pick("name")),
    roleClaimValues: settings.roles ? roleClaimValues(pick(settings.roles.claim)) : [],
  };
}
