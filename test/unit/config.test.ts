import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";

const KEY = "k".repeat(32);

describe("parseConfig", () => {
  it("applies the documented defaults", () => {
    const config = parseConfig({ SESSION_KEY: KEY });
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

  it("parses origin lists", () => {
    const config = parseConfig({
      SESSION_KEY: KEY,
      WIDGET_ORIGINS: " https://shop.example , https://b.example:8443",
    });
    expect(config.widgetOrigins).toEqual(["https://shop.example", "https://b.example:8443"]);
  });

  it.each([
    ["a missing SESSION_KEY", {}],
    ["a short SESSION_KEY", { SESSION_KEY: "short" }],
    ["an origin with a path", { SESSION_KEY: KEY, WIDGET_ORIGINS: "https://shop.example/page" }],
    ["a non-URL origin", { SESSION_KEY: KEY, CONSOLE_ORIGINS: "shop.example" }],
    ["a non-numeric timeout", { SESSION_KEY: KEY, SESSION_IDLE_MINUTES: "fifteen" }],
    ["a negative number", { SESSION_KEY: KEY, AGENT_MAX_CHATS: "-1" }],
    ["an out-of-range number", { SESSION_KEY: KEY, OFFER_TIMEOUT_SECONDS: "1" }],
    ["a password minimum below PCI DSS's 12", { SESSION_KEY: KEY, PASSWORD_MIN_LENGTH: "8" }],
    ["an unknown character class", { SESSION_KEY: KEY, PASSWORD_CHARACTER_CLASSES: "emoji" }],
  ])("fails closed on %s, without echoing secret values", (_, env) => {
    expect(() => parseConfig(env)).toThrow(ConfigError);
    try {
      parseConfig(env);
    } catch (error) {
      expect((error as Error).message).not.toContain(KEY);
    }
  });
});
