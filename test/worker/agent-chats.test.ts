/**
 * Agent-to-agent chat over real HTTP, D1 and the Dispatcher: sending, listing and paging a
 * conversation, the conversation list, idempotent resends, card masking, the live push to
 * both agents' consoles (and nobody else's), who may send and receive, the supervisors'
 * department-scoped search with its audit row, the IP allowlist, and input validation.
 */
import { createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  AgentConversationListResponse,
  AgentMessage,
  AgentMessagePage,
  AgentMessageResponse,
} from "../../src/protocol/agent-chats.ts";
import { createApp } from "../../worker/app.ts";
import {
  agentOnline,
  apiRequest,
  login,
  ORIGIN,
  seedAgent,
  type TestSocket,
  uniqueDepartment,
} from "./helpers.ts";

/** An agent (preset `agents` unless told: it holds `agent_chat.use`) and its session. */
async function agentCookie(options: Parameters<typeof seedAgent>[0] = {}) {
  const agent = await seedAgent(options);
  return { ...agent, cookie: await login(agent.email) };
}

function send(cookie: string, to: string, body: unknown) {
  return apiRequest("POST", `/api/agent-chats/${to}/messages`, cookie, body);
}

/** Sends and expects 201; returns the stored message. */
async function sent(cookie: string, to: string, text: string): Promise<AgentMessage> {
  const res = await send(cookie, to, { clientId: crypto.randomUUID(), text });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<AgentMessageResponse>()).message;
}

/** GETs and expects 200. */
async function getOk<Body>(cookie: string, path: string): Promise<Body> {
  const res = await apiRequest("GET", path, cookie);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Body>();
}

async function errorCode(res: Response): Promise<string> {
  return (await res.json<{ error: { code: string } }>()).error.code;
}

/** Inserts a message straight into D1 at `at` (the FTS trigger indexes it). */
async function seedMessage(from: string, to: string, text: string, at: number): Promise<string> {
  const id = crypto.randomUUID();
  await env.DB.prepare(
    `INSERT INTO agent_messages (id, conversation_id, sender_id, recipient_id, client_id, text, at)
     VALUES (?1, ?2, ?3, ?4, ?1, ?5, ?6)`,
  )
    .bind(id, [from, to].sort().join(":"), from, to, text, at)
    .run();
  return id;
}

async function auditRows(actorId: string, action: string) {
  const { results } = await env.DB.prepare(
    "SELECT outcome, target, details FROM audit_log WHERE actor_id = ?1 AND action = ?2 ORDER BY id",
  )
    .bind(actorId, action)
    .all<{ outcome: string; target: string | null; details: string | null }>();
  return results;
}

const agentMessages = (socket: TestSocket) =>
  socket.frames.filter((frame) => frame.type === "agent_message");

