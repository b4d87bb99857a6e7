import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { ipAllowed, parseIpRule, ruleWithin } from "../../src/security/ip-rules.ts";

describe("ipAllowed", () => {
  it.each([
    ["203.0.113.9", ["203.0.113.0/24"], true],
    ["203.0.114.9", ["203.0.113.0/24"], false],
    ["10.1.2.3", ["10.0.0.0/8", "192.168.0.0/16"], true],
    ["192.0.2.1", ["192.0.2.1"], true],
    ["192.0.2.2", ["192.0.2.1"], false],
    ["2001:db8::1", ["2001:db8::/32"], true],
    ["2001:db9::1", ["2001:db8::/32"], false],
    ["2001:DB8::1", ["2001:db8::/32"], true],
    ["::1", ["::1"], true],
    // IPv4-mapped IPv6 is the IPv4 address, both ways.
    ["::ffff:203.0.113.9", ["203.0.113.0/24"], true],
    ["::ffff:cb00:7109", ["203.0.113.0/24"], true],
    ["203.0.113.9", ["::ffff:203.0.113.0/120"], true],
    // IPv6 never matches IPv4 rules (and vice versa).
    ["2001:db8::1", ["0.0.0.0/0"], false],
    ["1.2.3.4", ["::/0"], false],
    ["1.2.3.4", ["0.0.0.0/0"], true],
    ["1.2.3.4", ["*"], true],
    ["2001:db8::1", ["*"], true],
  ] as const)("%s against %j → %s", (ip, rules, expected) => {
    expect(ipAllowed(ip, [...rules])).toBe(expected);
  });

  it.each([
    "1.2.3",
    "0x7f.1",
    "0x7f.0.0.1",
    "010.1.1.1",
    "1.2.3.04",
    "127.1",
    "2130706433",
    "256.1.1.1",
    "1.2.3.4 ",
    " 1.2.3.4",
    "1.2.3.4/32",
    "fe80::1%eth0",
    "fe80::1%25eth0",
    "::ffff:010.1.1.1",
    "1.2.3.4, 5.6.7.8",
    "",
    "localhost",
    "1.2.3.4\n",
    "::g",
  ])("refuses the non-canonical or garbage address %j, even with *", (ip) => {
    expect(ipAllowed(ip, ["*"])).toBe(false);
    expect(ipAllowed(ip, ["0.0.0.0/0", "::/0"])).toBe(false);
  });

  it("allows nothing with empty rules", () => {
    expect(ipAllowed("1.2.3.4", [])).toBe(false);
  });

  it.each(["1.2.3", "abc", "1.2.3.4/33", "::/129", "10.0.0.0/", "*/8", "0x7f.0.0.1/8", ""])(
    "throws on the invalid rule %j",
    (rule) => {
      expect(() => ipAllowed("1.2.3.4", [rule])).toThrow();
      expect(() => parseIpRule(rule)).toThrow();
    },
  );

  it("never throws for any address string against valid rules (property)", () => {
    fc.assert(
      fc.property(fc.string(), (ip) => {
        expect(typeof ipAllowed(ip, ["10.0.0.0/8", "2001:db8::/32"])).toBe("boolean");
      }),
    );
  });

  it("matches exactly the addresses of a random IPv4 range (property)", () => {
    fc.assert(
      fc.property(fc.ipV4(), fc.integer({ min: 0, max: 32 }), fc.ipV4(), (base, bits, ip) => {
        const toInt = (a: string) =>
          a.split(".").reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
        const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
        const expected = (toInt(base) & mask) >>> 0 === (toInt(ip) & mask) >>> 0;
        expect(ipAllowed(ip, [`${base}/${bits}`])).toBe(expected);
      }),
    );
  });
});

describe("ruleWithin", () => {
  it("tells narrower rules from wider ones", () => {
    const configured = ["10.0.0.0/8", "2001:db8::/32"].map(parseIpRule);
    expect(ruleWithin(parseIpRule("10.1.0.0/16"), configured)).toBe(true);
    expect(ruleWithin(parseIpRule("10.1.2.3"), configured)).toBe(true);
    expect(ruleWithin(parseIpRule("0.0.0.0/0"), configured)).toBe(false);
    expect(ruleWithin(parseIpRule("11.0.0.0/16"), configured)).toBe(false);
    expect(ruleWithin(parseIpRule("*"), configured)).toBe(false);
    expect(ruleWithin(parseIpRule("2001:db8:1::/48"), configured)).toBe(true);
    expect(ruleWithin(parseIpRule("1.2.3.4"), [parseIpRule("*")])).toBe(true);
  });
});

describe("allowlist configuration fails closed", () => {
  const base = { SESSION_KEY: "k".repeat(40), CAPTCHA_KEY: "c".repeat(40) };
  it("turns a typo into a configuration error naming the setting", () => {
    expect(() => parseConfig({ ...base, AGENT_IP_ALLOWLIST: "10.0.0.0/8, 10.1.2" })).toThrow(
      ConfigError,
    );
    expect(() => parseConfig({ ...base, MOBILE_IP_ALLOWLIST: "10.0.0.0/33" })).toThrow(
      /MOBILE_IP_ALLOWLIST/,
    );
  });

  it("denies everyone when the list is missing or empty", () => {
    expect(parseConfig(base).ipAllowlists.agent.parsed).toEqual([]);
    expect(parseConfig({ ...base, AGENT_IP_ALLOWLIST: " , " }).ipAllowlists.agent.rules).toEqual(
      [],
    );
  });
});
