/**
 * Payment card numbers (PANs) and how they are written: the issuer table, the Luhn checksum,
 * decimal digits of every script, the characters that delimit a number in text, hiding digits,
 * and the security code / expiry date written after a number. Shared by the chat masking
 * (`card-masking.ts`, which states the rule) and the secure form's validation.
 *
 * Pure and runtime-neutral (workerd, Node, browsers): no I/O, no Node APIs, no mutable state.
 */

/** Card brands known to the masking rule. */
export type CardBrand = "visa" | "mastercard" | "amex" | "discover" | "jcb" | "diners" | "unionpay";

/** Shortest and longest PAN of any brand in the table. */
export const MIN_PAN_LENGTH = 13;
export const MAX_PAN_LENGTH = 19;

/**
 * The issuer table: which brand a number of `length` digits whose first four digits read
 * `prefix` (0–9999) belongs to, or null.
 *
 * | brand      | prefixes                      | lengths       |
 * | ---------- | ----------------------------- | ------------- |
 * | Visa       | 4                             | 13, 16, 19    |
 * | Mastercard | 51–55, 2221–2720              | 16            |
 * | Amex       | 34, 37                        | 15            |
 * | Discover   | 6011, 644–649, 65             | 16–19         |
 * | JCB        | 3528–3589                     | 16–19         |
 * | Diners     | 300–305, 36, 38–39            | 14–19         |
 * | UnionPay   | 62                            | 16–19         |
 */
export function brandOfPrefix(prefix: number, length: number): CardBrand | null {
  if (length < MIN_PAN_LENGTH || length > MAX_PAN_LENGTH) return null;
  const p3 = Math.floor(prefix / 10);
  const p2 = Math.floor(prefix / 100);
  const long = length >= 16; // 16–19
  switch (Math.floor(prefix / 1000)) {
    case 4:
      return length === 13 || length === 16 || length === 19 ? "visa" : null;
    case 5:
      return p2 >= 51 && p2 <= 55 && length === 16 ? "mastercard" : null;
    case 2:
      return prefix >= 2221 && prefix <= 2720 && length === 16 ? "mastercard" : null;
    case 3:
      if (p2 === 34 || p2 === 37) return length === 15 ? "amex" : null;
      if (prefix >= 3528 && prefix <= 3589) return long ? "jcb" : null;
      if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) {
        return length >= 14 ? "diners" : null;
      }
      return null;
    case 6:
      if (prefix === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65) return long ? "discover" : null;
      if (p2 === 62) return long ? "unionpay" : null;
      return null;
    default:
      return null;
  }
}

/**
 * The table flattened for the scanner: bit (length - 13) of PAN_LENGTHS[prefix] is set when a
 * number of that length starting with `prefix` (its first four digits) is in the table.
 * Computed once from brandOfPrefix and never written again.
 */
export const PAN_LENGTHS: Readonly<Uint8Array> = (() => {
  const table = new Uint8Array(10000);
  for (let prefix = 0; prefix < 10000; prefix++) {
    for (let length = MIN_PAN_LENGTH; length <= MAX_PAN_LENGTH; length++) {
      if (brandOfPrefix(prefix, length) !== null) {
        table[prefix] = (table[prefix] as number) | (1 << (length - MIN_PAN_LENGTH));
      }
    }
  }
  return table;
})();

/** True when `digits` (ASCII digits only) passes the Luhn (mod 10) checksum. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const v = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += i % 2 === 1 ? (LUHN_DOUBLE[v] as number) : v;
  }
  return sum % 10 === 0;
}

/**
 * The brand of a card number given as ASCII digits only (no separators), when its prefix and
 * length are in the issuer table; null otherwise. Does not check Luhn: see `isValidPan`.
 */
export function cardBrand(digits: string): CardBrand | null {
  if (!/^[0-9]+$/.test(digits)) return null;
  return brandOfPrefix(Number(digits.slice(0, 4)), digits.length);
}

