/**
 * Card-number masking (DESIGN invariant 1): the shared corpus, a generated set of every brand ×
 * length × grouping × position with a Luhn-invalid twin of each, look-alikes that must stay
 * byte-identical, property tests (fast-check) and the strict mode.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  cardBrand,
  digitValue,
  isValidPan,
  luhnValid,
  MAX_PAN_LENGTH,
  MIN_PAN_LENGTH,
} from "../../src/security/card-brands.ts";
import { MASK_CHAR, maskCardNumbers } from "../../src/security/card-masking.ts";

// CI clones the repository next to a copy of shared/: the corpus is found relative to the repo.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const CORPUS_PATH = path.resolve(repoRoot, "../shared/corpora/card-numbers.json");

interface Corpus {
  positive: { text: string; pans: string[] }[];
  negative: { text: string }[];
}
const corpus = JSON.parse(readFileSync(CORPUS_PATH, "utf8")) as Corpus;

const digitsOf = (s: string): string => s.replace(/[^0-9]/g, "");

/** The brand × prefix × length table the generated set covers (every length of every brand). */
const BRANDS: { brand: string; prefixes: string[]; lengths: number[] }[] = [
  { brand: "visa", prefixes: ["4", "4000", "4999"], lengths: [13, 16, 19] },
  {
    brand: "mastercard",
    prefixes: ["51", "52", "53", "54", "55", "2221", "2300", "2720"],
    lengths: [16],
  },
  { brand: "amex", prefixes: ["34", "37"], lengths: [15] },
  { brand: "discover", prefixes: ["6011", "644", "647", "649", "65"], lengths: [16, 17, 18, 19] },
  { brand: "jcb", prefixes: ["3528", "3566", "3589"], lengths: [16, 17, 18, 19] },
  {
    brand: "diners",
    prefixes: ["300", "303", "305", "36", "38", "39"],
    lengths: [14, 15, 16, 17, 18, 19],
  },
  { brand: "unionpay", prefixes: ["62", "6212"], lengths: [16, 17, 18, 19] },
];

/** Deterministic PRNG (mulberry32) so the generated set is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The Luhn check digit that completes `body`. */
function checkDigit(body: string): number {
  for (let c = 0; c < 10; c++) if (luhnValid(`${body}${c}`)) return c;
  throw new Error("unreachable");
}

/**
 * A valid PAN with this prefix and length, and its Luhn-invalid twin (last digit + 1). Drawn
 * again while some way of writing them hides a second number (a 4-4-4-4-1 PAN whose first 16
 * digits are also Luhn-valid, a twin with a valid 13-digit Visa inside): the rule masks those,
 * and the generated set wants exactly one number per PAN and none per twin.
 */
function makePan(prefix: string, length: number, random: () => number): [string, string] {
  for (;;) {
    let body = prefix;
    while (body.length < length - 1) body += String(Math.floor(random() * 10));
    const c = checkDigit(body);
    const pan = `${body}${c}`;
    const twin = `${body}${(c + 1) % 10}`;
    const clean = formats(length).every(
      ([, write]) =>
        referenceCandidates(write(pan)).length === 1 &&
        referenceCandidates(write(twin)).length === 0,
    );
    if (clean) return [pan, twin];
  }
}

/** Splits digits into groups of the given sizes (the last size repeats). */
function group(digits: string, sizes: number[], separators: string[]): string {
  let out = "";
  let at = 0;
  for (let g = 0; at < digits.length; g++) {
    const size = sizes[Math.min(g, sizes.length - 1)] as number;
    if (g > 0) out += separators[(g - 1) % separators.length];
    out += digits.slice(at, at + size);
    at += size;
  }
  return out;
}

/** Every way the generated set writes a number of this length. */
function formats(length: number): [string, (d: string) => string][] {
  const list: [string, (d: string) => string][] = [
    ["plain", (d) => d],
    ["4s space", (d) => group(d, [4], [" "])],
    ["4s dash", (d) => group(d, [4], ["-"])],
    ["4s mixed", (d) => group(d, [4], [" ", "-"])],
    ["4s no-break space", (d) => group(d, [4], ["\u00a0"])],
    ["pairs (any grouping of the whole run)", (d) => group(d, [2], [" "])],
  ];
  if (length === 15) {
    list.push(["4-6-5 space", (d) => group(d, [4, 6, 5], [" "])]);
    list.push(["4-6-5 dash", (d) => group(d, [4, 6, 5], ["-"])]);
  }
  if (length === 14) {
    list.push(["4-6-4 space", (d) => group(d, [4, 6, 4], [" "])]);
    list.push(["4-6-4 dash", (d) => group(d, [4, 6, 4], ["-"])]);
  }
  return list;
}

