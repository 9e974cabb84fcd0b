import { describe, expect, it } from "vitest";
import { deriveKey } from "../../src/core/crypto/derive-key.js";
import { hashToken } from "../../src/core/crypto/tokens.js";
import { csrfTokenFor, isValidCsrfToken } from "../../src/core/csrf/csrf-token.js";

const key = deriveKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "csrf");
const otherKey = deriveKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "something-else");
const sessionA = hashToken("session-a-token");
const sessionB = hashToken("session-b-token");

describe("csrfTokenFor (CSRF-03)", () => {
  it("is deterministic for one key and session, and base64url of 32 bytes", () => {
    const token = csrfTokenFor(key, sessionA);
    expect(csrfTokenFor(key, sessionA)).toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it("is bound to the session and to the key", () => {
    expect(csrfTokenFor(key, sessionB)).not.toBe(csrfTokenFor(key, sessionA));
    expect(csrfTokenFor(otherKey, sessionA)).not.toBe(csrfTokenFor(key, sessionA));
  });

  it("does not reveal the session token hash", () => {
    expect(csrfTokenFor(key, sessionA)).not.toContain(sessionA.slice(0, 16));
  });
});

describe("deriveKey", () => {
  it("derives different 32-byte keys per purpose and secret", () => {
    expect(key).toHaveLength(32);
    expect(key.equals(otherKey)).toBe(false);
    expect(deriveKey("another-secret-another-secret-12", "csrf").equals(key)).toBe(false);
    expect(deriveKey("0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0", "csrf").equals(key)).toBe(true);
  });
});

describe("isValidCsrfToken", () => {
  const good = csrfTokenFor(key, sessionA);

  it("accepts the token of this session", () => {
    expect(isValidCsrfToken(key, sessionA, good)).toBe(true);
  });

  it("refuses another session's token (user B's token in A's session)", () => {
    expect(isValidCsrfToken(key, sessionA, csrfTokenFor(key, sessionB))).toBe(false);
  });

  it("refuses a token made with another key", () => {
    expect(isValidCsrfToken(key, sessionA, csrfTokenFor(otherKey, sessionA))).toBe(false);
  });

  it("refuses a tampered, truncated or extended token", () => {
    const flipped = (good[0] === "A" ? "B" : "A") + good.slice(1);
    expect(isValidCsrfToken(key, sessionA, flipped)).toBe(false);
    expect(isValidCsrfToken(key, sessionA, good.slice(0, -1))).toBe(false);
    expect(isValidCsrfToken(key, sessionA, `${good}A`)).toBe(false);
    expect(isValidCsrfToken(key, sessionA, good.toLowerCase())).toBe(false);
  });

  it("refuses empty and over-long input (over 128 characters) without comparing", () => {
    expect(isValidCsrfToken(key, sessionA, "")).toBe(false);
    expect(isValidCsrfToken(key, sessionA, good.repeat(3) + "x".repeat(128))).toBe(false);
    expect(isValidCsrfToken(key, sessionA, "x".repeat(10_000))).toBe(false);
  });
});
