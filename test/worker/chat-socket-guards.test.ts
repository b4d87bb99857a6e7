/** What chat sockets refuse: bad frames, bad tokens, the wrong agent, ended sessions. */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signVisitorToken } from "../../src/security/tokens.ts";
import {
  acceptedChat,
  agentChatSocket,
  events,
  greeted,
  openSocket,
  visitorSocket,
} from "./helpers.ts";

const KEY = new TextEncoder().encode(env.SESSION_KEY);

describe("bad input on a chat socket", () => {
  it.each([
    ["malformed JSON", "{oops", "bad_frame"],
    ["an unknown frame type", { type: "launch_missiles" }, "bad_frame"],
    ["a message without clientId", { type: "message", text: "hi" }, "bad_frame"],
    ["an empty message", { type: "message", clientId: "e", text: "   " }, "bad_frame"],
    [
      "text over 4,000 characters",
      { type: "message", clientId: "big", text: "x".repeat(4001) },
      "bad_frame",
    ],
    [
      "a frame over 16 KB",
      { type: "message", clientId: "huge", text: "y".repeat(17_000) },
      "frame_too_large",
    ],
    ["a second hello", { type: "hello", lastSeq: 0 }, "already_greeted"],
  ])(
    "answers %s with an error frame; the socket stays usable and nothing is lost",
    async (_, frame, code) => {
      const chat = await acceptedChat();
      const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
      visitor.send({ type: "message", clientId: "kept", text: "accepted before" });
      await visitor.nextOfType("ack", (f) => f.clientId === "kept");
      visitor.send(frame);
      const error = await visitor.nextOfType("error");
      expect(error).toMatchObject({ code, message: expect.any(String) });
      visitor.send({ type: "message", clientId: "after", text: "still works" });
      await visitor.nextOfType("event", (f) => f.clientId === "after");
      expect(
        events(visitor)
          .filter((e) => e.kind === "message")
          .map((e) => e.text),
      ).toEqual(["accepted before", "still works"]);
    },
  );

  it("requires hello before anything else", async () => {
    const chat = await acceptedChat();
    const visitor = await visitorSocket(chat.chatId, chat.token);
    visitor.send({ type: "message", clientId: "early", text: "hi" });
    expect(await visitor.nextOfType("error")).toMatchObject({ code: "hello_required" });
  });

  it("answers binary frames with bad_frame", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.ws.send(new Uint8Array([1, 2, 3]));
    expect(await visitor.nextOfType("error")).toMatchObject({ code: "bad_frame" });
  });

  it("refuses frames after end with chat_ended", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const monitorless = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    monitorless.send({ type: "end" });
    await visitor.nextOfType("event", (f) => f.kind === "ended");
    // The closing handshake may race with a last frame; either way nothing new is stored.
    try {
      visitor.send({ type: "message", clientId: "late", text: "after the end" });
    } catch {
      // already closed
    }
    const rows = await env.DB.prepare(
      "SELECT count(*) AS n FROM messages WHERE chat_id = ?1 AND text = 'after the end'",
    )
      .bind(chat.chatId)
      .first<{ n: number }>();
    expect(rows?.n).toBe(0);
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId));
    const stored = await runInDurableObject(
      stub,
      (_, state) =>
        state.storage.sql
          .exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE text = 'after the end'")
          .one().n,
    );
    expect(stored).toBe(0);
  });
});

