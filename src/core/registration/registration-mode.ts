import { GatehouseError } from "../errors.js";
import { emailProblem, normalizeEmail } from "../users/email.js";

/**
 * Who may create an account with `POST /api/auth/register`:
 * - `closed` (the default): nobody by themselves; admins invite or create accounts;
 * - `invite`: only the holder of a valid invitation;
 * - `open`: anyone (optionally only with an address in `REGISTRATION_EMAIL_DOMAINS`).
 * An invitation is accepted in every mode: an admin chose that person.
 */
export const REGISTRATION_MODES = ["closed", "invite", "open"] as const;
/** One of {@link REGISTRATION_MODES}. */
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** True when `value` is a registration mode. */
export function isRegistrationMode(value: unknown): value is RegistrationMode {
  return typeof value === "string" && (REGISTRATION_MODES as readonly string[]).includes(value);
}

/** Parses `REGISTRATION` (case-insensitive); throws with the allowed values. */
export function parseRegistrationMode(raw: string): RegistrationMode {
  const value = raw.trim().toLowerCase();
  if (!isRegistrationMode(value)) throw new Error(`must be one of ${REGISTRATION_MODES.join(", ")}`);
  return value;
}

const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Parses `REGISTRATION_EMAIL_DOMAINS`: comma-separated domains (`example.com, example.org`), lower-cased, a leading `@` allowed. */
export function parseEmailDomains(raw: string): string[] {
  const domains = raw
    .split(",")
    .map((d) => d.trim().toLowerCase().replace(/^@/, ""))
    .filter((d) => d !== "");
  for (const d of domains) if (!DOMAIN.test(d)) throw new Error(`must list domain names such as example.com (got an invalid entry)`);
  return [...new Set(domains)];
}

/**
 * The email allow-list of open registration: with a non-empty list, the
 * address must be present and its domain (after the last `@`) exactly one of
 * the list (subdomains are not included). Throws 403
 * `email_domain_not_allowed` (field `email`) otherwise; a malformed address
 * is 400 `invalid_request` as anywhere else.
 */
export function checkEmailDomain(email: string | undefined, allowed: readonly string[]): void {
  if (allowed.length === 0) return;
  if (email === undefined || email.trim() === "") throw new GatehouseError("email_domain_not_allowed", { fields: ["email"] });
  if (emailProblem(email) !== null) throw new GatehouseError("invalid_request", { fields: ["email"] });
  const normalized = normalizeEmail(email);
  const domain = normalized.slice(normalized.lastIndexOf("@") + 1);
  if (!allowed.includes(domain)) throw new GatehouseError("email_domain_not_allowed", { fields: ["email"] });
}
