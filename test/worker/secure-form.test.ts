/**
 * DESIGN invariant 2: secure-form values live in the ChatSession's memory only. Driven over
 * real sockets: request, submit, view (permission, re-auth, audit), wipe on end / TTL /
 * eviction, and a proof of absence across D1, object storage, socket attachments, console
 * output, audit rows and replays.
 */
import {
  env,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  acceptedChat,
  agentChatSocket,
  dumpD1,
  dumpObjectStorage,
  greeted,
  recordConsole,
  type TestSocket,
  visitorSocket,
} from "./helpers.ts";

const PAN = "5555 5555 5555 4444";
const PAN_DIGITS = "5555555555554444";
const NAME = "Zelda Quux-Marker";
const CODE = "737";

const FIELDS = [
  { name: "number", kind: "card_number", label: "Card number" },
  { name: "expiry", kind: "expiry", label: "Expiry" },
  { name: "code", kind: "security_code", label: "Security code" },
  { name: "holder", kind: "cardholder_name", label: "Name on card" },
];

function futureExpiry(): string {
  const year = (new Date().getUTCFullYear() + 2) % 100;
  return `12/${String(year).padStart(2, "0")}`;
}

const VALUES = () => ({ number: PAN, expiry: futureExpiry(), code: CODE, holder: NAME });

/** A live chat with a requested form; returns both sockets and the form's request id. */
async function requestedForm() {
  const chat = await acceptedChat();
  const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
  const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
  agent.send({ type: "secure_form.request", fields: FIELDS });
  const requested = await visitor.nextOfType("event", (f) => f.kind === "secure_form.requested");
  const form = requested.form as { requestId: string; fields: unknown[] };
  expect(form.fields).toEqual(FIELDS);
  return { chat, visitor, agent, requestId: form.requestId };
}

async function submitted() {
  const setup = await requestedForm();
  setup.visitor.send({ type: "secure_form.submit", requestId: setup.requestId, values: VALUES() });
  await setup.agent.nextOfType("event", (f) => f.kind === "secure_form.submitted");
  return setup;
}

async function view(agent: TestSocket, requestId: string) {
  const before = agent.frames.length;
  agent.send({ type: "secure_form.view", requestId });
  return agent.next(
    (f, i = agent.frames.indexOf(f)) =>
      i >= before && (f.type === "secure_form.values" || f.type === "error"),
  );
}

function chatStub(chatId: string) {
  return env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chatId));
}

async function auditOf(chatId: string, action: string) {
  const { results } = await env.DB.prepare(
    "SELECT outcome, details FROM audit_log WHERE target = ?1 AND action = ?2 ORDER BY id",
  )
    .bind(chatId, action)
    .all<{ outcome: string; details: string | null }>();
  return results;
}

