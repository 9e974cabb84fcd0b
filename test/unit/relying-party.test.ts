import { describe, expect, it } from "vitest";
import { relyingPartyOf } from "../../src/core/mfa/webauthn/relying-party.js";
import { bindingHash } from "../../src/core/mfa/webauthn/challenge-binding.js";

describe("passkeys' relying party (MFA-06)", () => {
  it("is PUBLIC_URL's host and origin, or COOKIE_DOMAIN's value as RP ID with single sign-on across subdomains", () => {
    expect(relyingPartyOf("https://auth.example.com/", null)).toEqual({ id: "auth.example.com", origin: "https://auth.example.com", name: "Gatehouse" });
    expect(relyingPartyOf("https://auth.example.com:8443/base", null)).toMatchObject({ id: "auth.example.com", origin: "https://auth.example.com:8443" });
    expect(relyingPartyOf("https://auth.example.com", "example.com")).toMatchObject({ id: "example.com", origin: "https://auth.example.com" });
  });

  it("binds a challenge to one kind of requester: a session id, a pending sign-in and an anonymous cookie of the same value never share a binding", () => {
    const v = "same-value";
    const hashes = new Set([bindingHash({ kind: "session", sessionId: v }), bindingHash({ kind: "pending", tokenHash: v }), bindingHash({ kind: "anonymous", token: v })]);
    expect(hashes.size).toBe(3);
  });
});
