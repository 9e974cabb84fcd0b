import { isRegistrationMode } from "../registration/registration-mode.js";
import { LOGIN_METHODS, SETTING_BOUNDS, type Settings } from "./settings.js";

/** The keys of {@link Settings}, in the order they are listed. */
export const SETTING_KEYS = [
  "registration",
  "emailVerificationRequired",
  "sessionIdleMinutes",
  "sessionAbsoluteMinutes",
  "sessionRememberDays",
  "loginMethods",
] as const satisfies readonly (keyof Settings)[];

/** Compile-time guard: a key added to {@link Settings} must be listed above (and validated below). */
type UnlistedSettingKey = Exclude<keyof Settings, (typeof SETTING_KEYS)[number]>;
const EVERY_KEY_LISTED: [UnlistedSettingKey] extends [never] ? true : never = true;
void EVERY_KEY_LISTED;

/** The former boolean setting earlier versions stored (read as a registration mode). */
export const LEGACY_SETTING_KEYS = ["registrationEnabled"] as const;

/** True when `key` names a setting Gatehouse stores (current or legacy). */
export function isStoredSettingKey(key: string): boolean {
  return (SETTING_KEYS as readonly string[]).includes(key) || (LEGACY_SETTING_KEYS as readonly string[]).includes(key);
}

function isBounded(value: unknown, [min, max]: readonly [number, number]): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

/**
 * Whether one setting value is acceptable on its own: its type, its bounds,
 * its allowed values. The one rule `PATCH /api/admin/settings`, a restore and
 * every read of the stored settings apply. Unknown keys are never valid.
 */
export function isValidSettingValue(key: string, value: unknown): boolean {
  switch (key) {
    case "registration":
      return isRegistrationMode(value);
    case "emailVerificationRequired":
    case "registrationEnabled":
      return typeof value === "boolean";
    case "sessionIdleMinutes":
    case "sessionAbsoluteMinutes":
    case "sessionRememberDays":
      return isBounded(value, SETTING_BOUNDS[key]);
    case "loginMethods":
      return (
        Array.isArray(value) &&
        value.length >= 1 &&
        value.length <= 10 &&
        new Set(value).size === value.length &&
        value.every((m) => typeof m === "string" && (LOGIN_METHODS as readonly string[]).includes(m))
      );
    default:
      return false;
  }
}

/**
 * The keys of `values` that are invalid: each value on its own
 * ({@link isValidSettingValue}), then the rules between session lifetimes
 * when both sides are present (idle ≤ absolute; "remember me" ≥ absolute).
 * Empty when everything is acceptable.
 */
export function settingsProblems(values: Partial<Record<string, unknown>>): string[] {
  const bad = new Set<string>();
  for (const [key, value] of Object.entries(values)) if (!isValidSettingValue(key, value)) bad.add(key);
  const idle = values.sessionIdleMinutes;
  const absolute = values.sessionAbsoluteMinutes;
  const remember = values.sessionRememberDays;
  const ok = (key: string, value: unknown) => value !== undefined && !bad.has(key);
  if (ok("sessionIdleMinutes", idle) && ok("sessionAbsoluteMinutes", absolute) && (idle as number) > (absolute as number)) bad.add("sessionIdleMinutes");
  if (ok("sessionRememberDays", remember) && ok("sessionAbsoluteMinutes", absolute) && (remember as number) * 1440 < (absolute as number)) {
    bad.add("sessionRememberDays");
  }
  return [...bad];
}

/**
 * The settings in force from what is stored: every stored value that is not
 * JSON, or fails {@link settingsProblems}, is replaced by its default (so a
 * value written behind Gatehouse's back, by SQL or an old restore, can never
 * break sign-in). Returns the settings and the keys that fell back.
 */
export function settingsFromStored(stored: Record<string, string>, defaults: Settings): { settings: Settings; fellBack: string[] } {
  const fellBack = new Set<string>();
  const merged: Record<string, unknown> = { ...defaults };
  const parse = (key: string): unknown => {
    try {
      return JSON.parse(stored[key] as string) as unknown;
    } catch {
      return undefined;
    }
  };
  for (const key of SETTING_KEYS) {
    if (!(key in stored)) continue;
    const value = parse(key);
    if (isValidSettingValue(key, value)) merged[key] = value;
    else fellBack.add(key);
  }
  // The former boolean setting: read as a mode unless the mode itself was stored since.
  if (!("registration" in stored) && "registrationEnabled" in stored) {
    const value = parse("registrationEnabled");
    if (isValidSettingValue("registrationEnabled", value)) merged.registration = value === true ? "open" : "closed";
    else fellBack.add("registrationEnabled");
  }
  // Values valid one by one but not together (idle longer than absolute…): the lifetimes return to their defaults.
  const across = settingsProblems(merged);
  if (across.length > 0) {
    for (const key of across) fellBack.add(key);
    for (const key of ["sessionIdleMinutes", "sessionAbsoluteMinutes", "sessionRememberDays"] as const) merged[key] = defaults[key];
  }
  return { settings: merged as unknown as Settings, fellBack: [...fellBack] };
}
