/**
 * `npm run bench:masking`: throughput of maskCardNumbers on realistic chat text (target ≥ 50 MB/s)
 * and its time on 1 MB adversarial inputs of long digit/separator runs (target < 100 ms each), with
 * a trivial pass over the same text as a same-run baseline. MB = 10^6 bytes of UTF-8.
 */
import { cpus, loadavg } from "node:os";
import { maskCardNumbers } from "../src/security/card-masking.ts";

/** Deterministic PRNG (mulberry32), so every run measures the same text. */
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

const random = prng(20260518);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
const digits = (count: number): string =>
  Array.from({ length: count }, () => Math.floor(random() * 10)).join("");

const CARDS = [
  "4111 1111 1111 1111",
  "4111111111111111",
  "5555-5555-5555-4444",
  "3782 822463 10005",
  "6011 0009 9013 9424",
  "3530111333300000",
];
const LINES: readonly (() => string)[] = [
  () => "Hi! I need help with my order, it still hasn't arrived.",
  () => `My order number is ORD-2024-${digits(6)}, placed on ${1 + Math.floor(random() * 28)}/05.`,
  () => `You can call me back on +1 (415) 555-${digits(4)} after 5pm.`,
  () => `Tracking: 1Z999AA1${digits(10)} — it says "in transit" since Monday 🙁`,
  () => "Thanks for waiting. Let me check that for you, one moment please.",
  () => `Could you confirm the email on the account? It's jane.doe${digits(2)}@example.com`,
  () => "Bonjour, je n'arrive pas à me connecter à mon compte depuis hier soir. Merci d'avance !",
  () => "ご注文ありがとうございます。配送状況を確認いたします。少々お待ちください。",
  () => `Invoice #${digits(8)} shows €${digits(3)},${digits(2)} but I was charged twice.`,
  () => "I've refunded the duplicate charge; it will show in 3–5 business days. 👍",
  () => `The serial on the box is SN-${digits(4)}-${digits(4)}, IMEI 35${digits(13)}.`,
  () => `Сейчас проверю ваш заказ ${digits(7)}, одну минуту.`,
  () => `Meeting at 10:30, room 4B, dial-in +44 20 7946 ${digits(4)} pin ${digits(6)}#`,
  () => "Is there anything else I can help you with today?",
  () => `my card is ${pick(CARDS)} exp 12/27, can you retry the payment?`,
];

function chatText(bytes: number): string {
  const lines: string[] = [];
  let size = 0;
  while (size < bytes) {
    // Card numbers are occasional: one line in ~40.
    const line = random() < 0.025 ? (LINES[14] as () => string)() : pick(LINES.slice(0, 14))();
    lines.push(line);
    size += Buffer.byteLength(line) + 1;
  }
  return lines.join("\n");
}

/**
 * A flat string, as a message parsed from a WebSocket frame is (`repeat` and `slice` build rope and
 * sliced strings, which are slower to read and would not measure what production sees).
 */
const flat = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

function repeatTo(unit: string, length: number): string {
  return flat(unit.repeat(Math.ceil(length / unit.length)).slice(0, length));
}

const MB = 1_000_000;
const ADVERSARIAL_LENGTH = 1 << 20; // 1 MiB of ASCII

const ADVERSARIAL: [string, string][] = [
  ["all digits", repeatTo("4111111111111111", ADVERSARIAL_LENGTH)],
  ['"1 1 1 1 …"', repeatTo("1 ", ADVERSARIAL_LENGTH)],
  ['"1-1-1-1…"', repeatTo("1-", ADVERSARIAL_LENGTH)],
  ['"4 4 4 4 …"', repeatTo("4 ", ADVERSARIAL_LENGTH)],
  ['"4111 1111 1111 111 …" near misses', repeatTo("4111 1111 1111 111 ", ADVERSARIAL_LENGTH)],
  ['"4111 4111 4111 4111 …" (Luhn misses)', repeatTo("4111 ", ADVERSARIAL_LENGTH)],
  ['"4111 1111 1111 1111 …" all valid', repeatTo("4111 1111 1111 1111 ", ADVERSARIAL_LENGTH)],
  ["random digits, spaces, dashes", randomRun(ADVERSARIAL_LENGTH)],
  [
    "cards glued by combining marks",
    repeatTo(`4111111111111111${"\u0301".repeat(64)}`, ADVERSARIAL_LENGTH),
  ],
  [
    '"4111111111111111 cvv 123 …" (strict tails)',
    repeatTo("4111111111111111 cvv 123 ", ADVERSARIAL_LENGTH),
  ],
  ["fullwidth digits", repeatTo("４１１１ １１１１ １１１１ １１１", ADVERSARIAL_LENGTH)],
];

