import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  SELF,
} from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { busyFlushDelay } from "../../durable-objects/chat-persistence.ts";
import { EventLog } from "../../durable-objects/event-log.ts";
import type { HealthResponse } from "../../worker/routes/health.ts";
import {
  acceptedChat,
  agentChatSocket,
  events,
  flushedThrough,
  greeted,
  ORIGIN,
  visitorSocket,
} from "./helpers.ts";

const _KEY = new TextEncoder().encode(env.SESSION_KEY);

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
            .exec<{ n: number }>(
              `SELECT count(*) AS n FROM events
               WHERE seq > (SELECT flushed_through FROM event_log_state)`,
            )
            .one().n,
      );
    const backlog = async () =>
      ((await (await SELF.fetch(`${ORIGIN}/healthz`)).json()) as HealthResponse).chatBacklog;
    const before = await backlog();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await pending()).toBe(1);
    // /healthz shows the chat waiting for D1, and the time it began.
    const during = await backlog();
    expect(during).toEqual({
      chats: (before?.chats ?? 0) + 1,
      events: (before?.events ?? 0) + 1,
      oldestSince: expect.any(Number),
    });
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
    expect(await backlog()).toEqual(before);
    await runInDurableObject(stub, (_, state) =>
      state.storage.sql.exec("UPDATE event_log_state SET flushed_through = 0"),
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

  it("drops a due item it no longer schedules (an older version's session check) instead of firing forever", async () => {
    const chat = await acceptedChat();
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId));
    await runInDurableObject(stub, async (_, state) => {
      state.storage.sql.exec("DELETE FROM due_items");
      state.storage.sql.exec("INSERT INTO due_items (item, at) VALUES ('sessions', 0)");
      // Set ahead, so that only runDurableObjectAlarm runs it (not the runtime, racing it).
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    const left = await runInDurableObject(stub, async (_, state) => ({
      items: state.storage.sql.exec("SELECT item FROM due_items").toArray(),
      alarm: await state.storage.getAlarm(),
    }));
    expect(left).toEqual({ items: [], alarm: null });
  });

  it("copies a quiet chat's message to D1 at once and a busy chat's at most every 2 seconds", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    // Each message's text is unique in this chat: it names the row in D1.
    const inD1 = async (text: string) =>
      (await env.DB.prepare("SELECT 1 FROM messages WHERE chat_id = ?1 AND text = ?2")
        .bind(chat.chatId, text)
        .first()) !== null;
    // Quiet for more than 2 seconds (the chat's own start events were flushed long ago).
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    visitor.send({ type: "message", clientId: "quiet", text: "first" });
    const quiet = await visitor.nextOfType("ack", (f) => f.clientId === "quiet");
    await flushedThrough(chat.chatId, Number(quiet.seq), 900);
    // Flushed just now: the next two wait for the busy pace and go to D1 together.
    visitor.send({ type: "message", clientId: "busy1", text: "second" });
    visitor.send({ type: "message", clientId: "busy2", text: "third" });
    const busy = await visitor.nextOfType("ack", (f) => f.clientId === "busy2");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect([await inD1("second"), await inD1("third")]).toEqual([false, false]);
    await flushedThrough(chat.chatId, Number(busy.seq), 5_000);
    expect([await inD1("second"), await inD1("third")]).toEqual([true, true]);
  }, 15_000);

  it("spreads a busy chat's next D1 copy over 2 to 3 seconds, so chats in step drift apart", () => {
    const delays = Array.from({ length: 400 }, busyFlushDelay);
    expect(delays.every((ms) => Number.isInteger(ms) && ms >= 2_000 && ms <= 3_000)).toBe(true);
    // Drawn across the whole second, not a fixed pause: each quarter of it is hit.
    const quarters = new Set(delays.map((ms) => Math.min(3, Math.floor((ms - 2_000) / 250))));
    expect(quarters).toEqual(new Set([0, 1, 2, 3]));
  });

  it("keeps a busy chat's safety alarm ahead of it while the timed flushes keep D1 current", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId));
    const safety = () =>
      runInDurableObject(stub, async (_, state) => ({
        at: state.storage.sql
          .exec<{ at: number }>("SELECT at FROM due_items WHERE item = 'flush'")
          .toArray()[0]?.at,
        alarm: await state.storage.getAlarm(),
      }));
    visitor.send({ type: "message", clientId: "b0", text: "busy 0" });
    await visitor.nextOfType("ack", (f) => f.clientId === "b0");
    let first = await safety();
    for (let i = 0; first.at === undefined && i < 50; i++) first = await safety();
    expect(first.at).toBeGreaterThan(Date.now() + 8_000);
    // A message a second for 7 seconds: the timed flush 2 seconds apart reach the point where
    // the alarm would fire within 5 seconds, and move it on instead.
    let last = "b0";
    for (let i = 1; i <= 7; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      last = `b${i}`;
      visitor.send({ type: "message", clientId: last, text: `busy ${i}` });
    }
    const ack = await visitor.nextOfType("ack", (f) => f.clientId === last);
    await flushedThrough(chat.chatId, Number(ack.seq), 5_000);
    const later = await safety();
    expect(later.at).toBeGreaterThan((first.at ?? 0) + 3_000);
    expect(later.alarm).toBe(later.at);
  }, 20_000);

  it("takes over an older object's per-row flushed flags as its D1 watermark", async () => {
    const stub = env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName("legacy-event-log"));
    const unflushed = await runInDurableObject(stub, (_, state) => {
      const sql = state.storage.sql;
      // The layout objects had before the watermark: events 1–2 in D1, 3–4 not yet.
      sql.exec("DROP TABLE IF EXISTS events");
      sql.exec("DROP TABLE IF EXISTS event_log_state");
      sql.exec(`CREATE TABLE events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL,
        kind TEXT NOT NULL, from_role TEXT NOT NULL, from_id TEXT, from_name TEXT, text TEXT,
        client_id TEXT, reason TEXT, flushed INTEGER NOT NULL DEFAULT 0, form TEXT)`);
      for (const [seq, flushed] of [
        [1, 1],
        [2, 1],
        [3, 0],
        [4, 0],
      ]) {
        sql.exec(
          "INSERT INTO events (seq, at, kind, from_role, text, flushed) VALUES (?, 0, 'message', 'visitor', ?, ?)",
          seq,
          `m${seq}`,
          flushed,
        );
      }
      const log = new EventLog(sql);
      const pending = log.unflushed(10).map((e) => e.text);
      log.markFlushed(4);
      // A later start reads the watermark, not the old flags.
      return { pending, after: new EventLog(sql).unflushedCount(), lastSeq: log.lastSeq };
    });
    expect(unflushed).toEqual({ pending: ["m3", "m4"], after: 0, lastSeq: 4 });
  });
});

describe("monitoring and identities", () => {
  it("lets a supervisor monitor silently: sees everything, sends nothing, announces nothing", async () => {
    const chat = await acceptedChat();
    const { login, seedAgent } = await import("./helpers.ts");
    const supervisor = await seedAgent({
      groups: ["supervisors"],
      departments: [chat.department],
    });
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
