import { createDecipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKey } from "../../src/core/crypto/derive-key.js";
import { GatehouseError, isGatehouseError } from "../../src/core/errors.js";
import { cryptoRandom, type Random } from "../../src/core/random.js";
import { createKeyring, DERIVED_KEY_ID, DERIVED_KEY_PURPOSE, nextKeyId, type Keyring } from "../../src/core/secrets/keyring.js";
import { associatedData, createSecretBox, type KeyringSource, type SecretContext } from "../../src/core/secrets/secret-box.js";
import { envelopeKeyId, parseEnvelope } from "../../src/core/secrets/secret-envelope.js";

const K0 = randomBytes(32);
const K1 = randomBytes(32);
const ctx: SecretContext = { table: "user_secrets", column: "secret_envelope", id: "7d6c1e1e-0000-4000-8000-000000000001/totp" };
const SECRET = "JBSWY3DPEHPK3PXP-the-seed";

const fixed = (ring: Keyring): KeyringSource => ({ current: () => ring });
const ring0 = createKeyring("k0", [{ id: "k0", key: K0 }]);
const ring01 = createKeyring("k1", [{ id: "k0", key: K0 }, { id: "k1", key: K1 }]);

/** The operator-facing reason a refusal carries (its cause), and proof that the secret is not in it. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(isGatehouseError(err, "secret_unreadable"), String(err)).toBe(true);
    const e = err as GatehouseError;
    expect(e.status).toBe(500);
    const reason = (e.cause as Error).message;
    expect(`${e.message} ${reason}`).not.toContain(SECRET);
    return reason;
  }
  throw new Error("expected a refusal");
}

describe("SecretBox: AES-256-GCM envelopes bound to their row (CRY-01, CRY-02)", () => {
  it("round-trips a secret; the envelope is v1.<key id>.<96-bit nonce>.<ciphertext+tag> and carries no plaintext", () => {
    const box = createSecretBox(fixed(ring0), cryptoRandom);
    const envelope = box.seal(SECRET, ctx);
    expect(envelope).toMatch(/^v1\.k0\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
    expect(envelope).not.toContain(SECRET);
    expect(envelope).not.toContain(Buffer.from(SECRET).toString("base64url").slice(0, 12));
    expect(box.open(envelope, ctx)).toBe(SECRET);
    const parts = parseEnvelope(envelope);
    if (typeof parts === "string") throw new Error(parts);
    expect(parts.nonce).toHaveLength(12);
    expect(parts.sealed).toHaveLength(Buffer.byteLength(SECRET) + 16);
  });

  it("is plain AES-256-GCM with AAD table|column|id: a standard decipher opens it", () => {
    const envelope = createSecretBox(fixed(ring0), cryptoRandom).seal(SECRET, ctx);
    const parts = parseEnvelope(envelope);
    if (typeof parts === "string") throw new Error(parts);
    const d = createDecipheriv("aes-256-gcm", K0, parts.nonce);
    d.setAAD(Buffer.from(`user_secrets|secret_envelope|${ctx.id}`));
    d.setAuthTag(parts.sealed.subarray(-16));
    expect(Buffer.concat([d.update(parts.sealed.subarray(0, -16)), d.final()]).toString()).toBe(SECRET);
    expect(associatedData(ctx).toString()).toBe(`user_secrets|secret_envelope|${ctx.id}`);
  });

  it("encrypting the same value twice gives different ciphertexts (fresh nonce from the injected random source)", () => {
    let asked: number[] = [];
    const counting: Random = { bytes: (n) => (asked.push(n), randomBytes(n)), uuid: () => "" };
    const box = createSecretBox(fixed(ring0), counting);
    const a = box.seal(SECRET, ctx);
    const b = box.seal(SECRET, ctx);
    expect(asked).toEqual([12, 12]);
    expect(a).not.toBe(b);
    expect(a.split(".")[2]).not.toBe(b.split(".")[2]);
    asked = [];
    const envelopes = new Set(Array.from({ length: 200 }, () => box.seal(SECRET, ctx)));
    expect(envelopes.size).toBe(200);
  });

  it("uses exactly the nonce the random source gives, and refuses a short one", () => {
    const box = createSecretBox(fixed(ring0), { bytes: (n) => Buffer.alloc(n, 7), uuid: () => "" });
    expect(box.seal(SECRET, ctx).split(".")[2]).toBe(Buffer.alloc(12, 7).toString("base64url"));
    const short = createSecretBox(fixed(ring0), { bytes: () => Buffer.alloc(8), uuid: () => "" });
    expect(() => short.seal(SECRET, ctx)).toThrow(/short nonce/);
  });

  it("flipping any single bit of the nonce, ciphertext or tag → refused", () => {
    const box = createSecretBox(fixed(ring0), cryptoRandom);
    const envelope = box.seal(SECRET, ctx);
    const [v, kid, nonce, sealed] = envelope.split(".") as [string, string, string, string];
    const raw = Buffer.concat([Buffer.from(nonce, "base64url"), Buffer.from(sealed, "base64url")]);
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const t = Buffer.from(raw);
        t[i]! ^= bit;
        const tampered = `${v}.${kid}.${t.subarray(0, 12).toString("base64url")}.${t.subarray(12).toString("base64url")}`;
        expect(refusal(() => box.open(tampered, ctx))).toMatch(/authentication failed under key "k0"/);
      }
    }
  });

  it("a truncated, reformatted or foreign value → refused with the reason, never opened", () => {
    const box = createSecretBox(fixed(ring0), cryptoRandom);
    const envelope = box.seal(SECRET, ctx);
    expect(refusal(() => box.open(envelope.slice(0, -3), ctx))).toMatch(/cannot be decrypted/);
    expect(refusal(() => box.open(`v2${envelope.slice(2)}`, ctx))).toMatch(/unknown envelope version/);
    expect(refusal(() => box.open(SECRET, ctx))).toMatch(/not an envelope/);
    expect(refusal(() => box.open(`${envelope}=`, ctx))).toMatch(/malformed/);
    expect(refusal(() => box.open("v1.k0.AAAAAAAAAAAAAAAA.AAAA", ctx))).toMatch(/malformed ciphertext/);
  });

  it("wrong AAD: the envelope of one row does not open for another row, column or table", () => {
    const box = createSecretBox(fixed(ring0), cryptoRandom);
    const envelope = box.seal(SECRET, ctx);
    const otherUser = { ...ctx, id: "7d6c1e1e-0000-4000-8000-000000000002/totp" };
    expect(refusal(() => box.open(envelope, otherUser))).toMatch(/moved from another row/);
    expect(refusal(() => box.open(envelope, { ...ctx, id: ctx.id.replace("totp", "backup") }))).toMatch(/authentication failed/);
    expect(refusal(() => box.open(envelope, { ...ctx, column: "other_envelope" }))).toMatch(/authentication failed/);
    expect(refusal(() => box.open(envelope, { ...ctx, table: "oauth_clients" }))).toMatch(/authentication failed/);
    expect(() => box.seal(SECRET, { ...ctx, table: "user|secrets" })).toThrow(/identifiers/);
    expect(() => box.seal(SECRET, { ...ctx, id: "" })).toThrow(/row id/);
  });

  it("an unknown key id → refused with a clear reason naming the key and the known ones", () => {
    const withK1 = createSecretBox(fixed(ring01), cryptoRandom);
    const underK1 = withK1.seal(SECRET, ctx);
    const old = createSecretBox(fixed(ring0), cryptoRandom);
    const reason = refusal(() => old.open(underK1, ctx));
    expect(reason).toContain(`sealed under key "k1", which is not in the keyring (known: k0)`);
    expect(reason).toContain("KEYRING_FILE");
    expect(reason).toContain(ctx.id);
  });

  it("a different key under the same id (a wrong SECRET_KEY or keyring) → refused, not garbage", () => {
    const envelope = createSecretBox(fixed(ring0), cryptoRandom).seal(SECRET, ctx);
    const impostor = createSecretBox(fixed(createKeyring("k0", [{ id: "k0", key: randomBytes(32) }])), cryptoRandom);
    expect(refusal(() => impostor.open(envelope, ctx))).toMatch(/different key under that id/);
  });

  it("new writes use the active key; old envelopes still open; needsRewrap names those not under the active key", () => {
    const before = createSecretBox(fixed(ring0), cryptoRandom).seal(SECRET, ctx);
    const box = createSecretBox(fixed(ring01), cryptoRandom);
    const after = box.seal(SECRET, ctx);
    expect(envelopeKeyId(before)).toBe("k0");
    expect(envelopeKeyId(after)).toBe("k1");
    expect(box.activeKeyId()).toBe("k1");
    expect(box.open(before, ctx)).toBe(SECRET);
    expect(box.needsRewrap(before)).toBe(true);
    expect(box.needsRewrap(after)).toBe(false);
    expect(box.needsRewrap("garbage")).toBe(true);
  });

  it("an envelope under a key the box does not know makes it refresh its keyring once (a rotation by another process)", () => {
    const underK1 = createSecretBox(fixed(ring01), cryptoRandom).seal(SECRET, ctx);
    let current = ring0;
    let refreshed = 0;
    const box = createSecretBox({ current: () => current, refresh: () => (refreshed++, (current = ring01)) }, cryptoRandom);
    expect(box.open(underK1, ctx)).toBe(SECRET);
    expect(refreshed).toBe(1);
    expect(box.activeKeyId()).toBe("k1");
    expect(box.open(underK1, ctx)).toBe(SECRET);
    expect(refreshed).toBe(1);
  });
});

describe("Keyring", () => {
  it("checks ids, key sizes, duplicates and the active key; messages never carry a key", () => {
    expect(() => createKeyring("k0", [])).toThrow(/at least one key/);
    expect(() => createKeyring("k0", [{ id: "k.0", key: K0 }])).toThrow(/key id/);
    expect(() => createKeyring("k0", [{ id: "k0", key: K0.subarray(0, 16) }])).toThrow(/32 bytes, not 16/);
    expect(() => createKeyring("k0", [{ id: "k0", key: K0 }, { id: "k0", key: K1 }])).toThrow(/twice/);
    expect(() => createKeyring("k9", [{ id: "k0", key: K0 }])).toThrow(/active key "k9"/);
    try {
      createKeyring("k0", [{ id: "k0", key: K0.subarray(0, 31) }]);
    } catch (err) {
      expect((err as Error).message).not.toContain(K0.subarray(0, 31).toString("base64"));
      expect((err as Error).message).not.toContain(K0.subarray(0, 31).toString("hex"));
    }
  });

  it("next key ids count up from the highest k<n>; the derived key is k0 from HKDF(SECRET_KEY, secrets-at-rest)", () => {
    expect(nextKeyId(ring0)).toBe("k1");
    expect(nextKeyId(createKeyring("k7", [{ id: "k7", key: K0 }, { id: "legacy", key: K1 }]))).toBe("k8");
    expect(nextKeyId(createKeyring("legacy", [{ id: "legacy", key: K1 }]))).toBe("k0");
    expect(DERIVED_KEY_ID).toBe("k0");
    const secretKey = randomBytes(32).toString("hex");
    expect(deriveKey(secretKey, DERIVED_KEY_PURPOSE)).toHaveLength(32);
    expect(deriveKey(secretKey, DERIVED_KEY_PURPOSE).equals(deriveKey(secretKey, "mail-outbox"))).toBe(false);
  });
});