/** Every position in a text where a number is put. */
const CONTEXTS: [string, (n: string) => string][] = [
  ["alone", (n) => n],
  ["start", (n) => `${n} is my card`],
  ["middle", (n) => `my card is ${n} thanks`],
  ["end", (n) => `my card number is ${n}`],
  ["full stop", (n) => `It's ${n}.`],
  ["comma and cvv", (n) => `${n}, cvv 123`],
  ["parentheses", (n) => `(${n})`],
  ["quotes", (n) => `"${n}"`],
  ["after card:", (n) => `card:${n}`],
  ["after card: space", (n) => `card: ${n}`],
  ["multiline", (n) => `hello\n${n}\nbye`],
  ["unicode around", (n) => `Kártyám: ${n} — köszönöm 🙏`],
  ["japanese punctuation", (n) => `カード番号「${n}」です`],
  ["query string", (n) => `pan=${n}&exp=1227`],
  ["after a bullet", (n) => `•${n}`],
];

/** Asserts that `pan` (as written) is masked in `out`: first 12 digits gone, last 4 kept. */
function expectMasked(out: string, pan: string): void {
  const digits = digitsOf(pan);
  expect(digitsOf(out), `${pan} in ${JSON.stringify(out)}`).not.toContain(digits.slice(0, 12));
  expect(digitsOf(out)).toContain(digits.slice(-4));
}

/** `out` is `text` with some ASCII digits replaced by bullets, and nothing else changed. */
function expectOnlyDigitsHidden(text: string, out: string, label: string): void {
  expect(out.length, label).toBe(text.length);
  for (let i = 0; i < text.length; i++) {
    if (out[i] === text[i]) continue;
    expect(`${text[i]}→${out[i]}`, `${label} at ${i}`).toMatch(/^[0-9]→•$/);
  }
}

describe("the shared corpus", () => {
  it("is loaded from ../shared next to the repository", () => {
    expect(corpus.positive.length).toBeGreaterThan(0);
    expect(corpus.negative.length).toBeGreaterThan(0);
  });

  it.each(corpus.positive.map((p) => [p.text, p.pans] as const))("masks %j", (text, pans) => {
    const result = maskCardNumbers(text);
    expect(result.count).toBe(pans.length);
    for (const pan of pans) {
      expect(result.text).not.toContain(pan);
      expectMasked(result.text, pan);
    }
    expect(maskCardNumbers(result.text)).toEqual({ text: result.text, count: 0 });
  });

  it.each(corpus.negative.map((n) => [n.text] as const))("leaves %j alone", (text) => {
    expect(maskCardNumbers(text)).toEqual({ text, count: 0 });
  });
});

describe("mask format", () => {
  it.each([
    ["4111 1111 1111 1111", "•••• •••• •••• 1111"],
    ["4111-1111-1111-1111", "••••-••••-••••-1111"],
    ["4111111111111111", "••••••••••••1111"],
    ["3782 822463 10005", "•••• •••••• •0005"],
    ["4222 2222 2222 2", "•••• •••• •222 2"],
    ["30569309025904", "••••••••••5904"],
    ["pay with 5555 5555 5555 4444 please", "pay with •••• •••• •••• 4444 please"],
  ])("%j → %j", (text, masked) => {
    expect(maskCardNumbers(text)).toEqual({ text: masked, count: 1 });
  });

  it("uses U+2022 for every hidden digit and keeps the length of ASCII input", () => {
    expect(MASK_CHAR).toBe("\u2022");
    const text = "a 6011 0009 9013 9424 b";
    expect(maskCardNumbers(text).text).toHaveLength(text.length);
  });

  it("returns the very same string when nothing is masked", () => {
    const text = "nothing to see: 415-555-2671";
    expect(maskCardNumbers(text).text).toBe(text);
    expect(maskCardNumbers("")).toEqual({ text: "", count: 0 });
  });
});

