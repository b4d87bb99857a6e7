/** HTTP request and response payloads. */
import { z } from "zod";
import type { AltchaChallenge } from "../security/captcha.ts";
import { maskCardNumbers } from "../security/card-masking.ts";
import { IpRuleError, parseIpRule } from "../security/ip-rules.ts";
import type { Permission } from "../security/permissions.ts";
import {
  type OfflineMessageHandler,
  type OfflineMessageReply,
  offlineMessageStatus,
} from "./inbox.ts";
import { MAX_MESSAGE_CHARS } from "./limits.ts";
import { maskedText, perMode } from "./masked-text.ts";
import { type ChatVariables, MAX_CHAT_VARIABLES, variableName } from "./variables.ts";

/** A department id (a lowercase slug), in a request body or a query string. */
export const departmentId = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "a department id (lowercase slug)");

/** Longest visitor identity JWT accepted (4 KB). */
export const MAX_IDENTITY_CHARS = 4096;

/** A visitor id: a UUID, as the server issues them (`StartChatResponse.visitorId`). */
export const visitorId = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, "a visitor id (UUID)");

/** Visitor-typed fields, masked in the deployment's CARD_MASKING mode. */
export const visitorFields = perMode((mode) => ({
  name: maskedText(z.string().trim().min(1).max(100), mode),
  email: maskedText(z.string().trim().max(254).email(), mode),
  // A page URL can carry a card number in its query string: masked like typed text.
  pageUrl: z
    .string()
    .max(2048)
    .url()
    .refine((value) => /^https?:\/\//i.test(value), "an http(s) URL")
    .transform((value) => maskCardNumbers(value, { strict: mode === "strict" }).text),
  text: (max: number) => maskedText(z.string().trim().min(1).max(max), mode),
  variable: maskedText(z.string().max(500), mode),
}));

/** `POST /api/visitor/chats` — the pre-chat form, per masking mode. */
export const startChatRequestFor = perMode((mode) => {
  const fields = visitorFields(mode);
  return z
    .object({
      name: fields.name.optional(),
      email: fields.email.optional(),
      department: departmentId.optional(),
      /**
       * Custom variables the embedding site passes (e.g. plan, order id): strings (masked),
       * numbers or booleans. The route checks them against their declarations
       * (`invalid_variables`, worker/visitor-facts.ts).
       */
      variables: z
        .record(variableName, z.union([fields.variable, z.number(), z.boolean()]))
        .refine(
          (v) => Object.keys(v).length <= MAX_CHAT_VARIABLES,
          `at most ${MAX_CHAT_VARIABLES} variables`,
        )
        .optional(),
      pageUrl: fields.pageUrl.optional(),
      /**
       * A visitor identity JWT signed by the embedding site with IDENTITY_SECRET (HS256,
       * `{sub, name?, email?, exp}`). A valid one overrides the typed name and email.
       */
      identity: z.string().min(1).max(MAX_IDENTITY_CHARS).optional(),
      /** A CAPTCHA solution, when CHAT_START_CAPTCHA=always (`captcha_required`). */
      captcha: z.string().min(1).max(8192).optional(),
      /** The visitor id of an earlier chat in this browser, checked against the ban list. */
      visitorId: visitorId.optional(),
      /**
       * The presence token of the widget's presence socket (`welcome.token`): the chat
       * keeps the visitor's id, and it proves that `invitationId` was sent to this visitor.
       */
      presenceToken: z.string().min(1).max(2048).optional(),
      /**
       * The agent invitation the visitor accepted (`invitation` frame): the chat is offered
       * to that agent first. An unknown, expired or used one starts an ordinary chat.
       */
      invitationId: z.string().uuid().optional(),
    })
    .strict();
});
/** The pre-chat form in standard masking mode. */
export const startChatRequest = startChatRequestFor("standard");
export type StartChatRequest = z.infer<typeof startChatRequest>;

export type StartChatResponse =
  | { chatId: string; token: string; visitorId: string; queuePosition: number }
  | { offline: true; reason: "no_agents" }
  /** The department is closed; `opensAt` (ms) is its next opening within 14 days, or null. */
  | { offline: true; reason: "outside_hours"; opensAt: number | null };

/**
 * `details.captcha` of a `captcha_required` / `captcha_invalid` answer to chat creation:
 * what the widget needs to solve the CAPTCHA, then it sends the pre-chat form again with
 * `captcha`. A solution counts once.
 */
export type ChatCaptchaChallenge =
  | { provider: "altcha"; challenge: AltchaChallenge }
  | { provider: "turnstile"; siteKey: string; action: "chat_start" };

/** `POST /api/visitor/offline-messages`, per masking mode. */
export const offlineMessageRequestFor = perMode((mode) => {
  const fields = visitorFields(mode);
  return z
    .object({
      name: fields.name.optional(),
      email: fields.email,
      department: departmentId.optional(),
      message: fields.text(MAX_MESSAGE_CHARS),
      pageUrl: fields.pageUrl.optional(),
    })
    .strict();
});
/** The offline-message form in standard masking mode. */
export const offlineMessageRequest = offlineMessageRequestFor("standard");
export type OfflineMessageRequest = z.infer<typeof offlineMessageRequest>;

/** `POST /api/auth/login`. */
export const loginRequest = z
  .object({
    email: z.string().trim().min(1).max(254),
    password: z.string().min(1).max(1024),
    /** A CAPTCHA solution, required after repeated failures (`captcha_required`). */
    captcha: z.string().min(1).max(8192).optional(),
    /** A TOTP code or a recovery code, required for agents enrolled in MFA (`mfa_required`). */
    totp: z.string().trim().min(6).max(40).optional(),
  })
  .strict();
export type LoginRequest = z.infer<typeof loginRequest>;

/** `POST /api/auth/password`. */
export const changePasswordRequest = z
  .object({
    currentPassword: z.string().min(1).max(1024),
    newPassword: z.string().min(1).max(1024),
  })
  .strict();
export type ChangePasswordRequest = z.infer<typeof changePasswordRequest>;

/** `POST /api/auth/password/reset` — with a one-time token from a reset or set-password link. */
export const resetPasswordRequest = z
  .object({
    token: z.string().min(20).max(128),
    newPassword: z.string().min(1).max(1024),
  })
  .strict();
export type ResetPasswordRequest = z.infer<typeof resetPasswordRequest>;

/** `POST /api/auth/reauth`: the password, and a TOTP or recovery code when enrolled. */
export const reauthRequest = z
  .object({
    password: z.string().min(1).max(1024),
    totp: z.string().trim().min(6).max(40).optional(),
  })
  .strict();

/** `POST /api/auth/mfa/confirm`. */
export const mfaCodeRequest = z
  .object({
    code: z
      .string()
      .trim()
      .regex(/^\d{3}\s?\d{3}$/),
  })
  .strict();

/** `POST /api/auth/mfa/disable`: the password and a TOTP or recovery code. */
export const mfaDisableRequest = z
  .object({ password: z.string().min(1).max(1024), code: z.string().trim().min(6).max(40) })
  .strict();

/** `GET /api/auth/me` and the login response. */
export interface AgentProfile {
  id: string;
  email: string;
  name: string;
  /** Departments the agent belongs to (`general` when none): they scope what the agent sees. */
  departments: string[];
  /** Groups the agent belongs to (presets `administrators`, `supervisors`, `agents`). */
  groups: string[];
  /** Effective permissions: the union of the agent's, departments' and groups' grants. */
  permissions: Permission[];
}

/** `POST /api/auth/login` (200) and `GET /api/auth/me` (200) response body. */
export interface AgentSessionResponse {
  agent: AgentProfile;
  /** True when the agent may only change the password (every other route answers 403). */
  passwordExpired: boolean;
  /** True when the agent must enrol in MFA before anything else (`/api/auth/mfa/*`). */
  mfaEnrollmentRequired: boolean;
}

/** Every HTTP error body. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

// ── Transcripts and offline messages (agent console) ─────────────────────────────────────

/** Statuses of a chat row, as the transcript search filters and reports them. */
export const chatStatus = z.enum(["queued", "active", "ended", "missed"]);
export type ChatStatusValue = z.infer<typeof chatStatus>;

/** Most results one search page returns (`limit`); 50 when not given. */
export const MAX_SEARCH_LIMIT = 100;

const ISO_TIME =
  /^(\d{4}-\d{2}-\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2}))?$/;

