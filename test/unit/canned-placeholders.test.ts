import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CANNED_PLACEHOLDERS,
  type PlaceholderValues,
  renderCannedMessage,
} from "../../src/desk/canned-placeholders.ts";

const values: PlaceholderValues = {
  "visitor.name": "Vera",
  "visitor.email": "vera@example.com",
  "agent.name": "Ada",
  "department.name": "Sales",
};

describe("renderCannedMessage", () => {
  it("replaces every supported placeholder, each time it occurs", () => {
    expect(
      renderCannedMessage(
        "Hi {visitor.name}, I am {agent.name} from {department.name}. {visitor.name}, we write to {visitor.email}.",
        values,
      ),
    ).toBe("Hi Vera, I am Ada from Sales. Vera, we write to vera@example.com.");
  });

  it("exports the four placeholders the console offers", () => {
    expect(CANNED_PLACEHOLDERS.map((p) => p.key)).toEqual([
      "visitor.name",
      "visitor.email",
      "agent.name",
      "department.name",
    ]);
  });

  it("renders a missing, null or empty value as an empty string", () => {
    expect(renderCannedMessage("Hi {visitor.name}!", {})).toBe("Hi !");
    expect(renderCannedMessage("Hi {visitor.name}!", { "visitor.name": null })).toBe("Hi !");
    expect(renderCannedMessage("<{visitor.email}>", { "visitor.email": "" })).toBe("<>");
  });

  it("leaves unknown placeholders and other braces as typed", () => {
    for (const text of [
      "{visitor.phone}",
      "{Visitor.Name}",
      "{ visitor.name }",
      "{visitor.name",
      "{{}}",
      "{constructor.prototype}",
      "{__proto__.x}",
      'JSON: {"a": 1}',
    ]) {
      expect(renderCannedMessage(text, values)).toBe(text);
    }
    expect(renderCannedMessage("{{visitor.name}}", values)).toBe("{Vera}");
  });

  it("inserts values literally: no re-expansion, no replacement patterns", () => {
    const sneaky: PlaceholderValues = {
      "visitor.name": "{agent.name} $& $1 $$",
      "agent.name": "Ada",
    };
    expect(renderCannedMessage("Hi {visitor.name}, I am {agent.name}", sneaky)).toBe(
      "Hi {agent.name} $& $1 $$, I am Ada",
    );
  });

  it("never throws, and returns text without a brace unchanged (property)", () => {
    const valueArb = fc.option(fc.string(), { nil: undefined });
    const valuesArb = fc.record(
      {
        "visitor.name": valueArb,
        "visitor.email": valueArb,
        "agent.name": valueArb,
        "department.name": valueArb,
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), valuesArb, (text, given) => {
        const rendered = renderCannedMessage(text, given);
        expect(typeof rendered).toBe("string");
        if (!text.includes("{")) expect(rendered).toBe(text);
      }),
    );
  });

  it("inserts any value literally, once per placeholder (property)", () => {
    const placeholderArb = fc.constantFrom(...CANNED_PLACEHOLDERS.map((p) => p.key));
    const literalArb = fc.string().filter((s) => !s.includes("{"));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(literalArb, placeholderArb)),
        literalArb,
        fc.string(),
        (parts, tail, value) => {
          const text = parts.map(([literal, key]) => `${literal}{${key}}`).join("") + tail;
          const all = Object.fromEntries(CANNED_PLACEHOLDERS.map((p) => [p.key, value]));
          const expected = parts.map(([literal]) => `${literal}${value}`).join("") + tail;
          expect(renderCannedMessage(text, all)).toBe(expected);
        },
      ),
    );
  });
});
