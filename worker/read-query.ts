/** Reads and validates a query string against a zod schema (DESIGN invariant 7). */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./api-error.ts";
import { validateRequest } from "./read-json.ts";

/**
 * Validates the query string against a zod object schema: bad input is a 400
 * `invalid_request` with the failing fields, never a 500. A parameter given twice is refused
 * too, rather than silently using one of the values.
 */
export function readQuery<Schema extends z.ZodType>(c: Context, schema: Schema): z.infer<Schema> {
  const query: Record<string, string> = {};
  for (const [key, value] of new URL(c.req.url).searchParams) {
    if (Object.hasOwn(query, key)) {
      throw new ApiError(400, "invalid_request", `${key}: give it once`, [
        { path: key, message: "give it once" },
      ]);
    }
    query[key] = value;
  }
  return validateRequest(schema, query);
}