describe("generated set: every brand × length × grouping × position, with Luhn-invalid twins", () => {
  const random = prng(0x5eed);
  for (const { brand, prefixes, lengths } of BRANDS) {
    for (const prefix of prefixes) {
      for (const length of lengths) {
        const [pan, twin] = makePan(prefix, length, random);
        it(`${brand} ${prefix}… ${length} digits`, () => {
          expect(cardBrand(pan)).toBe(brand);
          expect(isValidPan(twin)).toBe(false);
          for (const [format, write] of formats(length)) {
            for (const [where, place] of CONTEXTS) {
              const label = `${brand} ${length} ${format} ${where}`;
              const text = place(write(pan));
              const result = maskCardNumbers(text);
              expect(result.count, label).toBe(1);
              expectMasked(result.text, pan);
              expectOnlyDigitsHidden(text, result.text, label);
              expect(maskCardNumbers(result.text), `${label} twice`).toEqual({
                text: result.text,
                count: 0,
              });
              const twinText = place(write(twin));
              expect(maskCardNumbers(twinText), `${label} Luhn-invalid`).toEqual({
                text: twinText,
                count: 0,
              });
            }
          }
        });
      }
    }
  }

  /** A digit glued to the number that does not make another valid number of it. */
  const gluedDigit = (glue: (d: string) => string): string => {
    for (let d = 0; ; d++) if (!isValidPan(digitsOf(glue(String(d))))) return glue(String(d));
  };

  it("masks a number glued to neither letters nor digits only", () => {
    const random2 = prng(7);
    for (const { prefixes, lengths } of BRANDS) {
      const [pan] = makePan(prefixes[0] as string, lengths[0] as number, random2);
      for (const glued of [
        `a${pan}`,
        `${pan}b`,
        `é${pan}`,
        `${pan}ж`,
        `e\u0301${pan}`,
        `²${pan}`,
        `Ⅻ${pan}`,
        `${gluedDigit((d) => `${d}${pan}`)}`,
        `${gluedDigit((d) => `${pan}${d}`)}`,
        `x1 ${group(pan, [4], [" "])}`,
      ]) {
        expect(maskCardNumbers(glued), glued).toEqual({ text: glued, count: 0 });
      }
      // Scripts without word spaces: the number stands alone although letters touch it.
      for (const free of [
        `-${pan}`,
        `${pan}-`,
        `+${pan}`,
        `#${pan}`,
        `${pan}…`,
        `«${pan}»`,
        `漢${pan}`,
        `${pan}カ`,
        `番号は${pan}です`,
        `บัตร${pan}ครับ`,
      ]) {
        expect(maskCardNumbers(free).count, free).toBe(1);
      }
    }
  });
});

describe("look-alikes stay byte-identical", () => {
  it.each([
    // phone numbers
    "+1 (415) 555-2671",
    "call 415-555-2671 or 415 555 2672",
    "415-555-2671 415-555-2672",
    "+44 20 7946 0958",
    "+86 138 0013 8000",
    "+49 30 123456789",
    "0044 20 7946 0958 ext 12",
    "1-800-555-0199",
    "+33 1 23 45 67 89 +33 6 12 34 56 78",
    // order numbers, invoices, tracking
    "ORD-2024-000123",
    "Order #123456789",
    "order 2024-05-17-000042",
    "invoice 4000-1234-5678",
    "1Z999AA10123456784",
    "tracking 9400 1000 0000 0000 0000 00",
    // IMEIs (15 digits, Luhn-valid, 35… is not a 15-digit brand)
    "IMEI 490154203237518",
    "IMEI: 356938035643809",
    "35-209900-176148-1",
    // ISBNs
    "9780306406157",
    "978-0-306-40615-7",
    "ISBN 0-306-40615-2",
    // dates and times
    "2024-05-17",
    "17/05/2024 10:30",
    "2024-05-17 10:30:00",
    "20240517103000",
    "1700000000000",
    // long digit strings that are not card numbers
    "12345678901234567890",
    "41111111111111111111",
    "4111111111111111111111111",
    "0000 0000 0000 0000",
    "1234 5678 1234 5670",
    "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    "4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
    "4111  1111  1111  1111",
    "4111--1111--1111--1111",
    "4111 - 1111 - 1111 - 1111",
    "4111.1111.1111.1111",
    "4111_1111_1111_1111",
    "$4,111,111,111,111,111",
    // Luhn-valid numbers of a wrong length for their prefix
    "411111111111116",
    "37828224631000",
    "3782822463100005",
    "55555555555544440",
    "353011133330000",
    // IBANs and identifiers glued to letters
    "DE89 3704 0044 0532 0130 00",
    "GB82 WEST 1234 5698 7654 32",
    "FR76 3000 6000 0112 3456 7890 189",
    "a4111111111111111b",
    "123e4567-e89b-12d3-a456-426614174000",
    "masked already: •••• •••• •••• 1111",
  ])("%j", (text) => {
    expect(maskCardNumbers(text)).toEqual({ text, count: 0 });
  });
});

