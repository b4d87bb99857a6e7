/**
 * Parses wrangler vars and secrets into one typed Config. Invalid configuration throws a
 * ConfigError, which the Worker turns into `503 config_invalid`: it fails closed.
 */
import { z } from "zod";
import type { MaskingMode } from "./protocol/masked-text.ts";
import { type IpRule, IpRuleError, parseIpRules } from "./security/ip-rules.ts";
import {
  type PasswordPolicy,
  PasswordPolicyError,
  parsePasswordPolicy,
} from "./security/password-policy.ts";

export interface Config {
  /** HMAC key bytes for session and visitor JWTs. */
  sessionKey: Uint8Array;
  /** Origins allowed to embed the widget, besides the Worker's own. */
  widgetOrigins: string[];
  /** Origins allowed to open agent sockets, besides the Worker's own. */
  consoleOrigins: string[];
  sessionIdleMs: number;
  sessionAbsoluteMs: number;
  visitorTokenSeconds: number;
  offerTimeoutMs: number;
  agentMaxChats: number;
  /** How long an agent's chats wait for them after their console disconnects before requeueing. */
  agentReconnectGraceMs: number;
  passwordPolicy: PasswordPolicy;
  /**
   * The keys tokens are verified with: SESSION_KEY, then SESSION_KEY_PREVIOUS during a
   * rotation (its tokens stay valid until they expire).
   */
  verificationKeys: Uint8Array[];
  login: {
    /** Consecutive failures (per account or per IP) after which a CAPTCHA is required. */
    captchaAfter: number;
    /** Consecutive failures of an account after which it is locked. */
    lockoutAfter: number;
    lockoutMs: number;
  };
  passwords: {
    /** 0 = passwords never expire. */
    maxAgeMs: number;
    minAgeMs: number;
    /** How many earlier passwords a new one may not repeat. */
    history: number;
    resetsPerDay: number;
  };
  captcha:
    | { provider: "altcha"; key: Uint8Array; maxCounter: number }
    | { provider: "turnstile"; secret: string; siteKey: string };
  accountInactiveMs: number;
  /**
   * What the hourly cron purges (0 = kept forever): ended chats and offline messages older
   * than `transcriptMs` (chats on legal hold excepted), audit rows older than `auditMs`.
   */
  retention: { transcriptMs: number; auditMs: number };
  /** Every agent must enrol in MFA (departments can also require it of their agents). */
  mfaRequired: boolean;
  /** `strict` also masks a security code or expiry date right after a card number. */
  cardMasking: MaskingMode;
  /** How long submitted secure-form values stay viewable (memory only). */
  secureFormTtlMs: number;
  /**
   * Who may reach the agent side, by client IP (CF-Connecting-IP): the console and its
   * sockets (`agent`), personal API tokens (`mobile`). Empty denies everyone (fail closed).
   */
  ipAllowlists: { agent: IpAllowlist; mobile: IpAllowlist };
  /** A CAPTCHA before every chat is created (CHAT_START_CAPTCHA=always). */
  chatStartCaptcha: boolean;
  rateLimits: {
    chatStartPerIpPerMinute: number;
    messagesPerSocketPer10s: number;
    loginPerIpPerMinute: number;
    loginPerAccountPerMinute: number;
    apiPerSessionPerMinute: number;
    widgetConfigPerIpPerMinute: number;
  };
  /** Visitor identity verification: HS256 JWTs signed by the customer's backend. */
  identity: { secret: Uint8Array | null; required: boolean };
  /** Security alerts (worker/alerts.ts): where they go and what burst raises one. */
  alerts: {
    /** null: alerts are only logged and audited. */
    webhook: { url: string; secret: Uint8Array } | null;
    /** Names the deployment in alerts (and keys their counters); null when unset. */
    deployment: string | null;
    failedLoginsPer5Min: number;
    lockoutsPerHour: number;
    ipDenialsPer5Min: number;
  };
}

/** An allowlist as configured (for display and narrowing) and parsed (for matching). */
export interface IpAllowlist {
  rules: string[];
  parsed: IpRule[];
}

