import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";

const KEY = "k".repeat(32);
const BASE = { SESSION_KEY: KEY, CAPTCHA_KEY: "c".repeat(32) };

describe("parseConfig", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig(BASE);
    expect(config).toMatchObject({
      widgetOrigins: [],
      consoleOrigins: [],
      sessionIdleMs: 15 * 60_000,
      sessionAbsoluteMs: 12 * 3_600_000,
      visitorTokenSeconds: 2 * 3600,
      offerTimeoutMs: 30_000,
      agentMaxChats: 5,
      passwordPolicy: { minLength: 12, maxLength: 128, requireDigit: false, forbidCommon: true },
    });
  });

  it("applies the documented login and password lifecycle defaults", () => {
    const config = parseConfig(BASE);
    expect(config.login).toEqual({ captchaAfter: 5, lockoutAfter: 10, lockoutMs: 30 * 60_000 });
    expect(config.passwords).toEqual({
      maxAgeMs: 90 * 86_400_000,
      minAgeMs: 24 * 3_600_000,
      history: 4,
      resetsPerDay: 3,
    });
    expect(config.captcha.provider).toBe("altcha");
    expect(config.accountInactiveMs).toBe(90 * 86_400_000);
    expect(config.verificationKeys).toEqual([new TextEncoder().encode(KEY)]);
  });

  it("configures Turnstile when asked", () => {
    const config = parseConfig({
      ...BASE,
      CAPTCHA_PROVIDER: "turnstile",
      TURNSTILE_SECRET: "secret",
      TURNSTILE_SITE_KEY: "site",
    });
    expect(config.captcha).toEqual({ provider: "turnstile", secret: "secret", siteKey: "site" });
  });

  it("parses origin lists", () => {
    const config = parseConfig({
      ...BASE,
      WIDGET_ORIGINS: " https://shop.example , https://b.example:8443",
    });
    expect(config.widgetOrigins).toEqual(["https://shop.example", "https://b.example:8443"]);
  });

  it.each([
    ["a missing SESSION_KEY", {}],
    ["a short SESSION_KEY", { SESSION_KEY: "short" }],
    ["an origin with a path", { ...BASE, WIDGET_ORIGINS: "https://shop.example/page" }],
    ["a non-URL origin", { ...BASE, CONSOLE_ORIGINS: "shop.example" }],
    ["a non-numeric timeout", { ...BASE, SESSION_IDLE_MINUTES: "fifteen" }],
    ["a negative number", { ...BASE, AGENT_MAX_CHATS: "-1" }],
    ["an out-of-range number", { ...BASE, OFFER_TIMEOUT_SECONDS: "1" }],
    ["a password minimum below PCI DSS's 12", { ...BASE, PASSWORD_MIN_LENGTH: "8" }],
    ["a missing CAPTCHA_KEY for ALTCHA", { SESSION_KEY: KEY }],
    [
      "Turnstile without its secret",
      { ...BASE, CAPTCHA_PROVIDER: "turnstile", TURNSTILE_SITE_KEY: "x" },
    ],
    ["an unknown CAPTCHA provider", { ...BASE, CAPTCHA_PROVIDER: "recaptcha" }],
    ["CAPTCHA after lockout", { ...BASE, LOGIN_CAPTCHA_AFTER: "11", LOGIN_LOCKOUT_AFTER: "10" }],
    ["a short SESSION_KEY_PREVIOUS", { ...BASE, SESSION_KEY_PREVIOUS: "old" }],
    ["an unknown character class", { ...BASE, PASSWORD_CHARACTER_CLASSES: "emoji" }],
  ])("fails closed on %s, without echoing secret values", (_, env) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    try {
      parseConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY);
    }
  });
});
