import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  agentOnline,
  login,
  seedAgent,
  startChat,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const dispatcher = () => env.DISPATCHER.get(env.DISPATCHER.idFromName("global"));

async function onlineAgents(department: string, count: number, maxChats?: number) {
  const agents = [];
  for (let i = 0; i < count; i++) {
    const agent = await seedAgent({ departments: [department], ...(maxChats ? { maxChats } : {}) });
    agents.push({ ...agent, console: await agentOnline(await login(agent.email)) });
  }
  return agents;
}

/** Which of `agents` holds the offer for `chatId`. */
async function offeredTo(agents: Awaited<ReturnType<typeof onlineAgents>>, chatId: string) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const holder = agents.find((a) =>
      a.console.frames.some((f) => f.type === "offer" && f.chatId === chatId),
    );
    if (holder) return holder;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error("no offer");
}

describe("routing", () => {
  it("offers to the least busy agent, ties going to the longest idle", async () => {
    const department = uniqueDepartment();
    const agents = await onlineAgents(department, 2);
    const first = await startChat(department);
    const a = await offeredTo(agents, first.chatId);
    a.console.send({ type: "accept", chatId: first.chatId });
    await a.console.nextOfType("assigned");
    const second = await startChat(department);
    const b = await offeredTo(agents, second.chatId);
    expect(b.id).not.toBe(a.id); // a has one chat, b none
    b.console.send({ type: "accept", chatId: second.chatId });
    await b.console.nextOfType("assigned");
    // Both now have one chat: the tie goes to the one idle longest (a was assigned first).
    const third = await startChat(department);
    expect((await offeredTo(agents, third.chatId)).id).toBe(a.id);
  });

  it("moves an expired offer to the next agent (offer timeout by alarm)", async () => {
    const department = uniqueDepartment();
    const agents = await onlineAgents(department, 2);
    const chat = await startChat(department);
    const first = await offeredTo(agents, chat.chatId);
    const offer = await first.console.nextOfType("offer");
    expect(offer.expiresAt).toBeGreaterThan(Date.now() + 25_000);
    await runInDurableObject(dispatcher(), async (_, state) => {
      state.storage.sql.exec(
        "UPDATE queue SET offer_expires_at = 1 WHERE chat_id = ?",
        chat.chatId,
      );
      // Time passes: the offer and its due item are now in the past.
      state.storage.sql.exec("UPDATE due_items SET at = 1 WHERE item = 'offers'");
    });
    expect(await runDurableObjectAlarm(dispatcher())).toBe(true);
    expect(await first.console.nextOfType("offer_withdrawn")).toMatchObject({
      chatId: chat.chatId,
      reason: "expired",
    });
    const second = agents.find((a) => a.id !== first.id);
    expect(await second?.console.nextOfType("offer", (f) => f.chatId === chat.chatId)).toBeTruthy();
    // Running the same alarm again changes nothing (idempotent).
    await runDurableObjectAlarm(dispatcher());
    expect(second?.console.frames.filter((f) => f.type === "offer_withdrawn")).toHaveLength(0);
  });

  it("moves a refused offer to the next agent and never back", async () => {
    const department = uniqueDepartment();
    const agents = await onlineAgents(department, 2);
    const chat = await startChat(department);
    const first = await offeredTo(agents, chat.chatId);
    first.console.send({ type: "refuse", chatId: chat.chatId });
    const second = agents.find((a) => a.id !== first.id);
    await second?.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    second?.console.send({ type: "refuse", chatId: chat.chatId });
    await second?.console.nextOfType("offer_withdrawn");
    await new Promise((resolve) => setTimeout(resolve, 200));
    const offers = first.console.frames.filter((f) => f.type === "offer");
    expect(offers).toHaveLength(1);
  });

  it("queues when everyone is at capacity, tells the visitor its position, and offers when capacity frees", async () => {
    const department = uniqueDepartment();
    const [agent] = await onlineAgents(department, 1, 1);
    if (!agent) throw new Error("no agent");
    const first = await startChat(department);
    await agent.console.nextOfType("offer", (f) => f.chatId === first.chatId);
    agent.console.send({ type: "accept", chatId: first.chatId });
    await agent.console.nextOfType("assigned");
    const second = await startChat(department);
    const third = await startChat(department);
    expect(second.queuePosition).toBe(1);
    expect(third.queuePosition).toBe(2);
    const queue = await agent.console.nextOfType(
      "queue",
      (f) => (f.chats as unknown[]).length === 2,
    );
    expect((queue.chats as { chatId: string }[]).map((c) => c.chatId)).toEqual([
      second.chatId,
      third.chatId,
    ]);
    expect(agent.console.frames.some((f) => f.type === "offer" && f.chatId === second.chatId)).toBe(
      false,
    );
    // Picking a waiting chat by hand is refused too while at capacity.
    agent.console.send({ type: "accept", chatId: second.chatId });
    expect(await agent.console.nextOfType("error")).toMatchObject({ code: "at_capacity" });

    const visitor = await visitorSocket(third.chatId, third.token);
    visitor.send({ type: "hello", lastSeq: 0 });
    expect(await visitor.nextOfType("queue")).toEqual({ type: "queue", position: 2 });

    // The first chat ends: capacity frees, the oldest waiting chat is offered, the next moves up.
    const firstVisitor = await visitorSocket(first.chatId, first.token);
    firstVisitor.send({ type: "hello", lastSeq: 0 });
    await firstVisitor.nextOfType("ready");
    firstVisitor.send({ type: "end" });
    await agent.console.nextOfType("offer", (f) => f.chatId === second.chatId);
    agent.console.send({ type: "accept", chatId: second.chatId });
    await agent.console.nextOfType("assigned", (f) => f.chatId === second.chatId);
    await visitor.nextOfType("queue", (f) => f.position === 1);
  });

  it("accepts only offered chats, within capacity", async () => {
    const department = uniqueDepartment();
    const [a, b] = await onlineAgents(department, 2);
    if (!a || !b) throw new Error("no agents");
    const chat = await startChat(department);
    const holder = await offeredTo([a, b], chat.chatId);
    const other = holder.id === a.id ? b : a;
    other.console.send({ type: "accept", chatId: chat.chatId });
    expect(await other.console.nextOfType("error")).toMatchObject({ code: "not_offered" });
    other.console.send({ type: "accept", chatId: crypto.randomUUID() });
    await other.console.next(
      () => other.console.frames.filter((f) => f.type === "error").length === 2,
    );
    expect(other.console.frames.some((f) => f.type === "assigned")).toBe(false);
    holder.console.send({ type: "accept", chatId: chat.chatId });
    expect(await holder.console.nextOfType("assigned")).toEqual({
      type: "assigned",
      chatId: chat.chatId,
    });
  });

  it("withdraws an offer when the agent goes away or disconnects", async () => {
    const department = uniqueDepartment();
    const agents = await onlineAgents(department, 2);
    const chat = await startChat(department);
    const first = await offeredTo(agents, chat.chatId);
    const second = agents.find((a) => a.id !== first.id);
    first.console.send({ type: "status", status: "away" });
    expect(await first.console.nextOfType("status", (f) => f.status === "away")).toBeTruthy();
    await second?.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    second?.console.ws.close();
    // Nobody else is online and available: the chat waits, offered to no one.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const queue = await runInDurableObject(dispatcher(), (_, state) =>
      state.storage.sql
        .exec<{ offered_to: string | null }>(
          "SELECT offered_to FROM queue WHERE chat_id = ?",
          chat.chatId,
        )
        .one(),
    );
    expect(queue.offered_to).toBeNull();
  });
});

