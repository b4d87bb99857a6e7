/**
 * A full chat against `wrangler dev` with real WebSocket clients: the visitor starts a chat,
 * an agent logs in, gets the offer, accepts; 20 messages each way; the visitor drops and
 * resumes with lastSeq (no gap, no duplicate); the chat ends; D1 holds all 40 in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import { type Frame, WsClient } from "../helpers/ws-client.ts";

let server: DevServer;
const PASSWORD = "e2e agent passphrase 7";

beforeAll(async () => {
  server = await startDevServer();
  await server.createAgent({ email: "alex@example.com", name: "Alex Agent", password: PASSWORD });
});
afterAll(async () => {
  await server?.stop();
});

function messages(client: WsClient): Frame[] {
  return client.frames.filter((f) => f.type === "event" && f.kind === "message");
}

describe("a whole chat over wrangler dev", () => {
  it("runs from offer to transcript without losing or repeating anything", async () => {
    const { origin, wsOrigin } = server;
    const json = { "content-type": "application/json", origin };

    const login = await fetch(`${origin}/api/auth/login`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ email: "alex@example.com", password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    expect(cookie).toMatch(/^__Host-parley_session=/);
    const agentHeaders = { cookie, origin };

    const console = await WsClient.open(`${wsOrigin}/api/agent/ws`, {
      protocols: ["parley.v1"],
      headers: agentHeaders,
    });
    expect(console.socket.protocol).toBe("parley.v1");
    await console.next((f) => f.type === "status" && f.status === "online");

    const start = await fetch(`${origin}/api/visitor/chats`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({
        name: "Vic Visitor",
        email: "vic@example.com",
        pageUrl: `${origin}/`,
      }),
    });
    expect(start.status).toBe(201);
    const { chatId, token } = (await start.json()) as { chatId: string; token: string };

    const offer = await console.next((f) => f.type === "offer" && f.chatId === chatId);
    expect(offer.visitor).toMatchObject({ name: "Vic Visitor", email: "vic@example.com" });
    console.send({ type: "accept", chatId });
    await console.next((f) => f.type === "assigned" && f.chatId === chatId);

    const visitorUrl = `${wsOrigin}/api/visitor/chats/${chatId}/ws`;
    const visitorOptions = { protocols: ["parley.v1", `bearer.${token}`], headers: { origin } };
    let visitor = await WsClient.open(visitorUrl, visitorOptions);
    expect(visitor.socket.protocol).toBe("parley.v1");
    visitor.send({ type: "hello", lastSeq: 0 });
    await visitor.next((f) => f.type === "ready");

    const agent = await WsClient.open(`${wsOrigin}/api/agent/chats/${chatId}/ws?mode=participate`, {
      protocols: ["parley.v1"],
      headers: agentHeaders,
    });
    agent.send({ type: "hello", lastSeq: 0 });
    await agent.next((f) => f.type === "ready");
    await visitor.next((f) => f.type === "event" && f.kind === "joined");

    // 10 each way, then the visitor's connection fails, then 10 more each way.
    const expected: string[] = [];
    async function exchange(round: number, v: WsClient) {
      const fromVisitor = `visitor says ${round}`;
      const fromAgent = `agent says ${round}`;
      v.send({ type: "message", clientId: `v${round}`, text: fromVisitor });
      await v.next((f) => f.type === "ack" && f.clientId === `v${round}`);
      agent.send({ type: "message", clientId: `a${round}`, text: fromAgent });
      await agent.next((f) => f.type === "ack" && f.clientId === `a${round}`);
      expected.push(fromVisitor, fromAgent);
    }
    for (let round = 1; round <= 10; round++) await exchange(round, visitor);
    await visitor.next((f) => f.type === "event" && f.clientId === "a10");
    const seen = visitor.frames.filter((f) => f.type === "event").map((f) => f.seq as number);
    const lastSeq = Math.max(...seen);
    await visitor.drop();

    // While the visitor is away, the agent keeps writing.
    agent.send({ type: "message", clientId: "away", text: "are you still there?" });
    await agent.next((f) => f.type === "ack" && f.clientId === "away");
    expected.push("are you still there?");

    visitor = await WsClient.open(visitorUrl, visitorOptions);
    visitor.send({ type: "hello", lastSeq });
    await visitor.next((f) => f.type === "ready");
    const replayed = visitor.frames.filter((f) => f.type === "event");
    expect(replayed.map((f) => f.seq)).toEqual([lastSeq + 1]);
    expect(replayed[0]?.text).toBe("are you still there?");

    for (let round = 11; round <= 20; round++) await exchange(round, visitor);
    await visitor.next((f) => f.type === "event" && f.clientId === "a20");

    // Across both connections the visitor saw every message once, in order.
    const allSeen = [
      ...seen,
      ...visitor.frames.filter((f) => f.type === "event").map((f) => f.seq as number),
    ];
    expect(new Set(allSeen).size).toBe(allSeen.length);
    expect(allSeen).toEqual([...allSeen].sort((a, b) => a - b));
    expect(messages(agent).map((f) => f.text)).toEqual(expected);

    visitor.send({ type: "end" });
    await agent.next((f) => f.type === "event" && f.kind === "ended");
    await visitor.next((f) => f.type === "event" && f.kind === "ended");
    await expect.poll(() => visitor.closeCode).toBe(1000);
    await expect.poll(() => agent.closeCode).toBe(1000);

    const rows = await server.query(
      `SELECT seq, sender_role, text FROM messages WHERE chat_id = '${chatId}' AND kind = 'message' ORDER BY seq`,
    );
    expect(rows).toHaveLength(41);
    expect(rows.map((r) => r.text)).toEqual(expected);
    expect(rows.filter((r) => r.sender_role === "visitor")).toHaveLength(20);
    const chat = await server.query(`SELECT status, agent_id FROM chats WHERE id = '${chatId}'`);
    expect(chat[0]?.status).toBe("ended");
    await console.close();
  });
});