describe("the secure form", () => {
  it("delivers the values to the viewing agent only; the transcript keeps a masked summary", async () => {
    const { chat, visitor, agent, requestId } = await submitted();
    const summary = await visitor.nextOfType("event", (f) => f.kind === "secure_form.submitted");
    expect(summary.text).toBe(
      `Secure form submitted: card •••• 4444, exp ${futureExpiry()}, security code provided, Name on card provided`,
    );
    const values = await view(agent, requestId);
    expect(values).toMatchObject({ type: "secure_form.values", requestId, values: VALUES() });
    expect(values.expiresAt).toBeGreaterThan(Date.now() + 50_000); // TTL: 1 minute in tests
    expect(JSON.stringify(visitor.frames)).not.toContain(PAN_DIGITS.slice(0, 12));
    expect(JSON.stringify(visitor.frames)).not.toContain("5555 5555 5555");
    // Each view is audited, without the values.
    const rows = await auditOf(chat.chatId, "secure_form.view");
    expect(rows).toMatchObject([{ outcome: "success" }]);
    expect(JSON.stringify(rows)).not.toContain("5555");
  });

  it("validates before keeping anything and names fields, never values", async () => {
    const { visitor, agent, requestId } = await requestedForm();
    visitor.send({
      type: "secure_form.submit",
      requestId,
      values: { number: "4111 1111 1111 1112", expiry: "01/20", code: "12", holder: "" },
    });
    const error = await visitor.nextOfType("error");
    expect(error).toMatchObject({
      code: "invalid_secure_form",
      fields: {
        number: "invalid_card_number",
        expiry: "expired",
        code: "invalid_security_code",
        holder: "required",
      },
    });
    expect(JSON.stringify(error)).not.toContain("4111");
    // Amex takes a four-digit code, others three.
    visitor.send({
      type: "secure_form.submit",
      requestId,
      values: { ...VALUES(), number: "3782 822463 10005", code: "123" },
    });
    await visitor.next(
      (f) =>
        f.type === "error" &&
        (f.fields as Record<string, string>)?.code === "invalid_security_code" &&
        f !== error,
    );
    expect((await view(agent, requestId)).code).toBe("gone");
  });

  it("is submitted once and cannot be reopened", async () => {
    const { visitor, requestId } = await submitted();
    visitor.send({ type: "secure_form.submit", requestId, values: VALUES() });
    expect(await visitor.nextOfType("error")).toMatchObject({ code: "already_submitted" });
    visitor.send({
      type: "secure_form.submit",
      requestId: crypto.randomUUID(),
      values: VALUES(),
    });
    await visitor.next((f) => f.type === "error" && f.code === "not_found");
  });

  it("lets each side send only its own frames", async () => {
    const { visitor, agent, requestId } = await requestedForm();
    visitor.send({ type: "secure_form.request", fields: FIELDS });
    expect(await visitor.nextOfType("error")).toMatchObject({ code: "not_allowed" });
    visitor.send({ type: "secure_form.view", requestId });
    await visitor.next(
      (f) => f.type === "error" && visitor.frames.filter((g) => g.type === "error").length === 2,
    );
    agent.send({ type: "secure_form.submit", requestId, values: VALUES() });
    expect(await agent.nextOfType("error")).toMatchObject({ code: "not_allowed" });
  });

  it("refuses to view without the permission, with an error frame and an audit row", async () => {
    const { chat, agent, requestId } = await submitted();
    await env.DB.prepare("DELETE FROM agent_groups WHERE agent_id = ?1").bind(chat.agent.id).run();
    expect(await view(agent, requestId)).toMatchObject({ type: "error", code: "forbidden" });
    expect(await auditOf(chat.chatId, "secure_form.view")).toMatchObject([{ outcome: "denied" }]);
    agent.send({ type: "secure_form.request", fields: FIELDS });
    await agent.next(
      (f) => f.type === "error" && agent.frames.filter((g) => g.code === "forbidden").length === 2,
    );
  });

  it("asks for a re-authentication when the last login is older than 5 minutes", async () => {
    const { chat, agent, requestId } = await submitted();
    await env.DB.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE agent_id = ?1")
      .bind(chat.agent.id, Date.now() - 6 * 60_000)
      .run();
    expect(await view(agent, requestId)).toMatchObject({ code: "reauth_required" });
    await env.DB.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE agent_id = ?1")
      .bind(chat.agent.id, Date.now())
      .run();
    expect(await view(agent, requestId)).toMatchObject({ type: "secure_form.values" });
  });

  it("keeps the values through 30 s of silence while participants are connected", async () => {
    const { agent, requestId } = await submitted();
    await new Promise((resolve) => setTimeout(resolve, 30_500));
    expect(await view(agent, requestId)).toMatchObject({ type: "secure_form.values" });
  }, 45_000);

  it("answers gone once the chat ends (a view racing the end included)", async () => {
    const { chat, agent, requestId } = await submitted();
    agent.send({ type: "end" });
    agent.send({ type: "secure_form.view", requestId });
    expect(await agent.nextOfType("error")).toMatchObject({ code: "gone" });
    expect(agent.frames.some((f) => f.type === "secure_form.values")).toBe(false);
    await agent.waitClosed();
    await new Promise((resolve) => setTimeout(resolve, 100)); // the audit append
    expect((await auditOf(chat.chatId, "secure_form.view")).at(-1)).toMatchObject({
      outcome: "failure",
      details: expect.stringContaining('"reason":"ended"'),
    });
    // A reconnect replays the history: request and summary, never a value.
    const again = await greeted(await visitorSocket(chat.chatId, chat.token));
    expect(again.frames.some((f) => f.kind === "secure_form.submitted")).toBe(true);
    expect(JSON.stringify(again.frames)).not.toContain(PAN_DIGITS.slice(0, 12));
    expect(JSON.stringify(again.frames)).not.toContain(NAME);
  });

  it("answers gone after the TTL, wiped by the alarm", async () => {
    const { chat, agent, requestId } = await submitted();
    expect((await view(agent, requestId)).type).toBe("secure_form.values");
    // The worker tests run with SECURE_FORM_TTL_MINUTES=1: move the clock past it and let
    // the alarm run; back on the real clock, only the alarm's wipe can explain "gone".
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + 61_000 });
    try {
      await runDurableObjectAlarm(chatStub(chat.chatId));
    } finally {
      vi.useRealTimers();
    }
    expect(await view(agent, requestId)).toMatchObject({ code: "gone" });
  });

  it("answers gone after the object is evicted, and the agent is told", async () => {
    const { chat, visitor, agent, requestId } = await submitted();
    visitor.ws.close();
    agent.ws.close();
    await agent.waitClosed();
    await evictDurableObject(chatStub(chat.chatId));
    const back = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    expect(JSON.stringify(back.frames)).not.toContain(PAN_DIGITS.slice(0, 12));
    expect(await view(back, requestId)).toMatchObject({ code: "gone" });
    expect((await auditOf(chat.chatId, "secure_form.view")).at(-1)).toMatchObject({
      outcome: "failure",
    });
  });
});