describe("bad input on the console socket", () => {
  it.each([
    ["malformed JSON", "not json"],
    ["an unknown type", { type: "dance" }],
    ["an invalid status", { type: "status", status: "sleeping" }],
    ["a chat id that is not a UUID", { type: "accept", chatId: "1; DROP TABLE" }],
  ])("answers %s with an error frame and keeps serving", async (_, frame) => {
    const [agent] = await onlineAgents(uniqueDepartment(), 1);
    if (!agent) throw new Error("no agent");
    agent.console.send(frame);
    expect(await agent.console.nextOfType("error")).toMatchObject({ code: "bad_frame" });
    agent.console.send({ type: "status", status: "away" });
    await agent.console.nextOfType("status", (f) => f.status === "away");
  });

  it("refuses the console socket without a session", async () => {
    const { openSocket } = await import("./helpers.ts");
    const res = await openSocket("/api/agent/ws", {});
    expect((res as Response).status).toBe(401);
  });
});

describe("accept when D1 fails", () => {
  it("answers unavailable, keeps the offer, and succeeds once D1 is back", async () => {
    const department = uniqueDepartment();
    const [agent] = await onlineAgents(department, 1);
    if (!agent) throw new Error("no agent");
    const chat = await startChat(department);
    await agent.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    // Make D1 refuse this one assignment.
    await env.DB.prepare(
      `CREATE TRIGGER fail_assign_${chat.chatId.slice(0, 8)} BEFORE UPDATE OF agent_id ON chats
       WHEN NEW.id = '${chat.chatId}' BEGIN SELECT RAISE(ABORT, 'injected failure'); END`,
    ).run();
    agent.console.send({ type: "accept", chatId: chat.chatId });
    expect(await agent.console.nextOfType("error")).toMatchObject({ code: "unavailable" });
    const queued = await runInDurableObject(dispatcher(), (_, state) =>
      state.storage.sql
        .exec<{ offered_to: string | null }>(
          "SELECT offered_to FROM queue WHERE chat_id = ?",
          chat.chatId,
        )
        .toArray(),
    );
    expect(queued).toEqual([{ offered_to: agent.id }]);
    await env.DB.prepare(`DROP TRIGGER fail_assign_${chat.chatId.slice(0, 8)}`).run();
    agent.console.send({ type: "accept", chatId: chat.chatId });
    expect(await agent.console.nextOfType("assigned")).toEqual({
      type: "assigned",
      chatId: chat.chatId,
    });
  });
});

describe("console socket activity", () => {
  it("keeps the agent's session alive, and the socket refuses clients without parley.v1", async () => {
    const agent = await seedAgent({ departments: [uniqueDepartment()] });
    const cookie = await login(agent.email);
    const console = await agentOnline(cookie);
    const stale = Date.now() - 10 * 60_000;
    await env.DB.prepare("UPDATE sessions SET last_seen_at = ?2 WHERE agent_id = ?1")
      .bind(agent.id, stale)
      .run();
    console.send({ type: "status", status: "away" });
    await console.nextOfType("status", (f) => f.status === "away");
    await new Promise((resolve) => setTimeout(resolve, 100));
    const row = await env.DB.prepare("SELECT last_seen_at FROM sessions WHERE agent_id = ?1")
      .bind(agent.id)
      .first<{ last_seen_at: number }>();
    expect(row?.last_seen_at).toBeGreaterThan(stale + 60_000);
    const { openSocket } = await import("./helpers.ts");
    const res = await openSocket("/api/agent/ws", { cookie });
    expect(await (res as Response).json()).toMatchObject({
      error: { code: "subprotocol_required" },
    });
  });
});
