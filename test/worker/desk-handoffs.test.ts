/**
 * The desk inside a chat, over real sockets in workerd: transfer (to an agent and to a
 * department), join, invite, leave, whisper and silent monitoring. The visitor's side is
 * checked frame by frame: what a monitor or a whisper must not reveal is asserted as the
 * exact list of frames the visitor socket received.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  acceptedChat,
  agentChatSocket,
  agentOnline,
  apiRequest,
  events,
  greeted,
  login,
  openSocket,
  seedAgent,
  type TestSocket,
  visitorSocket,
} from "./helpers.ts";

/** An agent online on the console socket in `department`. */
async function deskAgent(
  department: string,
  options: { groups?: string[]; grants?: string[]; departments?: string[] } = {},
) {
  const agent = await seedAgent({ departments: [department], ...options });
  const cookie = await login(agent.email);
  return { ...agent, cookie, console: await agentOnline(cookie) };
}

/** A chat under way: its owner's chat socket and the visitor's, both greeted. */
async function liveChat() {
  const chat = await acceptedChat();
  const owner = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
  const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
  return { ...chat, owner, visitor };
}

async function ownerInD1(chatId: string) {
  return env.DB.prepare(
    "SELECT agent_id, department_id, started_department_id FROM chats WHERE id = ?1",
  )
    .bind(chatId)
    .first<{ agent_id: string; department_id: string; started_department_id: string | null }>();
}

async function auditRows(action: string, target: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor_id, outcome, details FROM audit_log WHERE action = ?1 AND target = ?2 ORDER BY id",
  )
    .bind(action, target)
    .all<{ actor_id: string | null; outcome: string; details: string | null }>();
  return results;
}

/** The frames a socket received from index `from` on, without `seq`/`at` (they vary). */
function framesSince(socket: TestSocket, from: number) {
  return socket.frames.slice(from).map(({ seq: _seq, at: _at, ...rest }) => rest);
}

/** Sends a frame and waits for the `error` frame it causes. */
async function refusal(socket: TestSocket, frame: unknown) {
  const mark = socket.frames.length;
  socket.send(frame);
  await socket.next((f) => f.type === "error" && socket.frames.indexOf(f) >= mark);
  return socket.frames.slice(mark).find((f) => f.type === "error");
}

