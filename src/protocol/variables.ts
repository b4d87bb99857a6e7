/**
 * Custom variables (`/api/variables`, `variables.manage`): what an administrator declares, so
 * that the embedding site may set it in `POST /api/visitor/chats`. Shared by the Worker and
 * the console. Labels are card-masked at the boundary, in the deployment's CARD_MASKING mode.
 */
import { z } from "zod";
import { maskedText, perMode } from "./masked-text.ts";

/** What a variable holds; `email` and `url` are strings with a checked format. */
export const VARIABLE_TYPES = ["string", "number", "boolean", "email", "url"] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** The types whose values are strings, and so have a `maxLength`. */
export const TEXT_VARIABLE_TYPES: readonly VariableType[] = ["string", "email", "url"];

/** Longest value of a text variable, and its `maxLength` when none is declared. */
export const MAX_VARIABLE_CHARS = 500;
/** Most variables one chat start may carry. */
export const MAX_CHAT_VARIABLES = 20;
/** Most declarations: chat start reads them all, so the list stays small. */
export const MAX_VARIABLE_DECLARATIONS = 200;
export const MAX_VARIABLE_LABEL_CHARS = 100;

/**
 * A variable's name: a letter, then letters, digits, `_`, `.` or `-` (64 at most). Names are
 * case-sensitive (`Plan` and `plan` are two variables) and cannot be `__proto__`.
 */
export const variableName = z
  .string()
  .regex(
    /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/,
    "a letter, then letters, digits, _ . or - (64 characters at most)",
  );

/** A value the site sets: JSON string, number or boolean, by the declared type. */
export type VariableValue = string | number | boolean;

/** A chat's custom variables, by name. */
export type ChatVariables = Record<string, VariableValue>;

/** The editable fields of a declaration, per masking mode. */
const declarationFields = perMode((mode) => ({
  label: maskedText(
    z
      .string()
      .trim()
      .min(1)
      .max(MAX_VARIABLE_LABEL_CHARS)
      .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    mode,
  ),
  type: z.enum(VARIABLE_TYPES),
  /** Text types only; absent: MAX_VARIABLE_CHARS. */
  maxLength: z.number().int().min(1).max(MAX_VARIABLE_CHARS).optional(),
  visibleToAgents: z.boolean().default(true),
}));

/** `maxLength` goes with text types only; it is stored as a number for them, null otherwise. */
function withMaxLength<T extends { type: VariableType; maxLength?: number | undefined }>(
  input: T,
  ctx: z.RefinementCtx,
): Omit<T, "maxLength"> & { maxLength: number | null } {
  const text = TEXT_VARIABLE_TYPES.includes(input.type);
  if (!text && input.maxLength !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: "maxLength is only for string, email and url variables",
      path: ["maxLength"],
    });
  }
  return { ...input, maxLength: text ? (input.maxLength ?? MAX_VARIABLE_CHARS) : null };
}

/** `POST /api/variables`, per masking mode. */
export const createVariableRequestFor = perMode((mode) =>
  z
    .object({ name: variableName, ...declarationFields(mode) })
    .strict()
    .transform(withMaxLength),
);
export type CreateVariableRequest = z.input<ReturnType<typeof createVariableRequestFor>>;

/** `PUT /api/variables/:name`, per masking mode: replaces every field but the name. */
export const updateVariableRequestFor = perMode((mode) =>
  z.object(declarationFields(mode)).strict().transform(withMaxLength),
);
export type UpdateVariableRequest = z.input<ReturnType<typeof updateVariableRequestFor>>;

/** A declared variable. Times are milliseconds since the epoch (UTC). */
export interface VariableDeclaration {
  name: string;
  label: string;
  type: VariableType;
  /** Longest value, in characters (after card masking); null for number and boolean. */
  maxLength: number | null;
  /** False: stored with the chat but never shown to agents. */
  visibleToAgents: boolean;
  createdAt: number;
  updatedAt: number;
  /** The agent who last changed it (null when changed outside the console). */
  updatedBy: string | null;
}

/** `GET /api/variables` response body, by name. */
export interface VariableListResponse {
  variables: VariableDeclaration[];
}

/** `POST /api/variables` (201) and `PUT /api/variables/:name` response body. */
export interface VariableResponse {
  variable: VariableDeclaration;
}
