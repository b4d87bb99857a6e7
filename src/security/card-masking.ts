/**
 * Card-number masking (DESIGN invariant 1; PCI DSS 4.0.1 req. 3.4.1): every payment card number
 * in a chat text is replaced by a mask that keeps only its last four digits.
 *
 * The rule, exactly (docs/security.md should quote it verbatim):
 *
 * 1. Digits are decimal digits of any script (Unicode Nd: ASCII, fullwidth, Arabic-Indic, …),
 *    valued 0–9. Separators are ONE space (U+0020, no-break U+00A0, figure U+2007, thin U+2009,
 *    narrow no-break U+202F, ideographic U+3000) or ONE dash (U+002D, U+2010–U+2013, U+FF0D).
 * 2. A run is a maximal sequence `digit (separator? digit)*`; a group is a maximal separator-free
 *    part of it. Two separators in a row end the run.
 * 3. A run counts only if no letter or number (\p{L}, \p{N}, looking through combining marks;
 *    letters of scripts written without word spaces — Han, kana, Thai, Lao, Khmer, Myanmar —
 *    do not count, since a number in such text touches them yet stands alone)
 *    touches it on either side. A run glued to a word (an IBAN, a tracking code, `a4111…`) is left
 *    whole: no part of it is masked.
 * 4. A candidate is a digit range of a run that ends at a group end and starts at a group start.
 *    It is a card number when it has 13–19 digits, its prefix and length are in the issuer table
 *    (card-brands.ts) and its Luhn checksum is valid.
 * 5. The whole run is a candidate whatever its grouping. Shorter candidates (a card number with a
 *    security code, a date, an order number or another card glued on by one separator) must look
 *    like a written card number: one group, groups of 4 with a last group of 1–4 (4-4-4-4,
 *    4-4-4-4-3, 4-4-4-1), or 4-6-5 / 4-6-4 (Amex, Diners). So a list of small numbers or two phone
 *    numbers in a row are never cut into a "card number".
 * 6. Selection, left to right: the leftmost start that has a card number wins, with its SHORTEST
 *    card number (a 16-digit number followed by a 3-digit code is the number, not a 19-digit one).
 *    Then the search goes on from the masked number's last four digits (a group start from then
 *    on, as in the masked output), so two numbers in a row, or numbers sharing digits, are all
 *    masked; the digits left of a masked number are checked once more as a whole. Result: masking
 *    is idempotent, and every candidate that is a card number loses at least its first digit.
 * 7. A masked number keeps its separators and its last four digits; every other digit becomes
 *    `•` (U+2022): `4111 1111 1111 1111` → `•••• •••• •••• 1111`. `count` is the number of card
 *    numbers masked; everything else is left byte-identical.
 * 8. Strict mode (`{ strict: true }`): after each masked number, up to one security code (3–4
 *    digits) and one expiry date (M/YY, MM/YY, MM/YYYY, with `/`, `-` or `.`) are masked too when
 *    only spaces, punctuation and a few short words (`cvv`, `exp`, `code`, …) stand between them,
 *    and fewer than 13 digits of the same run follow them (so hiding them never uncovers a new
 *    number: strict masking is idempotent too). They do not add to `count`.
 *
 * Linear time: one pass over the text, then, for each run of 13+ digits, a bounded amount of work
 * per group (a start is only tried when it can begin a card-like number; it looks at most 19
 * digits ahead; Luhn runs only when prefix and length match). No backtracking regular expression.
 * Pure and runtime-neutral (workerd, Node, browsers): no Node APIs, no state between calls.
 */
import {
  cardTailAfter,
  cleanAfter,
  cleanBefore,
  digitValueAt,
  digitWidthAt,
  hideDigitsIn,
  isCardSeparator,
  LUHN_DOUBLE,
  MAX_PAN_LENGTH,
  MIN_PAN_LENGTH,
  PAN_LENGTHS,
} from "./card-brands.ts";

/** Options of maskCardNumbers. */
export interface MaskOptions {
  /** Also mask a security code and an expiry date right after a masked number. */
  strict?: boolean;
}

/** The masked text and how many card numbers were masked in it. */
export interface MaskResult {
  text: string;
  count: number;
}

/** What replaces each hidden digit. */
export const MASK_CHAR = "•";

/**
 * Masks the card numbers of text. `count` is how many were masked; without any, the very same
 * string comes back.
 */
export function maskCardNumbers(text: string, options?: MaskOptions): MaskResult {
  return maskWith(text, options?.strict === true ? cardTailAfter : null);
}

/**
 * maskCardNumbers in standard mode, for browsers (which mask what is typed before it is sent;
 * the server masks again in its configured mode). It never reaches strict mode's tail code, so
 * a bundle that calls only this leaves that code out (about 0.5 KB of the widget's budget).
 */
export function maskCardNumbersStandard(text: string): MaskResult {
  return maskWith(text, null);
}

/** Strict mode's finder of a security code and expiry date after a number (rule point 8). */
type TailFinder = (text: string, from: number) => number[];

