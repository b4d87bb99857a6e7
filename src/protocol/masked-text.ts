/**
 * Free text that visitors and agents type, validated AND card-masked at the boundary
 * (DESIGN invariant 1): whatever parses with these schemas carries no clear card number,
 * so no later code path (broadcast, storage, D1, logs, audit) can leak one.
 */
import type { z } from "zod";
import { maskCardNumbers } from "../security/card-masking.ts";

/** A string schema whose parsed value has every card number masked. */
export function maskedText(schema: z.ZodString) {
  return schema.transform((value) => maskCardNumbers(value).text);
}
