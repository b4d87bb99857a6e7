import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type VariableSpec,
  validateVariables,
  visibleVariables,
} from "../../src/desk/custom-variables.ts";
import type { ChatVariables } from "../../src/protocol/variables.ts";

const specs: VariableSpec[] = [
  { name: "plan", type: "string", maxLength: 5, visibleToAgents: true },
  { name: "seats", type: "number", maxLength: null, visibleToAgents: true },
  { name: "trial", type: "boolean", maxLength: null, visibleToAgents: true },
  { name: "contact", type: "email", maxLength: 30, visibleToAgents: true },
  { name: "site", type: "url", maxLength: 40, visibleToAgents: true },
  { name: "risk", type: "string", maxLength: 500, visibleToAgents: false },
];

describe("validateVariables", () => {
  it("accepts values that fit their declarations", () => {
    expect(
      validateVariables(specs, {
        plan: "pro",
        seats: -2.5,
        trial: false,
        contact: "a@example.com",
        site: "HTTPS://shop.example/x?y=1",
        risk: "",
      }),
    ).toEqual({});
    expect(validateVariables([], {})).toEqual({});
  });

  it("names each refused variable with its problem", () => {
    expect(
      validateVariables(specs, {
        Plan: "pro", // names are case-sensitive
        plan: "abcdef",
        seats: "3",
        trial: 0,
        contact: "not an email",
        site: "javascript:alert(1)",
        constructor: "x",
      }),
    ).toEqual({
      Plan: "undeclared",
      plan: "too_long",
      seats: "wrong_type",
      trial: "wrong_type",
      contact: "invalid_format",
      site: "invalid_format",
      constructor: "undeclared",
    });
  });

  it("counts length before format, and a text type refuses numbers and booleans", () => {
    expect(validateVariables(specs, { plan: "abcde" })).toEqual({});
    expect(validateVariables(specs, { contact: `${"a".repeat(30)}@example.com` })).toEqual({
      contact: "too_long",
    });
    expect(validateVariables(specs, { site: "ftp://shop.example/" })).toEqual({
      site: "invalid_format",
    });
    expect(validateVariables(specs, { plan: 1, contact: true })).toEqual({
      plan: "wrong_type",
      contact: "wrong_type",
    });
  });

  it("never refuses a value generated to fit, and always refuses an undeclared name", () => {
    const fitting = fc.record(
      {
        plan: fc.string({ maxLength: 5 }),
        seats: fc.double({ noNaN: true, noDefaultInfinity: true }),
        trial: fc.boolean(),
        risk: fc.string({ maxLength: 500 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fitting, fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/), (values, name) => {
        expect(validateVariables(specs, values)).toEqual({});
        const declared = specs.some((spec) => spec.name === name);
        const problems = validateVariables(specs, { ...values, [name]: "x" });
        if (!declared) expect(problems[name]).toBe("undeclared");
      }),
    );
  });
});

describe("visibleVariables", () => {
  it("keeps only variables declared visible: hidden and undeclared ones are dropped", () => {
    const values: ChatVariables = { plan: "pro", risk: "high", gone: 1, seats: 3 };
    expect(visibleVariables(specs, values)).toEqual({ plan: "pro", seats: 3 });
    expect(visibleVariables([], values)).toEqual({});
  });
});
