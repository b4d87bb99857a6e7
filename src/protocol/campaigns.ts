/**
 * Campaigns (`/api/campaigns`) and the widget configuration (`GET /api/widget/config`), shared
 * by the Worker, the console and the widget. A campaign customises the widget on the pages its
 * URL rules match; what it leaves unset falls back to the built-in defaults
 * (`campaign-defaults.ts`). Every text an admin types is card-masked at the boundary, in the
 * deployment's CARD_MASKING mode.
 */
import { z } from "zod";
import { maskCardNumbers } from "../security/card-masking.ts";
import { MAX_PRE_CHAT_FIELDS, MAX_URL_RULES } from "./limits.ts";
import { type MaskingMode, maskedText, perMode } from "./masked-text.ts";

/** How a URL rule compares the page URL with its value (case-insensitively; no regexes). */
export const URL_RULE_OPS = ["equals", "starts_with", "contains", "glob"] as const;
export type UrlRuleOp = (typeof URL_RULE_OPS)[number];

/** A page-URL rule; `glob` knows one wildcard, `*` (any run of characters, `/` included). */
export interface UrlRule {
  op: UrlRuleOp;
  value: string;
}

export const MAX_CAMPAIGN_NAME_CHARS = 100;
/** Longest URL rule value: patterns are short; this bounds the public endpoint's work. */
export const MAX_URL_RULE_CHARS = 500;
export const MAX_WIDGET_TEXT_CHARS = 200;
/**
 * Most campaigns a deployment keeps: the public widget configuration reads the rules of every
 * enabled one, so their number is bounded.
 */
export const MAX_CAMPAIGNS = 100;

/** One line of admin-typed text: trimmed, 1–`max` characters, no control characters, masked. */
const line = (max: number, mode: MaskingMode) =>
  maskedText(
    z
      .string()
      .trim()
      .min(1)
      .max(max)
      .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    mode,
  );

const urlRulesFor = perMode((mode) =>
  z
    .array(z.object({ op: z.enum(URL_RULE_OPS), value: line(MAX_URL_RULE_CHARS, mode) }).strict())
    .max(MAX_URL_RULES)
    .default([]),
);

/** The widget's look and texts; in a campaign each one is optional (unset: the default). */
const widgetFor = perMode((mode) => {
  const text = line(MAX_WIDGET_TEXT_CHARS, mode);
  return z
    .object({
      color: z
        .string()
        .regex(/^#[0-9a-fA-F]{6}$/, "a colour #rrggbb")
        .transform((value) => value.toLowerCase()),
      position: z.enum(["left", "right"]),
      title: text,
      launcherLabel: text,
      greeting: text,
      offlineTitle: text,
      offlineMessage: text,
    })
    .strict();
});
export type WidgetLook = z.infer<ReturnType<typeof widgetFor>>;

/**
 * A pre-chat form field's key: `name`, `email`, `department` (the chat-start fields), or the
 * name of a custom variable, which the widget sends in `variables`.
 */
const preChatFieldKey = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/, "name, email, department or a custom variable name");

const preChatFormFor = perMode((mode) =>
  z
    .object({
      enabled: z.boolean(),
      fields: z
        .array(
          z
            .object({
              key: preChatFieldKey,
              label: line(MAX_WIDGET_TEXT_CHARS, mode),
              required: z.boolean().default(false),
            })
            .strict(),
        )
        .max(MAX_PRE_CHAT_FIELDS)
        .refine(
          (fields) => new Set(fields.map((f) => f.key)).size === fields.length,
          "each key at most once",
        ),
    })
    .strict(),
);
export type PreChatForm = z.infer<ReturnType<typeof preChatFormFor>>;

const autoInviteFor = perMode((mode) =>
  z
    .object({
      enabled: z.boolean(),
      /** Seconds on the page before the widget invites the visitor. */
      afterSeconds: z.number().int().min(5).max(3600),
      /** Pages (within the campaign's) where it invites; none: all of them. */
      urlRules: urlRulesFor(mode),
      message: line(MAX_WIDGET_TEXT_CHARS, mode),
    })
    .strict(),
);
export type AutoInvite = z.infer<ReturnType<typeof autoInviteFor>>;

/**
 * `POST /api/campaigns` and `PUT /api/campaigns/:id` (the whole campaign), per masking mode.
 * `preChatForm`, `survey` and `autoInvite` absent or null: the built-in default.
 */
export const campaignRequestFor = perMode((mode) =>
  z
    .object({
      name: line(MAX_CAMPAIGN_NAME_CHARS, mode),
      enabled: z.boolean().default(true),
      /** Lower first; ties by id. */
      priority: z.number().int().min(0).max(1_000_000).default(100),
      /** The campaign applies where any rule matches; none: on every page. */
      urlRules: urlRulesFor(mode),
      widget: widgetFor(mode).partial().default({}),
      preChatForm: preChatFormFor(mode).nullable().default(null),
      survey: z.boolean().nullable().default(null),
      autoInvite: autoInviteFor(mode).nullable().default(null),
    })
    .strict(),
);
export type CampaignRequest = z.input<ReturnType<typeof campaignRequestFor>>;
/** A validated, masked campaign body. */
export type CampaignContent = z.output<ReturnType<typeof campaignRequestFor>>;

/** One campaign as the API returns it. Times are milliseconds since the epoch (UTC). */
export interface Campaign extends CampaignContent {
  id: string;
  createdAt: number;
  createdBy: string;
  updatedAt: number;
  updatedBy: string;
}

/** `GET /api/campaigns` response body: by priority, then id. */
export interface CampaignListResponse {
  campaigns: Campaign[];
}

/** `GET /api/campaigns/:id`, `POST` (201) and `PUT` (200) response body. */
export interface CampaignResponse {
  campaign: Campaign;
}

/**
 * The auto-invitation as the widget gets it: `enabled` already says whether its URL rules
 * match the page the configuration was asked for.
 */
export type WidgetAutoInvite = Omit<AutoInvite, "urlRules">;

/**
 * `GET /api/widget/config?url=` query string, per masking mode. `url` is the page's http(s)
 * URL, at most 2,048 characters; rules see it as the URL parser writes it (scheme and host
 * lower-cased), without its fragment, and with card numbers masked like a chat's `pageUrl`.
 */
export const widgetConfigQueryFor = perMode((mode) =>
  z
    .object({
      url: z
        .string()
        .max(2048)
        .transform((value, ctx) => {
          const url = /^https?:\/\//i.test(value) ? URL.parse(value) : null;
          if (!url) {
            ctx.addIssue({ code: "custom", message: "an http(s) URL" });
            return z.NEVER;
          }
          url.hash = "";
          return maskCardNumbers(url.href, { strict: mode === "strict" }).text;
        }),
    })
    .strict(),
);

/** `GET /api/widget/config` response body: everything the widget needs on one page. */
export interface WidgetConfig {
  /** The campaign that applies to the page; null: the built-in defaults. */
  campaignId: string | null;
  widget: WidgetLook;
  preChatForm: PreChatForm;
  survey: boolean;
  autoInvite: WidgetAutoInvite;
  /** Every department, for the pre-chat form's picker, by name. */
  departments: { id: string; name: string }[];
}
