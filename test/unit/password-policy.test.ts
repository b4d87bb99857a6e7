import { describe, expect, it } from "vitest";
import { commonPasswordCount, isCommonPassword } from "../../src/security/common-passwords.ts";
import {
  checkPassword,
  codePointLength,
  DEFAULT_PASSWORD_POLICY,
  describePasswordProblems,
  PASSWORD_PROBLEMS,
  PasswordPolicyError,
  parsePasswordPolicy,
} from "../../src/security/password-policy.ts";

const STRONG = "violet kettle harbour 73";

describe("checkPassword defaults (NIST 800-63B)", () => {
  it("accepts a long passphrase without composition rules", () => {
    expect(checkPassword(STRONG, {})).toEqual([]);
    expect(checkPassword("alllowercaseletters", {})).toEqual([]);
  });

  it("has the documented defaults", () => {
    expect(DEFAULT_PASSWORD_POLICY).toEqual({
      minLength: 12,
      maxLength: 128,
      requireLowercase: false,
      requireUppercase: false,
      requireDigit: false,
      requireSpecial: false,
      forbidCommon: true,
      forbidUsername: true,
    });
  });

  it("checks exactly the defaults without a policy or with an empty one", () => {
    for (const password of ["short", "x".repeat(129), "password1234", STRONG]) {
      expect(checkPassword(password, {})).toEqual(checkPassword(password, {}, {}));
      expect(checkPassword(password, {})).toEqual(
        checkPassword(password, {}, DEFAULT_PASSWORD_POLICY),
      );
    }
  });

  it("keeps defaults for fields left out or undefined", () => {
    expect(checkPassword("elevenchars", {}, { maxLength: 200 })).toEqual(["too_short"]);
    expect(checkPassword("elevenchars", {}, { minLength: undefined })).toEqual(["too_short"]);
  });
});

describe("length", () => {
  it("refuses fewer than minLength and more than maxLength characters", () => {
    expect(checkPassword(`${"a".repeat(11)}b`, {})).toEqual([]);
    expect(checkPassword("abcdefghijk", {})).toEqual(["too_short"]);
    expect(checkPassword("", {})).toContain("too_short");
    expect(checkPassword("ab".repeat(64), {})).toEqual([]);
    expect(checkPassword(`${"ab".repeat(64)}c`, {})).toEqual(["too_long"]);
    expect(checkPassword("abcdefgh", {}, { minLength: 8 })).toEqual([]);
    expect(checkPassword(STRONG, {}, { maxLength: 10 })).toEqual(["too_long"]);
  });

  it("counts Unicode code points, not UTF-16 units", () => {
    const emoji = "🔒".repeat(12); // 24 UTF-16 units, 12 code points
    expect(emoji.length).toBe(24);
    expect(codePointLength(emoji)).toBe(12);
    expect(checkPassword(emoji, {})).toEqual([]);
    expect(checkPassword("🔒".repeat(11), {})).toEqual(["too_short"]);
    expect(checkPassword("🔒".repeat(128), {})).toEqual([]);
    expect(checkPassword("🔒".repeat(129), {})).toEqual(["too_long"]);
    expect(checkPassword("motdepasseéé", {})).toEqual([]);
  });
});

describe("character classes (opt-in)", () => {
  const all = { requireLowercase: true, requireUppercase: true, requireDigit: true };

  it("reports each missing class", () => {
    expect(checkPassword("ALLUPPERCASE42!", {}, { requireLowercase: true })).toEqual([
      "missing_lowercase",
    ]);
    expect(checkPassword("alllowercase42!", {}, { requireUppercase: true })).toEqual([
      "missing_uppercase",
    ]);
    expect(checkPassword("NoDigitsHere!!", {}, { requireDigit: true })).toEqual(["missing_digit"]);
    expect(checkPassword("NoSymbols4242", {}, { requireSpecial: true })).toEqual([
      "missing_special",
    ]);
    expect(checkPassword("............", {}, { ...all, requireSpecial: true })).toEqual([
      "missing_lowercase",
      "missing_uppercase",
      "missing_digit",
    ]);
  });

  it("accepts a password with every class, spaces and non-Latin letters included", () => {
    expect(checkPassword("Tea at 4 pm, please", {}, { ...all, requireSpecial: true })).toEqual([]);
    expect(checkPassword("Ünïcödé straße 9", {}, all)).toEqual([]);
  });

  it("does not count a combining mark as a symbol", () => {
    expect(checkPassword("cafe\u0301cafe\u0301cafe\u0301", {}, { requireSpecial: true })).toEqual([
      "missing_special",
    ]);
  });
});