/** False for dates that Date.parse would roll over (2025-02-30 → March 2). */
function realDate(date: string): boolean {
  const [year = 0, month = 0, day = 0] = date.split("-").map(Number);
  const parsed = new Date(Date.UTC(year, month - 1, day));
  return parsed.getUTCMonth() === month - 1 && parsed.getUTCDate() === day;
}

/**
 * A point in time in a query string: integer milliseconds since the epoch, an ISO-8601 date
 * (`2025-05-01`, UTC midnight) or date-time WITH an offset (`…T09:30:00Z`, `…+02:00`).
 * A date-time without an offset is refused: it would be read in the server's time zone.
 */
export const queryTimestamp = z
  .string()
  .trim()
  .transform((value, ctx) => {
    if (/^\d{1,15}$/.test(value)) return Number(value);
    const date = ISO_TIME.exec(value)?.[1];
    const ms = date && realDate(date) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(ms)) {
      ctx.addIssue({
        code: "custom",
        message: "a time in milliseconds or ISO-8601 (a date, or a date-time with an offset)",
      });
      return z.NEVER;
    }
    return ms;
  });

/** A small positive integer in a query string (digits only: no `1e1`, `0x3`, `-1`). */
const queryInt = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,6}$/, "an integer")
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/**
 * Keywords: whitespace-separated terms that must all occur (AND). Card numbers are masked
 * first — the search echoes into the audit log, which must never hold one — and stored
 * text is masked anyway, so a clear number could not match.
 */
