import { describe, expect, it } from "vitest";
import { commonPasswords, isCommonPassword } from "../../src/core/passwords/common-passwords.js";
import {
  checkNewPassword,
  codePointLength,
  defaultPasswordPolicy,
  isPasswordTooLong,
  type PasswordPolicy,
} from "../../src/core/passwords/password-policy.js";

const policy = defaultPasswordPolicy;

/** `n` distinct non-BMP code points (2 UTF-16 units each), never periodic, never a letter. */
function emoji(n: number): string {
  return Array.from({ length: n }, (_, i) => String.fromCodePoint(0x1f300 + i)).join("");
}

describe("codePointLength", () => {
  it("counts code points, not UTF-16 units", () => {
    expect(codePointLength("")).toBe(0);
    expect(codePointLength("abc")).toBe(3);
    expect(codePointLength("🙂")).toBe(1);
    expect("🙂".length).toBe(2);
    expect(codePointLength("пароль 日本語 🙂")).toBe(12);
  });
});

describe("length limits", () => {
  it("uses the product defaults (docs/security-requirements.md#product-defaults)", () => {
    expect(policy).toEqual({ minLength: 12, maxLength: 256, productName: "gatehouse" });
  });

  it("counts an emoji as one character toward the minimum (AUTH-01)", () => {
    const eleven = emoji(11);
    expect(eleven.length).toBe(22);
    expect(checkNewPassword(eleven, {}, policy)).toBe("password_too_short");
    expect(checkNewPassword(emoji(12), {}, policy)).toBeNull();
  });

  it("refuses one code point under the minimum and accepts exactly the minimum", () => {
    expect(checkNewPassword("kx7-vrm-qzp", {}, policy)).toBe("password_too_short");
    expect(checkNewPassword("kx7-vrm-qzpw", {}, policy)).toBeNull();
  });

  it("honours a configured minimum", () => {
    const eight: PasswordPolicy = { ...policy, minLength: 8 };
    expect(checkNewPassword("kx7-vrmq", {}, eight)).toBeNull();
    expect(checkNewPassword("kx7-vrm", {}, eight)).toBe("password_too_short");
  });

  it("accepts 256 code points and refuses 257, whether ASCII or astral (AUTH-02)", () => {
    const ascii256 = Array.from({ length: 256 }, (_, i) => String.fromCharCode(33 + ((i * 7) % 90))).join("");
    expect(codePointLength(ascii256)).toBe(256);
    expect(isPasswordTooLong(ascii256, policy)).toBe(false);
    expect(checkNewPassword(ascii256, {}, policy)).toBeNull();
    expect(checkNewPassword(`${ascii256}x`, {}, policy)).toBe("password_too_long");

    expect(isPasswordTooLong(emoji(256), policy)).toBe(false);
    expect(checkNewPassword(emoji(256), {}, policy)).toBeNull();
    expect(checkNewPassword(emoji(257), {}, policy)).toBe("password_too_long");
  });

  it("refuses a 100 KB password as too long", () => {
    const huge = "a".repeat(100 * 1024);
    expect(isPasswordTooLong(huge, policy)).toBe(true);
    expect(checkNewPassword(huge, {}, policy)).toBe("password_too_long");
  });
});

describe("common passwords (AUTH-05)", () => {
  it("bundles at least 10,000 entries, lower-cased", () => {
    const list = commonPasswords();
    expect(list.size).toBeGreaterThanOrEqual(10_000);
    expect(list.has("password")).toBe(true);
    expect([...list].every((p) => p === p.toLowerCase())).toBe(true);
  });

  it.each(["qwerty123456", "QWERTY123456", "Password123456", "123456789012", "football1234"])("refuses %j (listed, any case)", (pw) => {
    expect(isCommonPassword(pw)).toBe(true);
    expect(checkNewPassword(pw, {}, policy)).toBe("password_common");
  });

  it.each(["passwordpassword", "PASSWORDpassword", "monkeymonkeymonkey", "trustno1trustno1", "abcabcabcabc", "aaaaaaaaaaaaaaa"])(
    "refuses the repeated unit %j",
    (pw) => {
      expect(checkNewPassword(pw, {}, policy)).toBe("password_common");
    },
  );

  it.each(["qwerty123456!", "iloveyou2024!!", "sunshine!!!!", "Dragon-2024-!"])("refuses the padded common word %j", (pw) => {
    expect(checkNewPassword(pw, {}, policy)).toBe("password_common");
  });

  it("does not refuse a password merely because it starts with a common word followed by more letters", () => {
    expect(isCommonPassword("passwordmanager-velvet")).toBe(false);
  });
});

describe("contextual passwords (AUTH-05)", () => {
  it.each(["gatehouse-rocks-2024", "MyGATEHOUSEpass!", "GateHouse is my home"])("refuses the product name in %j", (pw) => {
    expect(checkNewPassword(pw, {}, policy)).toBe("password_contextual");
  });

  it("refuses the username in any case", () => {
    expect(checkNewPassword("alice-secret-2024", { username: "alice" }, policy)).toBe("password_contextual");
    expect(checkNewPassword("my-ALICE-secret-2024", { username: "Alice" }, policy)).toBe("password_contextual");
    expect(checkNewPassword("alice-secret-2024", { username: "bob.smith" }, policy)).toBeNull();
  });

  it("refuses the email local part, but not the domain", () => {
    const context = { email: "Marie.Curie@radium.example" };
    expect(checkNewPassword("marie.curie-forever-88", context, policy)).toBe("password_contextual");
    expect(checkNewPassword("radium.example-velvet", context, policy)).toBeNull();
  });

  it("ignores context words shorter than three characters and empty context", () => {
    expect(checkNewPassword("jo-velvet-harbor-77", { username: "jo", email: "jo@x.test" }, policy)).toBeNull();
    expect(checkNewPassword("velvet-harbor-77", { username: null, email: null }, policy)).toBeNull();
  });
});

describe("good passphrases pass (AUTH-03, no composition rules)", () => {
  it.each([
    "correct horse battery staple",
    "tulip-orbit-lantern-42",
    "пароль 日本語 🙂 long enough",
    "alllowercaseletters",
    "ＦＵＬＬＷＩＤＴＨ ｐａｓｓ",
  ])("%j", (pw) => {
    expect(checkNewPassword(pw, { username: "someone", email: "someone@example.test" }, policy)).toBeNull();
  });

  it("never alters the password: surrounding spaces count toward the length", () => {
    expect(checkNewPassword("  kx7-vrm-qz", {}, policy)).toBeNull();
    expect(checkNewPassword("kx7-vrm-qz", {}, policy)).toBe("password_too_short");
  });
});
