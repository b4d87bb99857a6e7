/**
 * An ended chat's own copy in its ChatSession (events, participants, meta) does not outlive
 * D1's: a transcript deletion and the retention purge erase it at once, and every chat erases
 * it itself once D1 holds the whole chat and no visitor token can still ask for a replay.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { runScheduled } from "../../worker/scheduled.ts";
import {
  acceptedChat,
  agentChatSocket,
  apiRequest,
  auditRowsOf,
  greeted,
  login,
  openSocket,
  seedAgent,
  visitorSocket,
} from "./helpers.ts";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const stubOf = (chatId: string) => env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chatId));

/** What the chat's ChatSession still keeps. */
function kept(chatId: string) {
  return runInDurableObject(stubOf(chatId), async (_, state) => ({
    events: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM events").one().n,
    meta: state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM meta").one().n,
    participants: state.storage.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM participants")
      .one().n,
    due: state.storage.sql
      .exec<{ item: string; at: number }>("SELECT item, at FROM due_items ORDER BY item")
      .toArray(),
    alarm: await state.storage.getAlarm(),
  }));
}

/** A chat with a message each way, ended by its agent; waits until D1 holds all of it. */
async function endedChat() {
  const chat = await acceptedChat();
  const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
  const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
  visitor.send({ type: "message", clientId: "v1", text: "my order is late" });
  await agent.nextOfType("event", (e) => e.clientId === "v1");
  const before = Date.now();
  agent.send({ type: "end" });
  await agent.waitClosed();
  for (let i = 0; i < 100; i++) {
    const row = await env.DB.prepare("SELECT status FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ status: string }>();
    const due = (await kept(chat.chatId)).due.map((d) => d.item);
    if (row?.status === "ended" && due.includes("erase") && !due.includes("finalize")) {
      return { ...chat, endedAround: [before, Date.now()] as const };
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the chat's end never reached D1");
}

/** Refused upgrade of the visitor's socket. */
async function visitorRefused(chatId: string, token: string): Promise<Response> {
  const res = await openSocket(`/api/visitor/chats/${chatId}/ws`, {
    "sec-websocket-protocol": `parley.v1, bearer.${token}`,
  });
  if (!(res instanceof Response)) throw new Error("the socket opened");
  return res;
}

describe("an ended chat's own copy", () => {
  it("is erased by its alarm once no visitor token can ask for it (VISITOR_TOKEN_HOURS)", async () => {
    const chat = await endedChat();
    const before = await kept(chat.chatId);
    expect(before).toMatchObject({ events: 3, meta: 1 });
    const erase = before.due.find((d) => d.item === "erase");
    // Ended at endedAround; erased two hours (the default token life) after.
    expect(erase?.at).toBeGreaterThanOrEqual(chat.endedAround[0] + 2 * HOUR);
    expect(erase?.at).toBeLessThanOrEqual(chat.endedAround[1] + 2 * HOUR);
    expect(before.alarm).toBeLessThanOrEqual(erase?.at ?? 0);
    // Until then a late socket still gets the replay.
    const late = await visitorSocket(chat.chatId, chat.token);
    late.send({ type: "hello", lastSeq: 0 });
    expect((await late.nextOfType("ready")).status).toBe("ended");

    await runInDurableObject(stubOf(chat.chatId), (_, state) =>
      state.storage.sql.exec("UPDATE due_items SET at = 0 WHERE item = 'erase'"),
    );
    expect(await runDurableObjectAlarm(stubOf(chat.chatId))).toBe(true);
    expect(await kept(chat.chatId)).toEqual({
      events: 0,
      meta: 0,
      participants: 0,
      due: [],
      alarm: null,
    });
    // D1's transcript is untouched, and the object answers like an unknown chat.
    const messages = await env.DB.prepare("SELECT count(*) AS n FROM messages WHERE chat_id = ?1")
      .bind(chat.chatId)
      .first<{ n: number }>();
    expect(messages?.n).toBe(3);
    const refused = await visitorRefused(chat.chatId, chat.token);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ error: { code: "chat_not_found" } });
  });

  it("waits, an hour at a time, while D1 does not hold every event yet", async () => {
    const chat = await endedChat();
    await runInDurableObject(stubOf(chat.chatId), (_, state) => {
      // As if the last flush had failed: one event not yet in D1.
      state.storage.sql.exec("UPDATE event_log_state SET flushed_through = flushed_through - 1");
      state.storage.sql.exec("UPDATE due_items SET at = 0 WHERE item = 'erase'");
    });
    const started = Date.now();
    await runDurableObjectAlarm(stubOf(chat.chatId));
    const after = await kept(chat.chatId);
    expect(after.events).toBe(3);
    const erase = after.due.find((d) => d.item === "erase");
    expect(erase?.at).toBeGreaterThanOrEqual(started + HOUR);
  });

  it("is never erased while the chat is open", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "message", clientId: "o1", text: "still here" });
    await visitor.nextOfType("ack", (f) => f.clientId === "o1");
    expect(await stubOf(chat.chatId).erase()).toBe(false);
    expect(await kept(chat.chatId)).toMatchObject({ events: 1, meta: 1 });
    visitor.send({ type: "message", clientId: "o2", text: "and talking" });
    expect((await visitor.nextOfType("ack", (f) => f.clientId === "o2")).seq).toBe(2);
  });

  it("goes with its transcript when an admin deletes it, and the audit row says so", async () => {
    const chat = await endedChat();
    const admin = await seedAgent({ groups: ["administrators"] });
    const cookie = await login(admin.email);
    const res = await apiRequest("DELETE", `/api/transcripts/${chat.chatId}`, cookie);
    expect(res.status).toBe(200);
    expect(await kept(chat.chatId)).toMatchObject({ events: 0, meta: 0, due: [], alarm: null });
    expect((await visitorRefused(chat.chatId, chat.token)).status).toBe(404);
    const [row] = await auditRowsOf(admin.id, "transcript.delete");
    expect(row).toMatchObject({ outcome: "success", details: { copyErased: true, events: 3 } });
    // Its own erase alarm, had it been running meanwhile, finds nothing and leaves no alarm.
    await runInDurableObject(stubOf(chat.chatId), async (_, state) => {
      state.storage.sql.exec("INSERT INTO due_items (item, at) VALUES ('erase', 0)");
      await state.storage.setAlarm(Date.now() + 60_000);
    });
    expect(await runDurableObjectAlarm(stubOf(chat.chatId))).toBe(true);
    expect(await kept(chat.chatId)).toMatchObject({ events: 0, due: [], alarm: null });
  });

  it("goes with its transcript in the retention purge, counted in the purge's audit row", async () => {
    const chat = await endedChat();
    // Ended 40 days ago, as far as D1 knows; the object's own erase alarm is far off.
    await env.DB.prepare("UPDATE chats SET ended_at = ?2 WHERE id = ?1")
      .bind(chat.chatId, Date.now() - 40 * DAY)
      .run();
    expect((await kept(chat.chatId)).events).toBe(3);
    const now = Date.now();
    await runScheduled({ ...env, TRANSCRIPT_RETENTION_DAYS: "30" }, now);
    expect(await kept(chat.chatId)).toMatchObject({ events: 0, meta: 0, due: [] });
    const rows = await env.DB.prepare(
      "SELECT details FROM audit_log WHERE action = 'retention.purge' AND at = ?1",
    )
      .bind(now)
      .all<{ details: string }>();
    const details = JSON.parse(rows.results[0]?.details ?? "{}") as Record<string, number>;
    expect(details.chats).toBeGreaterThanOrEqual(1);
    expect(details.copiesErased).toBe(details.chats);
  });
});
