/** Placeholder until src/security/captcha.ts lands. */
import type { Context } from "hono";
import type { AppEnv } from "./app-env.ts";

export async function captchaChallenge(_c: Context<AppEnv>): Promise<unknown> {
  return {};
}

export async function verifyLoginCaptcha(_c: Context<AppEnv>, _solution: string): Promise<boolean> {
  return false;
}
