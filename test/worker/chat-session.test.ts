import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { signVisitorToken } from "../../src/security/tokens.ts";
import {
  acceptedChat,
  agentChatSocket,
  openSocket,
  type TestSocket,
  visitorSocket,
} from "./helpers.ts";

const KEY = new TextEncoder().encode(env.SESSION_KEY);

function events(socket: TestSocket) {
  return socket.frames.filter((f) => f.type === "event") as {
    seq: number;
    kind: string;
    text?: string;
  }[];
}

async function greeted(socket: TestSocket, lastSeq = 0) {
  socket.send({ type: "hello", lastSeq });
  await socket.nextOfType("ready");
  return socket;
}

describe("a chat between a visitor and an agent", () => {
  it("delivers messages both ways with acks, to every participant, the sender included", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    await visitor.nextOfType("event", (f) => f.kind === "joined");

    visitor.send({ type: "message", clientId: "v1", text: "Hello, I need help" });
    const ack = await visitor.nextOfType("ack", (f) => f.clientId === "v1");
    const own = await visitor.nextOfType("event", (f) => f.clientId === "v1");
    const seen = await agent.nextOfType("event", (f) => f.kind === "message");
    expect(own).toMatchObject({ seq: ack.seq, kind: "message", text: "Hello, I need help" });
    expect(seen).toEqual(own);
    expect(seen.from).toMatchObject({ role: "visitor" });

    agent.send({ type: "message", clientId: "a1", text: "Hi! How can I help?" });
    const reply = await visitor.nextOfType("event", (f) => f.clientId === "a1");
    expect(reply).toMatchObject({
      kind: "message",
      from: { role: "agent", id: chat.agent.id, name: chat.agent.name },
    });
    expect(reply.seq).toBe((ack.seq as number) + 1);
    chat.console.ws.close();
  });

  it("relays typing to the others without storing it", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    visitor.send({ type: "typing", on: true });
    const typing = await agent.nextOfType("typing");
    expect(typing).toMatchObject({ on: true, from: { role: "visitor" } });
    expect(visitor.frames.some((f) => f.type === "typing")).toBe(false);
    const lastSeq = await runInDurableObject(
      env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId)),
      (_, state) =>
        state.storage.sql.exec<{ n: number }>("SELECT max(seq) AS n FROM events").one().n,
    );
    expect(lastSeq).toBe(1); // only the agent's "joined"
  });

  it("stores a resent message once: the same clientId is acked with the same seq", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "message", clientId: "dup", text: "once" });
    const first = await visitor.nextOfType("ack");
    visitor.ws.close();
    const again = await greeted(await visitorSocket(chat.chatId, chat.token), first.seq as number);
    again.send({ type: "message", clientId: "dup", text: "once" });
    const second = await again.nextOfType("ack");
    expect(second.seq).toBe(first.seq);
    expect(events(again)).toHaveLength(0);
  });

  it("resumes after a drop with lastSeq: no gap, no duplicate", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    for (let i = 1; i <= 3; i++) {
      agent.send({ type: "message", clientId: `a${i}`, text: `before ${i}` });
      await agent.nextOfType("ack", (f) => f.clientId === `a${i}`);
    }
    await visitor.nextOfType("event", (f) => f.clientId === "a3");
    const lastSeen = Math.max(...events(visitor).map((e) => e.seq));
    visitor.ws.close();
    for (let i = 4; i <= 6; i++) {
      agent.send({ type: "message", clientId: `a${i}`, text: `while away ${i}` });
      await agent.nextOfType("ack", (f) => f.clientId === `a${i}`);
    }
    const back = await greeted(await visitorSocket(chat.chatId, chat.token), lastSeen);
    const replayed = events(back).map((e) => e.text);
    expect(replayed).toEqual(["while away 4", "while away 5", "while away 6"]);
    const seqs = events(back).map((e) => e.seq);
    expect(seqs).toEqual([lastSeen + 1, lastSeen + 2, lastSeen + 3]);
  });

  it("ends: everyone gets the ended event, sockets close with 1000, D1 holds the transcript", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    visitor.send({ type: "message", clientId: "v1", text: "thanks, bye" });
    await agent.nextOfType("event", (f) => f.clientId === "v1");
    agent.send({ type: "end" });
    for (const socket of [visitor, agent]) {
      await socket.nextOfType("event", (f) => f.kind === "ended");
      expect((await socket.waitClosed()).code).toBe(1000);
    }
    const chatRow = await env.DB.prepare("SELECT status, ended_at FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ status: string; ended_at: number }>();
    expect(chatRow?.status).toBe("ended");
    const rows = await env.DB.prepare(
      "SELECT seq, kind, text FROM messages WHERE chat_id = ?1 ORDER BY seq",
    )
      .bind(chat.chatId)
      .all();
    expect(rows.results).toEqual([
      { seq: 1, kind: "joined", text: null },
      { seq: 2, kind: "message", text: "thanks, bye" },
      { seq: 3, kind: "ended", text: null },
    ]);
    // The agent's capacity is free again.
    const status = await chat.console.nextOfType("status", (f) => f.activeChats === 0);
    expect(status.activeChats).toBe(0);
  });

  it("replays an ended chat to a late socket, then closes it", async () => {
    const chat = await acceptedChat();
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    agent.send({ type: "end" });
    await agent.waitClosed();
    const late = await visitorSocket(chat.chatId, chat.token);
    late.send({ type: "hello", lastSeq: 0 });
    const ready = await late.nextOfType("ready");
    expect(ready.status).toBe("ended");
    expect(events(late).map((e) => e.kind)).toEqual(["joined", "ended"]);
    expect((await late.waitClosed()).code).toBe(1000);
  });
});

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
    const res = await SELF.fetch(`http://example.com/api/visitor/chats/${chat.chatId}/ws`, {
      headers: {
        upgrade: "websocket",
        origin: "http://example.com",
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
    const plain = await SELF.fetch(`http://example.com/api/visitor/chats/${chat.chatId}/ws`);
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

describe("durability", () => {
  it("rebuilds from storage after eviction: replay is complete and seq continues", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    for (const text of ["one", "two"]) {
      visitor.send({ type: "message", clientId: text, text });
      await visitor.nextOfType("ack", (f) => f.clientId === text);
    }
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId));
    // Eviction waits for in-flight requests, and a standard socket is one: drop it first.
    visitor.ws.close();
    await visitor.waitClosed();
    await evictDurableObject(stub);
    const back = await greeted(await visitorSocket(chat.chatId, chat.token));
    expect(events(back).map((e) => e.text ?? e.kind)).toEqual(["one", "two"]);
    back.send({ type: "message", clientId: "three", text: "three" });
    const ack = await back.nextOfType("ack");
    expect(ack.seq).toBe(3);
  });

  it("retries a failed D1 flush from the alarm, idempotently", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    // Break D1 for this chat: the messages foreign key fails while the chat row is gone.
    const saved = await env.DB.prepare("SELECT * FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<Record<string, unknown>>();
    await env.DB.prepare("DELETE FROM chats WHERE id = ?1").bind(chat.chatId).run();
    visitor.send({ type: "message", clientId: "m", text: "kept while D1 fails" });
    await visitor.nextOfType("ack");
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId));
    const pending = async () =>
      runInDurableObject(
        stub,
        (_, state) =>
          state.storage.sql
            .exec<{ n: number }>("SELECT count(*) AS n FROM events WHERE flushed = 0")
            .one().n,
      );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pending()).toBe(1);
    // D1 is back; time passes until the retry is due.
    const columns = Object.keys(saved ?? {});
    await env.DB.prepare(
      `INSERT INTO chats (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`,
    )
      .bind(...Object.values(saved ?? {}))
      .run();
    await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("UPDATE due_items SET at = 0"),
    );
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await pending()).toBe(0);
    await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("UPDATE events SET flushed = 0"),
    );
    await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("INSERT INTO due_items (item, at) VALUES ('flush', 0)"),
    );
    await runDurableObjectAlarm(stub);
    const rows = await env.DB.prepare(
      "SELECT text FROM messages WHERE chat_id = ?1 AND kind = 'message'",
    )
      .bind(chat.chatId)
      .all();
    expect(rows.results).toEqual([{ text: "kept while D1 fails" }]);
  });
});

