import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateToken, hashToken, hmac, isWellFormedToken, safeEqual, TOKEN_BYTES } from "../../src/core/crypto/tokens.js";
import { cryptoRandom, type Random } from "../../src/core/random.js";

/** A Random whose bytes are a fixed value, to check the encoding exactly. */
const fixedRandom = (byte: number): Random => ({ bytes: (n) => Buffer.alloc(n, byte), uuid: () => "00000000-0000-4000-8000-000000000000" });

describe("generateToken (SESS-01)", () => {
  it("draws 32 bytes and encodes them as 43 base64url characters", () => {
    expect(TOKEN_BYTES).toBe(32);
    let asked = 0;
    const token = generateToken({ bytes: (n) => ((asked = n), Buffer.alloc(n, 0xfb)), uuid: () => "" });
    expect(asked).toBe(32);
    expect(token).toBe(Buffer.alloc(32, 0xfb).toString("base64url"));
    expect(token).toHaveLength(43);
    expect(generateToken(fixedRandom(0xff))).toBe("_".repeat(42) + "8");
  });

  it("produces distinct well-formed tokens that decode to 32 bytes", () => {
    const tokens = Array.from({ length: 1000 }, () => generateToken(cryptoRandom));
    expect(new Set(tokens).size).toBe(1000);
    for (const t of tokens) {
      expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(t, "base64url")).toHaveLength(32);
      expect(isWellFormedToken(t)).toBe(true);
    }
  });
});

describe("hashToken (SESS-02)", () => {
  it("is the SHA-256 of the token, lower-case hex", () => {
    expect(hashToken("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const token = generateToken(cryptoRandom);
    expect(hashToken(token)).toBe(createHash("sha256").update(token).digest("hex"));
    expect(hashToken(token)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(token)).not.toContain(token);
  });
});

describe("hmac", () => {
  it("is HMAC-SHA256, base64url (RFC 4231 test case 2)", () => {
    const expected = Buffer.from("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "hex").toString("base64url");
    expect(hmac(Buffer.from("Jefe"), "what do ya want for nothing?")).toBe(expected);
  });
});

describe("safeEqual", () => {
  it("is true for equal strings", () => {
    const t = generateToken(cryptoRandom);
    expect(safeEqual(t, `${t}`)).toBe(true);
    expect(safeEqual("", "")).toBe(true);
  });

  it("is false for different strings of equal length", () => {
    expect(safeEqual("abcdef", "abcdeg")).toBe(false);
    expect(safeEqual("Abcdef", "abcdef")).toBe(false);
  });

  it("is false, without throwing, for strings of different lengths", () => {
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(safeEqual("", "a")).toBe(false);
    expect(safeEqual("🙂", "??")).toBe(false);
  });
});

describe("isWellFormedToken", () => {
  const good = generateToken(fixedRandom(0x3e));

  it("accepts exactly 43 base64url characters", () => {
    expect(isWellFormedToken(good)).toBe(true);
    expect(isWellFormedToken("AZaz09-_".repeat(5) + "abc")).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["42 characters", "a".repeat(42)],
    ["44 characters", "a".repeat(44)],
    ["padded base64", `${"a".repeat(42)}=`],
    ["standard base64 '+'", `${"a".repeat(42)}+`],
    ["standard base64 '/'", `${"a".repeat(42)}/`],
    ["a space", `${"a".repeat(42)} `],
    ["a dot", `${"a".repeat(42)}.`],
    ["non-ASCII", `${"a".repeat(42)}é`],
    ["an emoji (43 UTF-16 units)", `${"a".repeat(41)}🙂`],
  ])("refuses %s", (_label, value) => {
    expect(isWellFormedToken(value)).toBe(false);
  });
});