describe("visitor socket authentication", () => {
  async function refused(chatId: string, protocols: string) {
    const res = await openSocket(`/api/visitor/chats/${chatId}/ws`, {
      "sec-websocket-protocol": protocols,
    });
    expect(res).toBeInstanceOf(Response);
    return res as Response;
  }

  it("answers the handshake with the parley.v1 subprotocol", async () => {
    const chat = await acceptedChat();
    const { SELF } = await import("cloudflare:test");
    const res = await SELF.fetch(`https://example.com/api/visitor/chats/${chat.chatId}/ws`, {
      headers: {
        upgrade: "websocket",
        origin: "https://example.com",
        "sec-websocket-protocol": `parley.v1, bearer.${chat.token}`,
      },
    });
    expect(res.status).toBe(101);
    expect(res.headers.get("sec-websocket-protocol")).toBe("parley.v1");
    res.webSocket?.accept();
    res.webSocket?.close();
  });

  it("refuses a missing token", async () => {
    const chat = await acceptedChat();
    const res = await refused(chat.chatId, "parley.v1");
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_token" } });
  });

  it("refuses a forged token", async () => {
    const chat = await acceptedChat();
    const forged = await signVisitorToken(
      { sub: "v", chat: chat.chatId },
      new TextEncoder().encode("x".repeat(40)),
      60,
    );
    expect((await refused(chat.chatId, `parley.v1, bearer.${forged}`)).status).toBe(401);
  });

  it("refuses an expired token", async () => {
    const chat = await acceptedChat();
    const expired = await signVisitorToken({ sub: "v", chat: chat.chatId }, KEY, -10);
    expect((await refused(chat.chatId, `parley.v1, bearer.${expired}`)).status).toBe(401);
  });

  it("refuses a token for another chat", async () => {
    const first = await acceptedChat();
    const second = await acceptedChat();
    expect((await refused(first.chatId, `parley.v1, bearer.${second.token}`)).status).toBe(401);
  });

  it("refuses an alg:none token", async () => {
    const chat = await acceptedChat();
    const b64 = (o: unknown) =>
      btoa(JSON.stringify(o)).replaceAll("=", "").replaceAll("+", "-").replaceAll("/", "_");
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64({ sub: "v", chat: chat.chatId, iss: "parley", aud: "visitor", exp: 9999999999 })}.`;
    expect((await refused(chat.chatId, `parley.v1, bearer.${none}`)).status).toBe(401);
  });

  it("answers 404 for a valid token naming an unknown chat", async () => {
    const chatId = crypto.randomUUID();
    const token = await signVisitorToken({ sub: "v", chat: chatId }, KEY, 60);
    const res = await refused(chatId, `parley.v1, bearer.${token}`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "chat_not_found" } });
  });

  it("refuses a foreign Origin and a plain GET", async () => {
    const chat = await acceptedChat();
    const foreign = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
      origin: "https://evil.example",
      "sec-websocket-protocol": `parley.v1, bearer.${chat.token}`,
    });
    expect((foreign as Response).status).toBe(403);
    const { SELF } = await import("cloudflare:test");
    const plain = await SELF.fetch(`https://example.com/api/visitor/chats/${chat.chatId}/ws`);
    expect(plain.status).toBe(426);
  });
});

describe("agent chat sockets", () => {
  it("refuses an agent who was not assigned the chat, and a plain agent asking to monitor", async () => {
    const chat = await acceptedChat();
    const other = await acceptedChat();
    for (const mode of ["participate", "monitor"]) {
      const res = await openSocket(`/api/agent/chats/${chat.chatId}/ws?mode=${mode}`, {
        cookie: other.cookie,
        "sec-websocket-protocol": "parley.v1",
      });
      expect((res as Response).status).toBe(403);
    }
  });

  it("refuses without a session, for an unknown chat and for a bad mode", async () => {
    const chat = await acceptedChat();
    const anonymous = await openSocket(`/api/agent/chats/${chat.chatId}/ws`, {});
    expect((anonymous as Response).status).toBe(401);
    const headers = { cookie: chat.cookie, "sec-websocket-protocol": "parley.v1" };
    const unknown = await openSocket(`/api/agent/chats/${crypto.randomUUID()}/ws`, headers);
    expect((unknown as Response).status).toBe(404);
    const badMode = await openSocket(`/api/agent/chats/${chat.chatId}/ws?mode=spy`, headers);
    expect((badMode as Response).status).toBe(400);
    const noProtocol = await openSocket(`/api/agent/chats/${chat.chatId}/ws`, {
      cookie: chat.cookie,
    });
    expect(await (noProtocol as Response).json()).toMatchObject({
      error: { code: "subprotocol_required" },
    });
    const foreign = { ...headers, origin: "https://evil.example" };
    expect(
      ((await openSocket(`/api/agent/chats/${chat.chatId}/ws`, foreign)) as Response).status,
    ).toBe(403);
    expect(((await openSocket("/api/agent/ws", foreign)) as Response).status).toBe(403);
  });
});

describe("session activity never revives an expired session", () => {
  it("leaves an idle-expired session expired even when its open socket sends frames", async () => {
    const chat = await acceptedChat();
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ?2 WHERE agent_id = ?1")
      .bind(chat.agent.id, Date.now() - 20 * 60_000)
      .run();
    agent.send({ type: "message", clientId: "late", text: "still here" });
    await agent.nextOfType("ack");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const { SELF } = await import("cloudflare:test");
    const me = await SELF.fetch("https://example.com/api/auth/me", {
      headers: { cookie: chat.cookie },
    });
    expect(me.status).toBe(401);
  });
});

describe("the chat's own visitor only", () => {
  it("refuses a validly signed token whose visitor is not the chat's", async () => {
    const chat = await acceptedChat();
    const token = await signVisitorToken({ sub: crypto.randomUUID(), chat: chat.chatId }, KEY, 60);
    const res = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
      "sec-websocket-protocol": `parley.v1, bearer.${token}`,
    });
    expect((res as Response).status).toBe(403);
    expect(await (res as Response).json()).toMatchObject({ error: { code: "forbidden" } });
  });

  it("refuses a visitor socket that does not offer parley.v1", async () => {
    const chat = await acceptedChat();
    const res = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
      "sec-websocket-protocol": `bearer.${chat.token}`,
    });
    expect(await (res as Response).json()).toMatchObject({
      error: { code: "subprotocol_required" },
    });
  });
});
