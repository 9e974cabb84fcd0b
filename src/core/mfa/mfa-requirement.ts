import type { Role } from "../users/user.js";

/** Who must have a second factor (`MFA_REQUIRED`): administrators (the default), every account, or nobody. */
export const MFA_REQUIREMENTS = ["admins", "everyone", "off"] as const;

/** One value of {@link MFA_REQUIREMENTS}. */
export type MfaRequirement = (typeof MFA_REQUIREMENTS)[number];

/** Reads `MFA_REQUIRED` (case-insensitive); throws a message naming the allowed values. */
export function parseMfaRequirement(raw: string): MfaRequirement {
  const value = raw.trim().toLowerCase();
  if ((MFA_REQUIREMENTS as readonly string[]).includes(value)) return value as MfaRequirement;
  throw new Error(`must be one of ${MFA_REQUIREMENTS.join(", ")}`);
}

/** True when a holder of `role` must have a second factor under `requirement` (admins: `admin` and `superadmin`). */
export function mfaRequiredForRole(requirement: MfaRequirement, role: Role): boolean {
  if (requirement === "everyone") return true;
  if (requirement === "admins") return role === "admin" || role === "superadmin";
  return false;
}
