/**
 * IP allowlist rules (DESIGN invariant 3): IPv4 and IPv6 addresses and CIDR ranges, parsed
 * with ipaddr.js. Strict on purpose: only canonical four-part dotted-decimal IPv4 and
 * standard IPv6 text are addresses — `1.2.3`, `0x7f.1`, `010.1.1.1` and zone ids (`%eth0`)
 * are not, even though some parsers accept them — so an odd header can never widen a rule.
 * Pure and runtime-neutral.
 */
import ipaddr from "ipaddr.js";

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** A parsed rule: everything, or one range. */
export type IpRule = { any: true } | { any: false; range: [Address, number] };

/** A rule that is not an address, a CIDR range or `*` (the message names the rule). */
export class IpRuleError extends Error {
  override name = "IpRuleError";
}

/** Parses canonical address text, or answers null. */
function parseAddress(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) return ipaddr.IPv4.parse(text);
  if (text.includes("%") || !ipaddr.IPv6.isValid(text)) return null;
  // An embedded IPv4 part (`::ffff:1.2.3.4`) must be canonical too.
  const tail = text.slice(text.lastIndexOf(":") + 1);
  if (tail.includes(".") && !ipaddr.IPv4.isValidFourPartDecimal(tail)) return null;
  return ipaddr.IPv6.parse(text);
}

/** IPv4-mapped IPv6 (`::ffff:203.0.113.9`) is that IPv4 address. */
function unmapped(address: Address): Address {
  return address.kind() === "ipv6" && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** Parses one rule: `*`, an address, or `address/prefix`. Throws IpRuleError when invalid. */
export function parseIpRule(rule: string): IpRule {
  const text = rule.trim();
  if (text === "*") return { any: true };
  const slash = text.indexOf("/");
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (!address) throw new IpRuleError(`not an IP address or CIDR range: "${rule}"`);
  const max = address.kind() === "ipv4" ? 32 : 128;
  const prefixText = slash < 0 ? String(max) : text.slice(slash + 1);
  const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : Number.NaN;
  if (!(prefix >= 0 && prefix <= max)) {
    throw new IpRuleError(`not a valid prefix length in "${rule}"`);
  }
  const base = unmapped(address);
  // A mapped range (`::ffff:10.0.0.0/104`) becomes the IPv4 range it covers.
  const bits = base === address ? prefix : Math.max(prefix - 96, 0);
  return { any: false, range: [base, bits] };
}

/** Parses a whole list; throws IpRuleError on the first invalid rule. */
export function parseIpRules(rules: readonly string[]): IpRule[] {
  return rules.map(parseIpRule);
}

/** True when `ip` matches one of the parsed rules (empty rules allow nothing). */
export function matchesIpRules(ip: string, rules: readonly IpRule[]): boolean {
  const parsed = parseAddress(ip.trim() === ip ? ip : "");
  if (!parsed) return false;
  const address = unmapped(parsed);
  return rules.some(
    (rule) =>
      rule.any ||
      (rule.range[0].kind() === address.kind() &&
        (address as ipaddr.IPv4).match(rule.range as [ipaddr.IPv4, number])),
  );
}

/**
 * True when `ip` is allowed by `rules`. An invalid IP → false; empty rules → false; `*`
 * allows every valid IP; an invalid rule throws (configuration parsing turns that into a
 * fail-closed configuration error). This signature is a contract.
 */
export function ipAllowed(ip: string, rules: string[]): boolean {
  return matchesIpRules(ip, parseIpRules(rules));
}

/**
 * True when every address `inner` matches is matched by `outer` too (a rule inside the
 * configured list), so narrowing can be checked before it is stored.
 */
export function ruleWithin(inner: IpRule, outer: readonly IpRule[]): boolean {
  return outer.some((rule) => {
    if (rule.any) return true;
    if (inner.any) return false;
    const [base, bits] = inner.range;
    const [outerBase, outerBits] = rule.range;
    return (
      base.kind() === outerBase.kind() &&
      bits >= outerBits &&
      (base as ipaddr.IPv4).match(rule.range as [ipaddr.IPv4, number])
    );
  });
}
