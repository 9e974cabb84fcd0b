import { describe, expect, it } from "vitest";
import { cleanEmail, EMAIL_MAX, emailProblem, normalizeEmail } from "../../src/core/users/email.js";
import { cleanUsername, normalizeUsername, USERNAME_MAX, USERNAME_MIN, usernameProblem } from "../../src/core/users/username.js";

describe("usernameProblem", () => {
  it.each(["alice", "Alice", "bob.smith", "bob_smith", "bob-smith", "a1b", "007", "A.b_c-d9"])("accepts %j", (name) => {
    expect(usernameProblem(name)).toBeNull();
  });

  it("allows 3 to 64 characters", () => {
    expect([USERNAME_MIN, USERNAME_MAX]).toEqual([3, 64]);
    expect(usernameProblem("ab")).toMatch(/at least 3/);
    expect(usernameProblem("abc")).toBeNull();
    expect(usernameProblem("a".repeat(64))).toBeNull();
    expect(usernameProblem("a".repeat(65))).toMatch(/at most 64/);
    expect(usernameProblem("")).not.toBeNull();
  });

  it("measures the length after trimming", () => {
    expect(usernameProblem("  ab  ")).toMatch(/at least 3/);
    expect(usernameProblem(`  ${"a".repeat(64)}  `)).toBeNull();
    expect(usernameProblem("  alice\t")).toBeNull();
  });

  it("refuses '@', so that a login containing '@' is always an email address", () => {
    expect(usernameProblem("alice@example.test")).not.toBeNull();
    expect(usernameProblem("al@ce")).not.toBeNull();
  });

  it.each(["al ice", "al\u0000ice", "al\r\nice", "ålice", "аlice" /* Cyrillic а */, "alice😀", "al/ice", "al'ice", "<b>x</b>", "al%ce"])(
    "refuses characters outside [A-Za-z0-9._-] in %j",
    (name) => {
      expect(usernameProblem(name)).toMatch(/only letters, digits/);
    },
  );

  it.each(["_alice", "alice_", ".alice", "alice.", "-alice", "alice-"])("refuses %j (must start and end with a letter or digit)", (name) => {
    expect(usernameProblem(name)).toMatch(/start and end/);
  });

  it("handles a 50,000-character input", () => {
    expect(usernameProblem("a".repeat(50_000))).toMatch(/at most 64/);
  });

  it("refuses invisible characters that trim() would drop silently (U+FEFF, U+2028 at either end), not pasted spaces", () => {
    for (const name of ["\ufeffalice", "alice\ufeff", "alice\u2028", "\u2029alice", " \ufeffalice\t"]) {
      expect(usernameProblem(name), JSON.stringify(name)).toMatch(/no control, format, bidi or zero-width/);
    }
    expect(usernameProblem("\talice \r\n")).toBeNull();
    expect(emailProblem("alice@example.test\ufeff")).toMatch(/format, bidi or zero-width/);
    expect(emailProblem(" alice@example.test\n")).toBeNull();
  });
});

describe("username forms", () => {
  it("cleanUsername trims but keeps the case", () => {
    expect(cleanUsername("  Alice ")).toBe("Alice");
  });

  it("normalizeUsername trims and lower-cases, so variants compare equal", () => {
    const forms = ["admin", "Admin", " admin", "ADMIN ", "\tAdMiN\n"].map(normalizeUsername);
    expect(new Set(forms)).toEqual(new Set(["admin"]));
  });
});

describe("emailProblem (RST-10)", () => {
  it.each(["a@b.c", "user@example.com", "User.Name+tag@Sub.Example.COM", "  spaced@example.test  ", "ü@例え.テスト"])("accepts %j", (email) => {
    expect(emailProblem(email)).toBeNull();
  });

  it.each([
    ["", /empty/],
    ["   ", /empty/],
    ["no-at-sign.example", /before '@'/],
    ["@example.com", /before '@'/],
    ["a@@example.com", /exactly one '@'/],
    ["a@b@example.com", /exactly one '@'/],
    ["a@example", /domain/],
    ["a@.example", /domain/],
    ["a@example.", /domain/],
    ["a@", /domain/],
    ["a b@example.com", /spaces or control/],
    ["a@exam\u0000ple.com", /spaces or control/],
    ["a@example.com\u007f", /spaces or control/],
  ])("refuses %j", (email, reason) => {
    expect(emailProblem(email)).toMatch(reason);
  });

  it("refuses CR/LF header injection", () => {
    expect(emailProblem("a@b.c\r\nBcc: x@evil.test")).not.toBeNull();
    expect(emailProblem("a@b.c\nBcc: x@evil.test")).not.toBeNull();
    expect(emailProblem("a@b.c\rX-Injected: 1")).not.toBeNull();
  });

  it("allows at most 255 characters", () => {
    expect(EMAIL_MAX).toBe(255);
    const at255 = `${"a".repeat(255 - "@example.test".length)}@example.test`;
    expect(at255).toHaveLength(255);
    expect(emailProblem(at255)).toBeNull();
    expect(emailProblem(`a${at255}`)).toMatch(/at most 255/);
  });

  it.each([
    ["'a' × 50,000", "a".repeat(50_000)],
    ["'@' × 50,000", "@".repeat(50_000)],
    ["'a@' × 25,000", "a@".repeat(25_000)],
    ["'a.' × 25,000 + '@'", `${"a.".repeat(25_000)}@`],
    ["local part then 50,000 dots", `a@${".".repeat(50_000)}`],
  ])("refuses the 50,000-character adversarial input %s", (_label, input) => {
    expect(emailProblem(input)).toMatch(/at most 255/);
  });

  it("refuses an address under 255 characters made of 250 '@'", () => {
    expect(emailProblem("@".repeat(250))).not.toBeNull();
  });
});

describe("email forms", () => {
  it("cleanEmail trims and keeps the case", () => {
    expect(cleanEmail("  User@Example.COM ")).toBe("User@Example.COM");
  });

  it("normalizeEmail trims and lower-cases, so variants compare equal", () => {
    const forms = ["User@Example.COM", "user@example.com", " USER@EXAMPLE.COM\t"].map(normalizeEmail);
    expect(new Set(forms)).toEqual(new Set(["user@example.com"]));
  });
});
