/**
 * Bindings and variables of the Worker and its Durable Objects (see wrangler.toml).
 * Vars arrive as strings; `src/config.ts` parses them into a typed Config.
 */
import type { AuditLog } from "../durable-objects/audit-log.ts";
import type { ChatSession } from "../durable-objects/chat-session.ts";
import type { Dispatcher } from "../durable-objects/dispatcher.ts";
import type { RateLimiter } from "../durable-objects/rate-limiter.ts";
import type { Visitors } from "../durable-objects/visitors.ts";

export interface Env {
  DB: D1Database;
  CHAT_SESSION: DurableObjectNamespace<ChatSession>;
  DISPATCHER: DurableObjectNamespace<Dispatcher>;
  /** The audit hash chain's single writer (one instance, `idFromName("global")`). */
  AUDIT_LOG: DurableObjectNamespace<AuditLog>;
  /** Rate-limit counters, one object per `${bucket}:${key}`. */
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
  /** Live visitors and proactive invitations (one instance, `idFromName("global")`). */
  VISITORS: DurableObjectNamespace<Visitors>;
  ASSETS: Fetcher;
  /** Secret: HMAC key for session and visitor JWTs (≥ 32 bytes). */
  SESSION_KEY?: string;
  WIDGET_ORIGINS?: string;
  CONSOLE_ORIGINS?: string;
  SESSION_IDLE_MINUTES?: string;
  SESSION_ABSOLUTE_HOURS?: string;
  VISITOR_TOKEN_HOURS?: string;
  OFFER_TIMEOUT_SECONDS?: string;
  AGENT_MAX_CHATS?: string;
  /** Secret: the earlier SESSION_KEY, accepted for verification during a rotation. */
  SESSION_KEY_PREVIOUS?: string;
  /** Secret: HMAC key of ALTCHA challenges (≥ 32 bytes). */
  CAPTCHA_KEY?: string;
  /** Secret: Turnstile's secret key (CAPTCHA_PROVIDER=turnstile). */
  TURNSTILE_SECRET?: string;
  TURNSTILE_SITE_KEY?: string;
  CAPTCHA_PROVIDER?: string;
  ALTCHA_MAX_COUNTER?: string;
  LOGIN_CAPTCHA_AFTER?: string;
  LOGIN_LOCKOUT_AFTER?: string;
  LOGIN_LOCKOUT_MINUTES?: string;
  PASSWORD_MIN_LENGTH?: string;
  PASSWORD_MAX_LENGTH?: string;
  PASSWORD_CHARACTER_CLASSES?: string;
  PASSWORD_MAX_AGE_DAYS?: string;
  PASSWORD_MIN_AGE_HOURS?: string;
  PASSWORD_HISTORY?: string;
  PASSWORD_RESETS_PER_DAY?: string;
  ACCOUNT_INACTIVE_DAYS?: string;
  TRANSCRIPT_RETENTION_DAYS?: string;
  AUDIT_RETENTION_DAYS?: string;
  MFA_REQUIRED?: string;
  CARD_MASKING?: string;
  SECURE_FORM_TTL_MINUTES?: string;
  AGENT_IP_ALLOWLIST?: string;
  MOBILE_IP_ALLOWLIST?: string;
  CHAT_START_CAPTCHA?: string;
  RATE_CHAT_START_PER_IP_PER_MINUTE?: string;
  RATE_MESSAGES_PER_SOCKET_PER_10S?: string;
  RATE_LOGIN_PER_IP_PER_MINUTE?: string;
  RATE_LOGIN_PER_ACCOUNT_PER_MINUTE?: string;
  RATE_API_PER_SESSION_PER_MINUTE?: string;
  /** Secret: HS256 key the customer's backend signs visitor identities with (≥ 32 bytes). */
  IDENTITY_SECRET?: string;
  IDENTITY_REQUIRED?: string;
  /** Var or secret: where security alerts are POSTed (https only; unset = only logged). */
  ALERT_WEBHOOK_URL?: string;
  /** Secret: HMAC-SHA256 key alerts are signed with (≥ 32 characters; needed with the URL). */
  ALERT_WEBHOOK_SECRET?: string;
  ALERT_DEPLOYMENT_NAME?: string;
  ALERT_FAILED_LOGINS_PER_5_MIN?: string;
  ALERT_LOCKOUTS_PER_HOUR?: string;
  ALERT_IP_DENIALS_PER_5_MIN?: string;
}