/** A known brand with a matching length and a valid Luhn checksum. */
export function isValidPan(digits: string): boolean {
  return cardBrand(digits) !== null && luhnValid(digits);
}

/** Luhn digit after doubling: 2d, minus 9 when that has two digits. */
export const LUHN_DOUBLE: readonly number[] = [0, 2, 4, 6, 8, 1, 3, 5, 7, 9];

/**
 * Unicode decimal digits (general category Nd, Unicode 17): the zero of each block of ten, so a
 * digit's value is `codePoint - zero`. Embedded rather than computed so that every runtime agrees.
 */
const ND_ZEROS: readonly number[] = [
  0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
  0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
  0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0,
  0x10d30, 0x10d40, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0,
  0x116d0, 0x116da, 0x11730, 0x118e0, 0x11950, 0x11bf0, 0x11c50, 0x11d50, 0x11da0, 0x11de0, 0x11f50,
  0x16130, 0x16a60, 0x16ac0, 0x16b50, 0x16d70, 0x1ccf0, 0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6,
  0x1e140, 0x1e2f0, 0x1e4f0, 0x1e5f1, 0x1e950, 0x1fbf0,
];

/** The value (0–9) of a decimal digit of any script, or -1 for anything else. */
export function digitValue(codePoint: number): number {
  if (codePoint <= 0x39) return codePoint >= 0x30 ? codePoint - 0x30 : -1;
  if (codePoint < 0x660 || codePoint > 0x1fbf9) return -1;
  if (codePoint >= 0xff10 && codePoint <= 0xff19) return codePoint - 0xff10; // fullwidth
  // Fast rejects for the large ranges without digits: CJK, Hangul, surrogates, emoji.
  if ((codePoint > 0x1c59 && codePoint < 0xa620) || (codePoint > 0xabf9 && codePoint < 0xff10)) {
    return -1;
  }
  if (codePoint > 0x1e959 && codePoint < 0x1fbf0) return -1;
  let lo = 0;
  let hi = ND_ZEROS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((ND_ZEROS[mid] as number) <= codePoint) lo = mid;
    else hi = mid - 1;
  }
  const offset = codePoint - (ND_ZEROS[lo] as number);
  return offset < 10 ? offset : -1;
}

// Reading card numbers in text.

/** One separator between digit groups: a space (U+0020, U+00A0, U+2007, U+2009, U+202F,
 * U+3000) or a dash (U+002D, U+2010–U+2013, U+FF0D). */
export function isCardSeparator(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x2d ||
    c === 0xa0 ||
    c === 0x2007 ||
    c === 0x2009 ||
    c === 0x202f ||
    c === 0x3000 ||
    (c >= 0x2010 && c <= 0x2013) ||
    c === 0xff0d
  );
}

/** Width (1 or 2 UTF-16 units) of the decimal digit at `i`, or 0 when there is none. */
export function digitWidthAt(text: string, i: number): number {
  if (i >= text.length) return 0;
  const c = text.charCodeAt(i);
  if (c < 0x660) return c >= 48 && c <= 57 ? 1 : 0;
  const cp = text.codePointAt(i) as number;
  return digitValue(cp) < 0 ? 0 : cp > 0xffff ? 2 : 1;
}

/** Value of the digit at text index i (which must hold one). */
export function digitValueAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57 ? c - 48 : digitValue(text.codePointAt(i) as number);
}

const ALNUM = /^[\p{L}\p{N}]$/u;
const MARK = /^\p{M}$/u;
/**
 * Letters of scripts written without spaces between words (Chinese, Japanese, Thai, …):
 * a number typed into such text touches letters on both sides, yet stands alone, so these
 * letters do not glue to it (otherwise "番号は4111111111111111です" would leak).
 */
const UNSPACED =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]$/u;

