/**
 * Chat start with non-default settings: the bot check (CHAT_START_CAPTCHA=always) and visitor
 * identity verification (IDENTITY_SECRET, IDENTITY_REQUIRED). The worker's bindings are fixed
 * per run, so these requests go through `createApp().fetch` with the settings added to the
 * real bindings (same D1, Durable Objects and audit log), like the fail-closed config tests.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { base64url, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { solveAltchaChallenge } from "../../src/client/altcha.ts";
import type { ChatCaptchaChallenge } from "../../src/protocol/http.ts";
import { createApp } from "../../worker/app.ts";
import {
  agentOnline,
  apiRequest,
  login,
  ORIGIN,
  postJson,
  seedAgent,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const IDENTITY_SECRET = "worker-tests-identity-secret-0123456789";
const key = new TextEncoder().encode(IDENTITY_SECRET);

type Settings = Record<string, string>;

/** `POST /api/visitor/chats` with `settings` on top of the test bindings. */
function startWith(settings: Settings, body: Record<string, unknown>, ip = "192.0.2.10") {
  return createApp().fetch(
    new Request(`${ORIGIN}/api/visitor/chats`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": ip },
      body: JSON.stringify(body),
    }),
    { ...env, ...settings },
    createExecutionContext(),
  );
}

async function errorOf(res: Response) {
  return (await res.json<{ error: { code: string; details?: Record<string, unknown> } }>()).error;
}

/** A department with an agent online on the Dispatcher socket. */
async function staffed() {
  const department = uniqueDepartment();
  const agent = await seedAgent({ departments: [department] });
  const console = await agentOnline(await login(agent.email));
  return { department, console };
}

function identity(
  claims: Record<string, unknown>,
  options: { exp?: number | string; alg?: string; secret?: Uint8Array } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? "HS256", typ: "JWT" })
    .setExpirationTime(options.exp ?? "10m")
    .sign(options.secret ?? key);
}

describe("CHAT_START_CAPTCHA=always", () => {
  const always = { CHAT_START_CAPTCHA: "always" };

  it("answers 403 captcha_required with a challenge, then takes the solution once", async () => {
    const { department, console } = await staffed();
    const first = await startWith(always, { department, name: "Bo" });
    expect(first.status).toBe(403);
    const required = await errorOf(first);
    expect(required.code).toBe("captcha_required");
    const captcha = required.details?.captcha as ChatCaptchaChallenge;
    expect(captcha.provider).toBe("altcha");
    if (captcha.provider !== "altcha") return;
    const solution = await solveAltchaChallenge(captcha.challenge);

    const solved = await startWith(always, { department, name: "Bo", captcha: solution });
    expect(solved.status).toBe(201);
    const { chatId } = await solved.json<{ chatId: string }>();
    await console.nextOfType("offer", (f) => f.chatId === chatId);

    const replayed = await startWith(always, { department, name: "Bo", captcha: solution });
    expect(replayed.status).toBe(403);
    const refused = await errorOf(replayed);
    expect(refused.code).toBe("captcha_invalid");
    // A fresh challenge comes with the refusal, so the widget can try again at once.
    expect(refused.details?.captcha).toMatchObject({ provider: "altcha" });
    console.ws.close();
  });

  it.each([
    ["garbage", "not-a-solution"],
    ["a forged payload", btoa(JSON.stringify({ challenge: {}, solution: { counter: 1 } }))],
  ])("refuses %s with 403 captcha_invalid", async (_, captcha) => {
    const res = await startWith(always, { captcha });
    expect(res.status).toBe(403);
    expect((await errorOf(res)).code).toBe("captcha_invalid");
  });

  it("still refuses a wrong solution to a real challenge", async () => {
    const res = await startWith(always, {});
    const captcha = (await errorOf(res)).details?.captcha as ChatCaptchaChallenge;
    if (captcha.provider !== "altcha") throw new Error("expected altcha");
    const wrong = btoa(
      JSON.stringify({ challenge: captcha.challenge, solution: { counter: 0, derivedKey: "00" } }),
    );
    const refused = await startWith(always, { captcha: wrong });
    expect((await errorOf(refused)).code).toBe("captcha_invalid");
  });

  it("is off by default: no CAPTCHA asked", async () => {
    const { department, console } = await staffed();
    expect((await postJson("/api/visitor/chats", { department })).status).toBe(201);
    console.ws.close();
  });
});

