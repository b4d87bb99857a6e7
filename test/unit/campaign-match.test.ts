import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type CampaignCandidate,
  chooseCampaign,
  globMatches,
  matchesUrlRule,
  matchesUrlRules,
} from "../../src/desk/campaign-match.ts";
import { URL_RULE_OPS, type UrlRule } from "../../src/protocol/campaigns.ts";

const PAGE = "https://shop.example/products/shoes?color=red";

describe("matchesUrlRule", () => {
  it.each([
    ["equals", "https://shop.example/products/shoes?color=red", true],
    ["equals", "https://shop.example/products/shoes", false],
    ["starts_with", "https://shop.example/products/", true],
    ["starts_with", "https://shop.example/cart", false],
    ["contains", "/shoes", true],
    ["contains", "?color=blue", false],
    ["glob", "https://shop.example/*/shoes*", true],
    ["glob", "*shoes*", true],
    ["glob", "*", true],
    ["glob", "https://shop.example/*", true],
    ["glob", "https://shop.example/*/boots*", false],
    ["glob", "*.example/products", false],
  ] as const)("%s %s → %s", (op, value, expected) => {
    expect(matchesUrlRule({ op, value }, PAGE)).toBe(expected);
  });

  it("ignores case in the rule and the URL", () => {
    expect(
      matchesUrlRule({ op: "equals", value: "HTTPS://Shop.Example/A" }, "https://shop.example/a"),
    ).toBe(true);
    expect(
      matchesUrlRule({ op: "contains", value: "/CHECKOUT" }, "https://x.example/Checkout/1"),
    ).toBe(true);
    expect(matchesUrlRule({ op: "glob", value: "*/CART*" }, "https://x.example/cart")).toBe(true);
  });

  it("takes regular-expression characters literally", () => {
    expect(
      matchesUrlRule({ op: "glob", value: "https://a.example/.*" }, "https://a.example/x"),
    ).toBe(false);
    expect(
      matchesUrlRule(
        { op: "glob", value: "https://a.example/?x=(1)*" },
        "https://a.example/?x=(1)&y",
      ),
    ).toBe(true);
    expect(matchesUrlRule({ op: "contains", value: "[a-z]+" }, "https://a.example/b")).toBe(false);
  });
});

describe("globMatches", () => {
  it.each([
    ["", "", true],
    ["", "a", false],
    ["*", "", true],
    ["**", "", true],
    ["a*", "a", true],
    ["*a", "a", true],
    ["a*a", "a", false],
    ["a*a", "aa", true],
    ["ab*ba", "aba", false],
    ["ab*ba", "abba", true],
    ["*ab*ab*", "xabyab", true],
    ["*ab*ab*", "xaby", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "acb", false],
    ["*a*a*a*a*b", `${"a".repeat(10)}b`, true],
  ])("%j on %j → %s", (pattern, text, expected) => {
    expect(globMatches(pattern, text)).toBe(expected);
  });

  /** An independent reference: the glob as an anchored regular expression. */
  const reference = (pattern: string, text: string) =>
    new RegExp(
      `^${pattern
        .split("*")
        .map((piece) => piece.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&"))
        .join(".*")}$`,
      "s",
    ).test(text);

  it("agrees with a regular-expression reference", () => {
    const small = fc.string({ unit: fc.constantFrom("a", "b", "*", "/"), maxLength: 8 });
    const text = fc.string({ unit: fc.constantFrom("a", "b", "/"), maxLength: 10 });
    fc.assert(
      fc.property(small, text, (pattern, value) => {
        expect(globMatches(pattern, value)).toBe(reference(pattern, value));
      }),
      { numRuns: 5000 },
    );
  });

  it("without a star is exactly equals", () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (value, url) => {
        fc.pre(!value.includes("*"));
        expect(matchesUrlRule({ op: "glob", value }, url)).toBe(
          matchesUrlRule({ op: "equals", value }, url),
        );
        expect(matchesUrlRule({ op: "glob", value }, value)).toBe(true);
      }),
    );
  });

  it("stays fast on pathological patterns and long inputs (no backtracking)", () => {
    const long = "a".repeat(200_000);
    const patterns = [
      "*a*a*a*a*b",
      `${"*a".repeat(250)}*b`,
      `${"a*".repeat(250)}b`,
      "*aaaaaaaaab*",
    ];
    const started = performance.now();
    for (const pattern of patterns) {
      expect(globMatches(pattern, long)).toBe(false);
      expect(globMatches(pattern, `${long}b`)).toBe(true);
    }
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe("matchesUrlRules", () => {
  it("matches every page without rules, and any rule otherwise", () => {
    expect(matchesUrlRules([], "https://anything.example/")).toBe(true);
    expect(matchesUrlRules([], "")).toBe(true);
    const rules: UrlRule[] = [
      { op: "contains", value: "/cart" },
      { op: "starts_with", value: "https://shop.example/checkout" },
    ];
    expect(matchesUrlRules(rules, "https://shop.example/checkout/pay")).toBe(true);
    expect(matchesUrlRules(rules, "https://shop.example/cart")).toBe(true);
    expect(matchesUrlRules(rules, "https://shop.example/")).toBe(false);
  });

  it("never throws on arbitrary rules and URLs", () => {
    const rule = fc.record({ op: fc.constantFrom(...URL_RULE_OPS), value: fc.string() });
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 5 }), fc.string(), (rules, url) => {
        expect(typeof matchesUrlRules(rules, url)).toBe("boolean");
      }),
    );
  });
});