function randomRun(length: number): string {
  let s = "";
  while (s.length < length) {
    const r = random();
    s += r < 0.7 ? String(Math.floor(random() * 10)) : r < 0.85 ? " " : r < 0.97 ? "-" : "  ";
  }
  return flat(s.slice(0, length));
}

/** Median of `runs` timings of fn, in milliseconds. */
function time(fn: () => void, runs: number): number {
  const samples: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

let sink = 0; // keeps results alive so nothing is optimised away

const text = flat(chatText(4 * MB));
const bytes = Buffer.byteLength(text);
const lines = text.split("\n");
const expected = maskCardNumbers(text).count;

// Warm-up, then measure.
for (let w = 0; w < 3; w++) sink += maskCardNumbers(text).count;
const wholeMs = time(() => {
  sink += maskCardNumbers(text).count;
}, 15);
const perLineMs = time(() => {
  for (const line of lines) sink += maskCardNumbers(line).count;
}, 15);
const strictMs = time(() => {
  sink += maskCardNumbers(text, { strict: true }).count;
}, 15);
const replaceMs = time(() => {
  sink += text.replace(/\d/g, "x").length;
}, 15);
const loopMs = time(() => {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  sink += n;
}, 15);

const rate = (ms: number): string => `${(bytes / MB / (ms / 1000)).toFixed(0).padStart(5)} MB/s`;
const cpu = cpus()[0]?.model ?? "unknown CPU";
const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
console.log(`Node ${process.version} · ${cpu} · ${cpus().length} logical CPUs · load ${load}`);
console.log(
  `\nRealistic chat text: ${(bytes / MB).toFixed(2)} MB, ${lines.length} lines, ${expected} card numbers (target ≥ 50 MB/s)`,
);
console.log(`  maskCardNumbers, whole text    ${rate(wholeMs)}  (${wholeMs.toFixed(1)} ms)`);
console.log(`  maskCardNumbers, line by line  ${rate(perLineMs)}  (${perLineMs.toFixed(1)} ms)`);
console.log(`  maskCardNumbers, strict        ${rate(strictMs)}  (${strictMs.toFixed(1)} ms)`);
console.log(`  baseline text.replace(/\\d/g)   ${rate(replaceMs)}  (${replaceMs.toFixed(1)} ms)`);
console.log(`  baseline charCodeAt loop       ${rate(loopMs)}  (${loopMs.toFixed(1)} ms)`);
console.log(
  `  masking / replace baseline: ${(wholeMs / replaceMs).toFixed(2)}× the time; / char loop: ${(wholeMs / loopMs).toFixed(2)}×`,
);

console.log(`\nAdversarial inputs, ${ADVERSARIAL_LENGTH} characters each (target < 100 ms)`);
let worst = 0;
for (const [name, input] of ADVERSARIAL) {
  sink += maskCardNumbers(input).count; // warm-up
  const ms = time(() => {
    sink += maskCardNumbers(input).count;
  }, 7);
  const strict = time(() => {
    sink += maskCardNumbers(input, { strict: true }).count;
  }, 7);
  worst = Math.max(worst, ms, strict);
  const masked = maskCardNumbers(input).count;
  console.log(
    `  ${name.padEnd(46)} ${ms.toFixed(1).padStart(6)} ms  strict ${strict.toFixed(1).padStart(6)} ms  (${masked} masked)`,
  );
}
const rateOk = bytes / MB / (wholeMs / 1000) >= 50;
console.log(
  `\n${rateOk ? "PASS" : "FAIL"} throughput ≥ 50 MB/s · ${worst < 100 ? "PASS" : "FAIL"} worst adversarial ${worst.toFixed(1)} ms < 100 ms`,
);
if (sink === -1) console.log(sink);
