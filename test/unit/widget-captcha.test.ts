import { describe, expect, it } from "vitest";
import { createCaptchaChallenge, verifyAltcha } from "../../src/security/captcha.ts";
import { withChatCaptcha } from "../../src/widget/captcha.ts";

/** What `requestJson` rejects with (src/client/http.ts needs DOM types, so not imported). */
class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(status: number, code: string, message: string, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const KEY = "unit-tests-captcha-key-0123456789abcdef";

async function required(code = "captcha_required") {
  const challenge = await createCaptchaChallenge(KEY, { maxCounter: 20 });
  return new ApiError(403, code, "Solve the CAPTCHA.", {
    captcha: { provider: "altcha", challenge },
  });
}

describe("the widget's chat-start CAPTCHA", () => {
  it("sends once without a solution, then solves the challenge and sends again", async () => {
    const sent: (string | undefined)[] = [];
    const solving: boolean[] = [];
    const result = await withChatCaptcha(
      async (captcha) => {
        sent.push(captcha);
        if (!captcha) throw await required();
        const verdict = await verifyAltcha(captcha, KEY, { markUsed: async () => true });
        expect(verdict).toEqual({ ok: true });
        return "created";
      },
      (on) => solving.push(on),
    );
    expect(result).toBe("created");
    expect(sent).toHaveLength(2);
    expect(sent[0]).toBeUndefined();
    expect(solving).toEqual([true, false]);
  });

  it("gives up after two solutions", async () => {
    let calls = 0;
    const attempt = withChatCaptcha(
      async () => {
        calls += 1;
        throw await required("captcha_invalid");
      },
      () => {},
    );
    await expect(attempt).rejects.toMatchObject({ code: "captcha_invalid" });
    expect(calls).toBe(3);
  });

  it("passes other errors through untouched, and explains an unsupported provider", async () => {
    const other = new ApiError(400, "invalid_identity", "Your sign-in could not be verified.");
    await expect(
      withChatCaptcha(
        () => Promise.reject(other),
        () => {},
      ),
    ).rejects.toBe(other);
    const turnstile = new ApiError(403, "captcha_required", "Solve it.", {
      captcha: { provider: "turnstile", siteKey: "k", action: "chat_start" },
    });
    await expect(
      withChatCaptcha(
        () => Promise.reject(turnstile),
        () => {},
      ),
    ).rejects.toThrow(/another way/);
  });
});
