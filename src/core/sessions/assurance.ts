/**
 * How a sign-in proved who the user is, as Authentication Method Reference
 * values (RFC 8176): `pwd` a password, `otp` a one-time code (TOTP, a
 * recovery code), `hwk` a hardware-bound key (a passkey), `swk` a
 * software-bound key, `mfa` a multi-factor authenticator: one that checked
 * a second factor of its own (a passkey that verified the user with a PIN or
 * a biometric, WebAuthn's UV flag), and Gatehouse's own `fed`: an identity
 * provider vouched for the user (OpenID Connect, GitHub); RFC 8176 has no
 * value for it, and what the provider checked is not known, so it counts as
 * one factor of its own kind. Flows only ever name the methods they checked.
 */
export type AuthMethod = "pwd" | "otp" | "hwk" | "swk" | "mfa" | "fed";

/** Every {@link AuthMethod}, in a fixed order. */
export const AUTH_METHODS: readonly AuthMethod[] = ["pwd", "otp", "hwk", "swk", "mfa", "fed"];

/**
 * The assurance a session carries (NIST SP 800-63B authenticator assurance
 * levels): `aal1` one factor, `aal2` two distinct kinds of factor.
 */
export type Assurance = "aal1" | "aal2";

/** The kind of factor each method proves: something known, or something held (`mfa` proves two on its own). */
const FACTOR_KIND: Record<Exclude<AuthMethod, "mfa">, "knowledge" | "possession" | "federated"> = {
  pwd: "knowledge",
  fed: "federated",
  otp: "possession",
  hwk: "possession",
  swk: "possession",
};

/** True for a string that names an {@link AuthMethod}. */
export function isAuthMethod(value: string): value is AuthMethod {
  return (AUTH_METHODS as readonly string[]).includes(value);
}

/**
 * The assurance of a sign-in proved by `methods`: `aal2` when they span two
 * distinct kinds of factor (a password and a one-time code), or include a
 * multi-factor authenticator (`mfa`: a passkey with user verification, the
 * key held plus the PIN or biometric that unlocked it, as NIST SP 800-63B
 * counts a multi-factor cryptographic authenticator), else `aal1` (two
 * passwords, or one key alone without user verification, are still one kind).
 */
export function assuranceOf(methods: readonly AuthMethod[]): Assurance {
  if (methods.includes("mfa")) return "aal2";
  return new Set(methods.map((m) => FACTOR_KIND[m as Exclude<AuthMethod, "mfa">])).size >= 2 ? "aal2" : "aal1";
}

/** The stored form of a method list: RFC 8176 values separated by spaces. */
export function formatAmr(methods: readonly AuthMethod[]): string {
  return methods.join(" ");
}

/**
 * A stored method list read back: known values only, each once, in order.
 * An empty or unreadable column reads as a password sign-in, the only kind
 * that existed before methods were recorded.
 */
export function parseAmr(stored: string): AuthMethod[] {
  const methods = [...new Set(stored.split(" ").filter(isAuthMethod))];
  return methods.length > 0 ? methods : ["pwd"];
}