describe("monitoring and identities", () => {
  it("lets a supervisor monitor silently: sees everything, sends nothing, announces nothing", async () => {
    const chat = await acceptedChat();
    const { login, seedAgent } = await import("./helpers.ts");
    const supervisor = await seedAgent({ role: "supervisor" });
    const cookie = await login(supervisor.email);
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "message", clientId: "v1", text: "hello?" });
    await visitor.nextOfType("ack");
    const monitor = await greeted(await agentChatSocket(chat.chatId, cookie, "monitor"));
    expect(events(monitor).map((e) => e.text)).toEqual(["hello?"]);
    monitor.send({ type: "message", clientId: "m1", text: "I should not be heard" });
    expect(await monitor.nextOfType("error")).toMatchObject({ code: "read_only" });
    monitor.send({ type: "end" });
    await monitor.next(
      (f) => f.type === "error" && monitor.frames.filter((g) => g.type === "error").length === 2,
    );
    expect(events(visitor).some((e) => e.kind === "joined" || e.kind === "ended")).toBe(false);
  });

  it("shows the visitor's pre-chat name as the sender of their messages", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "message", clientId: "n", text: "hi" });
    const event = await visitor.nextOfType("event", (f) => f.clientId === "n");
    expect(event.from).toEqual({ role: "visitor", id: chat.visitorId, name: "Vera Visitor" });
  });

  it("keeps the agent's session alive while they work in a chat socket", async () => {
    const chat = await acceptedChat();
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    const stale = Date.now() - 10 * 60_000;
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ?2 WHERE agent_id = ?1")
      .bind(chat.agent.id, stale)
      .run();
    agent.send({ type: "typing", on: true });
    agent.send({ type: "message", clientId: "busy", text: "working on it" });
    await agent.nextOfType("ack");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const row = await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE agent_id = ?1")
      .bind(chat.agent.id)
      .first<{ last_seen_at: number }>();
    expect(row?.last_seen_at).toBeGreaterThan(stale + 60_000);
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
    const me = await SELF.fetch("http://example.com/api/auth/me", {
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