describe("numbers glued to more digits by one separator (group-aligned sub-runs)", () => {
  it.each([
    ["4111 1111 1111 1111 123", "•••• •••• •••• 1111 123", 1],
    ["4111111111111111 123", "••••••••••••1111 123", 1],
    ["4111-1111-1111-1111-12-27", "••••-••••-••••-1111-12-27", 1],
    ["123 4111 1111 1111 1111", "123 •••• •••• •••• 1111", 1],
    ["ref 12345 4111111111111111", "ref 12345 ••••••••••••1111", 1],
    ["3782 822463 10005 1234", "•••• •••••• •0005 1234", 1],
    ["4111 1111 1111 1111 5555 5555 5555 4444", "•••• •••• •••• 1111 •••• •••• •••• 4444", 2],
    ["4111111111111111 5555555555554444", "••••••••••••1111 ••••••••••••4444", 2],
    ["4242 4242 4242 4242 4242 4242 4242", "•••• •••• •••• •••• •••• •••• 4242", 2],
  ] as const)("%j → %j", (text, masked, count) => {
    expect(maskCardNumbers(text)).toEqual({ text: masked, count });
    expect(maskCardNumbers(masked)).toEqual({ text: masked, count: 0 });
  });

  it("prefers the shortest number at the leftmost start (a code is not part of the number)", () => {
    // 4111 1111 1111 1111 + 3 digits: some of these 19-digit runs are Luhn-valid 19-digit Visas.
    for (let cvv = 100; cvv < 1000; cvv++) {
      const text = `4111 1111 1111 1111 ${cvv}`;
      expect(maskCardNumbers(text), text).toEqual({ text: `•••• •••• •••• 1111 ${cvv}`, count: 1 });
    }
  });
});

describe("strict mode", () => {
  it.each([
    ["4111 1111 1111 1111 123", "•••• •••• •••• 1111 •••"],
    ["4111111111111111, cvv 123", "••••••••••••1111, cvv •••"],
    ["4111111111111111 exp 12/27 cvv 123", "••••••••••••1111 exp ••/•• cvv •••"],
    ["4111111111111111 cvv:123 exp:12/2027", "••••••••••••1111 cvv:••• exp:••/••••"],
    ["4111111111111111\nexpires 1/29\ncode 1234", "••••••••••••1111\nexpires •/••\ncode ••••"],
    ["4111-1111-1111-1111 12-27", "••••-••••-••••-1111 ••-••"],
    ["card 3782 822463 10005 (cid 4321)", "card •••• •••••• •0005 (cid ••••)"],
  ])("%j → %j", (text, masked) => {
    expect(maskCardNumbers(text, { strict: true })).toEqual({ text: masked, count: 1 });
    expect(maskCardNumbers(text)).toEqual({ text: maskCardNumbers(text).text, count: 1 });
  });

  it.each([
    "4111111111111111 is the card, call me at 123 Main St",
    "4111111111111111 and 13/27",
    "4111111111111111 thanks 123",
    "4111111111111111 12345",
    "4111111111111111 123abc",
  ])("stops at anything else: %j", (text) => {
    const strict = maskCardNumbers(text, { strict: true });
    expect(strict).toEqual(maskCardNumbers(text));
  });

  it("masks nothing without a card number", () => {
    const text = "cvv 123 exp 12/27";
    expect(maskCardNumbers(text, { strict: true })).toEqual({ text, count: 0 });
  });
});

