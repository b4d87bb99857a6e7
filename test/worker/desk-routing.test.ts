/**
 * The desk's routing rules inside the real Dispatcher (with D1): strategies, per-department
 * offer timeouts, overflow, capacity changes, and chats requeued when their agent goes
 * offline. Time passes by rewriting the Dispatcher's SQLite rows and running its alarm.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { setAgentMaxChats } from "../../src/store/routing-rules.ts";
import {
  agentChatSocket,
  agentOnline,
  apiRequest,
  greeted,
  login,
  seedAgent,
  startChat,
  type TestSocket,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const dispatcher = () => env.DISPATCHER.get(env.DISPATCHER.idFromName("global"));

type Chat = Awaited<ReturnType<typeof startChat>>;
interface Staffed {
  id: string;
  label: string;
  cookie: string;
  console: TestSocket;
}

/**
 * Agents online in `departments`, one per capacity, labelled A, B, C… in id order: agents
 * who never had a chat tie on load and idle time and go by id, so the order is fixed.
 */
async function staff(departments: string[], capacities: number[]): Promise<Staffed[]> {
  const seeded = [];
  for (const _ of capacities) seeded.push(await seedAgent({ departments }));
  seeded.sort((a, b) => a.id.localeCompare(b.id));
  const agents = [];
  for (const [i, agent] of seeded.entries()) {
    await setAgentMaxChats(env.DB, agent.id, capacities[i] ?? null);
    const cookie = await login(agent.email);
    const label = String.fromCharCode(65 + i);
    agents.push({ id: agent.id, label, cookie, console: await agentOnline(cookie) });
  }
  return agents;
}

/** Sets a department's rules the way an administrator does: through the routing API. */
async function putRule(department: string, rule: Record<string, unknown>): Promise<void> {
  const manager = await seedAgent({ groups: [], grants: ["routing.manage"] });
  const res = await apiRequest(
    "PUT",
    `/api/routing/rules/${department}`,
    await login(manager.email),
    rule,
  );
  expect(res.status, await res.clone().text()).toBe(200);
}

const offersOf = (agent: Staffed, chatId: string) =>
  agent.console.frames.filter((f) => f.type === "offer" && f.chatId === chatId);

