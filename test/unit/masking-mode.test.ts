import { describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../../src/config.ts";
import { chatClientFrameFor } from "../../src/protocol/chat-frames.ts";
import { offlineMessageRequestFor, startChatRequestFor } from "../../src/protocol/http.ts";

const BASE = { SESSION_KEY: "k".repeat(40), CAPTCHA_KEY: "c".repeat(40) };
const TEXT = "card 4111 1111 1111 1111 exp 12/29 cvv 123, thanks";

describe("CARD_MASKING", () => {
  it("defaults to standard and accepts strict; anything else fails closed", () => {
    expect(parseConfig(BASE).cardMasking).toBe("standard");
    expect(parseConfig({ ...BASE, CARD_MASKING: "strict" }).cardMasking).toBe("strict");
    expect(() => parseConfig({ ...BASE, CARD_MASKING: "off" })).toThrow(ConfigError);
  });

  it("standard masks the number only; strict also the code and date after it", () => {
    const message = (mode: "standard" | "strict") =>
      chatClientFrameFor(mode).parse({ type: "message", clientId: "m", text: TEXT });
    expect(message("standard")).toMatchObject({
      text: "card •••• •••• •••• 1111 exp 12/29 cvv 123, thanks",
    });
    expect(message("strict")).toMatchObject({
      text: "card •••• •••• •••• 1111 exp ••/•• cvv •••, thanks",
    });
  });

  it("applies the mode to the pre-chat and offline forms too", () => {
    const chat = startChatRequestFor("strict").parse({ name: TEXT });
    expect(chat.name).not.toContain("123");
    const offline = offlineMessageRequestFor("strict").parse({
      email: "v@example.com",
      message: TEXT,
    });
    expect(offline.message).toContain("cvv •••");
    expect(startChatRequestFor("standard").parse({ name: TEXT }).name).toContain("cvv 123");
  });

  it("never masks secure-form values (they must reach the agent intact)", () => {
    const frame = chatClientFrameFor("strict").parse({
      type: "secure_form.submit",
      requestId: crypto.randomUUID(),
      values: { number: "4111 1111 1111 1111" },
    });
    expect(frame).toMatchObject({ values: { number: "4111 1111 1111 1111" } });
  });
});
