import { describe, expect, it, vi } from "vitest";
import { encodeAltchaPayload, solveAltcha, solveAltchaChallenge } from "../../src/client/altcha.ts";
import {
  ALTCHA_DEFAULTS,
  type AltchaChallengeOptions,
  createCaptchaChallenge,
  TURNSTILE_SITEVERIFY_URL,
  type TurnstileVerifyOptions,
  verifyAltcha,
  verifyTurnstile,
} from "../../src/security/captcha.ts";

const KEY = "unit-tests-captcha-key-0123456789abcdef";
// Small enough that every test solves in milliseconds; the defaults get one test of their own.
const EASY = { maxCounter: 20, cost: 100 };

/** An in-memory replay store, like the D1 `captcha_used` table with INSERT OR IGNORE. */
function memoryStore() {
  const used = new Map<string, number>();
  const markUsed = vi.fn(async (signature: string, expiresAt: number) => {
    if (used.has(signature)) return false;
    used.set(signature, expiresAt);
    return true;
  });
  return { used, markUsed };
}

async function solvedPayload(
  options: AltchaChallengeOptions = EASY,
  key: string | Uint8Array = KEY,
) {
  const challenge = await createCaptchaChallenge(key, options);
  const solution = await solveAltcha(challenge);
  return { challenge, solution, payload: encodeAltchaPayload(challenge, solution) };
}

/** A decoded payload, loosely typed: the tests below poke at arbitrary fields of it. */
// biome-ignore lint/suspicious/noExplicitAny: tests deliberately write fields of any type
type PayloadJson = Record<string, any>;

/** Re-encodes a payload after `edit` changed its decoded JSON. */
function edited(payload: string, edit: (json: PayloadJson) => void): string {
  const json = JSON.parse(atob(payload)) as PayloadJson;
  edit(json);
  return btoa(JSON.stringify(json));
}

