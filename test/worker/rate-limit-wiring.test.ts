/**
 * The rate limits are wired where issue 6 names them: chat creation and offline messages per
 * IP, login per IP and per account, API calls per session and per token. Each runs through
 * `createApp().fetch` with small limits in an overridden env (the RateLimiter objects are
 * the real ones) and a client IP of its own.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { createApp } from "../../worker/app.ts";
import { login, ORIGIN, PASSWORD, seedAgent } from "./helpers.ts";

function withLimits(vars: Record<string, string>) {
  const app = createApp();
  return (path: string, init: RequestInit = {}, ip = uniqueIp()) => {
    const headers = new Headers(init.headers);
    headers.set("origin", ORIGIN);
    headers.set("cf-connecting-ip", ip);
    return app.fetch(
      new Request(`${ORIGIN}${path}`, { ...init, headers }),
      { ...env, ...vars },
      createExecutionContext(),
    );
  };
}

let next = 0;
function uniqueIp(): string {
  next += 1;
  return `192.0.2.${next}`;
}

const json = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

async function expectLimited(res: Response) {
  expect(res.status).toBe(429);
  expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
  expect(await res.json()).toMatchObject({ error: { code: "rate_limited" } });
}

describe("rate limits, wired", () => {
  it("limits chat creation and offline messages per client IP", async () => {
    const call = withLimits({ RATE_CHAT_START_PER_IP_PER_MINUTE: "2" });
    const ip = uniqueIp();
    for (let i = 0; i < 2; i += 1) {
      const res = await call("/api/visitor/chats", json({ department: "general" }), ip);
      expect(res.status).not.toBe(429);
    }
    await expectLimited(await call("/api/visitor/chats", json({ department: "general" }), ip));
    // Another IP is not affected.
    expect((await call("/api/visitor/chats", json({}), uniqueIp())).status).not.toBe(429);
    const offline = { email: "v@example.com", message: "hello" };
    const ip2 = uniqueIp();
    for (let i = 0; i < 2; i += 1) {
      expect((await call("/api/visitor/offline-messages", json(offline), ip2)).status).toBe(201);
    }
    await expectLimited(await call("/api/visitor/offline-messages", json(offline), ip2));
  });

  it("limits login attempts per IP and per account", async () => {
    const agent = await seedAgent();
    const perIp = withLimits({ RATE_LOGIN_PER_IP_PER_MINUTE: "2" });
    const ip = uniqueIp();
    for (let i = 0; i < 2; i += 1) {
      const res = await perIp(
        "/api/auth/login",
        json({ email: agent.email, password: PASSWORD }),
        ip,
      );
      expect(res.status).toBe(200);
    }
    await expectLimited(
      await perIp("/api/auth/login", json({ email: agent.email, password: PASSWORD }), ip),
    );

    const other = await seedAgent();
    const perAccount = withLimits({ RATE_LOGIN_PER_ACCOUNT_PER_MINUTE: "2" });
    for (let i = 0; i < 2; i += 1) {
      const res = await perAccount(
        "/api/auth/login",
        json({ email: other.email, password: "nope, wrong" }),
      );
      expect(res.status).toBe(401);
    }
    // From yet another IP, and even with the right password: the account's budget is spent.
    await expectLimited(
      await perAccount(
        "/api/auth/login",
        json({ email: other.email.toUpperCase(), password: PASSWORD }),
      ),
    );
  });

  it("limits API calls per session", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const call = withLimits({ RATE_API_PER_SESSION_PER_MINUTE: "3" });
    for (let i = 0; i < 3; i += 1) {
      expect((await call("/api/auth/me", { headers: { cookie } })).status).toBe(200);
    }
    await expectLimited(await call("/api/auth/me", { headers: { cookie } }));
    // Another session of the same agent has its own budget.
    const second = await login(agent.email);
    expect((await call("/api/auth/me", { headers: { cookie: second } })).status).toBe(200);
  });
});
