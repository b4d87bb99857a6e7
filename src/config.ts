/**
 * Parses wrangler vars and secrets into one typed Config. Invalid configuration throws a
 * ConfigError, which the Worker turns into `503 config_invalid`: it fails closed.
 */
import { z } from "zod";
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
  passwordPolicy: PasswordPolicy;
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
});

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
  return {
    sessionKey: new TextEncoder().encode(vars.SESSION_KEY),
    widgetOrigins: vars.WIDGET_ORIGINS,
    consoleOrigins: vars.CONSOLE_ORIGINS,
    sessionIdleMs: vars.SESSION_IDLE_MINUTES * 60_000,
    sessionAbsoluteMs: vars.SESSION_ABSOLUTE_HOURS * 3_600_000,
    visitorTokenSeconds: vars.VISITOR_TOKEN_HOURS * 3600,
    offerTimeoutMs: vars.OFFER_TIMEOUT_SECONDS * 1000,
    agentMaxChats: vars.AGENT_MAX_CHATS,
    passwordPolicy,
  };
}
