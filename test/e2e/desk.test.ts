/**
 * The desk over `wrangler dev` with real WebSocket clients: a supervisor monitors silently,
 * the agent whispers, then transfers the chat to a colleague who gets the whole history,
 * while the visitor — whose exact frames are checked — sees only the conversation and a
 * neutral transfer notice, and resumes after a dropped connection without a gap.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import { type Frame, WsClient } from "../helpers/ws-client.ts";

let server: DevServer;
const PASSWORD = "e2e desk passphrase 9";

beforeAll(async () => {
  server = await startDevServer();
  for (const [email, name, role] of [
    ["alice@example.com", "Alice Agent", "agent"],
    ["bob@example.com", "Bob Agent", "agent"],
    ["sue@example.com", "Sue Supervisor", "supervisor"],
  ] as const) {
    await server.createAgent({ email, name, role, password: PASSWORD });
  }
});
afterAll(async () => {
  await server?.stop();
});

/** The frames since `mark`, without the fields that vary from run to run. */
function since(client: WsClient, mark: number): Frame[] {
  return client.frames.slice(mark).map(({ seq: _seq, at: _at, ...rest }) => rest);
}

describe("the desk over wrangler dev", () => {
  it("monitor and whisper stay invisible to the visitor; transfer keeps history and resume", async () => {
    const { origin, wsOrigin } = server;
    const json = { "content-type": "application/json", origin };
    const agentSocket = async (path: string, cookie: string) =>
      WsClient.open(`${wsOrigin}${path}`, {
        protocols: ["parley.v1"],
        headers: { cookie, origin },
      });
    const signIn = async (email: string) => {
      const res = await fetch(`${origin}/api/auth/login`, {
        method: "POST",
        headers: json,
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      expect(res.status).toBe(200);
      const cookie = (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
      const me = (await (await fetch(`${origin}/api/auth/me`, { headers: { cookie } })).json()) as {
        agent: { id: string };
      };
      return { cookie, id: me.agent.id };
    };
    const hello = async (client: WsClient, lastSeq = 0) => {
      client.send({ type: "hello", lastSeq });
      await client.next((f) => f.type === "ready");
      return client;
    };

    // Alice alone is online: the chat is hers.
    const alice = await signIn("alice@example.com");
    const aliceDesk = await agentSocket("/api/agent/ws", alice.cookie);
    await aliceDesk.next((f) => f.type === "status");
    const start = await fetch(`${origin}/api/visitor/chats`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ name: "Vic Visitor" }),
    });
    const { chatId, token, visitorId } = (await start.json()) as Record<string, string>;
    await aliceDesk.next((f) => f.type === "offer" && f.chatId === chatId);
    aliceDesk.send({ type: "accept", chatId });
    await aliceDesk.next((f) => f.type === "assigned" && f.chatId === chatId);

    const visitorUrl = `${wsOrigin}/api/visitor/chats/${chatId}/ws`;
    const visitorOptions = { protocols: ["parley.v1", `bearer.${token}`], headers: { origin } };
    let visitor = await hello(await WsClient.open(visitorUrl, visitorOptions));
    const aliceChat = await hello(await agentSocket(`/api/agent/chats/${chatId}/ws`, alice.cookie));
    await visitor.next((f) => f.type === "event" && f.kind === "joined");

    // Sue monitors; Alice whispers to her, then answers the visitor.
    const sue = await signIn("sue@example.com");
    const mark = visitor.frames.length;
    const monitor = await hello(
      await agentSocket(`/api/agent/chats/${chatId}/ws?mode=monitor`, sue.cookie),
    );
    monitor.send({ type: "typing", on: true });
    await monitor.next((f) => f.type === "error" && f.code === "read_only");
    aliceChat.send({ type: "whisper", clientId: "w1", text: "Returning customer" });
    await monitor.next((f) => f.type === "event" && f.kind === "whisper");
    aliceChat.send({ type: "message", clientId: "a1", text: "Hello Vic" });
    await visitor.next((f) => f.type === "event" && f.text === "Hello Vic");
    visitor.send({ type: "message", clientId: "v1", text: "Where is my parcel?" });
    await monitor.next((f) => f.type === "event" && f.text === "Where is my parcel?");
    await new Promise((resolve) => setTimeout(resolve, 300));
    const aliceFrom = { role: "agent", id: alice.id, name: "Alice Agent" };
    const visitorFrom = { role: "visitor", id: visitorId, name: "Vic Visitor" };
    expect(since(visitor, mark)).toEqual([
      { type: "event", kind: "message", from: aliceFrom, text: "Hello Vic", clientId: "a1" },
      { type: "ack", clientId: "v1" },
      {
        type: "event",
        kind: "message",
        from: visitorFrom,
        text: "Where is my parcel?",
        clientId: "v1",
      },
    ]);

    // Alice hands the chat to Bob; until he accepts, it stays hers.
    const bob = await signIn("bob@example.com");
    const bobDesk = await agentSocket("/api/agent/ws", bob.cookie);
    await bobDesk.next((f) => f.type === "status");
    aliceChat.send({ type: "transfer", agentId: bob.id });
    const offer = await bobDesk.next((f) => f.type === "offer" && f.chatId === chatId);
    expect(offer.transfer).toEqual({ from: { id: alice.id, name: "Alice Agent" } });
    const owner = await server.query(`SELECT agent_id FROM chats WHERE id = '${chatId}'`);
    expect(owner[0]?.agent_id).toBe(alice.id);
    bobDesk.send({ type: "accept", chatId });
    await bobDesk.next((f) => f.type === "assigned" && f.chatId === chatId);
    await aliceDesk.next((f) => f.type === "transfer_result" && f.outcome === "accepted");
    await expect.poll(() => aliceChat.closeCode).toBe(1000);
    const notice = await visitor.next((f) => f.type === "event" && f.kind === "transferred");
    expect(notice.from).toEqual({ role: "agent", id: bob.id, name: "Bob Agent" });

    // Bob sees everything, the whisper included.
    const bobChat = await hello(await agentSocket(`/api/agent/chats/${chatId}/ws`, bob.cookie));
    expect(bobChat.frames.filter((f) => f.type === "event").map((f) => f.kind)).toEqual([
      "joined",
      "whisper",
      "message",
      "message",
      "transferred",
    ]);

    // The visitor's connection fails; they resume where they were and go on with Bob.
    const lastSeq = Math.max(
      ...visitor.frames.filter((f) => f.type === "event").map((f) => f.seq as number),
    );
    await visitor.drop();
    visitor = await hello(await WsClient.open(visitorUrl, visitorOptions), lastSeq);
    expect(visitor.frames.filter((f) => f.type === "event")).toEqual([]);
    visitor.send({ type: "message", clientId: "v2", text: "Hi Bob" });
    await bobChat.next((f) => f.type === "event" && f.text === "Hi Bob");
    bobChat.send({ type: "message", clientId: "b1", text: "On its way" });
    await visitor.next((f) => f.type === "event" && f.text === "On its way");

    // From start to end the visitor never received a whisper, on any connection.
    const replay = await hello(await WsClient.open(visitorUrl, visitorOptions));
    expect(replay.frames.filter((f) => f.type === "event").map((f) => f.kind)).toEqual([
      "joined",
      "message",
      "message",
      "transferred",
      "message",
      "message",
    ]);
    visitor.send({ type: "end" });
    await expect.poll(() => bobChat.closeCode).toBe(1000);
    await expect
      .poll(async () =>
        (
          await server.query(`SELECT kind FROM messages WHERE chat_id = '${chatId}' ORDER BY seq`)
        ).map((r) => r.kind),
      )
      .toEqual([
        "joined",
        "whisper",
        "message",
        "message",
        "transferred",
        "message",
        "message",
        "ended",
      ]);
    for (const client of [aliceDesk, bobDesk, monitor, replay]) await client.close();
  });
});
