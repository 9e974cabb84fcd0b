import { generate, generateURI, ScureBase32Plugin, verify } from "otplib";
import type { Random } from "../../random.js";

/** MFA-01, MFA-02: 160-bit secrets; HMAC-SHA-1, 6 digits, 30-second steps, at most one step either side. */
export const TOTP_PARAMS = { secretBytes: 20, algorithm: "sha1", digits: 6, periodSeconds: 30, toleranceSteps: 1 } as const;

/** What a TOTP code must look like before any HMAC is computed. */
export const TOTP_CODE_PATTERN = /^[0-9]{6}$/;

const base32 = new ScureBase32Plugin();

/** A fresh secret: {@link TOTP_PARAMS}.secretBytes bytes from the CSPRNG, Base32 (RFC 4648, no padding) as apps expect. */
export function newTotpSecret(random: Random): string {
  const bytes = random.bytes(TOTP_PARAMS.secretBytes);
  if (bytes.length !== TOTP_PARAMS.secretBytes) throw new Error("the random source gave a short TOTP secret");
  return base32.encode(new Uint8Array(bytes)).replace(/=+$/, "");
}

/** The raw bytes of a Base32 secret (tests check the length). */
export function decodeTotpSecret(secret: string): Uint8Array {
  return base32.decode(secret);
}

/**
 * The time step `code` is valid for under `secret` at `nowMs`, within one
 * step either side; null when it matches none (or is not 6 digits). The
 * comparison is otplib's constant-time one.
 */
export async function matchTotpStep(secret: string, code: string, nowMs: number): Promise<number | null> {
  if (!TOTP_CODE_PATTERN.test(code)) return null;
  const result = await verify({
    secret,
    token: code,
    algorithm: TOTP_PARAMS.algorithm,
    digits: TOTP_PARAMS.digits,
    period: TOTP_PARAMS.periodSeconds,
    epoch: Math.floor(nowMs / 1000),
    // Seconds either side of now: exactly the previous, current and next step.
    epochTolerance: TOTP_PARAMS.periodSeconds * TOTP_PARAMS.toleranceSteps,
  });
  return result.valid && "timeStep" in result ? result.timeStep : null;
}

/** The code of `secret` at `atMs` (what an authenticator app shows then). */
export function totpCodeAt(secret: string, atMs: number): Promise<string> {
  return generate({ secret, algorithm: TOTP_PARAMS.algorithm, digits: TOTP_PARAMS.digits, period: TOTP_PARAMS.periodSeconds, epoch: Math.floor(atMs / 1000) });
}

/** The `otpauth://totp/…` URL an authenticator app scans: issuer = the product's name, label = the username. */
export function totpUrl(secret: string, issuer: string, label: string): string {
  return generateURI({ issuer, label, secret, algorithm: TOTP_PARAMS.algorithm, digits: TOTP_PARAMS.digits, period: TOTP_PARAMS.periodSeconds });
}
