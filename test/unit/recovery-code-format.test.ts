import { describe, expect, it } from "vitest";
import {
  generateRecoveryCode, parseRecoveryCode, RECOVERY_CODE_COUNT, RECOVERY_CODE_SECRET_BITS,
} from "../../src/core/mfa/recovery-codes/recovery-code-format.js";
import { cryptoRandom, type Random } from "../../src/core/random.js";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

/** A Random that hands out the given byte buffers in turn and records what was asked. */
function scripted(buffers: Buffer[]): Random & { asked: number[] } {
  const asked: number[] = [];
  return {
    asked,
    bytes(n) {
      asked.push(n);
      const next = buffers.shift();
      if (next === undefined || next.length !== n) throw new Error(`unexpected request for ${n} bytes`);
      return next;
    },
    uuid: () => "00000000-0000-4000-8000-000000000000",
  };
}

/** The bits a base32 string carries, most significant first. */
const bitsOf = (s: string) => [...s].map((c) => ALPHABET.indexOf(c).toString(2).padStart(5, "0")).join("");

describe("recovery code format (MFA-05)", () => {
  it("ten codes per set, 80 bits of secret each", () => {
    expect(RECOVERY_CODE_COUNT).toBe(10);
    expect(RECOVERY_CODE_SECRET_BITS).toBeGreaterThanOrEqual(80);
  });

  it("the secret part is exactly 80 bits from the CSPRNG: 10 random bytes, every bit kept", () => {
    const secretBytes = Buffer.from("a1b2c3d4e5f60718293a", "hex");
    const random = scripted([Buffer.from([0xff, 0xff, 0xff]), secretBytes]);
    const code = generateRecoveryCode(random);
    expect(random.asked).toEqual([3, 10]);
    expect(code.secret).toHaveLength(16);
    const bits = bitsOf(code.secret);
    expect(bits).toHaveLength(80);
    expect(bits).toBe([...secretBytes].map((b) => b.toString(2).padStart(8, "0")).join(""));
    expect(code.lookup).toBe("zzzz");
  });

  it("codes are shown as five groups of four unambiguous characters, and differ", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = generateRecoveryCode(cryptoRandom);
      expect(c.display).toMatch(/^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){4}$/);
      expect(c.display.replace(/-/g, "")).toBe(c.lookup + c.secret);
      seen.add(c.secret);
    }
    expect(seen.size).toBe(200);
  });

  it("input is read case-insensitively, with or without dashes and spaces; i, l and o read as 1, 1 and 0", () => {
    const c = generateRecoveryCode(cryptoRandom);
    const want = { lookup: c.lookup, secret: c.secret };
    expect(parseRecoveryCode(c.display)).toEqual(want);
    expect(parseRecoveryCode(c.display.toUpperCase())).toEqual(want);
    expect(parseRecoveryCode(c.display.replace(/-/g, ""))).toEqual(want);
    expect(parseRecoveryCode(` ${c.display.replace(/-/g, " ")} `)).toEqual(want);
    expect(parseRecoveryCode("0000-1111-0000-1111-0000")).toEqual(parseRecoveryCode("oooo-iLIl-OOOO-1111-0o0O"));
  });

  it("anything else is no code (null, never a throw)", () => {
    for (const bad of ["", "abcd", "abcd-efgh-jkmn-pqrs-tvw", "abcd-efgh-jkmn-pqrs-tvwxy", "abcd-efgh-jkmn-pqrs-tvwu", "abcd_efgh_jkmn_pqrs_tvwx", "ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ-ÿÿÿÿ", "a".repeat(10_000)]) {
      expect(parseRecoveryCode(bad)).toBeNull();
    }
  });
});