/** A setting is missing or malformed; the message names it (never its value). */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const origin = z
  .string()
  .refine(
    (value) => URL.canParse(value) && new URL(value).origin === value,
    "an origin (scheme://host[:port])",
  );

const originList = z
  .string()
  .default("")
  .transform((value) =>
    value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  )
  .pipe(z.array(origin));

/** A comma-separated list of IP rules; missing or empty allows nobody (fail closed). */
const ipRuleList = z
  .string()
  .default("")
  .transform((value, ctx) => {
    const rules = value
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean);
    try {
      return { rules, parsed: parseIpRules(rules) };
    } catch (error) {
      if (!(error instanceof IpRuleError)) throw error;
      ctx.addIssue({ code: "custom", message: error.message });
      return z.NEVER;
    }
  });

const int = (fallback: number, min: number, max: number) =>
  z
    .string()
    .default(String(fallback))
    .transform((value) => value.trim())
    .pipe(z.string().regex(/^\d+$/, "a whole number"))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const schema = z.object({
  SESSION_KEY: z.string().min(32, "at least 32 characters (use `openssl rand -base64 48`)"),
  WIDGET_ORIGINS: originList,
  CONSOLE_ORIGINS: originList,
  SESSION_IDLE_MINUTES: int(15, 1, 24 * 60),
  SESSION_ABSOLUTE_HOURS: int(12, 1, 24 * 30),
  VISITOR_TOKEN_HOURS: int(2, 1, 24),
  OFFER_TIMEOUT_SECONDS: int(30, 5, 600),
  AGENT_MAX_CHATS: int(5, 1, 50),
  AGENT_RECONNECT_GRACE_SECONDS: int(60, 5, 3600),
  SESSION_KEY_PREVIOUS: z.string().min(32).optional(),
  LOGIN_CAPTCHA_AFTER: int(5, 1, 100),
  LOGIN_LOCKOUT_AFTER: int(10, 1, 100),
  LOGIN_LOCKOUT_MINUTES: int(30, 1, 24 * 60),
  PASSWORD_MAX_AGE_DAYS: int(90, 0, 3650),
  PASSWORD_MIN_AGE_HOURS: int(24, 0, 24 * 30),
  PASSWORD_HISTORY: int(4, 0, 24),
  PASSWORD_RESETS_PER_DAY: int(3, 1, 100),
  ACCOUNT_INACTIVE_DAYS: int(90, 1, 3650),
  TRANSCRIPT_RETENTION_DAYS: int(0, 0, 3650),
  // PCI DSS 4.0.1 10.5.1 keeps 12 months of audit history: below 365 only 0 (forever) is valid.
  AUDIT_RETENTION_DAYS: int(365, 0, 3650).refine(
    (days) => days === 0 || days >= 365,
    "0 (keep forever) or at least 365 (PCI DSS 10.5.1: 12 months of audit history)",
  ),
  MFA_REQUIRED: z.enum(["true", "false"]).default("false"),
  CARD_MASKING: z.enum(["standard", "strict"]).default("standard"),
  AGENT_IP_ALLOWLIST: ipRuleList,
  MOBILE_IP_ALLOWLIST: ipRuleList,
  CHAT_START_CAPTCHA: z.enum(["off", "always"]).default("off"),
  RATE_CHAT_START_PER_IP_PER_MINUTE: int(10, 1, 10_000),
  RATE_MESSAGES_PER_SOCKET_PER_10S: int(20, 1, 1_000),
  RATE_LOGIN_PER_IP_PER_MINUTE: int(20, 1, 10_000),
  RATE_LOGIN_PER_ACCOUNT_PER_MINUTE: int(10, 1, 1_000),
  RATE_API_PER_SESSION_PER_MINUTE: int(300, 1, 100_000),
  RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE: int(120, 1, 100_000),
  IDENTITY_SECRET: z.string().min(32, "at least 32 characters").optional(),
  IDENTITY_REQUIRED: z.enum(["true", "false"]).default("false"),
  ALERT_WEBHOOK_URL: z
    .string()
    .trim()
    .default("")
    .refine(
      (value) => value === "" || (URL.canParse(value) && new URL(value).protocol === "https:"),
      "an https:// URL, or empty for none",
    ),
  ALERT_WEBHOOK_SECRET: z.string().min(32, "at least 32 characters").optional(),
  ALERT_DEPLOYMENT_NAME: z
    .string()
    .trim()
    .default("")
    .pipe(z.string().regex(/^[\w.-]{0,64}$/, "up to 64 letters, digits, '.', '_' or '-'")),
  ALERT_FAILED_LOGINS_PER_5_MIN: int(20, 1, 100_000),
  ALERT_LOCKOUTS_PER_HOUR: int(3, 1, 10_000),
  ALERT_IP_DENIALS_PER_5_MIN: int(20, 1, 100_000),
  SECURE_FORM_TTL_MINUTES: int(15, 1, 60),
  CAPTCHA_PROVIDER: z.enum(["altcha", "turnstile"]).default("altcha"),
  CAPTCHA_KEY: z.string().optional(),
  ALTCHA_MAX_COUNTER: int(4000, 10, 1_000_000),
  TURNSTILE_SECRET: z.string().optional(),
  TURNSTILE_SITE_KEY: z.string().optional(),
});