function isAlnum(cp: number): boolean {
  if (cp < 0x80) {
    return (cp >= 48 && cp <= 57) || (cp >= 65 && cp <= 90) || (cp >= 97 && cp <= 122);
  }
  const char = String.fromCodePoint(cp);
  return ALNUM.test(char) && !UNSPACED.test(char);
}

function isMark(cp: number): boolean {
  if (cp < 0x300) return false;
  return cp <= 0x36f || MARK.test(String.fromCodePoint(cp)); // U+0300–036F: combining diacritics
}

/** The code point that ends just before `i` (i > 0). */
function codePointBefore(text: string, i: number): number {
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return (hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
  }
  return lo;
}

/** No letter or number (\p{L}, \p{N}) ends at `i`; combining marks belong to what they follow. */
export function cleanBefore(text: string, i: number): boolean {
  let k = i;
  while (k > 0) {
    const cp = codePointBefore(text, k);
    if (!isMark(cp)) return !isAlnum(cp);
    k -= cp > 0xffff ? 2 : 1;
  }
  return true;
}

/** No letter or number (\p{L}, \p{N}) starts at `i`; combining marks are looked through. */
export function cleanAfter(text: string, i: number): boolean {
  let k = i;
  while (k < text.length) {
    const cp = text.codePointAt(k) as number;
    if (!isMark(cp)) return !isAlnum(cp);
    k += cp > 0xffff ? 2 : 1;
  }
  return true;
}

/**
 * Replaces every decimal digit inside the [from, to) text ranges (a flat list, sorted by `from`;
 * ranges may overlap) by `mask`, a single BMP character. Everything else is kept.
 */
export function hideDigitsIn(text: string, ranges: readonly number[], mask: string): string {
  const dense = ranges.length > 64 && ranges.length * 128 > text.length;
  return dense ? applyMany(text, ranges, mask) : applyFew(text, ranges, mask);
}

/** Hides the digits of the [from, to) ranges: a few slices for a few numbers. */
function applyFew(text: string, ranges: readonly number[], mask: string): string {
  const parts: string[] = [];
  let copied = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const from = Math.max(ranges[r] as number, copied); // ranges from strict mode may overlap
    const to = ranges[r + 1] as number;
    if (from >= to) continue;
    parts.push(text.slice(copied, from), hideDigits(text.slice(from, to), mask));
    copied = to;
  }
  parts.push(text.slice(copied));
  return parts.join("");
}

/** Hides the digits of the [from, to) ranges: one pass through a buffer for many numbers. */
function applyMany(text: string, ranges: readonly number[], mask: string): string {
  const code = mask.charCodeAt(0);
  const out = new Uint16Array(text.length);
  let o = 0;
  let k = 0;
  for (let r = 0; r < ranges.length; r += 2) {
    const to = ranges[r + 1] as number;
    for (const from = ranges[r] as number; k < from; k++) out[o++] = text.charCodeAt(k);
    while (k < to) {
      const w = digitWidthAt(text, k);
      out[o++] = w === 0 ? text.charCodeAt(k) : code;
      k += w || 1;
    }
  }
  for (; k < text.length; k++) out[o++] = text.charCodeAt(k);
  const chunks: string[] = [];
  for (let c = 0; c < o; c += 8192) {
    const chunk = out.subarray(c, Math.min(c + 8192, o));
    chunks.push(String.fromCharCode.apply(null, chunk as unknown as number[]));
  }
  return chunks.join("");
}

/** Replaces every digit of `part` by `mask`, keeping everything else. */
function hideDigits(part: string, mask: string): string {
  let out = "";
  for (let k = 0; k < part.length; ) {
    const w = digitWidthAt(part, k);
    out += w === 0 ? part[k] : mask;
    k += w || 1;
  }
  return out;
}

// Card data written after a number (strict masking).

/**
 * Short words that may stand between a card number and its code or expiry date. Built in a
 * call marked pure, so that a bundle without strict masking (the widget) drops it.
 */