/** The one agent offered `chatId`, once it has the offer. */
async function offeredTo(agents: Staffed[], chatId: string): Promise<Staffed> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const holders = agents.filter((agent) => offersOf(agent, chatId).length > 0);
    if (holders.length > 1) throw new Error(`offered to ${holders.map((a) => a.label)}`);
    if (holders[0]) return holders[0];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no offer for ${chatId}`);
}

async function accept(agent: Staffed, chatId: string): Promise<void> {
  agent.console.send({ type: "accept", chatId });
  await agent.console.nextOfType("assigned", (f) => f.chatId === chatId);
}

/** A new chat, offered to one of `agents`, who accepts it. */
async function allocate(agents: Staffed[], department: string) {
  const chat = await startChat(department);
  const holder = await offeredTo(agents, chat.chatId);
  await accept(holder, chat.chatId);
  return { chat, holder };
}

/** The first frame of `type` received after the socket had `seen` frames. */
function frameAfter(
  socket: TestSocket,
  seen: number,
  type: string,
  extra = (_: Record<string, unknown>) => true,
) {
  return socket.next((f) => socket.frames.indexOf(f) >= seen && f.type === type && extra(f));
}

/** The visitor ends `chat`; waits until its agent's load went down. */
async function endChat(chat: Chat, agent: Staffed): Promise<void> {
  const seen = agent.console.frames.length;
  const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
  visitor.send({ type: "end" });
  await frameAfter(agent.console, seen, "status");
}

/** Nobody was offered `chatId`, and it waits in every agent's queue list. */
async function waitsUnoffered(agents: Staffed[], chatId: string): Promise<void> {
  for (const agent of agents) {
    await agent.console.nextOfType("queue", (f) =>
      (f.chats as { chatId: string }[]).some((c) => c.chatId === chatId),
    );
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  for (const agent of agents) expect(offersOf(agent, chatId)).toEqual([]);
}

/** Runs the Dispatcher's alarm with `item` due now. */
async function runDue(item: string): Promise<void> {
  await runInDurableObject(dispatcher(), (_, state) => {
    state.storage.sql.exec("INSERT OR REPLACE INTO due_items (item, at) VALUES (?, 1)", item);
  });
  expect(await runDurableObjectAlarm(dispatcher())).toBe(true);
}

function dispatcherSql<T extends Record<string, SqlStorageValue> = Record<string, SqlStorageValue>>(
  query: string,
  ...bindings: SqlStorageValue[]
): Promise<T[]> {
  return runInDurableObject(dispatcher(), (_, state) =>
    state.storage.sql.exec<T>(query, ...bindings).toArray(),
  );
}

/** Time passes for the waiting chat: it entered its department's queue 11 s ago. */
async function waitedEleven(chatId: string): Promise<void> {
  await dispatcherSql(
    "UPDATE queue SET entered_at = ? WHERE chat_id = ?",
    Date.now() - 11_000,
    chatId,
  );
}

async function queuedIn(chatId: string): Promise<string | undefined> {
  const rows = await dispatcherSql<{ department: string }>(
    "SELECT department FROM queue WHERE chat_id = ?",
    chatId,
  );
  return rows[0]?.department;
}

async function systemAudit(action: string, target: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor_type, actor_id, department, details FROM audit_log WHERE action = ?1 AND target = ?2 ORDER BY id",
  )
    .bind(action, target)
    .all<{ actor_type: string; actor_id: null; department: string; details: string }>();
  return results.map((row) => ({ ...row, details: JSON.parse(row.details) }));
}

async function chatRow(chatId: string) {
  return env.DB.prepare(
    "SELECT status, agent_id, department_id, started_department_id FROM chats WHERE id = ?1",
  )
    .bind(chatId)
    .first<Record<string, string | null>>();
}

describe("strategies", () => {
  // Capacities A 1, B 3, C 2. Three chats go A, B, C under either strategy; then C's chat
  // ends, leaving C the least busy while B was assigned longest ago.
  it.each([
    ["least_busy (no rules)", null, ["C", "B", "C", "B"]],
    ["round_robin", "round_robin", ["B", "C", "B", "C"]],
  ])("%s offers in the expected order, skipping agents at capacity", async (_, strategy, rest) => {
    const department = uniqueDepartment();
    const agents = await staff([department], [1, 3, 2]);
    if (strategy) await putRule(department, { strategy });
    const first = [];
    for (let i = 0; i < 3; i++) first.push(await allocate(agents, department));
    expect(first.map(({ holder }) => holder.label)).toEqual(["A", "B", "C"]);
    const [, , c] = first as [unknown, unknown, { chat: Chat; holder: Staffed }];
    await endChat(c.chat, c.holder);
    const then = [];
    for (let i = 0; i < 4; i++) then.push((await allocate(agents, department)).holder.label);
    expect(then).toEqual(rest);
    // Everyone is at capacity: the next chat waits, offered to no one.
    const waiting = await startChat(department);
    expect(waiting.queuePosition).toBe(1);
    await waitsUnoffered(agents, waiting.chatId);
  });

  it("manual offers nothing: every agent of the department sees the queue and may pick", async () => {
    const department = uniqueDepartment();
    const agents = await staff([department], [1, 2]);
    const [a, b] = agents as [Staffed, Staffed];
    await putRule(department, { strategy: "manual" });
    const first = await startChat(department);
    const second = await startChat(department);
    await waitsUnoffered(agents, first.chatId);
    await waitsUnoffered(agents, second.chatId);
    // Out of order, each agent picks one from the queue.
    await accept(b, second.chatId);
    await accept(a, first.chatId);
    // A (capacity 1) cannot pick another; B still can.
    const third = await startChat(department);
    await waitsUnoffered(agents, third.chatId);
    a.console.send({ type: "accept", chatId: third.chatId });
    expect(await a.console.nextOfType("error")).toMatchObject({ code: "at_capacity" });
    await accept(b, third.chatId);
    expect(
      agents.flatMap((agent) => agent.console.frames.filter((f) => f.type === "offer")),
    ).toEqual([]);
    expect((await chatRow(third.chatId))?.agent_id).toBe(b.id);
  });
});

describe("per-department offer timeout", () => {
  it("offers for the department's offerTimeoutSeconds, others for OFFER_TIMEOUT (30 s)", async () => {
    const quick = uniqueDepartment();
    const usual = uniqueDepartment();
    const [agent] = (await staff([quick, usual], [5])) as [Staffed];
    await putRule(quick, { offerTimeoutSeconds: 7 });
    for (const [department, ms] of [
      [quick, 7_000],
      [usual, 30_000],
    ] as const) {
      const before = Date.now();
      const chat = await startChat(department);
      const offer = await agent.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
      expect(offer.expiresAt).toBeGreaterThanOrEqual(before + ms);
      expect(offer.expiresAt).toBeLessThanOrEqual(Date.now() + ms);
    }
  });
});

describe("overflow", () => {
  it("moves a chat nobody in its department can take to the overflow department", async () => {
    const sales = uniqueDepartment();
    const support = uniqueDepartment();
    const [seller] = (await staff([sales], [1])) as [Staffed];
    const [helper] = (await staff([support], [2])) as [Staffed];
    await putRule(sales, { overflowTo: support, overflowAfterSeconds: 10 });
    await allocate([seller], sales); // the seller is now at capacity
    const chat = await startChat(sales);
    await waitsUnoffered([seller], chat.chatId);
    // Not yet 10 s: the alarm leaves it where it is.
    await runDue("overflow");
    expect(await queuedIn(chat.chatId)).toBe(sales);

    await waitedEleven(chat.chatId);
    await runDue("overflow");
    expect(await queuedIn(chat.chatId)).toBe(support);
    expect(await offeredTo([seller, helper], chat.chatId)).toBe(helper);
    // The offer names the department the chat waits in now.
    expect(offersOf(helper, chat.chatId)[0]?.visitor).toMatchObject({ department: support });
    await accept(helper, chat.chatId);
    expect(await chatRow(chat.chatId)).toEqual({
      status: "active",
      agent_id: helper.id,
      department_id: support,
      started_department_id: sales,
    });
    expect(await systemAudit("chat.overflow", chat.chatId)).toEqual([
      {
        actor_type: "system",
        actor_id: null,
        department: support,
        details: { from: sales, to: support },
      },
    ]);
  });

  it("overflows at most once out of each department when the rules form a cycle", async () => {
    const a = uniqueDepartment();
    const b = uniqueDepartment();
    const [agent] = (await staff([a, b], [5])) as [Staffed];
    await putRule(a, { overflowTo: b, overflowAfterSeconds: 10 });
    await putRule(b, { overflowTo: a, overflowAfterSeconds: 10 });
    const chat = await startChat(a);
    await agent.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    agent.console.send({ type: "refuse", chatId: chat.chatId });
    await agent.console.nextOfType("offer_withdrawn", (f) => f.chatId === chat.chatId);
    for (const expected of [b, a, a]) {
      await waitedEleven(chat.chatId);
      await runDue("overflow");
      expect(await queuedIn(chat.chatId)).toBe(expected);
    }
    const moves = await systemAudit("chat.overflow", chat.chatId);
    expect(moves.map((row) => row.details)).toEqual([
      { from: a, to: b },
      { from: b, to: a },
    ]);
    // Refused once, never offered again in either department.
    expect(offersOf(agent, chat.chatId)).toHaveLength(1);
  });
});

describe("capacity", () => {
  it("applies a lowered max_chats at once: status shows it, no offers beyond it", async () => {
    const department = uniqueDepartment();
    const [agent] = (await staff([department], [3])) as [Staffed];
    expect(await agent.console.nextOfType("status")).toMatchObject({ capacity: 3 });
    const { chat } = await allocate([agent], department);
    // With capacity 3 the next chat would be offered; lowered to 1, it waits.
    await setAgentMaxChats(env.DB, agent.id, 1);
    await dispatcher().routingChanged();
    expect(await agent.console.nextOfType("status", (f) => f.capacity === 1)).toEqual({
      type: "status",
      status: "online",
      activeChats: 1,
      capacity: 1,
    });
    const waiting = await startChat(department);
    await waitsUnoffered([agent], waiting.chatId);
    // Once the first chat ends there is room again.
    await endChat(chat, agent);
    await offeredTo([agent], waiting.chatId);
  });
});

describe("agent offline mid-chat", () => {
  /** An agent (capacity 1) with an accepted chat, both sockets open, the visitor connected. */
  async function chatting() {
    const department = uniqueDepartment();
    const [agent] = (await staff([department], [1])) as [Staffed];
    const { chat } = await allocate([agent], department);
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const chatSocket = await greeted(await agentChatSocket(chat.chatId, agent.cookie));
    return { department, agent, chat, visitor, chatSocket };
  }

  /** Closes the agent's console socket; waits until the Dispatcher noted the departure. */
  async function goOffline(agent: Staffed): Promise<void> {
    agent.console.ws.close();
    const deadline = Date.now() + 5000;
    while ((await departureOf(agent.id)).length === 0) {
      if (Date.now() > deadline) throw new Error("no departure recorded");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  const departureOf = (agentId: string) =>
    dispatcherSql("SELECT at FROM departures WHERE agent_id = ?", agentId);
  const requeuedEvents = (visitor: TestSocket) =>
    visitor.frames.filter((f) => f.type === "event" && f.kind === "requeued");

  it("requeues the chat after the grace period, ahead of newer chats, for another agent", async () => {
    const { department, agent, chat, visitor, chatSocket } = await chatting();
    const newer = await startChat(department); // waits: the agent is at capacity
    await goOffline(agent);

    // Within the grace period nothing happens, even when the departures check runs.
    await runDue("departures");
    expect(requeuedEvents(visitor)).toEqual([]);
    expect(await chatRow(chat.chatId)).toMatchObject({ status: "active", agent_id: agent.id });

    await dispatcherSql(
      "UPDATE departures SET at = ? WHERE agent_id = ?",
      Date.now() - 61_000,
      agent.id,
    );
    await runDue("departures");
    const event = await visitor.nextOfType("event", (f) => f.kind === "requeued");
    expect(event).toEqual({
      type: "event",
      seq: expect.any(Number),
      at: expect.any(Number),
      kind: "requeued",
      from: { role: "system", id: null, name: null },
      reason: "agent_offline",
    });
    const eventAt = visitor.frames.indexOf(event);
    expect(await frameAfter(visitor, eventAt, "queue")).toEqual({ type: "queue", position: 1 });
    expect(requeuedEvents(visitor)).toHaveLength(1);
    expect((await chatSocket.waitClosed()).reason).toBe("requeued");
    expect(await chatRow(chat.chatId)).toMatchObject({ status: "queued", agent_id: null });
    expect(await systemAudit("chat.requeue", chat.chatId)).toEqual([
      {
        actor_type: "system",
        actor_id: null,
        department,
        details: { agentId: agent.id, reason: "agent_offline" },
      },
    ]);

    // A second agent (room for one chat) comes online: the requeued chat, older, goes first.
    const [other] = (await staff([department], [1])) as [Staffed];
    expect(await offeredTo([other], chat.chatId)).toBe(other);
    expect(offersOf(other, newer.chatId)).toEqual([]);
    await accept(other, chat.chatId);
    expect(await chatRow(chat.chatId)).toMatchObject({ status: "active", agent_id: other.id });
  });

  it("leaves the chats of an agent who reconnects within the grace period", async () => {
    const { agent, chat, visitor, chatSocket } = await chatting();
    await goOffline(agent);
    const back = await agentOnline(agent.cookie);
    expect(await departureOf(agent.id)).toEqual([]);
    expect(await back.nextOfType("status")).toMatchObject({ activeChats: 1 });
    await runDue("departures");
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(requeuedEvents(visitor)).toEqual([]);
    expect(chatSocket.closed).toBeNull();
    expect(await chatRow(chat.chatId)).toMatchObject({ status: "active", agent_id: agent.id });
    expect(await systemAudit("chat.requeue", chat.chatId)).toEqual([]);
  });
});