describe("unicode", () => {
  it("masks numbers written in other decimal scripts", () => {
    expect(maskCardNumbers("４１１１ １１１１ １１１１ １１１１")).toEqual({
      text: "•••• •••• •••• １１１１",
      count: 1,
    });
    expect(maskCardNumbers("٤١١١١١١١١١١١١١١١").count).toBe(1);
    expect(maskCardNumbers("𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏")).toEqual({ text: "••••••••••••𝟏𝟏𝟏𝟏", count: 1 });
  });

  it("digitValue agrees with \\p{Nd} on every code point", () => {
    const nd = /^\p{Nd}$/u;
    for (let cp = 0; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const isDigit = nd.test(String.fromCodePoint(cp));
      if (isDigit !== digitValue(cp) >= 0) throw new Error(`U+${cp.toString(16)}`);
    }
    expect(digitValue(0x30)).toBe(0);
    expect(digitValue(0xff19)).toBe(9);
    expect(digitValue(0x1d7ce + 17)).toBe(7);
    expect(digitValue(0xb2)).toBe(-1); // ²
  });
});

describe("card-brands", () => {
  it.each([
    ["2220999999999999", null],
    ["2221000000000009", "mastercard"],
    ["2720999999999999", "mastercard"],
    ["2721000000000000", null],
    ["5000000000000000", null],
    ["3527000000000000", null],
    ["3528000000000000", "jcb"],
    ["3590000000000000", null],
    ["30600000000000", null],
    ["30500000000000", "diners"],
    ["6011000000000000", "discover"],
    ["6012000000000000", null],
    ["6430000000000000", null],
    ["6440000000000000", "discover"],
    ["6500000000000000", "discover"],
    ["6200000000000000", "unionpay"],
    ["4000000000000", "visa"],
    ["40000000000000", null],
    ["340000000000000", "amex"],
    ["3400000000000000", null],
    ["4111-1111", null],
  ])("cardBrand(%j) = %j", (digits, brand) => {
    expect(cardBrand(digits)).toBe(brand);
  });

  it("luhnValid", () => {
    expect(luhnValid("79927398713")).toBe(true);
    expect(luhnValid("79927398710")).toBe(false);
    expect(luhnValid("4111 1111")).toBe(false);
    expect(isValidPan("4111111111111111")).toBe(true);
    expect(isValidPan("4111111111111112")).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties.

/** A random valid PAN of a random brand and length, written in a random card-like way. */
const panArb = fc
  .record({
    entry: fc.constantFrom(
      ...BRANDS.flatMap((b) => b.prefixes.flatMap((p) => b.lengths.map((l) => [p, l] as const))),
    ),
    seed: fc.integer(),
    format: fc.integer({ min: 0, max: 5 }),
  })
  .map(({ entry: [prefix, length], seed, format }) => {
    const [pan] = makePan(prefix, length, prng(seed));
    const [, write] = formats(length)[format] as [string, (d: string) => string];
    return { pan, written: write(pan) };
  });

/** Neither letter, number, mark nor separator: what may stand between a number and the rest. */
const boundaryArb = fc.constantFrom(...",;:!?()[]{}<>\"'/\\|@#$%&*+=~_\n\t。、「」«»…".split(""));

/** Random text: any Unicode, or a soup of digits, separators, letters and marks. */
const fillerArb = fc.oneof(
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(..."0123456789  --ab•é\u0301٣４".split("")), maxLength: 40 }),
);

describe("properties (fast-check)", () => {
  it("embedded valid numbers are masked; everything else is unchanged", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fillerArb, boundaryArb, panArb, boundaryArb), { maxLength: 4 }),
        fillerArb,
        (parts, tail) => {
          // The fillers never touch a number, so each is masked exactly as it would be alone.
          let text = "";
          let expectedCount = 0;
          const expected: (string | { pan: string; written: string })[] = [];
          for (const [filler, before, card, after] of parts) {
            const alone = maskCardNumbers(filler);
            expectedCount += alone.count + 1;
            text += `${filler}${before}${card.written}${after}`;
            expected.push(`${alone.text}${before}`, card, after);
          }
          const alone = maskCardNumbers(tail);
          text += tail;
          expected.push(alone.text);
          expectedCount += alone.count;

          const result = maskCardNumbers(text);
          expect(result.count).toBe(expectedCount);
          let at = 0;
          for (const piece of expected) {
            if (typeof piece === "string") {
              expect(result.text.slice(at, at + piece.length)).toBe(piece);
              at += piece.length;
              continue;
            }
            const region = result.text.slice(at, at + piece.written.length);
            at += piece.written.length;
            // Same shape; only digits hidden; the first hidden, the last kept; no 12-digit prefix.
            expect(region.replace(/[0-9]/g, "#").replace(/•/g, "#")).toBe(
              piece.written.replace(/[0-9]/g, "#"),
            );
            expect(region[0]).toBe(MASK_CHAR);
            expect(region.at(-1)).toBe(piece.written.at(-1));
            expect(digitsOf(region)).not.toContain(piece.pan.slice(0, 12));
            expect(digitsOf(region).length).toBeLessThanOrEqual(7);
          }
          expect(at).toBe(result.text.length);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("is idempotent", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fillerArb,
            panArb.map((p) => p.written),
          ),
        ),
        (pieces) => {
          const once = maskCardNumbers(pieces.join(""));
          expect(maskCardNumbers(once.text)).toEqual({ text: once.text, count: 0 });
          const strict = maskCardNumbers(pieces.join(" "), { strict: true });
          expect(maskCardNumbers(strict.text, { strict: true }).count).toBe(0);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("agrees with a brute-force reading of the rule on digit soups", () => {
    const soup = fc.string({
      unit: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(..."0123456789".split("")) },
        { weight: 4, arbitrary: fc.constantFrom(" ", "-") },
        { weight: 1, arbitrary: fc.constantFrom("a", ",", "  ", "\n") },
        { weight: 2, arbitrary: panArb.map((p) => p.written) },
      ),
      maxLength: 40,
    });
    fc.assert(
      fc.property(soup, (text) => {
        const out = maskCardNumbers(text).text;
        expect(out).toHaveLength(text.length); // ASCII: one bullet per digit
        const hidden = new Set<number>();
        for (let i = 0; i < out.length; i++) if (out[i] !== text[i]) hidden.add(i);
        const covered = new Set<number>();
        for (const candidate of referenceCandidates(text)) {
          // Every card number of the rule loses at least its first digit...
          expect(hidden.has(candidate.positions[0] as number), JSON.stringify(text)).toBe(true);
          for (const p of candidate.runPositions) covered.add(p);
        }
        // ...and nothing is hidden in a run without one.
        for (const p of hidden) expect(covered.has(p), JSON.stringify(text)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

/**
 * The rule read literally, in quadratic time: every clean run, every group-aligned range of it
 * that is the whole run or card-like, that is a valid PAN.
 */
function referenceCandidates(text: string): { positions: number[]; runPositions: number[] }[] {
  const found: { positions: number[]; runPositions: number[] }[] = [];
  const separator = "[ \u00a0\u2007\u2009\u202f\u3000\u2010-\u2013\uff0d-]";
  for (const m of text.matchAll(new RegExp(`[0-9](?:${separator}?[0-9])*`, "g"))) {
    const start = m.index;
    const end = start + m[0].length;
    if (/[\p{L}\p{N}]/u.test(text[start - 1] ?? "") || /[\p{L}\p{N}]/u.test(text[end] ?? "")) {
      continue;
    }
    const groups: number[][] = [[]];
    for (let i = start; i < end; i++) {
      if (/[0-9]/.test(text[i] as string)) groups.at(-1)?.push(i);
      else groups.push([]);
    }
    const runPositions = groups.flat();
    for (let i = 0; i < groups.length; i++) {
      for (let j = i; j < groups.length; j++) {
        const slice = groups.slice(i, j + 1);
        const positions = slice.flat();
        if (positions.length < MIN_PAN_LENGTH || positions.length > MAX_PAN_LENGTH) continue;
        const sizes = slice.map((g) => g.length);
        const cardLike =
          sizes.length === 1 ||
          (sizes.slice(0, -1).every((s) => s === 4) && (sizes.at(-1) as number) <= 4) ||
          /^4,6,[45]$/.test(sizes.join(","));
        const whole = i === 0 && j === groups.length - 1;
        const digits = positions.map((p) => text[p]).join("");
        if ((cardLike || whole) && isValidPan(digits)) found.push({ positions, runPositions });
      }
    }
  }
  return found;
}

describe("linear time", () => {
  it.each([
    ["all digits", "4111111111111111"],
    ["1 1 1", "1 "],
    ["1-1-1", "1-"],
    ["near misses", "4111 1111 1111 111 "],
    ["Luhn misses", "4111 "],
    ["all valid", "4111 1111 1111 1111 "],
    ["marks", `4111111111111111${"\u0301".repeat(50)}`],
  ])("1 MB of %s in well under a second", (_name, unit) => {
    const text = unit.repeat(Math.ceil(2 ** 20 / unit.length)).slice(0, 2 ** 20);
    const t0 = performance.now();
    maskCardNumbers(text, { strict: true });
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});