const TAIL_WORDS = /* @__PURE__ */ (() =>
  new Set([
    ..."cvv cvv2 cvc cvc2 cid csc cvn code security sec".split(" "),
    ..."exp expiry expires expiration date valid thru through until and is the my".split(" "),
  ]))();
/** Most characters of filler looked at before each code or date. */
const TAIL_REACH = 40;

/** Whitespace and punctuation that may stand there too (besides the run separators). */
const TAIL_PUNCT = "\t\n\r,;:./()#=|[]";

function isTailPunct(c: number): boolean {
  return isCardSeparator(c) || (c < 0x80 && TAIL_PUNCT.includes(String.fromCharCode(c)));
}

function isAsciiLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Reads up to `max` + 1 digits at `i`: their count, end index and value. */
function readDigits(text: string, i: number, max: number): [number, number, number] {
  let count = 0;
  let value = 0;
  let k = i;
  while (count <= max) {
    const w = digitWidthAt(text, k);
    if (w === 0) break;
    value = value * 10 + digitValueAt(text, k);
    count++;
    k += w;
  }
  return [count, k, value];
}

/** How many digits (up to MIN_PAN_LENGTH) the run that goes on after text index i still has. */
function digitsAfter(text: string, i: number): number {
  let count = 0;
  let k = i;
  while (count < MIN_PAN_LENGTH && isCardSeparator(text.charCodeAt(k))) {
    let w = digitWidthAt(text, k + 1);
    if (w === 0) break;
    k++;
    while (w > 0 && count < MIN_PAN_LENGTH) {
      count++;
      k += w;
      w = digitWidthAt(text, k);
    }
  }
  return count;
}

/**
 * The security code and expiry date written right after a card number that ends at `from`: their
 * [from, to) text ranges (flat), for strict masking. Up to one code (3–4 digits) and one date
 * (M/YY, MM/YY, MM/YYYY with `/`, `-` or `.`), each reached over at most TAIL_REACH characters of
 * whitespace, punctuation and TAIL_WORDS, and followed by fewer than 13 digits of the same run.
 */
export function cardTailAfter(text: string, from: number): number[] {
  const ranges: number[] = [];
  let i = from;
  let code = false;
  let date = false;
  while (!code || !date) {
    // Filler: punctuation, whitespace and the short words above, within reach.
    const limit = i + TAIL_REACH;
    while (i < text.length && i < limit) {
      const c = text.charCodeAt(i);
      if (isTailPunct(c)) {
        i++;
      } else if (isAsciiLetter(c)) {
        let k = i;
        while (k < text.length && k - i < 12) {
          const ck = text.charCodeAt(k);
          if (!isAsciiLetter(ck) && !(k > i && ck === 50)) break; // letters, or the 2 of "cvv2"
          k++;
        }
        if (!TAIL_WORDS.has(text.slice(i, k).toLowerCase())) return ranges;
        if (digitWidthAt(text, k) === 0 && !cleanAfter(text, k)) return ranges; // "cvv123" is fine
        i = k;
      } else {
        break;
      }
    }
    const [n1, e1, month] = readDigits(text, i, 4);
    if (n1 === 0) return ranges;
    const sep = text.charCodeAt(e1);
    const [n2, e2] =
      sep === 0x2f || sep === 0x2d || sep === 0x2e ? readDigits(text, e1 + 1, 4) : [0, e1];
    let end: number;
    if (!date && n1 <= 2 && month >= 1 && month <= 12 && (n2 === 2 || n2 === 4)) {
      date = true;
      end = e2;
    } else if (!code && (n1 === 3 || n1 === 4) && n2 === 0) {
      code = true;
      end = e1;
    } else {
      return ranges;
    }
    // Hiding the token must not leave a new run long enough to be a card number behind it.
    if (!cleanAfter(text, end) || digitsAfter(text, end) >= MIN_PAN_LENGTH) return ranges;
    ranges.push(i, end);
    i = end;
  }
  return ranges;
}