describe("common passwords", () => {
  it("holds at least 10,000 entries", () => {
    expect(commonPasswordCount()).toBeGreaterThanOrEqual(10_000);
  });

  it("refuses common passwords, ignoring case", () => {
    for (const password of ["password", "PASSWORD", "Password", "qwertyuiop", "123456789012"]) {
      expect(isCommonPassword(password), password).toBe(true);
    }
    expect(checkPassword("leavemealone", {})).toEqual(["common"]);
    expect(checkPassword("LeaveMeAlone", {})).toEqual(["common"]);
    expect(checkPassword("QWERTY123456", {})).toEqual(["common"]);
    expect(checkPassword("password", {})).toEqual(["too_short", "common"]);
  });

  it("is an exact match, not a substring match", () => {
    expect(isCommonPassword(STRONG)).toBe(false);
    expect(checkPassword("password violet kettle", {})).toEqual([]);
  });

  it("can be switched off", () => {
    expect(checkPassword("leavemealone", {}, { forbidCommon: false })).toEqual([]);
  });
});

describe("contains_username", () => {
  const ctx = { username: "Marianne", email: "m.dupont@example.com" };

  it("refuses the username, the email or its local part, ignoring case", () => {
    expect(checkPassword("hello marianne 2024", ctx)).toEqual(["contains_username"]);
    expect(checkPassword("xx M.DUPONT@EXAMPLE.COM", ctx)).toEqual(["contains_username"]);
    expect(checkPassword("my name is M.Dupont!", ctx)).toEqual(["contains_username"]);
    expect(checkPassword(STRONG, ctx)).toEqual([]);
  });

  it("ignores identity fragments shorter than three characters", () => {
    expect(checkPassword("violet al kettle", { username: "al", email: "al@example.com" })).toEqual(
      [],
    );
    expect(checkPassword("violet ann kettle", { username: "ann" })).toEqual(["contains_username"]);
  });

  it("can be switched off", () => {
    expect(checkPassword("hello marianne 2024", ctx, { forbidUsername: false })).toEqual([]);
  });
});

describe("parsePasswordPolicy", () => {
  it("returns the defaults for missing or empty settings", () => {
    expect(parsePasswordPolicy({})).toEqual(DEFAULT_PASSWORD_POLICY);
    expect(
      parsePasswordPolicy({
        PASSWORD_MIN_LENGTH: "",
        PASSWORD_MAX_LENGTH: " ",
        PASSWORD_CHARACTER_CLASSES: "",
      }),
    ).toEqual(DEFAULT_PASSWORD_POLICY);
  });

  it("reads lengths and character classes", () => {
    expect(
      parsePasswordPolicy({
        PASSWORD_MIN_LENGTH: "15",
        PASSWORD_MAX_LENGTH: "256",
        PASSWORD_CHARACTER_CLASSES: "lowercase, Uppercase,digit,special",
      }),
    ).toEqual({
      ...DEFAULT_PASSWORD_POLICY,
      minLength: 15,
      maxLength: 256,
      requireLowercase: true,
      requireUppercase: true,
      requireDigit: true,
      requireSpecial: true,
    });
  });

  it.each([
    [{ PASSWORD_MIN_LENGTH: "7" }],
    [{ PASSWORD_MIN_LENGTH: "twelve" }],
    [{ PASSWORD_MIN_LENGTH: "12.5" }],
    [{ PASSWORD_MIN_LENGTH: "-12" }],
    [{ PASSWORD_MIN_LENGTH: 12 }],
    [{ PASSWORD_MAX_LENGTH: "32" }],
    [{ PASSWORD_MAX_LENGTH: "100000" }],
    [{ PASSWORD_MIN_LENGTH: "100", PASSWORD_MAX_LENGTH: "64" }],
    [{ PASSWORD_CHARACTER_CLASSES: "lowercase,emoji" }],
  ])("fails closed on %o", (vars) => {
    expect(() => parsePasswordPolicy(vars)).toThrow(PasswordPolicyError);
  });
});

describe("describePasswordProblems", () => {
  it("has a sentence for every code, with the configured lengths", () => {
    const messages = describePasswordProblems(PASSWORD_PROBLEMS, { minLength: 15 });
    expect(messages).toHaveLength(PASSWORD_PROBLEMS.length);
    expect(new Set(messages).size).toBe(PASSWORD_PROBLEMS.length);
    expect(messages[0]).toContain("15");
    expect(describePasswordProblems(["nonsense"])).toEqual([
      "The password does not meet the policy.",
    ]);
  });
});
