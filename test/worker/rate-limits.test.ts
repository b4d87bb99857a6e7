import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { getRateLimiter } from "../../durable-objects/rate-limiter.ts";
import { parseConfig } from "../../src/config.ts";
import { ApiError } from "../../worker/api-error.ts";
import { createApp } from "../../worker/app.ts";
import type { AppEnv } from "../../worker/app-env.ts";
import type { Env } from "../../worker/env.ts";
import { loadConfig } from "../../worker/middleware/config.ts";
import {
  assertRateLimit,
  clientIpKey,
  ipKey,
  rateLimit,
  takeRateLimit,
} from "../../worker/middleware/rate-limit.ts";
import {
  acceptedChat,
  agentChatSocket,
  greeted,
  type TestSocket,
  visitorSocket,
} from "./helpers.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A bucket name no other test uses, so counts never leak between tests. */
const freshBucket = () => `test-${crypto.randomUUID()}`;

interface ErrorJson {
  error: { code: string; message: string; details?: { retryAfterSeconds?: number } };
}

describe("the RateLimiter Durable Object", () => {
  it("allows `limit` takes per window, refuses the next with Retry-After, allows again after the window", async () => {
    const stub = getRateLimiter(env, freshBucket(), "k");
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await stub.take(3, 1_000));
    expect(answers.slice(0, 3)).toEqual([
      { allowed: true, retryAfterSeconds: 0, remaining: 2 },
      { allowed: true, retryAfterSeconds: 0, remaining: 1 },
      { allowed: true, retryAfterSeconds: 0, remaining: 0 },
    ]);
    // Counted to the end of its 1/60-window slot: the wait is 1 s, or 2 when rounded up
    // from just over 1 s.
    expect(answers[3]).toMatchObject({ allowed: false, remaining: 0 });
    expect(answers[3]?.retryAfterSeconds).toBeOneOf([1, 2]);
    await sleep(1_100);
    expect(await stub.take(3, 1_000)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it("keeps keys and buckets independent", async () => {
    const bucket = freshBucket();
    const a = getRateLimiter(env, bucket, "a");
    expect((await a.take(1, 60_000)).allowed).toBe(true);
    expect((await a.take(1, 60_000)).allowed).toBe(false);
    expect((await getRateLimiter(env, bucket, "b").take(1, 60_000)).allowed).toBe(true);
    expect((await getRateLimiter(env, freshBucket(), "a").take(1, 60_000)).allowed).toBe(true);
  });

  it("counts concurrent takes exactly", async () => {
    const stub = getRateLimiter(env, freshBucket(), "burst");
    const answers = await Promise.all(Array.from({ length: 50 }, () => stub.take(20, 60_000)));
    expect(answers.filter((a) => a.allowed)).toHaveLength(20);
    expect(new Set(answers.filter((a) => a.allowed).map((a) => a.remaining)).size).toBe(20);
  });

  it("survives eviction (a hibernated object would otherwise forget the window)", async () => {
    const stub = getRateLimiter(env, freshBucket(), "k");
    await stub.take(2, 60_000);
    await stub.take(2, 60_000);
    await evictDurableObject(stub);
    const after = await stub.take(2, 60_000);
    expect(after.allowed).toBe(false);
    expect(after.retryAfterSeconds).toBeOneOf([60, 61]);
  });

  it("stores nothing for a refused take and deletes its storage once idle (alarm TTL)", async () => {
    const stub = getRateLimiter(env, freshBucket(), "k");
    await stub.take(1, 1_000);
    const stored = () =>
      runInDurableObject(stub, async (_, state) => ({
        window: state.storage.kv.get("window") ?? null,
        alarm: await state.storage.getAlarm(),
      }));
    const before = await stored();
    expect(before.window).not.toBeNull();
    expect(before.alarm).toBeGreaterThan(Date.now());
    await stub.take(1, 1_000); // refused
    expect((await stored()).window).toEqual(before.window);

    // An alarm that runs early (alarms may) keeps the window and re-arms.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect((await stored()).window).toEqual(before.window);
    expect((await stored()).alarm).not.toBeNull();

    await sleep(1_100);
    await runDurableObjectAlarm(stub);
    expect(await stored()).toEqual({ window: null, alarm: null });
    expect((await stub.take(1, 1_000)).allowed).toBe(true);
  });

  it("rejects a nonsensical limit or window", async () => {
    const stub = getRateLimiter(env, freshBucket(), "k");
    // Settled inside the call: an RPC promise handed to `expect().rejects` is reported unhandled.
    const failure = (limit: number, windowMs: number) =>
      stub.take(limit, windowMs).then(
        () => "allowed",
        (error: Error) => error.message,
      );
    expect(await failure(0, 1_000)).toMatch(/limit out of range/);
    expect(await failure(1, 0)).toMatch(/windowMs out of range/);
    expect(await failure(1.5, 1_000)).toMatch(/limit out of range/);
  });
});

describe("takeRateLimit", () => {
  it("fails closed: a limiter that cannot answer refuses", async () => {
    const broken = {
      RATE_LIMITER: {
        idFromName() {
          throw new Error("overloaded");
        },
      },
    } as unknown as Pick<Env, "RATE_LIMITER">;
    expect(await takeRateLimit(broken, "x", "k", 10, 60_000)).toEqual({
      allowed: false,
      retryAfterSeconds: 1,
      remaining: 0,
    });
    expect((await takeRateLimit(env, freshBucket(), "k", 0, 60_000)).allowed).toBe(false);
  });
});

/** A tiny app with the middleware, rendered by the same onError as the real app. */
function testApp(bucket: string, limit: number, windowMs: number) {
  const app = new Hono<AppEnv>();
  app.use(loadConfig());
  app.onError((error, c) => {
    if (error instanceof ApiError) return c.json(error.toBody(), error.status);
    throw error;
  });
  app.post(
    "/limited",
    rateLimit(
      bucket,
      (c) => c.req.header("x-key") ?? null,
      () => limit,
      windowMs,
    ),
    (c) => c.json({ ok: true }),
  );
  // The login pattern: parse the body first, then limit per account.
  app.post("/login", async (c) => {
    const { email } = await c.req.json<{ email: string }>();
    await assertRateLimit(c, `${bucket}-account`, email.toLowerCase(), limit, windowMs);
    return c.json({ ok: true });
  });
  const call = (path: string, headers: Record<string, string> = {}, body?: unknown) =>
    app.request(
      path,
      {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      },
      env,
    );
  return { app, call };
}

describe("the rateLimit middleware", () => {
  it("answers 429 rate_limited with Retry-After over the limit, and recovers after the window", async () => {
    const { call } = testApp(freshBucket(), 2, 1_000);
    expect((await call("/limited", { "x-key": "ip1" })).status).toBe(200);
    expect((await call("/limited", { "x-key": "ip1" })).status).toBe(200);
    const refused = await call("/limited", { "x-key": "ip1" });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeOneOf([1, 2]);
    const body = await refused.json<ErrorJson>();
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.message).toBe(`Too many requests; try again in ${retryAfter} s.`);
    expect(body.error.details).toEqual({ retryAfterSeconds: retryAfter });

    // Another key is not affected.
    expect((await call("/limited", { "x-key": "ip2" })).status).toBe(200);

    await sleep(1_100);
    const again = await call("/limited", { "x-key": "ip1" });
    expect(again.status).toBe(200);
    expect(again.headers.get("retry-after")).toBeNull();
  });

  it("skips the check when the key is null", async () => {
    const { call } = testApp(freshBucket(), 1, 60_000);
    for (let i = 0; i < 5; i++) expect((await call("/limited")).status).toBe(200);
  });

  it("assertRateLimit limits after the body is parsed (login per account)", async () => {
    const { call } = testApp(freshBucket(), 2, 60_000);
    expect((await call("/login", {}, { email: "Ann@Example.com" })).status).toBe(200);
    expect((await call("/login", {}, { email: "ann@example.com" })).status).toBe(200);
    const refused = await call("/login", {}, { email: "ANN@example.com" });
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThanOrEqual(60);
    expect((await call("/login", {}, { email: "bob@example.com" })).status).toBe(200);
  });

  it("keeps Retry-After through the real app's error handler and security headers", async () => {
    const app = createApp();
    const bucket = freshBucket();
    app.post(
      "/rate-limit-probe",
      rateLimit(bucket, clientIpKey, () => 1, 60_000),
      (c) => c.json({ ok: true }),
    );
    const probe = () =>
      app.request(
        "https://example.com/rate-limit-probe",
        { method: "POST", headers: { "cf-connecting-ip": "2001:db8:1:2:3:4:5:6" } },
        env,
      );
    expect((await probe()).status).toBe(200);
    const refused = await probe();
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBeOneOf(["60", "61"]);
    expect(refused.headers.get("content-type")).toMatch(/application\/json/);
    expect(refused.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await refused.json<ErrorJson>()).error.code).toBe("rate_limited");
  });
});

