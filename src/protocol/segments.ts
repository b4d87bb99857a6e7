/**
 * Visitor segments (`/api/segments`, `segments.manage`): named rules on the page URL, the
 * country, the visit count and custom variables. Chat start puts the ids of the segments a
 * visitor matches (src/desk/segments.ts) in the `VisitorSummary` agents are offered.
 *
 * Texts an administrator types (the name, URL patterns, variable values) are card-masked at
 * the boundary, in the deployment's CARD_MASKING mode — as the page URL and the variables
 * they are compared with are, so a pattern matches what is stored.
 */
import { z } from "zod";
import { MAX_URL_RULE_CHARS, URL_RULE_OPS } from "./campaigns.ts";
import { MAX_SEGMENT_CONDITIONS } from "./limits.ts";
import { maskedText, perMode } from "./masked-text.ts";
import { MAX_VARIABLE_CHARS, variableName } from "./variables.ts";

/** Most segments: every chat start evaluates them all. */
export const MAX_SEGMENTS = 100;
export const MAX_SEGMENT_NAME_CHARS = 100;
/**
 * Longest rule set, as its JSON text escaped once more (a `"` or `\` counts twice): how it
 * sits in the audit row of a change, whose before and after must fit the audit log's 16 KB
 * row limit together.
 */
export const MAX_SEGMENT_RULES_CHARS = 7000;

/** A segment id: a lowercase slug, like a department id. */
export const segmentId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "a lowercase slug of at most 63 characters");

/** A country as Cloudflare reports it (`request.cf.country`): ISO 3166-1 alpha-2, e.g. `DE`. */
const countryCode = z
  .string()
  .trim()
  .toUpperCase()
  .regex(/^[A-Z]{2}$/, "an ISO 3166-1 alpha-2 country code, e.g. DE");

/** The conditions, per masking mode. */
const conditionFor = perMode((mode) => {
  const text = (min: number, max: number) => maskedText(z.string().min(min).max(max), mode);
  const variable = { field: z.literal("variable"), name: variableName };
  return z.discriminatedUnion("field", [
    /** A campaign's URL rule (src/desk/campaign-match.ts): the same ops and value rules. */
    z
      .object({
        field: z.literal("url"),
        op: z.enum(URL_RULE_OPS),
        value: maskedText(
          z
            .string()
            .trim()
            .min(1)
            .max(MAX_URL_RULE_CHARS)
            .regex(/^[^\p{Cc}]*$/u, "no control characters"),
          mode,
        ),
      })
      .strict(),
    z
      .object({
        field: z.literal("country"),
        op: z.literal("in"),
        values: z.array(countryCode).min(1).max(250),
      })
      .strict(),
    z
      .object({
        field: z.literal("visits"),
        op: z.enum(["gte", "lte", "eq"]),
        value: z.number().int().min(0).max(1_000_000),
      })
      .strict(),
    z.discriminatedUnion("op", [
      /** The chat carries the variable (any value). */
      z.object({ ...variable, op: z.literal("exists") }).strict(),
      /** Same type and value. */
      z
        .object({
          ...variable,
          op: z.literal("equals"),
          value: z.union([text(0, MAX_VARIABLE_CHARS), z.number(), z.boolean()]),
        })
        .strict(),
      /** A text value containing `value`. */
      z
        .object({ ...variable, op: z.literal("contains"), value: text(1, MAX_VARIABLE_CHARS) })
        .strict(),
      /** A number value at least (`gte`) or at most (`lte`) `value`. */
      z.object({ ...variable, op: z.enum(["gte", "lte"]), value: z.number() }).strict(),
    ]),
  ]);
});

/**
 * A segment's rules: `all` matches when every condition holds (no conditions: every visitor),
 * `any` when at least one does (no conditions: nobody).
 */
export const segmentRulesFor = perMode((mode) =>
  z
    .object({
      match: z.enum(["all", "any"]),
      conditions: z.array(conditionFor(mode)).max(MAX_SEGMENT_CONDITIONS),
    })
    .strict()
    .refine(
      (rules) => JSON.stringify(JSON.stringify(rules)).length <= MAX_SEGMENT_RULES_CHARS,
      `the rules are too long (at most ${MAX_SEGMENT_RULES_CHARS} characters of escaped JSON)`,
    ),
);
export type SegmentRules = z.infer<ReturnType<typeof segmentRulesFor>>;
export type SegmentCondition = SegmentRules["conditions"][number];

const segmentName = perMode((mode) =>
  maskedText(
    z
      .string()
      .trim()
      .min(1)
      .max(MAX_SEGMENT_NAME_CHARS)
      .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    mode,
  ),
);

/** `POST /api/segments`, per masking mode. */
export const createSegmentRequestFor = perMode((mode) =>
  z.object({ id: segmentId, name: segmentName(mode), rules: segmentRulesFor(mode) }).strict(),
);
export type CreateSegmentRequest = z.input<ReturnType<typeof createSegmentRequestFor>>;

/** `PUT /api/segments/:id`, per masking mode: replaces the name and the rules. */
export const updateSegmentRequestFor = perMode((mode) =>
  z.object({ name: segmentName(mode), rules: segmentRulesFor(mode) }).strict(),
);
export type UpdateSegmentRequest = z.input<ReturnType<typeof updateSegmentRequestFor>>;

/** A stored segment. Times are milliseconds since the epoch (UTC). */
export interface Segment {
  id: string;
  name: string;
  rules: SegmentRules;
  createdAt: number;
  updatedAt: number;
  /** The agent who last changed it (null when changed outside the console). */
  updatedBy: string | null;
}

/** `GET /api/segments` response body, by id. */
export interface SegmentListResponse {
  segments: Segment[];
}

/** `POST /api/segments` (201) and `PUT /api/segments/:id` response body. */
export interface SegmentResponse {
  segment: Segment;
}
