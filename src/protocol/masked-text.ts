/**
 * Free text that visitors and agents type, validated AND card-masked at the boundary
 * (DESIGN invariant 1): whatever parses with these schemas carries no clear card number,
 * so no later code path (broadcast, storage, D1, logs, audit) can leak one.
 */
import type { z } from "zod";
import { maskCardNumbers } from "../security/card-masking.ts";

/**
 * `standard` masks card numbers; `strict` (CARD_MASKING=strict) also masks a security code
 * or expiry date right after one. Strict needs the raw text, so schemas that carry free text
 * come in one variant per mode (see `perMode`).
 */
export type MaskingMode = "standard" | "strict";

/** A string schema whose parsed value has every card number masked. */
export function maskedText(schema: z.ZodString, mode: MaskingMode = "standard") {
  const strict = mode === "strict";
  return schema.transform((value) => maskCardNumbers(value, { strict }).text);
}

/** Builds a schema once per masking mode (schemas are immutable, so the two are shared). */
export function perMode<T>(build: (mode: MaskingMode) => T): (mode: MaskingMode) => T {
  const built = { standard: build("standard"), strict: build("strict") };
  return (mode) => built[mode];
}