describe("chooseCampaign", () => {
  const campaign = (
    id: string,
    priority: number,
    urlRules: UrlRule[] = [],
    enabled = true,
  ): CampaignCandidate => ({ id, priority, urlRules, enabled });

  it("picks the lowest priority among the matching enabled campaigns, then the lowest id", () => {
    const shoes = campaign("c-shoes", 10, [{ op: "contains", value: "/shoes" }]);
    const cart = campaign("c-cart", 5, [{ op: "contains", value: "/cart" }]);
    const everywhere = campaign("c-all", 50);
    const disabled = campaign("c-off", 1, [], false);
    const tieB = campaign("b-tie", 10, [{ op: "contains", value: "/shoes" }]);
    const all = [everywhere, disabled, shoes, cart, tieB];
    expect(chooseCampaign(all, PAGE)?.id).toBe("b-tie");
    expect(chooseCampaign([everywhere, disabled, shoes, cart], PAGE)?.id).toBe("c-shoes");
    expect(chooseCampaign(all, "https://shop.example/cart")?.id).toBe("c-cart");
    expect(chooseCampaign(all, "https://shop.example/about")?.id).toBe("c-all");
    expect(chooseCampaign([disabled, shoes], "https://shop.example/about")).toBeNull();
    expect(chooseCampaign([], PAGE)).toBeNull();
  });

  it("does not depend on the order of the list", () => {
    const candidate = fc.record({
      id: fc.constantFrom("a", "b", "c", "d"),
      priority: fc.integer({ min: 0, max: 3 }),
      enabled: fc.boolean(),
      urlRules: fc.array(
        fc.record({
          op: fc.constantFrom(...URL_RULE_OPS),
          value: fc.constantFrom("/x", "*", "*y"),
        }),
        { maxLength: 2 },
      ),
    });
    fc.assert(
      fc.property(fc.uniqueArray(candidate, { selector: (c) => c.id }), (campaigns) => {
        const url = "https://a.example/x/y";
        const chosen = chooseCampaign(campaigns, url);
        expect(chooseCampaign([...campaigns].reverse(), url)).toBe(chosen);
        if (chosen) {
          expect(chosen.enabled).toBe(true);
          for (const other of campaigns) {
            if (other.enabled && matchesUrlRules(other.urlRules, url)) {
              expect(other.priority).toBeGreaterThanOrEqual(chosen.priority);
            }
          }
        }
      }),
    );
  });
});
