/** Reads and validates a JSON request body against a zod schema (DESIGN invariant 7). */
import type { Context } from "hono";
import type { z } from "zod";
import { ApiError } from "./api-error.ts";

/**
 * Parses the body as JSON and validates it. Wrong content type → 415, unparsable → 400
 * `invalid_json`, schema mismatch → 400 `invalid_request` with the failing fields.
 */
export async function readJson<Schema extends z.ZodType>(
  c: Context,
  schema: Schema,
): Promise<z.infer<Schema>> {
  const type = c.req.header("content-type") ?? "";
  // Requiring JSON also blocks cross-site HTML form posts (they cannot send this type).
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ApiError(415, "unsupported_media_type", "Send the body as application/json.");
  }
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new ApiError(400, "invalid_json", "The body is not valid JSON.");
  }
  return validateRequest(schema, body);
}

/**
 * Validates parsed request input (a body, a query string): a mismatch is a 400
 * `invalid_request` naming the first failing field, with every failing field in `details`.
 */
export function validateRequest<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
): z.infer<Schema> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const fields = result.error.issues.map((issue) => ({
    path: issue.path.join("."),
    message: issue.message,
  }));
  assertNoFieldProblems(fields);
  throw new ApiError(400, "invalid_request", "invalid", fields);
}

/** A field that failed a check: where (`rules.conditions.0.name`) and why. */
export interface FieldProblem {
  path: string;
  message: string;
}

/**
 * Throws 400 `invalid_request` naming the first problem, with every problem in `details`:
 * the shape of a schema error, for checks a schema cannot make (a name that must be declared).
 * Returns when there is none.
 */
export function assertNoFieldProblems(fields: FieldProblem[]): void {
  const first = fields[0];
  if (!first) return;
  const where = first.path ? `${first.path}: ` : "";
  throw new ApiError(400, "invalid_request", `${where}${first.message}`, fields);
}