describe("createCaptchaChallenge", () => {
  it("signs a PBKDF2/SHA-256 challenge with the default work and a five-minute expiry", async () => {
    const now = Date.UTC(2030, 0, 1);
    const challenge = await createCaptchaChallenge(KEY, { now });
    expect(challenge.parameters).toMatchObject({
      algorithm: "PBKDF2/SHA-256",
      cost: ALTCHA_DEFAULTS.cost,
      expiresAt: now / 1000 + 300,
      keyLength: 32,
    });
    expect(challenge.parameters.nonce).toMatch(/^[0-9a-f]{32}$/);
    expect(challenge.parameters.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(challenge.parameters.keyPrefix).toMatch(/^[0-9a-f]{32}$/);
    expect(challenge.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(ALTCHA_DEFAULTS).toEqual({ cost: 5_000, maxCounter: 4_000, expiresInSeconds: 300 });
  });

  it("never reveals the counter or the derived key", async () => {
    const challenge = await createCaptchaChallenge(KEY, EASY);
    const solution = await solveAltcha(challenge);
    const json = JSON.stringify(challenge);
    expect(json).not.toMatch(/counter|keySignature/);
    expect(json).not.toContain(solution.derivedKey);
  });

  it("gives every challenge its own nonce, salt and signature", async () => {
    const a = await createCaptchaChallenge(KEY, EASY);
    const b = await createCaptchaChallenge(KEY, EASY);
    expect(a.parameters.nonce).not.toBe(b.parameters.nonce);
    expect(a.parameters.salt).not.toBe(b.parameters.salt);
    expect(a.signature).not.toBe(b.signature);
  });

  it("refuses an empty key", async () => {
    await expect(createCaptchaChallenge("")).rejects.toThrow(TypeError);
    await expect(createCaptchaChallenge(new Uint8Array())).rejects.toThrow(TypeError);
  });
});

describe("verifyAltcha", () => {
  it("accepts a solved challenge and records it as spent until it expires", async () => {
    const { challenge, payload } = await solvedPayload();
    const store = memoryStore();
    expect(await verifyAltcha(payload, KEY, store)).toEqual({ ok: true });
    expect(store.markUsed).toHaveBeenCalledOnce();
    expect(store.markUsed).toHaveBeenCalledWith(
      challenge.signature,
      (challenge.parameters.expiresAt ?? 0) * 1000,
    );
  });

  it("accepts a challenge at the default difficulty, solved the way the widget does", async () => {
    const challenge = await createCaptchaChallenge(KEY);
    const payload = await solveAltchaChallenge(challenge);
    // The whole payload stays far below the 2,048-character cap.
    expect(payload.length).toBeLessThan(1_000);
    expect(await verifyAltcha(payload, KEY, memoryStore())).toEqual({ ok: true });
  }, 60_000);

  it("treats a key and its UTF-8 bytes as the same key", async () => {
    const bytes = new TextEncoder().encode(KEY);
    const { payload } = await solvedPayload(EASY, bytes);
    expect(await verifyAltcha(payload, KEY, memoryStore())).toEqual({ ok: true });
    const binary = crypto.getRandomValues(new Uint8Array(32));
    binary[0] = 0xff; // never valid UTF-8
    const other = await solvedPayload(EASY, binary);
    expect(await verifyAltcha(other.payload, binary, memoryStore())).toEqual({ ok: true });
    expect(await verifyAltcha(other.payload, KEY, memoryStore())).toMatchObject({
      reason: "invalid",
    });
  });

  it("refuses a replay of an accepted solution", async () => {
    const { payload } = await solvedPayload();
    const store = memoryStore();
    expect(await verifyAltcha(payload, KEY, store)).toEqual({ ok: true });
    expect(await verifyAltcha(payload, KEY, store)).toEqual({ ok: false, reason: "replayed" });
    // Re-encoding the same solution differently (extra whitespace, key order) is still a replay.
    const reshaped = edited(payload, (json) => {
      json.solution = { derivedKey: json.solution.derivedKey, counter: json.solution.counter };
    });
    expect(await verifyAltcha(reshaped, KEY, store)).toEqual({ ok: false, reason: "replayed" });
  });

  it("refuses a wrong counter or derived key", async () => {
    const { challenge, solution } = await solvedPayload();
    const store = memoryStore();
    const wrongCounter = encodeAltchaPayload(challenge, {
      counter: solution.counter + 1,
      derivedKey: solution.derivedKey,
    });
    const wrongKey = encodeAltchaPayload(challenge, {
      counter: solution.counter,
      derivedKey: "00".repeat(32),
    });
    expect(await verifyAltcha(wrongCounter, KEY, store)).toEqual({ ok: false, reason: "invalid" });
    expect(await verifyAltcha(wrongKey, KEY, store)).toEqual({ ok: false, reason: "invalid" });
    expect(store.markUsed).not.toHaveBeenCalled();
  });

  it("refuses the solution of another challenge", async () => {
    const first = await solvedPayload();
    const second = await createCaptchaChallenge(KEY, EASY);
    const mixed = encodeAltchaPayload(second, first.solution);
    expect(await verifyAltcha(mixed, KEY, memoryStore())).toEqual({ ok: false, reason: "invalid" });
  });

  it("refuses a tampered signature or tampered parameters", async () => {
    const { payload } = await solvedPayload();
    const tampers: Array<(json: PayloadJson) => void> = [
      (json) => {
        const signature: string = json.challenge.signature;
        json.challenge.signature = `${signature[0] === "a" ? "b" : "a"}${signature.slice(1)}`;
      },
      (json) => {
        json.challenge.parameters.cost = 1;
      },
      (json) => {
        json.challenge.parameters.expiresAt += 3600;
      },
      (json) => {
        json.challenge.parameters.keyPrefix = "00";
      },
    ];
    for (const tamper of tampers) {
      const store = memoryStore();
      expect(await verifyAltcha(edited(payload, tamper), KEY, store)).toEqual({
        ok: false,
        reason: "invalid",
      });
      expect(store.markUsed).not.toHaveBeenCalled();
    }
  });

  it("refuses a challenge signed with another key", async () => {
    const { payload } = await solvedPayload(EASY, "another-key-0123456789abcdef-0123456789");
    expect(await verifyAltcha(payload, KEY, memoryStore())).toEqual({
      ok: false,
      reason: "invalid",
    });
  });

  it("refuses an expired challenge", async () => {
    // Issued six minutes ago: its five minutes are over by the real clock.
    const old = await solvedPayload({ ...EASY, now: Date.now() - 6 * 60_000 });
    const store = memoryStore();
    expect(await verifyAltcha(old.payload, KEY, store)).toEqual({ ok: false, reason: "expired" });
    // Issued now, verified five minutes and a second later.
    const fresh = await solvedPayload();
    expect(await verifyAltcha(fresh.payload, KEY, { ...store, now: Date.now() + 301_000 })).toEqual(
      { ok: false, reason: "expired" },
    );
    expect(store.markUsed).not.toHaveBeenCalled();
    // ...and a minute before that it still passes.
    expect(await verifyAltcha(fresh.payload, KEY, { ...store, now: Date.now() + 240_000 })).toEqual(
      { ok: true },
    );
  });

  it("refuses malformed payloads without touching the store", async () => {
    const { payload } = await solvedPayload();
    const malformed: unknown[] = [
      undefined,
      null,
      42,
      { payload },
      "",
      "%%% not base64 %%%",
      btoa("not json"),
      btoa("null"),
      btoa("[]"),
      btoa(JSON.stringify({ challenge: {}, solution: {} })),
      edited(payload, (json) => {
        delete json.solution;
      }),
      edited(payload, (json) => {
        delete json.challenge.signature;
      }),
      edited(payload, (json) => {
        delete json.challenge.parameters.expiresAt;
      }),
      edited(payload, (json) => {
        json.solution.counter = `${json.solution.counter}`;
      }),
      edited(payload, (json) => {
        json.solution.counter = -1;
      }),
      edited(payload, (json) => {
        json.solution.derivedKey = "not hex";
      }),
      edited(payload, (json) => {
        json.challenge.parameters.algorithm = "SHA-256";
      }),
      edited(payload, (json) => {
        json.challenge.parameters.data = { extra: true };
      }),
      payload + "A".repeat(2_048),
      btoa(" ".repeat(4_000)),
    ];
    const store = memoryStore();
    for (const input of malformed) {
      expect(await verifyAltcha(input, KEY, store)).toEqual({ ok: false, reason: "malformed" });
    }
    expect(store.markUsed).not.toHaveBeenCalled();
  });

  it("lets a failing replay store's error through instead of guessing a verdict", async () => {
    const { payload } = await solvedPayload();
    const markUsed = async () => {
      throw new Error("D1 unavailable");
    };
    await expect(verifyAltcha(payload, KEY, { markUsed })).rejects.toThrow("D1 unavailable");
  });
});

describe("verifyTurnstile", () => {
  const OPTIONS = {
    secret: "turnstile-secret",
    remoteIp: "203.0.113.7",
    expectedHostname: "console.example",
    expectedAction: "login",
  } satisfies Partial<TurnstileVerifyOptions>;

  /** A stand-in for siteverify: records each request, answers with `answer`. */
  function siteverify(answer: () => Response | Promise<Response>) {
    const requests: Request[] = [];
    const fetch = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(new Request(input, init));
      return answer();
    });
    return { requests, fetch: fetch as unknown as typeof globalThis.fetch, spy: fetch };
  }

  const json = (body: unknown, status = 200) =>
    new Response(JSON.stringify(body), {
      status,
      headers: { "content-type": "application/json" },
    });

  const passed = { success: true, hostname: "console.example", action: "login", "error-codes": [] };

  it("accepts a token siteverify passes for our hostname and action", async () => {
    const server = siteverify(() => json(passed));
    expect(await verifyTurnstile("token-1", { ...OPTIONS, fetch: server.fetch })).toEqual({
      ok: true,
    });
    const [request] = server.requests;
    expect(request?.url).toBe(TURNSTILE_SITEVERIFY_URL);
    expect(request?.method).toBe("POST");
    expect(request?.headers.get("content-type")).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(await request?.text());
    expect(form.get("secret")).toBe("turnstile-secret");
    expect(form.get("response")).toBe("token-1");
    expect(form.get("remoteip")).toBe("203.0.113.7");
    expect(form.get("idempotency_key")).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it("sends the idempotency key it is given", async () => {
    const server = siteverify(() => json(passed));
    await verifyTurnstile("t", { ...OPTIONS, fetch: server.fetch, idempotencyKey: "retry-1" });
    const form = new URLSearchParams(await server.requests[0]?.text());
    expect(form.get("idempotency_key")).toBe("retry-1");
  });

  it("accepts any of several expected hostnames", async () => {
    const server = siteverify(() => json(passed));
    const options = { ...OPTIONS, expectedHostname: ["a.example", "console.example"] };
    expect(await verifyTurnstile("t", { ...options, fetch: server.fetch })).toEqual({ ok: true });
  });

  it("refuses a token siteverify fails, with its error codes", async () => {
    const server = siteverify(() =>
      json({ success: false, "error-codes": ["invalid-input-response"] }),
    );
    expect(await verifyTurnstile("t", { ...OPTIONS, fetch: server.fetch })).toEqual({
      ok: false,
      reason: "invalid",
      errorCodes: ["invalid-input-response"],
    });
  });

  it("names expired or reused tokens and a wrong secret", async () => {
    const expired = siteverify(() =>
      json({ success: false, "error-codes": ["timeout-or-duplicate"] }),
    );
    expect(await verifyTurnstile("t", { ...OPTIONS, fetch: expired.fetch })).toMatchObject({
      ok: false,
      reason: "expired",
    });
    const badSecret = siteverify(() =>
      json({ success: false, "error-codes": ["invalid-input-secret"] }),
    );
    expect(await verifyTurnstile("t", { ...OPTIONS, fetch: badSecret.fetch })).toMatchObject({
      ok: false,
      reason: "misconfigured",
    });
    const internal = siteverify(() => json({ success: false, "error-codes": ["internal-error"] }));
    expect(await verifyTurnstile("t", { ...OPTIONS, fetch: internal.fetch })).toMatchObject({
      ok: false,
      reason: "unavailable",
    });
  });

  it("refuses a token issued on another hostname", async () => {
    for (const hostname of ["evil.example", undefined]) {
      const server = siteverify(() => json({ ...passed, hostname }));
      expect(await verifyTurnstile("t", { ...OPTIONS, fetch: server.fetch })).toEqual({
        ok: false,
        reason: "hostname_mismatch",
      });
    }
  });

  it("refuses a token issued for another action", async () => {
    for (const action of ["signup", "", undefined]) {
      const server = siteverify(() => json({ ...passed, action }));
      expect(await verifyTurnstile("t", { ...OPTIONS, fetch: server.fetch })).toEqual({
        ok: false,
        reason: "action_mismatch",
      });
    }
  });

  it("fails closed on a network error, a timeout, a non-200 answer or a body that is not siteverify's", async () => {
    const answers: Array<() => Response | Promise<Response>> = [
      () => {
        throw new TypeError("fetch failed");
      },
      () => json(passed, 500),
      () => json(passed, 429),
      () => new Response("<html>Bad gateway</html>", { status: 200 }),
      () => json({ ...passed, success: "true" }),
      () => json(null),
    ];
    for (const answer of answers) {
      const server = siteverify(answer);
      expect(await verifyTurnstile("t", { ...OPTIONS, fetch: server.fetch })).toEqual({
        ok: false,
        reason: "unavailable",
      });
    }
    // A siteverify that never answers: the request is aborted after timeoutMs.
    const hanging = vi.fn(
      (_input: RequestInfo | URL, init?: RequestInit) =>
        new Promise<Response>((_resolve, reject) => {
          init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
        }),
    );
    const fetch = hanging as unknown as typeof globalThis.fetch;
    expect(await verifyTurnstile("t", { ...OPTIONS, fetch, timeoutMs: 20 })).toEqual({
      ok: false,
      reason: "unavailable",
    });
  });

  it("refuses a missing, non-string or oversized token without calling siteverify", async () => {
    const server = siteverify(() => json(passed));
    for (const token of [undefined, null, 7, "", "x".repeat(2_049)]) {
      expect(await verifyTurnstile(token, { ...OPTIONS, fetch: server.fetch })).toEqual({
        ok: false,
        reason: "malformed",
      });
    }
    expect(server.spy).not.toHaveBeenCalled();
  });
});
