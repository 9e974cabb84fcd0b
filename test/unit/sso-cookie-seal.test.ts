import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSsoCookieSeal } from "../../src/core/gateway/sso-cookie-seal.js";
import { cryptoRandom } from "../../src/core/random.js";
import { createKeyring } from "../../src/core/secrets/keyring.js";
import { createSecretBox } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId } from "../../src/core/secrets/secret-envelope.js";

const K0 = { id: "k0", key: randomBytes(32) };
const K1 = { id: "k1", key: randomBytes(32) };
const box = (active: string, keys: { id: string; key: Buffer }[]) => createSecretBox({ current: () => createKeyring(active, keys) }, cryptoRandom);
const TOKEN = randomBytes(32).toString("base64url");

/** An SSO cookie as versions before the keyring set it: base64url(iv‖tag‖ciphertext), no AAD. */
function legacyCookie(key: Buffer, token: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const body = Buffer.concat([cipher.update(token, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
}

describe("the SSO cookie is an envelope of the keyring (CRY-02)", () => {
  it("names its key id, never holds the token in clear, and opens after a rotation while the old key is kept", () => {
    const value = createSsoCookieSeal(box("k0", [K0])).seal(TOKEN);
    expect(envelopeKeyId(value)).toBe("k0");
    expect(value).not.toContain(TOKEN);
    expect(createSsoCookieSeal(box("k1", [K0, K1])).open(value)).toBe(TOKEN);
    // Once the old key is gone, the cookie is refused (the user signs in again), never an error.
    expect(createSsoCookieSeal(box("k1", [K1])).open(value)).toBeNull();
  });

  it("attack: a forged or altered cookie, or another stored envelope planted as one, opens to nothing", () => {
    const b = box("k0", [K0]);
    const seal = createSsoCookieSeal(b);
    const value = seal.seal(TOKEN);
    expect(seal.open(value.replace(/.$/, (c) => (c === "A" ? "B" : "A")))).toBeNull();
    expect(seal.open(TOKEN)).toBeNull();
    expect(seal.open("v1.k0.x.y")).toBeNull();
    expect(seal.open("x".repeat(600))).toBeNull();
    expect(seal.open("a;b")).toBeNull();
    // A user secret's envelope under the same key is bound to its row, not to the SSO cookie.
    expect(seal.open(b.seal(TOKEN, { table: "user_secrets", column: "secret_envelope", id: "u/totp" }))).toBeNull();
  });

  it("a cookie set before the keyring still opens with the SECRET_KEY-derived key until it expires, and not without it", () => {
    const legacyKey = randomBytes(32);
    const old = legacyCookie(legacyKey, TOKEN);
    expect(createSsoCookieSeal(box("k0", [K0]), legacyKey).open(old)).toBe(TOKEN);
    expect(createSsoCookieSeal(box("k0", [K0]), randomBytes(32)).open(old)).toBeNull();
    expect(createSsoCookieSeal(box("k0", [K0])).open(old)).toBeNull();
  });
});