const keywords = maskedText(z.string().trim().min(1).max(200)).transform((value, ctx) => {
  const terms = value.split(/\s+/).filter((term) => term.length > 0);
  if (terms.length > 10) {
    ctx.addIssue({ code: "custom", message: "at most 10 keywords" });
    return z.NEVER;
  }
  return terms;
});

/** A keyset position (`createdAt`, `id`) of the last row of a page. */
export interface PageCursor {
  createdAt: number;
  id: string;
}

/** Encodes the opaque `nextCursor` of a search page (ids are ASCII: UUIDs). */
export function encodePageCursor(cursor: PageCursor): string {
  return btoa(`${cursor.createdAt}.${cursor.id}`)
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** An opaque cursor from a previous page's `nextCursor`; anything else is a 400. */
const pageCursor = z
  .string()
  .max(300)
  .transform((value, ctx): PageCursor => {
    let decoded = "";
    try {
      decoded = atob(value.replaceAll("-", "+").replaceAll("_", "/"));
    } catch {
      // Not base64url: reported below like any other malformed cursor.
    }
    const match = /^(\d{1,15})\.([\w-]{1,128})$/.exec(decoded);
    if (!match?.[1] || !match[2]) {
      ctx.addIssue({ code: "custom", message: "not a cursor from a previous page" });
      return z.NEVER;
    }
    return { createdAt: Number(match[1]), id: match[2] };
  });

const searchWindow = {
  /** Created at or after (inclusive). */
  from: queryTimestamp.optional(),
  /** Created before (exclusive). */
  to: queryTimestamp.optional(),
  q: keywords.optional(),
  department: departmentId.optional(),
  cursor: pageCursor.optional(),
  limit: queryInt(1, MAX_SEARCH_LIMIT).default(50),
};

/** The check of a query's time window (`from`, `to`): to is later, when both are given. */
export const fromBeforeTo = (query: { from?: number; to?: number }) =>
  query.from === undefined || query.to === undefined || query.from < query.to;
/** The issue `fromBeforeTo` reports (on `to`). */
export const fromBeforeToIssue = { message: "to must be later than from", path: ["to"] };

/** `GET /api/transcripts` query string. */
export const transcriptSearchQuery = z
  .object({
    ...searchWindow,
    /** The assigned agent's id. */
    agent: z.string().trim().min(1).max(128).optional(),
    /** Exactly this rating. */
    rating: queryInt(1, 5).optional(),
    /** At least this rating (unrated chats never match). */
    minRating: queryInt(1, 5).optional(),
    status: chatStatus.optional(),
  })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);
