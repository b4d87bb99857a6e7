/** HTTP request and response payloads. */
import { z } from "zod";
import { maskCardNumbers } from "../security/card-masking.ts";
import { MAX_MESSAGE_CHARS } from "./limits.ts";
import { maskedText } from "./masked-text.ts";

const name = maskedText(z.string().trim().min(1).max(100));
const email = maskedText(z.string().trim().max(254).email());
const department = z
  .string()
  .trim()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, "a department id (lowercase slug)");
// A page URL can carry a card number in its query string: masked like typed text.
const pageUrl = z
  .string()
  .max(2048)
  .url()
  .refine((value) => /^https?:\/\//i.test(value), "an http(s) URL")
  .transform((value) => maskCardNumbers(value).text);

/** `POST /api/visitor/chats` — the pre-chat form. */
export const startChatRequest = z
  .object({
    name: name.optional(),
    email: email.optional(),
    department: department.optional(),
    /** Custom variables the embedding site passes (e.g. plan, order id). */
    variables: z
      .record(z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/), maskedText(z.string().max(500)))
      .refine((v) => Object.keys(v).length <= 20, "at most 20 variables")
      .optional(),
    pageUrl: pageUrl.optional(),
  })
  .strict();
export type StartChatRequest = z.infer<typeof startChatRequest>;

export type StartChatResponse =
  | { chatId: string; token: string; visitorId: string; queuePosition: number }
  | { offline: true; reason: "no_agents" };

/** `POST /api/visitor/offline-messages`. */
export const offlineMessageRequest = z
  .object({
    name: name.optional(),
    email,
    department: department.optional(),
    message: maskedText(z.string().trim().min(1).max(MAX_MESSAGE_CHARS)),
    pageUrl: pageUrl.optional(),
  })
  .strict();
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

export type AgentRole = "administrator" | "supervisor" | "agent";

/** `GET /api/auth/me` and the login response. */
export interface AgentProfile {
  id: string;
  email: string;
  name: string;
  role: AgentRole;
  departments: string[];
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