describe("client IP keys", () => {
  it("groups IPv6 by /64 and maps IPv4-mapped IPv6 to IPv4", () => {
    expect(ipKey("203.0.113.9")).toBe("203.0.113.9");
    expect(ipKey("::ffff:203.0.113.9")).toBe("203.0.113.9");
    expect(ipKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(ipKey("2001:DB8:1:2::ffff")).toBe("2001:db8:1:2::/64");
    expect(ipKey("2001:db8:1:3::1")).not.toBe(ipKey("2001:db8:1:2::1"));
    expect(ipKey("not an address")).toBe("not an address");
  });

  it("reads CF-Connecting-IP only, and is null without it", async () => {
    const app = new Hono();
    app.get("/", (c) => c.json({ key: clientIpKey(c) }));
    const key = async (headers: Record<string, string>) =>
      (await (await app.request("/", { headers })).json<{ key: string | null }>()).key;
    expect(await key({})).toBeNull();
    expect(await key({ "x-forwarded-for": "198.51.100.1" })).toBeNull();
    expect(await key({ "cf-connecting-ip": "2001:db8::1" })).toBe("2001:db8:0:0::/64");
  });
});

describe("the per-participant frame bucket in the ChatSession", () => {
  const limit = parseConfig(env as unknown as Record<string, unknown>).rateLimits
    .messagesPerSocketPer10s;
  const acks = (socket: TestSocket) => socket.frames.filter((f) => f.type === "ack");
  const limited = (socket: TestSocket) =>
    socket.frames.filter((f) => f.type === "error" && f.code === "rate_limited");
  const storedMessages = (chatId: string) =>
    runInDurableObject(env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chatId)), (_, state) =>
      state.storage.sql
        .exec<{ client_id: string; n: number }>(
          "SELECT client_id, count(*) AS n FROM events WHERE kind = 'message' GROUP BY client_id ORDER BY seq",
        )
        .toArray(),
    );

  /** Sends `count` messages at once; resolves when each got its ack or a rate_limited error. */
  async function flood(socket: TestSocket, prefix: string, count: number) {
    const acked = acks(socket).length;
    const refused = limited(socket).length;
    for (let i = 1; i <= count; i++) {
      socket.send({ type: "message", clientId: `${prefix}${i}`, text: `${prefix} ${i}` });
    }
    const answered = () => acks(socket).length - acked + limited(socket).length - refused;
    await socket.next(() => answered() === count, 10_000);
    return {
      acked: acks(socket)
        .slice(acked)
        .map((f) => f.clientId as string),
      refused: limited(socket).length - refused,
    };
  }

  it("refuses frames over the limit with rate_limited, keeps the socket open, accepts again after refilling; each accepted message is stored once", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));

    const first = await flood(visitor, "m", limit + Math.max(5, Math.ceil(limit / 4)));
    // The bucket starts full: the first `limit` pass; the rest (bar a token refilled while
    // the flood arrives: one per 10 s / limit) are refused.
    expect(first.acked.slice(0, limit)).toEqual(
      Array.from({ length: limit }, (_, i) => `m${i + 1}`),
    );
    expect(first.refused).toBeGreaterThanOrEqual(1);
    expect(limited(visitor)[0]?.message).toMatch(/wait \d+ s/);
    expect(visitor.closed).toBeNull();

    // The agent has a bucket of their own.
    agent.send({ type: "message", clientId: "agent-1", text: "Hello" });
    await agent.nextOfType("ack", (f) => f.clientId === "agent-1");

    // Reconnecting does not refill the bucket (a fresh per-socket bucket would take all
    // `limit`); the new socket's hello is still answered.
    visitor.ws.close();
    const again = await greeted(await visitorSocket(chat.chatId, chat.token), 0);
    const second = await flood(again, "r", limit);
    expect(second.refused).toBeGreaterThanOrEqual(1);
    expect(again.closed).toBeNull();

    // 20 per 10 s refills a token every 500 ms: after ~1 s two more messages pass.
    await sleep(1_100);
    again.send({ type: "message", clientId: "later-1", text: "later 1" });
    again.send({ type: "message", clientId: "later-2", text: "later 2" });
    await again.nextOfType("ack", (f) => f.clientId === "later-1");
    await again.nextOfType("ack", (f) => f.clientId === "later-2");
    expect(again.closed).toBeNull();

    // Exactly the acked messages are stored, each once; refused ones left no trace.
    const stored = await storedMessages(chat.chatId);
    expect(stored.every((row) => row.n === 1)).toBe(true);
    expect(stored.map((row) => row.client_id).sort()).toEqual(
      [...first.acked, "agent-1", ...second.acked, "later-1", "later-2"].sort(),
    );
    chat.console.ws.close();
  });

  it("counts bad frames too", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    for (let i = 0; i < limit; i++) visitor.send("not json");
    visitor.send({ type: "message", clientId: "x", text: "hi" });
    await visitor.next((f) => f.type === "error" && f.code === "rate_limited");
    expect(acks(visitor)).toHaveLength(0);
    expect(visitor.closed).toBeNull();
    chat.console.ws.close();
  });
});
