import { createHash, randomBytes } from "node:crypto";
import { expect } from "vitest";
import { ProviderError, type CallbackChecks, type ProviderFailure } from "../../../src/core/oauth/identity-provider.js";

/** A fresh round trip as the flow makes one: state, nonce and a PKCE pair (S256), for `redirectUri`. */
export function roundTrip(redirectUri: string): CallbackChecks & { codeChallenge: string } {
  const codeVerifier = randomBytes(32).toString("base64url");
  return {
    state: randomBytes(16).toString("base64url"),
    nonce: randomBytes(16).toString("base64url"),
    codeVerifier,
    codeChallenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    redirectUri,
  };
}

/** The reason of the {@link ProviderError} `p` rejects with (fails the test when it resolves or throws anything else). */
export async function providerFailure(p: Promise<unknown>): Promise<ProviderFailure> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, "expected a ProviderError").toBeInstanceOf(ProviderError);
  return (err as ProviderError).reason;
}