describe("sending and listing", () => {
  it("stores a message, lists the conversation for both agents and the conversations", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const carol = await agentCookie();
    const first = await sent(alice.cookie, bob.id, "hello bob");
    expect(first).toMatchObject({
      conversationId: [alice.id, bob.id].sort().join(":"),
      from: { id: alice.id, name: alice.name },
      to: { id: bob.id, name: bob.name },
      text: "hello bob",
    });
    expect(first.at).toBeLessThanOrEqual(Date.now());
    const reply = await sent(bob.cookie, alice.id, "hi alice");
    const toCarol = await sent(alice.cookie, carol.id, "hi carol");

    // One conversation, whoever asks: newest first.
    for (const [viewer, other] of [
      [alice, bob],
      [bob, alice],
    ] as const) {
      const page = await getOk<AgentMessagePage>(
        viewer.cookie,
        `/api/agent-chats/${other.id}/messages`,
      );
      expect(page.nextCursor).toBeNull();
      expect(new Set(page.messages.map((m) => m.id))).toEqual(new Set([first.id, reply.id]));
      expect(page.messages.map((m) => m.at)).toEqual(
        page.messages.map((m) => m.at).sort((a, b) => b - a),
      );
    }

    const { conversations } = await getOk<AgentConversationListResponse>(
      alice.cookie,
      "/api/agent-chats",
    );
    const withBob = conversations.find((c) => c.agent.id === bob.id);
    expect(withBob).toMatchObject({ agent: { id: bob.id, name: bob.name }, messageCount: 2 });
    expect([first.id, reply.id]).toContain(withBob?.lastMessage.id);
    expect(conversations.find((c) => c.agent.id === carol.id)).toMatchObject({
      conversationId: toCarol.conversationId,
      agent: { id: carol.id, name: carol.name },
      lastMessage: toCarol,
      messageCount: 1,
    });
    expect(conversations).toHaveLength(2);
    // Carol sees only her conversation with Alice.
    const carols = await getOk<AgentConversationListResponse>(carol.cookie, "/api/agent-chats");
    expect(carols.conversations.map((c) => c.agent.id)).toEqual([alice.id]);
  });

  it("pages a conversation newest first with the before cursor", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await seedMessage(alice.id, bob.id, `m${i}`, 1000 + i));
    const path = `/api/agent-chats/${bob.id}/messages`;
    const first = await getOk<AgentMessagePage>(alice.cookie, `${path}?limit=2`);
    expect(first.messages.map((m) => m.text)).toEqual(["m4", "m3"]);
    const second = await getOk<AgentMessagePage>(
      alice.cookie,
      `${path}?limit=2&before=${first.nextCursor}`,
    );
    expect(second.messages.map((m) => m.text)).toEqual(["m2", "m1"]);
    const last = await getOk<AgentMessagePage>(
      bob.cookie,
      `/api/agent-chats/${alice.id}/messages?limit=2&before=${second.nextCursor}`,
    );
    expect(last).toMatchObject({ messages: [{ id: ids[0], text: "m0" }], nextCursor: null });
  });

  it("answers a resend with the same clientId with the stored message, storing nothing new", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const bobConsole = await agentOnline(bob.cookie);
    const body = { clientId: "c-1", text: "only once" };
    const created = await send(alice.cookie, bob.id, body);
    expect(created.status).toBe(201);
    const stored = (await created.json<AgentMessageResponse>()).message;
    await bobConsole.nextOfType("agent_message");

    const again = await send(alice.cookie, bob.id, body);
    expect(again.status).toBe(200);
    expect((await again.json<AgentMessageResponse>()).message).toEqual(stored);
    const row = await env.DB.prepare(
      "SELECT count(*) AS n FROM agent_messages WHERE sender_id = ?1",
    )
      .bind(alice.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
    // The same clientId towards someone else is a client bug, not a resend.
    const carol = await agentCookie();
    const reused = await send(alice.cookie, carol.id, body);
    expect(reused.status).toBe(409);
    expect(await errorCode(reused)).toBe("client_id_reused");
    // Another sender may use the same clientId; Bob's console sees his own message too.
    expect((await send(bob.cookie, alice.id, body)).status).toBe(201);
    await bobConsole.nextOfType(
      "agent_message",
      (f) => (f.message as AgentMessage).from.id === bob.id,
    );
    // The resend was not pushed again: Alice's message once, Bob's own once.
    expect(agentMessages(bobConsole)).toHaveLength(2);
    bobConsole.ws.close();
  });

  it("masks card numbers before storing, answering and pushing", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const bobConsole = await agentOnline(bob.cookie);
    const message = await sent(alice.cookie, bob.id, "card 4111 1111 1111 1111 ok");
    expect(message.text).toBe("card •••• •••• •••• 1111 ok");
    const frame = await bobConsole.nextOfType("agent_message");
    expect(frame).toEqual({ type: "agent_message", message });
    const row = await env.DB.prepare("SELECT text FROM agent_messages WHERE id = ?1")
      .bind(message.id)
      .first<{ text: string }>();
    expect(row?.text).toBe("card •••• •••• •••• 1111 ok");
    const fts = await env.DB.prepare(
      "SELECT count(*) AS n FROM agent_message_fts WHERE text LIKE '%4111 1111%'",
    ).first<{ n: number }>();
    expect(fts?.n).toBe(0);
    bobConsole.ws.close();
  });
});