/** The masking pass; `tail` is null in standard mode. */
function maskWith(text: string, tail: TailFinder | null): MaskResult {
  const n = text.length;
  /** [from, to) text ranges whose digits are hidden, flat (ascending unless strict added some). */
  const hidden: number[] = [];
  let count = 0;
  let run: Run | null = null;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    let w: number;
    if (c < 0x660) {
      if (c < 48 || c > 57) {
        i++;
        continue;
      }
      w = 1;
    } else {
      w = digitWidthAt(text, i);
      if (w === 0) {
        i++;
        continue;
      }
    }
    // A run starts at i: measure it first, so that short runs cost nothing more.
    const start = i;
    let digits = 0;
    let groups = 1;
    for (;;) {
      digits++;
      i += w;
      w = digitWidthAt(text, i);
      if (w > 0) continue;
      if (i + 1 < n && isCardSeparator(text.charCodeAt(i))) {
        w = digitWidthAt(text, i + 1);
        if (w > 0) {
          i++;
          groups++;
          continue;
        }
      }
      break;
    }
    if (digits < MIN_PAN_LENGTH || (groups === 1 && digits > MAX_PAN_LENGTH)) continue;
    if (!cleanBefore(text, start) || !cleanAfter(text, i)) continue;
    run = recordGroups(text, start, digits, groups, run);
    count += maskRun(text, run, hidden, tail);
  }
  if (hidden.length === 0) return { text, count };
  let ranges = hidden;
  let sorted = true; // always, unless strict mode added a tail beyond the next number
  for (let r = 2; r < hidden.length && sorted; r += 2)
    sorted = (hidden[r - 2] as number) <= (hidden[r] as number);
  if (!sorted) {
    const pairs: [number, number][] = [];
    for (let r = 0; r < hidden.length; r += 2)
      pairs.push([hidden[r] as number, hidden[r + 1] as number]);
    pairs.sort((p, q) => p[0] - q[0]);
    ranges = pairs.flat();
  }
  return { text: hideDigitsIn(text, ranges, MASK_CHAR), count };
}

/** The groups of one run. Working memory of one call, grown as needed, reused from run to run. */
interface Run {
  digits: number;
  groups: number;
  /** No digit is two UTF-16 units wide: digit j of group g is at text index `text[g] + j`. */
  simple: boolean;
  /** Text index of each group's first digit. */
  text: Int32Array;
  /** Digit index (within the run) of each group's first digit; then the run's digit count. */
  first: Int32Array;
  /** Luhn sum of each group's digits when its last digit is not doubled (then: doubled). */
  luhn0: Int32Array;
  luhn1: Int32Array;
}

function recordGroups(
  text: string,
  start: number,
  digits: number,
  groups: number,
  run: Run | null,
): Run {
  let r = run;
  if (r === null || r.first.length <= groups) {
    const size = Math.max(groups + 1, 2 * (r?.first.length ?? 0), 16);
    const [text, first, luhn0, luhn1] = [0, 0, 0, 0].map(() => new Int32Array(size));
    r = { digits, groups, simple: true, text, first, luhn0, luhn1 } as Run;
  }
  let i = start;
  let d = 0;
  let simple = true;
  for (let g = 0; g < groups; g++) {
    if (g > 0) i++; // the separator
    r.text[g] = i;
    r.first[g] = d;
    // Plain and doubled sums of the digits at even and odd offsets in the group.
    let plain0 = 0;
    let plain1 = 0;
    let double0 = 0;
    let double1 = 0;
    let odd = false;
    let w = digitWidthAt(text, i);
    do {
      if (w === 2) simple = false;
      const v = digitValueAt(text, i);
      if (odd) {
        plain1 += v;
        double1 += LUHN_DOUBLE[v] as number;
      } else {
        plain0 += v;
        double0 += LUHN_DOUBLE[v] as number;
      }
      odd = !odd;
      d++;
      i += w;
      w = digitWidthAt(text, i);
    } while (w > 0);
    // `odd` now says whether the group's size is odd, i.e. its last digit is at an even offset.
    r.luhn0[g] = odd ? plain0 + double1 : plain1 + double0;
    r.luhn1[g] = odd ? double0 + plain1 : double1 + plain0;
  }
  r.first[groups] = digits;
  r.digits = digits;
  r.groups = groups;
  r.simple = simple;
  return r;
}

/**
 * Finds the card numbers of one clean run (rule points 4–6), appends the [from, to) text ranges
 * of the digits to hide to `hidden`, and returns how many numbers it found.
 */
