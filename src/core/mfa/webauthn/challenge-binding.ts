import { hashToken } from "../../crypto/tokens.js";

/**
 * What a WebAuthn challenge is bound to: the session that asked for it (a
 * registration), the pending sign-in (a second factor) or the anonymous
 * challenge cookie (a passwordless sign-in). Only the SHA-256 of the bound
 * value is stored; a challenge presented with anything else is refused.
 */
export type ChallengeBinding = { kind: "session"; sessionId: string } | { kind: "pending"; tokenHash: string } | { kind: "anonymous"; token: string };

/** SHA-256 (hex) of a binding, as stored beside its challenge. */
export function bindingHash(binding: ChallengeBinding): string {
  switch (binding.kind) {
    case "session":
      return hashToken(`session:${binding.sessionId}`);
    case "pending":
      return hashToken(`pending:${binding.tokenHash}`);
    case "anonymous":
      return hashToken(`anonymous:${binding.token}`);
  }
}