export type TranscriptSearchQuery = z.infer<typeof transcriptSearchQuery>;

/** `GET /api/offline-messages` query string. */
export const offlineMessageSearchQuery = z
  .object({ ...searchWindow, status: offlineMessageStatus.optional() })
  .strict()
  .refine(fromBeforeTo, fromBeforeToIssue);
export type OfflineMessageSearchQuery = z.infer<typeof offlineMessageSearchQuery>;

/** One chat in a transcript search. Times are milliseconds since the epoch (UTC). */
export interface TranscriptSummary {
  id: string;
  department: string;
  status: ChatStatusValue;
  visitorName: string | null;
  agentId: string | null;
  agentName: string | null;
  /** The post-chat survey's rating, 1–5; null until the visitor rates. */
  rating: number | null;
  createdAt: number;
  endedAt: number | null;
  /** Events of kind `message` (joins and ends are not counted). */
  messageCount: number;
}

/** `GET /api/transcripts` response body. */
export interface TranscriptSearchResponse {
  transcripts: TranscriptSummary[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

/** One stored event of a transcript (text already card-masked). */
export interface TranscriptMessage {
  seq: number;
  kind: string;
  senderRole: string;
  senderName: string | null;
  text: string | null;
  at: number;
}

/** `GET /api/transcripts/:id` response body. */
export interface TranscriptResponse {
  transcript: TranscriptSummary & {
    /** The visitor id: what a `visitor` ban (`POST /api/bans`) takes. */
    visitorId: string;
    /** The visitor proved who they are with a site-signed identity. */
    verified: boolean;
    visitorEmail: string | null;
    pageUrl: string | null;
    /** The custom variables agents may see (`visibleToAgents`); null: the chat has none. */
    variables: ChatVariables | null;
    acceptedAt: number | null;
    /** The post-chat survey's comment (card-masked) and time; null until the visitor rates. */
    surveyComment: string | null;
    surveyAt: number | null;
    /** Set while the chat is on legal hold: then nothing deletes it. */
    legalHold: LegalHold | null;
  };
  messages: TranscriptMessage[];
}

/** A chat's legal hold: neither deletion nor the retention purge removes the chat. */
export interface LegalHold {
  /** When it was placed (ms). */
  at: number;
  /** The agent who placed it. */
  by: string;
  /** Why (card-masked). */
  reason: string;
}

/** `PUT /api/transcripts/:id/legal-hold`. */
export const legalHoldRequestFor = perMode((mode) =>
  z
    .object({
      reason: maskedText(
        z
          .string()
          .trim()
          .min(1)
          .max(500)
          .regex(/^[^\p{Cc}]*$/u, "no control characters"),
        mode,
      ),
    })
    .strict(),
);

/** The answer of `PUT /api/transcripts/:id/legal-hold`. */
export interface LegalHoldResponse {
  legalHold: LegalHold;
}

/** One offline message (text already card-masked). */
export interface OfflineMessageSummary {
  id: string;
  department: string;
  name: string | null;
  email: string;
  message: string;
  pageUrl: string | null;
  createdAt: number;
  /** When and by whom it was marked handled (or answered); null while open. */
  handledAt: number | null;
  handledBy: OfflineMessageHandler | null;
}

/** `GET /api/offline-messages` response body. */
export interface OfflineMessageSearchResponse {
  offlineMessages: OfflineMessageSummary[];
  nextCursor: string | null;
}

/** `GET /api/offline-messages/:id` response body: adds the sender's IP and the replies. */
export interface OfflineMessageResponse {
  offlineMessage: OfflineMessageSummary & { ip: string | null; replies: OfflineMessageReply[] };
}

// ── Ban list (console, `bans.manage`) ────────────────────────────────────────────────────

/** What a ban matches: a client IP (address or CIDR range) or a visitor id. */
export const banKind = z.enum(["ip", "visitor"]);
export type BanKind = z.infer<typeof banKind>;

/** Longest ban: ten years (omit `expiresInMinutes` for a ban that lasts until lifted). */
export const MAX_BAN_MINUTES = 10 * 365 * 24 * 60;

/**
 * An IP ban's value in canonical form — `203.0.113.9`, `2001:db8::/32` — parsed as strictly
 * as the allowlists (src/security/ip-rules.ts). `*` and `/0` are refused: a ban that matches
 * every visitor is an outage, not a ban.
 */
function canonicalIpBan(value: string, ctx: z.RefinementCtx): string {
  try {
    const rule = parseIpRule(value);
    if (rule.any || rule.range[1] === 0) {
      ctx.addIssue({
        code: "custom",
        message: "a ban cannot match every address",
        path: ["value"],
      });
      return value;
    }
    const [address, bits] = rule.range;
    return bits === (address.kind() === "ipv4" ? 32 : 128)
      ? address.toString()
      : `${address.toString()}/${bits}`;
  } catch (error) {
    if (!(error instanceof IpRuleError)) throw error;
    ctx.addIssue({
      code: "custom",
      message: "an IPv4 or IPv6 address or CIDR range",
      path: ["value"],
    });
    return value;
  }
}

/** `POST /api/bans`. */
export const createBanRequest = z
  .object({
    kind: banKind,
    /** kind `ip`: an address or CIDR range; kind `visitor`: a visitor id (UUID). */
    value: z.string().trim().min(1).max(100),
    /** Why (shown in the list and the audit log; card numbers are masked). */
    reason: maskedText(
      z
        .string()
        .trim()
        .min(1)
        .max(500)
        .regex(/^[^\p{Cc}]*$/u, "no control characters"),
    ),
    /** Minutes until the ban lapses by itself; absent: until lifted. */
    expiresInMinutes: z.number().int().min(1).max(MAX_BAN_MINUTES).optional(),
  })
  .strict()
  .transform((ban, ctx) => {
    if (ban.kind === "ip") return { ...ban, value: canonicalIpBan(ban.value, ctx) };
    const parsed = visitorId.safeParse(ban.value);
    if (!parsed.success) {
      ctx.addIssue({ code: "custom", message: "a visitor id (UUID)", path: ["value"] });
      return ban;
    }
    return { ...ban, value: parsed.data };
  });
export type CreateBanRequest = z.input<typeof createBanRequest>;

/** One ban as the console lists it. Times are milliseconds since the epoch (UTC). */
export interface Ban {
  id: string;
  kind: BanKind;
  value: string;
  reason: string;
  /** The agent who created it (null when created outside the console). */
  createdBy: string | null;
  createdAt: number;
  /** null: until lifted. */
  expiresAt: number | null;
  /** False once `expiresAt` has passed: the ban no longer applies. */
  active: boolean;
}

/** `GET /api/bans` response body: active bans first, then expired ones, newest first. */
export interface BanListResponse {
  bans: Ban[];
}

/** `POST /api/bans` (201) response body. */
export interface BanResponse {
  ban: Ban;
}
