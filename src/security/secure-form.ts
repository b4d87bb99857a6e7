/**
 * The PCI secure form's values: validation and the masked summary the transcript keeps.
 * Pure and free of zod, so the widget validates with the same rules before it submits (the
 * ChatSession validates again: the server stays authoritative). Values are never logged,
 * stored or echoed in an error — problems name fields, not what was typed.
 */
import { type CardBrand, cardBrand, isValidPan } from "./card-brands.ts";

/** What a field asks for. `text` is a custom sensitive field. */
export type SecureFieldKind =
  | "card_number"
  | "expiry"
  | "security_code"
  | "cardholder_name"
  | "text";

/** One field of a secure-form request. */
export interface SecureFormField {
  /** Key of the value, unique in the form (a lowercase slug). */
  name: string;
  kind: SecureFieldKind;
  /** What the visitor sees. */
  label: string;
}

/** Why a value was refused. */
export type SecureFieldProblem =
  | "required"
  | "invalid_card_number"
  | "invalid_expiry"
  | "expired"
  | "invalid_security_code"
  | "invalid_text";

/** Digits of a card number typed with spaces or dashes. */
export function panDigits(value: string): string {
  return value.replace(/[\s-]/g, "");
}

/** `MM/YY` or `MM/YYYY` → [month, four-digit year], or null. */
function parseExpiry(value: string): [number, number] | null {
  const match = /^\s*(\d{1,2})\s*[/-]\s*(\d{2}|\d{4})\s*$/.exec(value);
  if (!match) return null;
  const month = Number(match[1]);
  const year = Number(match[2]) + ((match[2] as string).length === 2 ? 2000 : 0);
  return month >= 1 && month <= 12 ? [month, year] : null;
}

/**
 * Checks every field's value: a card number of a known brand and length with a valid Luhn
 * checksum, an expiry not before the current month (UTC), a security code of the brand's
 * length (4 for American Express, else 3), and short text without control characters.
 * Answers the problems by field name (empty: all good).
 */
export function checkSecureValues(
  fields: readonly SecureFormField[],
  values: Readonly<Record<string, string>>,
  now: number,
): Record<string, SecureFieldProblem> {
  const problems: Record<string, SecureFieldProblem> = {};
  const card = fields.find((f) => f.kind === "card_number");
  const brand: CardBrand | null = card ? cardBrand(panDigits(values[card.name] ?? "")) : null;
  for (const field of fields) {
    const value = values[field.name] ?? "";
    const problem = value.trim() === "" ? "required" : checkOne(field.kind, value, brand, now);
    if (problem) problems[field.name] = problem;
  }
  return problems;
}

function checkOne(
  kind: SecureFieldKind,
  value: string,
  brand: CardBrand | null,
  now: number,
): SecureFieldProblem | null {
  switch (kind) {
    case "card_number":
      return /^[\d\s-]{13,23}$/.test(value) && isValidPan(panDigits(value))
        ? null
        : "invalid_card_number";
    case "expiry": {
      const parsed = parseExpiry(value);
      if (!parsed) return "invalid_expiry";
      const today = new Date(now);
      const current = today.getUTCFullYear() * 12 + today.getUTCMonth();
      return parsed[1] * 12 + (parsed[0] - 1) < current ? "expired" : null;
    }
    case "security_code": {
      const length = brand === "amex" ? 4 : brand === null ? 0 : 3;
      const ok = /^\d{3,4}$/.test(value) && (length === 0 || value.length === length);
      return ok ? null : "invalid_security_code";
    }
    case "cardholder_name":
    case "text":
      return value.length <= 200 && !/\p{Cc}/u.test(value) ? null : "invalid_text";
  }
}

/**
 * The transcript's record of a submission: only what PCI DSS 3.4.1 allows to display —
 * the card's last four digits and the expiry; other fields are noted as provided.
 */
export function secureFormSummary(
  fields: readonly SecureFormField[],
  values: Readonly<Record<string, string>>,
): string {
  const parts = fields.map((field) => {
    const value = values[field.name] ?? "";
    switch (field.kind) {
      case "card_number":
        return `card •••• ${panDigits(value).slice(-4)}`;
      case "expiry": {
        const parsed = parseExpiry(value);
        return parsed
          ? `exp ${String(parsed[0]).padStart(2, "0")}/${String(parsed[1]).slice(-2)}`
          : "exp ••/••";
      }
      case "security_code":
        return "security code provided";
      default:
        return `${field.label} provided`;
    }
  });
  return parts.join(", ");
}