/** Lets in-flight frames arrive. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("transfer to an agent", () => {
  it("hands the chat over with its whole history; the visitor sees a neutral notice", async () => {
    const chat = await liveChat();
    const receiver = await deskAgent(chat.department);
    chat.visitor.send({ type: "message", clientId: "v1", text: "My order is late" });
    await chat.owner.nextOfType("event", (f) => f.text === "My order is late");

    chat.owner.send({ type: "transfer", agentId: receiver.id });
    expect(await chat.console.nextOfType("transfer_result")).toEqual({
      type: "transfer_result",
      chatId: chat.chatId,
      to: { agentId: receiver.id },
      outcome: "pending",
    });
    const offer = await receiver.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer.transfer).toEqual({ from: { id: chat.agent.id, name: chat.agent.name } });
    // Until the receiver accepts, the chat keeps its owner.
    expect((await ownerInD1(chat.chatId))?.agent_id).toBe(chat.agent.id);

    receiver.console.send({ type: "accept", chatId: chat.chatId });
    await receiver.console.nextOfType("assigned", (f) => f.chatId === chat.chatId);
    expect(
      await chat.console.nextOfType("transfer_result", (f) => f.outcome === "accepted"),
    ).toMatchObject({ chatId: chat.chatId, to: { agentId: receiver.id } });
    expect((await ownerInD1(chat.chatId))?.agent_id).toBe(receiver.id);

    const notice = await chat.visitor.nextOfType("event", (f) => f.kind === "transferred");
    expect(notice).toMatchObject({
      from: { role: "agent", id: receiver.id, name: receiver.name },
      reason: "agent",
    });
    // The old owner's chat socket is let go, and they cannot open it again.
    expect(await chat.owner.waitClosed()).toEqual({ code: 1000, reason: "transferred" });
    const again = await openSocket(`/api/agent/chats/${chat.chatId}/ws`, {
      cookie: chat.cookie,
      "sec-websocket-protocol": "parley.v1",
    });
    expect((again as Response).status).toBe(403);

    // The receiver gets the whole history, and is not announced twice.
    const taken = await greeted(await agentChatSocket(chat.chatId, receiver.cookie));
    const history = events(taken).map((e) => e.kind);
    expect(history).toEqual(["joined", "message", "transferred"]);
    expect(events(taken)[1]?.text).toBe("My order is late");

    // The visitor resumes from where they were, and the chat goes on with the receiver.
    const lastSeq = Math.max(...events(chat.visitor).map((e) => e.seq));
    chat.visitor.ws.close();
    const resumed = await greeted(await visitorSocket(chat.chatId, chat.token), lastSeq);
    expect(events(resumed)).toEqual([]);
    resumed.send({ type: "message", clientId: "v2", text: "Still there?" });
    await taken.nextOfType("event", (f) => f.text === "Still there?");
    taken.send({ type: "message", clientId: "r1", text: "Yes, I have it now" });
    await resumed.nextOfType("event", (f) => f.text === "Yes, I have it now");

    expect(await auditRows("chat.transfer", chat.chatId)).toMatchObject([
      { actor_id: chat.agent.id, outcome: "success" },
    ]);
    const accepted = await auditRows("chat.accept", chat.chatId);
    expect(accepted.at(-1)).toMatchObject({ actor_id: receiver.id, outcome: "success" });
    expect(JSON.parse(accepted.at(-1)?.details ?? "{}")).toEqual({ transferFrom: chat.agent.id });
  });

  it("keeps the chat with its owner when the receiver refuses", async () => {
    const chat = await liveChat();
    const receiver = await deskAgent(chat.department);
    chat.owner.send({ type: "transfer", agentId: receiver.id });
    await receiver.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    receiver.console.send({ type: "refuse", chatId: chat.chatId });
    expect(
      await chat.console.nextOfType("transfer_result", (f) => f.outcome !== "pending"),
    ).toMatchObject({ outcome: "refused" });
    expect((await ownerInD1(chat.chatId))?.agent_id).toBe(chat.agent.id);
    await settle();
    expect(events(chat.visitor).map((e) => e.kind)).toEqual(["joined"]);
    // The owner goes on chatting, and may try again.
    const mark = receiver.console.frames.length;
    chat.owner.send({ type: "transfer", agentId: receiver.id });
    await receiver.console.next(
      (f) => f.type === "offer" && receiver.console.frames.indexOf(f) >= mark,
    );
  });

  it("refuses a transfer to nobody, twice, or to oneself", async () => {
    const chat = await liveChat();
    const offline = await seedAgent({ departments: [chat.department] });
    const empty = `${chat.department}-empty`;
    await seedAgent({ departments: [empty] });
    const codes = [];
    for (const frame of [
      { type: "transfer", agentId: offline.id },
      { type: "transfer", department: "no-such-department" },
      { type: "transfer", department: empty },
      { type: "transfer", agentId: chat.agent.id },
    ]) {
      codes.push((await refusal(chat.owner, frame))?.code);
    }
    expect(codes).toEqual(["agent_unavailable", "not_found", "no_agents", "agent_unavailable"]);

    const receiver = await deskAgent(chat.department);
    chat.owner.send({ type: "transfer", agentId: receiver.id });
    await receiver.console.nextOfType("offer");
    const again = await refusal(chat.owner, { type: "transfer", department: chat.department });
    expect(again).toMatchObject({ code: "transfer_pending" });

    const rows = await auditRows("chat.transfer", chat.chatId);
    expect(rows.map((r) => r.outcome)).toEqual([
      "failure",
      "failure",
      "failure",
      "failure",
      "success",
      "failure",
    ]);
    await settle();
    expect(events(chat.visitor).map((e) => e.kind)).toEqual(["joined"]);
  });

  it("is refused without chats.transfer, with an audit row", async () => {
    const chat = await liveChat();
    await env.DB.prepare("DELETE FROM agent_groups WHERE agent_id = ?1").bind(chat.agent.id).run();
    await env.DB.prepare(
      "INSERT INTO grants (subject_type, subject_id, permission) VALUES ('agent', ?1, 'chats.accept')",
    )
      .bind(chat.agent.id)
      .run();
    const receiver = await deskAgent(chat.department);
    const transfer = await refusal(chat.owner, { type: "transfer", agentId: receiver.id });
    expect(transfer).toMatchObject({ code: "forbidden" });
    const invite = await refusal(chat.owner, { type: "invite", agentId: receiver.id });
    expect(invite).toMatchObject({ code: "forbidden" });
    await settle();
    expect(receiver.console.frames.some((f) => f.type === "offer")).toBe(false);
    expect(receiver.console.frames.some((f) => f.type === "invitation")).toBe(false);
    const denied = await env.DB.prepare(
      "SELECT action FROM audit_log WHERE actor_id = ?1 AND outcome = 'denied' ORDER BY id",
    )
      .bind(chat.agent.id)
      .all<{ action: string }>();
    expect(denied.results.map((r) => r.action)).toEqual(["transfer", "invite"]);
  });
});

describe("transfer to a department", () => {
  it("offers the chat in the other department's queue and moves it there on accept", async () => {
    const chat = await liveChat();
    const target = `${chat.department}-2`;
    const receiver = await deskAgent(target);
    chat.owner.send({ type: "transfer", department: target });
    const offer = await receiver.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer).toMatchObject({
      transfer: { from: { id: chat.agent.id } },
      visitor: { department: target },
    });
    receiver.console.send({ type: "accept", chatId: chat.chatId });
    await receiver.console.nextOfType("assigned");
    expect(await ownerInD1(chat.chatId)).toEqual({
      agent_id: receiver.id,
      department_id: target,
      started_department_id: chat.department,
    });
    expect(await chat.visitor.nextOfType("event", (f) => f.kind === "transferred")).toMatchObject({
      reason: "department",
      from: { id: receiver.id },
    });
    // A waiting transfer is not a waiting visitor: the visitor never got a queue position.
    expect(chat.visitor.frames.filter((f) => f.type === "queue")).toEqual([]);
  });
});

describe("join, leave and invite", () => {
  it("a supervisor of the department joins visibly, writes, and leaves", async () => {
    const chat = await liveChat();
    const supervisor = await seedAgent({
      departments: [chat.department],
      groups: ["supervisors"],
    });
    const cookie = await login(supervisor.email);
    const joined = await greeted(await agentChatSocket(chat.chatId, cookie, "join"));
    expect(
      await chat.visitor.nextOfType(
        "event",
        (f) => f.kind === "joined" && (f.from as { id: string }).id === supervisor.id,
      ),
    ).toBeTruthy();
    joined.send({ type: "message", clientId: "s1", text: "Supervisor here" });
    await chat.visitor.nextOfType("event", (f) => f.text === "Supervisor here");
    // Joined once, the agent comes back as a participant.
    joined.ws.close();
    const back = await greeted(await agentChatSocket(chat.chatId, cookie));
    back.send({ type: "leave" });
    expect(await back.waitClosed()).toEqual({ code: 1000, reason: "left the chat" });
    await chat.visitor.nextOfType("event", (f) => f.kind === "left");
    const after = await openSocket(`/api/agent/chats/${chat.chatId}/ws`, {
      cookie,
      "sec-websocket-protocol": "parley.v1",
    });
    expect((after as Response).status).toBe(403);
    expect(await auditRows("chat.join", chat.chatId)).toMatchObject([{ outcome: "success" }]);
    expect(await auditRows("chat.leave", chat.chatId)).toMatchObject([{ outcome: "success" }]);

    // The owner cannot leave: they transfer or end the chat.
    expect(await refusal(chat.owner, { type: "leave" })).toMatchObject({ code: "not_allowed" });
  });

  it("refuses join without chats.join or outside the department", async () => {
    const chat = await liveChat();
    const plain = await seedAgent({ departments: [chat.department] });
    const refused = await openSocket(`/api/agent/chats/${chat.chatId}/ws?mode=join`, {
      cookie: await login(plain.email),
      "sec-websocket-protocol": "parley.v1",
    });
    expect((refused as Response).status).toBe(403);
    const elsewhere = await seedAgent({ departments: ["general"], groups: ["supervisors"] });
    const outside = await openSocket(`/api/agent/chats/${chat.chatId}/ws?mode=join`, {
      cookie: await login(elsewhere.email),
      "sec-websocket-protocol": "parley.v1",
    });
    expect((outside as Response).status).toBe(403);
    expect(await auditRows("chat.join", chat.chatId)).toMatchObject([
      { outcome: "denied" },
      { outcome: "denied" },
    ]);
  });

  it("the owner invites an agent, who accepts and joins; a declined invitation is reported", async () => {
    const chat = await liveChat();
    const guest = await deskAgent(chat.department);
    chat.owner.send({ type: "invite", agentId: guest.id });
    const invitation = await guest.console.nextOfType("invitation");
    expect(invitation).toMatchObject({
      chatId: chat.chatId,
      from: { id: chat.agent.id, name: chat.agent.name },
      visitor: { name: "Vera Visitor" },
    });
    // Only the invited agent can answer.
    const other = await deskAgent(chat.department);
    other.console.send({ type: "accept_invitation", chatId: chat.chatId });
    expect(await other.console.nextOfType("error")).toMatchObject({ code: "not_invited" });

    guest.console.send({ type: "accept_invitation", chatId: chat.chatId });
    await guest.console.nextOfType("assigned", (f) => f.chatId === chat.chatId);
    expect(await chat.console.nextOfType("invitation_result")).toEqual({
      type: "invitation_result",
      chatId: chat.chatId,
      agentId: guest.id,
      outcome: "accepted",
    });
    await greeted(await agentChatSocket(chat.chatId, guest.cookie));
    await chat.visitor.nextOfType(
      "event",
      (f) => f.kind === "joined" && (f.from as { id: string }).id === guest.id,
    );
    // Already in: a second invitation is refused.
    const twice = await refusal(chat.owner, { type: "invite", agentId: guest.id });
    expect(twice).toMatchObject({ code: "already_participating" });

    chat.owner.send({ type: "invite", agentId: other.id });
    await other.console.nextOfType("invitation");
    other.console.send({ type: "decline_invitation", chatId: chat.chatId });
    await chat.console.nextOfType("invitation_result", (f) => f.outcome === "declined");
    const role = await env.DB.prepare(
      "SELECT agent_id, role FROM chat_agents WHERE chat_id = ?1 ORDER BY agent_id",
    )
      .bind(chat.chatId)
      .all();
    expect(role.results).toEqual([{ agent_id: guest.id, role: "invited" }]);
  });
});

describe("monitor and whisper", () => {
  it("a monitor and a whisper are undetectable from the visitor socket", async () => {
    const chat = await liveChat();
    const supervisor = await seedAgent({
      departments: [chat.department],
      groups: ["supervisors"],
    });
    const cookie = await login(supervisor.email);
    const mark = chat.visitor.frames.length;

    const monitor = await greeted(await agentChatSocket(chat.chatId, cookie, "monitor"));
    monitor.send({ type: "typing", on: true });
    expect(await monitor.nextOfType("error")).toMatchObject({ code: "read_only" });
    monitor.send({ type: "message", clientId: "m1", text: "hello?" });
    monitor.send({ type: "whisper", clientId: "m2", text: "psst" });

    chat.owner.send({
      type: "whisper",
      clientId: "w1",
      text: "VIP customer, card 4111 1111 1111 1111",
    });
    const ack = await chat.owner.nextOfType("ack", (f) => f.clientId === "w1");
    const whisper = await monitor.nextOfType("event", (f) => f.kind === "whisper");
    expect(whisper).toMatchObject({
      seq: ack.seq,
      from: { role: "agent", id: chat.agent.id },
      text: "VIP customer, card •••• •••• •••• 1111",
    });
    chat.owner.send({ type: "typing", on: true });
    chat.owner.send({ type: "message", clientId: "a1", text: "How can I help?" });
    await monitor.nextOfType("event", (f) => f.text === "How can I help?");
    chat.visitor.send({ type: "message", clientId: "v1", text: "Hi" });
    await monitor.nextOfType("event", (f) => f.text === "Hi");
    await settle();

    const from = { role: "agent", id: chat.agent.id, name: chat.agent.name };
    const visitorFrom = { role: "visitor", id: chat.visitorId, name: "Vera Visitor" };
    expect(framesSince(chat.visitor, mark)).toEqual([
      { type: "typing", from, on: true },
      { type: "event", kind: "message", from, text: "How can I help?", clientId: "a1" },
      { type: "ack", clientId: "v1" },
      { type: "event", kind: "message", from: visitorFrom, text: "Hi", clientId: "v1" },
    ]);
    // The monitor's attempts were all refused.
    expect(monitor.frames.filter((f) => f.type === "error").map((f) => f.code)).toEqual([
      "read_only",
      "read_only",
      "read_only",
    ]);

    // On replay the visitor gets everything but the whisper.
    const replay = await greeted(await visitorSocket(chat.chatId, chat.token));
    expect(events(replay).map((e) => e.kind)).toEqual(["joined", "message", "message"]);

    // The transcript keeps it, marked internal, for agents.
    chat.owner.send({ type: "end" });
    await chat.owner.waitClosed();
    const deadline = Date.now() + 5000;
    let kinds: string[] = [];
    while (Date.now() < deadline && !kinds.includes("whisper")) {
      const rows = await env.DB.prepare("SELECT kind FROM messages WHERE chat_id = ?1 ORDER BY seq")
        .bind(chat.chatId)
        .all<{ kind: string }>();
      kinds = rows.results.map((r) => r.kind);
      await settle();
    }
    expect(kinds).toEqual(["joined", "whisper", "message", "message", "ended"]);
    const admin = await seedAgent({ groups: ["administrators"], departments: [chat.department] });
    const transcript = await apiRequest(
      "GET",
      `/api/transcripts/${chat.chatId}`,
      await login(admin.email),
    );
    const body = (await transcript.json()) as { messages: { kind: string; text: string }[] };
    expect(body.messages.find((m) => m.kind === "whisper")?.text).toBe(
      "VIP customer, card •••• •••• •••• 1111",
    );
  });

  it("a visitor cannot whisper, transfer, invite or leave", async () => {
    const chat = await liveChat();
    for (const frame of [
      { type: "whisper", clientId: "x", text: "hi" },
      { type: "transfer", department: chat.department },
      { type: "invite", agentId: chat.agent.id },
      { type: "leave" },
    ]) {
      expect(await refusal(chat.visitor, frame)).toMatchObject({ code: "not_allowed" });
    }
  });
});