describe("visitor identity", () => {
  const withSecret = { IDENTITY_SECRET };

  it("marks a valid identity verified, with its masked name and email over typed ones", async () => {
    const { department, console } = await staffed();
    const jwt = await identity({
      sub: "customer-42",
      name: "Ada 4111 1111 1111 1111",
      email: "ada@example.com",
    });
    const res = await startWith(withSecret, {
      department,
      name: "Typed Name",
      email: "typed@example.com",
      identity: jwt,
    });
    expect(res.status).toBe(201);
    const chat = await res.json<{ chatId: string; token: string; visitorId: string }>();

    const offer = await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer.visitor).toEqual({
      name: "Ada •••• •••• •••• 1111",
      email: "ada@example.com",
      department,
      pageUrl: null,
      verified: true,
      segments: [],
    });
    const row = await env.DB.prepare(
      "SELECT visitor_id, visitor_name, visitor_email, identity_sub FROM chats WHERE id = ?1",
    )
      .bind(chat.chatId)
      .first();
    expect(row).toEqual({
      visitor_id: chat.visitorId,
      visitor_name: "Ada •••• •••• •••• 1111",
      visitor_email: "ada@example.com",
      identity_sub: "customer-42",
    });

    // The same person gets the same visitor id in every chat.
    const again = await startWith(withSecret, { department, identity: jwt });
    expect((await again.json<{ visitorId: string }>()).visitorId).toBe(chat.visitorId);
    // The chat token works on the real socket.
    const socket = await visitorSocket(chat.chatId, chat.token);
    socket.ws.close();
    console.ws.close();
  });

  it("leaves an anonymous visitor unverified", async () => {
    const { department, console } = await staffed();
    const res = await startWith(withSecret, { department, name: "Anon" });
    const { chatId } = await res.json<{ chatId: string }>();
    const offer = await console.nextOfType("offer", (f) => f.chatId === chatId);
    expect(offer.visitor).toMatchObject({ name: "Anon", verified: false });
    const row = await env.DB.prepare("SELECT identity_sub FROM chats WHERE id = ?1")
      .bind(chatId)
      .first();
    expect(row).toEqual({ identity_sub: null });
    console.ws.close();
  });

  it.each([
    ["the wrong key", () => identity({ sub: "u" }, { secret: new Uint8Array(40) }), "invalid"],
    [
      "an expired identity",
      () => identity({ sub: "u" }, { exp: Math.floor(Date.now() / 1000) - 30 }),
      "expired",
    ],
    [
      "alg none",
      async () => {
        const part = (v: unknown) => base64url.encode(JSON.stringify(v));
        return `${part({ alg: "none" })}.${part({ sub: "u", exp: 9_999_999_999 })}.`;
      },
      "invalid",
    ],
    ["HS384", () => identity({ sub: "u" }, { alg: "HS384" }), "invalid"],
    ["no sub", () => identity({ name: "Ada" }), "invalid"],
    ["garbage", async () => "garbage", "invalid"],
  ])("refuses %s with 400 invalid_identity, never an unverified chat", async (_, make, reason) => {
    const department = uniqueDepartment();
    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 20}`;
    const res = await startWith(withSecret, { department, identity: await make() }, ip);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_identity", details: { reason } });
    const chats = await env.DB.prepare("SELECT count(*) AS n FROM chats WHERE department_id = ?1")
      .bind(department)
      .first<{ n: number }>();
    expect(chats?.n).toBe(0);
    const audited = await env.DB.prepare(
      "SELECT outcome, details FROM audit_log WHERE action = 'visitor.identity' AND ip = ?1",
    )
      .bind(ip)
      .all();
    expect(audited.results).toContainEqual({
      outcome: "failure",
      details: JSON.stringify({ reason }),
    });
  });

  it("refuses an identity when no IDENTITY_SECRET is configured", async () => {
    const res = await postJson("/api/visitor/chats", { identity: await identity({ sub: "u" }) });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "invalid_identity",
      details: { reason: "not_configured" },
    });
  });

  it("refuses an identity JWT over 4 KB as invalid input", async () => {
    const res = await startWith(withSecret, { identity: "a".repeat(4097) });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("invalid_request");
  });

  it("with IDENTITY_REQUIRED=true, refuses a chat without an identity (401 identity_required)", async () => {
    const required = { IDENTITY_SECRET, IDENTITY_REQUIRED: "true" };
    const { department, console } = await staffed();
    const anonymous = await startWith(required, { department, name: "Anon" });
    expect(anonymous.status).toBe(401);
    expect((await errorOf(anonymous)).code).toBe("identity_required");
    const invalid = await startWith(required, { department, identity: "x.y.z" });
    expect((await errorOf(invalid)).code).toBe("invalid_identity");
    const valid = await startWith(required, {
      department,
      identity: await identity({ sub: "customer-7" }),
    });
    expect(valid.status).toBe(201);
    console.ws.close();
  });

  it("IDENTITY_REQUIRED=true without IDENTITY_SECRET fails closed (503 config_invalid)", async () => {
    const res = await startWith({ IDENTITY_REQUIRED: "true" }, {});
    expect(res.status).toBe(503);
    expect((await errorOf(res)).code).toBe("config_invalid");
  });

  it("a ban on a verified visitor's id holds across chats, whatever they send", async () => {
    const { department, console } = await staffed();
    const sub = `customer-${crypto.randomUUID()}`;
    const first = await startWith(withSecret, { department, identity: await identity({ sub }) });
    const { visitorId } = await first.json<{ visitorId: string }>();
    const manager = await seedAgent({ groups: [], grants: ["bans.manage"] });
    const cookie = await login(manager.email);
    const banned = await apiRequest("POST", "/api/bans", cookie, {
      kind: "visitor",
      value: visitorId,
      reason: "abusive",
    });
    expect(banned.status).toBe(201);
    // A new identity of the same person, from another IP, with a random visitorId.
    const fresh = await identity({ sub, name: "Someone Else" });
    const again = await startWith(
      withSecret,
      { department, identity: fresh, visitorId: crypto.randomUUID() },
      "192.0.2.200",
    );
    expect(await again.json()).toEqual({ offline: true, reason: "no_agents" });
    console.ws.close();
  });
});