function captchaConfig(vars: z.infer<typeof schema>): Config["captcha"] {
  if (vars.CAPTCHA_PROVIDER === "turnstile") {
    if (!vars.TURNSTILE_SECRET || !vars.TURNSTILE_SITE_KEY) {
      throw new ConfigError(
        "invalid configuration — CAPTCHA_PROVIDER=turnstile needs TURNSTILE_SECRET and TURNSTILE_SITE_KEY",
      );
    }
    return {
      provider: "turnstile",
      secret: vars.TURNSTILE_SECRET,
      siteKey: vars.TURNSTILE_SITE_KEY,
    };
  }
  if (!vars.CAPTCHA_KEY || vars.CAPTCHA_KEY.length < 32) {
    throw new ConfigError(
      "invalid configuration — CAPTCHA_KEY: at least 32 characters (the ALTCHA HMAC key)",
    );
  }
  return {
    provider: "altcha",
    key: new TextEncoder().encode(vars.CAPTCHA_KEY),
    maxCounter: vars.ALTCHA_MAX_COUNTER,
  };
}

function alertsConfig(vars: z.infer<typeof schema>): Config["alerts"] {
  // Unsigned alerts could be forged by anyone who learns the URL: no secret, no webhook.
  if (vars.ALERT_WEBHOOK_URL && !vars.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError(
      "invalid configuration — ALERT_WEBHOOK_URL needs the ALERT_WEBHOOK_SECRET secret (at least 32 characters)",
    );
  }
  return {
    webhook:
      vars.ALERT_WEBHOOK_URL && vars.ALERT_WEBHOOK_SECRET
        ? {
            url: vars.ALERT_WEBHOOK_URL,
            secret: new TextEncoder().encode(vars.ALERT_WEBHOOK_SECRET),
          }
        : null,
    deployment: vars.ALERT_DEPLOYMENT_NAME || null,
    failedLoginsPer5Min: vars.ALERT_FAILED_LOGINS_PER_5_MIN,
    lockoutsPerHour: vars.ALERT_LOCKOUTS_PER_HOUR,
    ipDenialsPer5Min: vars.ALERT_IP_DENIALS_PER_5_MIN,
  };
}