function maskRun(text: string, run: Run, hidden: number[], tail: TailFinder | null): number {
  const { digits, groups, simple, first, luhn0, luhn1 } = run;
  const starts = run.text;
  /** Text index of digit `off` of group g. */
  const locate = (g: number, off: number): number => {
    let t = starts[g] as number;
    if (simple) return t + off;
    for (let j = 0; j < off; j++) t += digitWidthAt(text, t);
    return t;
  };
  /** Text index of digit d, searching back from group g. */
  const indexOf = (d: number, g: number): number => {
    let k = g;
    while ((first[k] as number) > d) k--;
    return locate(k, d - (first[k] as number));
  };
  /** The first four digits from digit s (in group g) as a number; missing digits read 0. */
  const prefixAt = (s: number, g: number): number => {
    let p = 0;
    let k = g;
    for (let d = s; d < s + 4; d++) {
      p *= 10;
      if (d >= digits) continue;
      while ((first[k + 1] as number) <= d) k++;
      p += digitValueAt(text, locate(k, d - (first[k] as number)));
    }
    return p;
  };
  /** Whether the digits from s (in group g) to the end of group k pass Luhn. */
  const luhn = (s: number, g: number, k: number): boolean => {
    let sum = 0;
    let doubled = false; // for the last digit of the group being added
    for (let j = k; j > g || (j === g && s === first[g]); j--) {
      sum += doubled ? (luhn1[j] as number) : (luhn0[j] as number);
      if ((((first[j + 1] as number) - (first[j] as number)) & 1) === 1) doubled = !doubled;
    }
    if (s !== first[g]) {
      // s starts inside group g: add digits s .. end of that group one by one.
      let t = locate(g, s - (first[g] as number));
      for (let d = s, end = first[g + 1] as number; d < end; d++) {
        const v = digitValueAt(text, t);
        sum += (((end - 1 - d) & 1) === 1) !== doubled ? (LUHN_DOUBLE[v] as number) : v;
        t += simple ? 1 : digitWidthAt(text, t);
      }
    }
    return sum % 10 === 0;
  };
  /** Whether the table has numbers of `length` digits starting with `prefix`. */
  const inTable = (prefix: number, length: number): boolean =>
    length >= MIN_PAN_LENGTH &&
    length <= MAX_PAN_LENGTH &&
    (((PAN_LENGTHS[prefix] as number) >> (length - MIN_PAN_LENGTH)) & 1) === 1;
  let found = 0;
  /** Hides digits [s, e) but the last four; `last` is the group of digit e - 1. */
  const take = (s: number, gs: number, e: number, last: number): void => {
    found++;
    const lastHidden = indexOf(e - 5, last);
    hidden.push(locate(gs, s - (first[gs] as number)), lastHidden + digitWidthAt(text, lastHidden));
    if (tail) {
      const t = indexOf(e - 1, last);
      for (const r of tail(text, t + digitWidthAt(text, t))) hidden.push(r);
    }
  };

  // Segments [a, digits): the first is the whole run; each later one starts at the last four
  // digits of the number just masked (in the output those digits start a run of their own).
  let a = 0;
  let ga = 0; // the group that holds digit a
  for (;;) {
    let s = a;
    let gi = ga;
    let hitEnd = -1;
    let hitGroup = -1;
    while (digits - s >= MIN_PAN_LENGTH) {
      // A card-like candidate starts with a group of 4 or is one group of 13–19 digits.
      const wholeReach = s === a && digits - s <= MAX_PAN_LENGTH;
      const head = (first[gi + 1] as number) - s;
      const prefix = wholeReach || head === 4 || head >= MIN_PAN_LENGTH ? prefixAt(s, gi) : 0;
      if (PAN_LENGTHS[prefix] !== 0) {
        // Candidates [s, e) over groups gi..k; card-like: one group, 4…4 then 1–4, 4-6-5, 4-6-4.
        let allFour = true;
        let firstSize = 0;
        let secondSize = 0;
        for (let k = gi; k < groups; k++) {
          const e = first[k + 1] as number;
          const size = e - (k === gi ? s : (first[k] as number));
          const length = e - s;
          if (length > MAX_PAN_LENGTH) break;
          if (inTable(prefix, length)) {
            const cardLike =
              k === gi ||
              (allFour && size <= 4) ||
              (k === gi + 2 && firstSize === 4 && secondSize === 6 && (size === 4 || size === 5));
            if ((cardLike || (s === a && e === digits)) && luhn(s, gi, k)) {
              hitEnd = e;
              hitGroup = k;
              break;
            }
          }
          if (k === gi) firstSize = size;
          else if (k === gi + 1) secondSize = size;
          allFour = allFour && size === 4;
          if (!allFour && !wholeReach && !(k === gi + 1 && firstSize === 4 && secondSize === 6)) {
            break; // no longer card-like, and not the whole segment
          }
        }
      }
      if (hitEnd >= 0 || ++gi >= groups) break;
      s = first[gi] as number;
    }
    if (hitEnd < 0) return found;
    // Left of the number, [a, s) becomes a run of its own in the output: check it whole.
    const left = s - a;
    if (left >= MIN_PAN_LENGTH && left <= MAX_PAN_LENGTH) {
      if (inTable(prefixAt(a, ga), left) && luhn(a, ga, gi - 1)) take(a, ga, s, gi - 1);
    }
    take(s, gi, hitEnd, hitGroup);
    a = hitEnd - 4;
    ga = hitGroup;
    while ((first[ga] as number) > a) ga--;
  }
}