describe("live push", () => {
  it("pushes the exact agent_message frame to the recipient and the sender's consoles only", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const eve = await agentCookie();
    const bobConsole = await agentOnline(bob.cookie);
    // Alice's console in another tab (the HTTP request does not come from a socket).
    const aliceConsole = await agentOnline(alice.cookie);
    const eveConsole = await agentOnline(eve.cookie);

    const message = await sent(alice.cookie, bob.id, "are you there?");
    const expected = { type: "agent_message", message };
    expect(await bobConsole.nextOfType("agent_message")).toEqual(expected);
    expect(await aliceConsole.nextOfType("agent_message")).toEqual(expected);
    // Pushed in the same Dispatcher turn as the others: an uninvolved agent got nothing.
    expect(agentMessages(eveConsole)).toEqual([]);
    for (const socket of [bobConsole, aliceConsole, eveConsole]) socket.ws.close();
  });
});

describe("who may chat", () => {
  it("refuses an agent without agent_chat.use with 403 and an audit row", async () => {
    const bob = await agentCookie();
    const mute = await agentCookie({ groups: [], grants: ["chats.accept"] });
    const res = await send(mute.cookie, bob.id, { clientId: "x", text: "hi" });
    expect(res.status).toBe(403);
    expect(await errorCode(res)).toBe("forbidden");
    const denied = await auditRows(mute.id, "access.denied");
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      outcome: "denied",
      target: `POST /api/agent-chats/${bob.id}/messages`,
    });
    expect((await apiRequest("GET", "/api/agent-chats", mute.cookie)).status).toBe(403);
  });

  it("refuses a recipient that is missing, oneself, disabled or without the permission", async () => {
    const alice = await agentCookie();
    const body = { clientId: "x", text: "hi" };
    const cases: [string, number, string][] = [
      [crypto.randomUUID(), 404, "agent_not_found"],
      [alice.id, 409, "own_account"],
    ];
    const disabled = await seedAgent();
    await env.DB.prepare("UPDATE agents SET disabled_at = ?2 WHERE id = ?1")
      .bind(disabled.id, Date.now())
      .run();
    cases.push([disabled.id, 409, "agent_disabled"]);
    const without = await seedAgent({ groups: [], grants: ["chats.accept"] });
    cases.push([without.id, 409, "agent_chat_unavailable"]);
    for (const [to, status, code] of cases) {
      const res = await send(alice.cookie, to, body);
      expect(res.status, code).toBe(status);
      expect(await errorCode(res)).toBe(code);
    }
    const row = await env.DB.prepare(
      "SELECT count(*) AS n FROM agent_messages WHERE sender_id = ?1",
    )
      .bind(alice.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it("needs the agent IP allowlist like every console API", async () => {
    const alice = await agentCookie();
    const office = createApp();
    const call = (ip: string) =>
      office.fetch(
        new Request(`${ORIGIN}/api/agent-chats`, {
          headers: { cookie: alice.cookie, origin: ORIGIN, "cf-connecting-ip": ip },
        }),
        { ...env, AGENT_IP_ALLOWLIST: "203.0.113.0/24" },
        createExecutionContext(),
      );
    const outside = await call("198.51.100.9");
    expect(outside.status).toBe(403);
    expect(await errorCode(outside)).toBe("ip_denied");
    expect((await call("203.0.113.7")).status).toBe(200);
  });
});

describe("bad input", () => {
  it("answers 400 for empty or long text, a bad clientId, a bad agent id or query", async () => {
    const alice = await agentCookie();
    const bob = await agentCookie();
    const bad: [string, unknown][] = [
      [bob.id, { clientId: "a", text: "   " }],
      [bob.id, { clientId: "a", text: "x".repeat(2001) }],
      [bob.id, { clientId: "", text: "hi" }],
      [bob.id, { clientId: "has space", text: "hi" }],
      [bob.id, { clientId: "c".repeat(65), text: "hi" }],
      [bob.id, { clientId: 7, text: "hi" }],
      [bob.id, { clientId: "a", text: "hi", extra: true }],
      ["not-an-agent", { clientId: "a", text: "hi" }],
    ];
    for (const [to, body] of bad) {
      const res = await send(alice.cookie, to, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorCode(res)).toBe("invalid_request");
    }
    expect(
      (await send(alice.cookie, bob.id, { clientId: "a", text: "x".repeat(2000) })).status,
    ).toBe(201);
    for (const path of [
      "/api/agent-chats/nope/messages",
      `/api/agent-chats/${bob.id}/messages?before=garbage`,
      `/api/agent-chats/${bob.id}/messages?limit=101`,
    ]) {
      expect((await apiRequest("GET", path, alice.cookie)).status, path).toBe(400);
    }
  });
});

describe("GET /api/agent-chats/search", () => {
  /** Two conversations with `word` in them: one touching `mine`, one between strangers. */
  async function twoConversations(word: string) {
    const mine = uniqueDepartment();
    const inside = await seedAgent({ departments: [mine] });
    const outsider = await seedAgent({ departments: [uniqueDepartment()] });
    const stranger1 = await seedAgent({ departments: [uniqueDepartment()] });
    const stranger2 = await seedAgent({ departments: [uniqueDepartment()] });
    const ours = await seedMessage(outsider.id, inside.id, `${word} ours`, 2000);
    const theirs = await seedMessage(stranger1.id, stranger2.id, `${word} theirs`, 2001);
    return { mine, inside, outsider, ours, theirs };
  }

  async function search(cookie: string, params: Record<string, string | number>) {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
    return getOk<AgentMessagePage>(cookie, `/api/agent-chats/search?${query}`);
  }

  it("scopes view_department to conversations touching the viewer's departments; view_all sees all", async () => {
    const word = `kw${crypto.randomUUID().slice(0, 8)}`;
    const { mine, ours, theirs } = await twoConversations(word);
    const scoped = await agentCookie({
      groups: [],
      departments: [mine],
      grants: ["transcripts.view_department"],
    });
    expect((await search(scoped.cookie, { q: word })).messages.map((m) => m.id)).toEqual([ours]);
    const all = await agentCookie({ groups: [], grants: ["transcripts.view_all"] });
    expect((await search(all.cookie, { q: word })).messages.map((m) => m.id)).toEqual([
      theirs,
      ours,
    ]);
    // A supervisor without a department reads `general`: neither conversation.
    const general = await agentCookie({ groups: [], grants: ["transcripts.view_department"] });
    expect((await search(general.cookie, { q: word })).messages).toEqual([]);
  });

  it("filters by keywords (literal), agent and time, pages by cursor, and audits each search", async () => {
    const word = `kw${crypto.randomUUID().slice(0, 8)}`;
    const { inside, outsider, ours, theirs } = await twoConversations(word);
    const later = await seedMessage(inside.id, outsider.id, `${word} later OR NEAR`, 3000);
    const all = await agentCookie({ groups: [], grants: ["transcripts.view_all"] });
    const ids = async (params: Record<string, string | number>) =>
      (await search(all.cookie, params)).messages.map((m) => m.id);

    expect(await ids({ q: `${word} ours` })).toEqual([ours]);
    // FTS operators typed by the caller are plain words.
    expect(await ids({ q: `${word} OR` })).toEqual([later]);
    expect(await ids({ q: word, agent: inside.id })).toEqual([later, ours]);
    expect(await ids({ q: word, from: 2001, to: 3000 })).toEqual([theirs]);

    const first = await search(all.cookie, { q: word, limit: 2 });
    expect(first.messages.map((m) => m.id)).toEqual([later, theirs]);
    const next = await search(all.cookie, { q: word, limit: 2, cursor: first.nextCursor ?? "" });
    expect(next).toMatchObject({ messages: [{ id: ours }], nextCursor: null });

    const rows = await auditRows(all.id, "agent_chat.search");
    expect(rows).toHaveLength(6);
    expect(rows[0]?.outcome).toBe("success");
    expect(JSON.parse(rows[0]?.details ?? "{}")).toMatchObject({
      q: `${word} ours`,
      page: "first",
      results: 1,
    });
    expect(JSON.parse(rows[5]?.details ?? "{}")).toMatchObject({ page: "next", results: 1 });
  });

  it("needs a transcript reading permission, and validates the query", async () => {
    const agent = await agentCookie();
    const res = await apiRequest("GET", "/api/agent-chats/search", agent.cookie);
    expect(res.status).toBe(403);
    expect(await auditRows(agent.id, "access.denied")).toHaveLength(1);
    const all = await agentCookie({ groups: [], grants: ["transcripts.view_all"] });
    for (const query of ["agent=nope", "from=2&to=1", "cursor=garbage", "department=x", "q="]) {
      const bad = await apiRequest("GET", `/api/agent-chats/search?${query}`, all.cookie);
      expect(bad.status, query).toBe(400);
    }
  });
});