describe("proof of absence", () => {
  let recorded: ReturnType<typeof recordConsole>;
  beforeEach(() => {
    recorded = recordConsole();
  });
  afterEach(() => recorded.restore());

  it("finds the clear digits nowhere: D1, object storage, attachments, console, audit, replays", async () => {
    const { chat, visitor, agent, requestId } = await submitted();
    visitor.send({
      type: "message",
      clientId: "c1",
      text: `also my other card ${PAN} code ${CODE}`,
    });
    await agent.nextOfType("event", (f) => f.clientId === "c1");
    await view(agent, requestId);
    // Bad input too: an invalid submission and a malformed frame must not echo anything.
    visitor.send({ type: "secure_form.submit", requestId, values: { number: `${PAN}x` } });
    visitor.send(
      `{"type":"secure_form.submit","requestId":"${requestId}","values":{"number":"${PAN}", "extra": 1}}`,
    );
    await visitor.next(
      (f) => f.type === "error" && visitor.frames.filter((g) => g.type === "error").length === 2,
    );
    agent.send({ type: "end" });
    await agent.waitClosed();
    await new Promise((resolve) => setTimeout(resolve, 300)); // flushes and audit writes

    // The recorder sees what the objects print (same isolate): the console scan is real.
    console.info("absence-scan-marker");
    expect(recorded.lines.join("\n")).toContain("absence-scan-marker");
    const places = {
      d1: await dumpD1(),
      chatStorage: await dumpObjectStorage(chatStub(chat.chatId)),
      dispatcherStorage: await dumpObjectStorage(
        env.DISPATCHER.get(env.DISPATCHER.idFromName("global")),
      ),
      attachments: await runInDurableObject(
        env.DISPATCHER.get(env.DISPATCHER.idFromName("global")),
        (_, state) => JSON.stringify(state.getWebSockets().map((ws) => ws.deserializeAttachment())),
      ),
      console: recorded.lines.join("\n"),
      replay: JSON.stringify((await greeted(await visitorSocket(chat.chatId, chat.token))).frames),
      visitorFrames: JSON.stringify(visitor.frames),
    };
    for (const [place, text] of Object.entries(places)) {
      expect(text.replace(/\D/g, ""), place).not.toContain(PAN_DIGITS.slice(0, 12));
      expect(text, place).not.toContain(NAME);
    }
    // The masked summary is there, so the scans did look at the right rows.
    expect(places.d1).toContain("card •••• 4444");
    expect(places.chatStorage).toContain("card •••• 4444");
  });
});
