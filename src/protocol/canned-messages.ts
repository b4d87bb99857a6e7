/**
 * Canned messages (`/api/canned-messages`): ready-made replies in three scopes, shared by the
 * Worker and the console. Titles and texts are card-masked at the boundary, in the
 * deployment's CARD_MASKING mode, so a stored canned message never holds a clear card number.
 */
import { z } from "zod";
import { departmentId } from "./http.ts";
import { maskedText, perMode } from "./masked-text.ts";

/** Who sees a canned message: its owner, the agents of its department, or every agent. */
export const CANNED_SCOPES = ["personal", "department", "global"] as const;
export type CannedScope = (typeof CANNED_SCOPES)[number];
const cannedScope = z.enum(CANNED_SCOPES);

export const MAX_CANNED_TITLE_CHARS = 100;
export const MAX_CANNED_TEXT_CHARS = 2000;
/** Most canned messages one search returns: the lists are small, the console filters them. */
export const MAX_CANNED_RESULTS = 200;

/**
 * A shortcut key (`greet`, typed `/greet` in the composer): a lowercase slug. Lowercased first,
 * so `Greet` and `greet` cannot name two messages of one owner.
 */
const shortcut = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "a lowercase slug of at most 32 characters");

/** The editable fields, per masking mode; `shortcut` absent or null: none. */
const fields = perMode((mode) => ({
  shortcut: shortcut.nullable().default(null),
  title: maskedText(
    z
      .string()
      .trim()
      .min(1)
      .max(MAX_CANNED_TITLE_CHARS)
      .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    mode,
  ),
  // Multi-line: tabs and line breaks are kept, other control characters refused.
  text: maskedText(
    z
      .string()
      .trim()
      .min(1)
      .max(MAX_CANNED_TEXT_CHARS)
      .regex(/^(?:[\t\n\r]|\P{Cc})*$/u, "no control characters other than tabs and line breaks"),
    mode,
  ),
}));

/** `POST /api/canned-messages`, per masking mode: `department` goes with scope `department`. */
export const createCannedMessageRequestFor = perMode((mode) =>
  z
    .object({ scope: cannedScope, department: departmentId.optional(), ...fields(mode) })
    .strict()
    .refine((m) => (m.scope === "department") === (m.department !== undefined), {
      message: "department is required for scope department, and only for it",
      path: ["department"],
    }),
);
export type CreateCannedMessageRequest = z.input<ReturnType<typeof createCannedMessageRequestFor>>;

/**
 * `PUT /api/canned-messages/:id`, per masking mode: replaces shortcut, title and text. The
 * scope and department stay as created (delete and create again to move a message).
 */
export const updateCannedMessageRequestFor = perMode((mode) => z.object(fields(mode)).strict());
export type UpdateCannedMessageRequest = z.input<ReturnType<typeof updateCannedMessageRequestFor>>;

/**
 * `GET /api/canned-messages` query string, per masking mode: `q` is one phrase matched
 * case-insensitively (ASCII letters) in shortcut, title and text; card numbers are masked
 * first, as in stored texts.
 */
export const cannedMessageSearchQueryFor = perMode((mode) =>
  z
    .object({
      q: maskedText(z.string().trim().min(1).max(200), mode).optional(),
      scope: cannedScope.optional(),
    })
    .strict(),
);
export type CannedMessageSearchQuery = z.infer<ReturnType<typeof cannedMessageSearchQueryFor>>;

/** One canned message as the API returns it. Times are milliseconds since the epoch (UTC). */
export interface CannedMessage {
  id: string;
  scope: CannedScope;
  /** The department of a `department` message; null for the other scopes. */
  department: string | null;
  shortcut: string | null;
  title: string;
  /** Card-masked; may hold placeholders (src/desk/canned-placeholders.ts). */
  text: string;
  createdAt: number;
  /** The agent who created it. */
  createdBy: string;
  updatedAt: number;
  /** The agent who changed it last (the creator until then). */
  updatedBy: string;
  /** True when the caller may change and delete it. */
  editable: boolean;
}

/** `GET /api/canned-messages` response body: by shortcut (none last), then title. */
export interface CannedMessageListResponse {
  cannedMessages: CannedMessage[];
}

/** `POST` (201) and `PUT` (200) response body. */
export interface CannedMessageResponse {
  cannedMessage: CannedMessage;
}
