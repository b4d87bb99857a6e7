import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  checkSecureValues,
  type SecureFormField,
  secureFormSummary,
} from "../../src/security/secure-form.ts";

const FIELDS: SecureFormField[] = [
  { name: "number", kind: "card_number", label: "Card number" },
  { name: "expiry", kind: "expiry", label: "Expiry" },
  { name: "code", kind: "security_code", label: "Code" },
  { name: "holder", kind: "cardholder_name", label: "Name" },
  { name: "ref", kind: "text", label: "Reference" },
];
const NOW = Date.UTC(2026, 11, 4);
const GOOD = {
  number: "4111-1111-1111-1111",
  expiry: "12/26",
  code: "123",
  holder: "A B",
  ref: "x",
};

describe("checkSecureValues", () => {
  it("accepts a valid card, this month's expiry and a 3-digit code", () => {
    expect(checkSecureValues(FIELDS, GOOD, NOW)).toEqual({});
    expect(checkSecureValues(FIELDS, { ...GOOD, expiry: "12 / 2026" }, NOW)).toEqual({});
  });

  it("names each broken field", () => {
    expect(
      checkSecureValues(
        FIELDS,
        { number: "4111 1111 1111 1112", expiry: "11/26", code: "1234", holder: "\u0007", ref: "" },
        NOW,
      ),
    ).toEqual({
      number: "invalid_card_number",
      expiry: "expired",
      code: "invalid_security_code",
      holder: "invalid_text",
      ref: "required",
    });
    expect(checkSecureValues(FIELDS, { ...GOOD, expiry: "13/27" }, NOW)).toEqual({
      expiry: "invalid_expiry",
    });
  });

  it("wants four digits for American Express", () => {
    const amex = { ...GOOD, number: "3782 822463 10005" };
    expect(checkSecureValues(FIELDS, { ...amex, code: "123" }, NOW)).toEqual({
      code: "invalid_security_code",
    });
    expect(checkSecureValues(FIELDS, { ...amex, code: "1234" }, NOW)).toEqual({});
  });

  it("never throws on any input (property)", () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.constantFrom("number", "expiry", "code", "holder", "ref"), fc.string()),
        (values) => {
          expect(typeof checkSecureValues(FIELDS, values, NOW)).toBe("object");
        },
      ),
    );
  });
});

describe("secureFormSummary", () => {
  it("keeps only the last four digits and the expiry", () => {
    const summary = secureFormSummary(FIELDS, { ...GOOD, expiry: "03/2031" });
    expect(summary).toBe(
      "card •••• 1111, exp 03/31, security code provided, Name provided, Reference provided",
    );
    expect(summary).not.toContain("123");
    expect(summary).not.toContain("A B");
  });
});