/** Reads the configuration from the Worker's environment; throws ConfigError when invalid. */
export function parseConfig(env: Record<string, unknown>): Config {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map(
      (issue) => `${issue.path.join(".")}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration — ${problems.join("; ")}`);
  }
  const vars = result.data;
  let passwordPolicy: PasswordPolicy;
  try {
    passwordPolicy = parsePasswordPolicy(env);
  } catch (error) {
    if (error instanceof PasswordPolicyError) {
      throw new ConfigError(`invalid configuration — ${error.message}`);
    }
    throw error;
  }
  if (vars.IDENTITY_REQUIRED === "true" && !vars.IDENTITY_SECRET) {
    throw new ConfigError(
      "invalid configuration — IDENTITY_REQUIRED=true needs the IDENTITY_SECRET secret",
    );
  }
  if (vars.LOGIN_CAPTCHA_AFTER > vars.LOGIN_LOCKOUT_AFTER) {
    throw new ConfigError(
      "invalid configuration — LOGIN_CAPTCHA_AFTER must not exceed LOGIN_LOCKOUT_AFTER",
    );
  }
  const encoder = new TextEncoder();
  return {
    sessionKey: encoder.encode(vars.SESSION_KEY),
    verificationKeys: [
      encoder.encode(vars.SESSION_KEY),
      ...(vars.SESSION_KEY_PREVIOUS ? [encoder.encode(vars.SESSION_KEY_PREVIOUS)] : []),
    ],
    widgetOrigins: vars.WIDGET_ORIGINS,
    consoleOrigins: vars.CONSOLE_ORIGINS,
    sessionIdleMs: vars.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: vars.SESSION_ABSOLUTE_HOURS * 3_600_000,
    visitorTokenSeconds: vars.VISITOR_TOKEN_HOURS * 3600,
    offerTimeoutMs: vars.OFFER_TIMEOUT_SECONDS * 1000,
    agentMaxChats: vars.AGENT_MAX_CHATS,
    agentReconnectGraceMs: vars.AGENT_RECONNECT_GRACE_SECONDS * 1000,
    passwordPolicy,
    login: {
      captchaAfter: vars.LOGIN_CAPTCHA_AFTER,
      lockoutAfter: vars.LOGIN_LOCKOUT_AFTER,
      lockoutMs: vars.LOGIN_LOCKOUT_MINUTES * 60_000,
    },
    passwords: {
      maxAgeMs: vars.PASSWORD_MAX_AGE_DAYS * 86_400_000,
      minAgeMs: vars.PASSWORD_MIN_AGE_HOURS * 3_600_000,
      history: vars.PASSWORD_HISTORY,
      resetsPerDay: vars.PASSWORD_RESETS_PER_DAY,
    },
    captcha: captchaConfig(vars),
    accountInactiveMs: vars.ACCOUNT_INACTIVE_DAYS * 86_400_000,
    retention: {
      transcriptMs: vars.TRANSCRIPT_RETENTION_DAYS * 86_400_000,
      auditMs: vars.AUDIT_RETENTION_DAYS * 86_400_000,
    },
    mfaRequired: vars.MFA_REQUIRED === "true",
    cardMasking: vars.CARD_MASKING,
    secureFormTtlMs: vars.SECURE_FORM_TTL_MINUTES * 60_000,
    ipAllowlists: { agent: vars.AGENT_IP_ALLOWLIST, mobile: vars.MOBILE_IP_ALLOWLIST },
    chatStartCaptcha: vars.CHAT_START_CAPTCHA === "always",
    rateLimits: {
      chatStartPerIpPerMinute: vars.RATE_CHAT_START_PER_IP_PER_MINUTE,
      messagesPerSocketPer10s: vars.RATE_MESSAGES_PER_SOCKET_PER_10S,
      loginPerIpPerMinute: vars.RATE_LOGIN_PER_IP_PER_MINUTE,
      loginPerAccountPerMinute: vars.RATE_LOGIN_PER_ACCOUNT_PER_MINUTE,
      apiPerSessionPerMinute: vars.RATE_API_PER_SESSION_PER_MINUTE,
      widgetConfigPerIpPerMinute: vars.RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE,
    },
    identity: {
      secret: vars.IDENTITY_SECRET ? encoder.encode(vars.IDENTITY_SECRET) : null,
      required: vars.IDENTITY_REQUIRED === "true",
    },
    alerts: alertsConfig(vars),
  };
}
