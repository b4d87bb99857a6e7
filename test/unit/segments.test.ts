import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { segmentsOf, type VisitorFacts } from "../../src/desk/segments.ts";
import type { SegmentCondition, SegmentRules } from "../../src/protocol/segments.ts";

const facts: VisitorFacts = {
  url: "https://shop.example/de/cart?step=2",
  country: "DE",
  visits: 3,
  variables: { plan: "enterprise", seats: 12, trial: false, "order.id": "A-7" },
};

/** Whether one condition alone, in an `all` segment, matches `f`. */
const holds = (condition: SegmentCondition, f: VisitorFacts = facts) =>
  segmentsOf([{ id: "s", rules: { match: "all", conditions: [condition] } }], f).length === 1;

describe("segmentsOf: conditions", () => {
  it("url: each op as a campaign's URL rule (case-insensitive), never when the page is unknown", () => {
    const url = "https://shop.example/de/cart?step=2";
    expect(holds({ field: "url", op: "equals", value: url })).toBe(true);
    expect(holds({ field: "url", op: "equals", value: `${url}&x` })).toBe(false);
    expect(holds({ field: "url", op: "starts_with", value: "HTTPS://Shop.Example/de/" })).toBe(
      true,
    );
    expect(holds({ field: "url", op: "starts_with", value: "/de/" })).toBe(false);
    expect(holds({ field: "url", op: "contains", value: "/CART?" })).toBe(true);
    expect(holds({ field: "url", op: "contains", value: "/fr/" })).toBe(false);
    expect(holds({ field: "url", op: "glob", value: "https://*.example/*/cart*" })).toBe(true);
    expect(holds({ field: "url", op: "glob", value: "*/fr/*" })).toBe(false);
    expect(holds({ field: "url", op: "glob", value: "*" }, { ...facts, url: null })).toBe(false);
  });

  it("country: listed or not, case-insensitively, never when unknown", () => {
    expect(holds({ field: "country", op: "in", values: ["FR", "DE"] })).toBe(true);
    expect(holds({ field: "country", op: "in", values: ["FR"] })).toBe(false);
    expect(holds({ field: "country", op: "in", values: ["DE"] }, { ...facts, country: "de" })).toBe(
      true,
    );
    expect(holds({ field: "country", op: "in", values: ["DE"] }, { ...facts, country: null })).toBe(
      false,
    );
  });

  it("visits: gte, lte, eq at their boundaries", () => {
    expect(holds({ field: "visits", op: "gte", value: 3 })).toBe(true);
    expect(holds({ field: "visits", op: "gte", value: 4 })).toBe(false);
    expect(holds({ field: "visits", op: "lte", value: 3 })).toBe(true);
    expect(holds({ field: "visits", op: "lte", value: 2 })).toBe(false);
    expect(holds({ field: "visits", op: "eq", value: 3 })).toBe(true);
    expect(holds({ field: "visits", op: "eq", value: 1 })).toBe(false);
  });

  it("variable: exists, equals (same type), contains (text), gte and lte (numbers)", () => {
    type VariableRule = Extract<SegmentCondition, { field: "variable" }>;
    type WithoutField<T> = T extends unknown ? Omit<T, "field"> : never;
    const v = (c: WithoutField<VariableRule>) => holds({ field: "variable", ...c });
    expect(v({ name: "trial", op: "exists" })).toBe(true);
    expect(v({ name: "order.id", op: "exists" })).toBe(true);
    expect(v({ name: "missing", op: "exists" })).toBe(false);
    // Own variables only: nothing comes from Object.prototype.
    expect(v({ name: "constructor", op: "exists" })).toBe(false);
    expect(v({ name: "toString", op: "contains", value: "function" })).toBe(false);
    expect(v({ name: "plan", op: "equals", value: "enterprise" })).toBe(true);
    expect(v({ name: "trial", op: "equals", value: false })).toBe(true);
    expect(v({ name: "seats", op: "equals", value: "12" })).toBe(false);
    expect(v({ name: "plan", op: "contains", value: "prise" })).toBe(true);
    expect(v({ name: "seats", op: "contains", value: "1" })).toBe(false);
    expect(v({ name: "seats", op: "gte", value: 12 })).toBe(true);
    expect(v({ name: "seats", op: "gte", value: 12.5 })).toBe(false);
    expect(v({ name: "seats", op: "lte", value: 12 })).toBe(true);
    expect(v({ name: "seats", op: "lte", value: 11 })).toBe(false);
    expect(v({ name: "plan", op: "gte", value: 0 })).toBe(false);
  });

  it("returns the matching ids in the order given", () => {
    const rules = (match: "all" | "any", conditions: SegmentCondition[]): SegmentRules => ({
      match,
      conditions,
    });
    const de = { field: "country", op: "in", values: ["DE"] } as const satisfies SegmentCondition;
    const fr = { field: "country", op: "in", values: ["FR"] } as const satisfies SegmentCondition;
    const segments = [
      { id: "z-any", rules: rules("any", [fr, { ...de, values: ["DE"] }]) },
      { id: "a-all", rules: rules("all", [fr, { ...de, values: ["DE"] }]) },
      { id: "m-de", rules: rules("all", [{ ...de, values: ["DE"] }]) },
    ];
    expect(segmentsOf(segments, facts)).toEqual(["z-any", "m-de"]);
    expect(segmentsOf([], facts)).toEqual([]);
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────

const word = fc.string({ unit: fc.constantFrom("a", "b", "/", "1"), maxLength: 6 });
const variableNames = fc.constantFrom("plan", "seats", "trial", "constructor");
const variableValue = fc.oneof(word, fc.integer({ min: -3, max: 3 }), fc.boolean());

const condition: fc.Arbitrary<SegmentCondition> = fc.oneof(
  fc.record({
    field: fc.constant("url" as const),
    op: fc.constantFrom("equals", "starts_with", "contains", "glob" as const),
    value: fc.string({ unit: fc.constantFrom("a", "b", "/", "*"), maxLength: 6 }),
  }),
  fc.record({
    field: fc.constant("country" as const),
    op: fc.constant("in" as const),
    values: fc.array(fc.constantFrom("DE", "FR", "US"), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({
    field: fc.constant("visits" as const),
    op: fc.constantFrom("gte", "lte", "eq" as const),
    value: fc.nat(5),
  }),
  fc.record({
    field: fc.constant("variable" as const),
    name: variableNames,
    op: fc.constant("exists" as const),
  }),
  fc.record({
    field: fc.constant("variable" as const),
    name: variableNames,
    op: fc.constant("equals" as const),
    value: variableValue,
  }),
  fc.record({
    field: fc.constant("variable" as const),
    name: variableNames,
    op: fc.constant("contains" as const),
    value: word,
  }),
  fc.record({
    field: fc.constant("variable" as const),
    name: variableNames,
    op: fc.constantFrom("gte", "lte" as const),
    value: fc.integer({ min: -3, max: 3 }),
  }),
);

const visitorFacts: fc.Arbitrary<VisitorFacts> = fc.record({
  url: fc.option(word, { nil: null }),
  country: fc.option(fc.constantFrom("DE", "FR", "US"), { nil: null }),
  visits: fc.integer({ min: 1, max: 5 }),
  variables: fc.dictionary(variableNames, variableValue),
});

const matches = (match: "all" | "any", conditions: SegmentCondition[], f: VisitorFacts) =>
  segmentsOf([{ id: "s", rules: { match, conditions } }], f).length === 1;

describe("segmentsOf: properties", () => {
  it("`all` without conditions matches every visitor; `any` without conditions none", () => {
    fc.assert(
      fc.property(visitorFacts, (f) => {
        expect(matches("all", [], f)).toBe(true);
        expect(matches("any", [], f)).toBe(false);
      }),
    );
  });

  it("adding a condition to an `all` segment never adds matches; to an `any` never removes one", () => {
    fc.assert(
      fc.property(fc.array(condition, { maxLength: 5 }), condition, visitorFacts, (cs, c, f) => {
        if (matches("all", [...cs, c], f)) expect(matches("all", cs, f)).toBe(true);
        if (matches("any", cs, f)) expect(matches("any", [...cs, c], f)).toBe(true);
      }),
    );
  });

  it("one condition: `all` and `any` agree, and the order of conditions never matters", () => {
    fc.assert(
      fc.property(fc.array(condition, { maxLength: 5 }), condition, visitorFacts, (cs, c, f) => {
        expect(matches("all", [c], f)).toBe(matches("any", [c], f));
        const reversed = [...cs].reverse();
        expect(matches("all", reversed, f)).toBe(matches("all", cs, f));
        expect(matches("any", reversed, f)).toBe(matches("any", cs, f));
      }),
    );
  });

  it("returns a sub-list of the given ids, in their order", () => {
    const segment = fc.record({
      id: fc.uuid(),
      rules: fc.record({
        match: fc.constantFrom("all", "any" as const),
        conditions: fc.array(condition, { maxLength: 3 }),
      }),
    });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), visitorFacts, (segments, f) => {
        const ids = segments.map((s) => s.id);
        const found = segmentsOf(segments, f);
        expect(found).toEqual(ids.filter((id) => found.includes(id)));
      }),
    );
  });
});
