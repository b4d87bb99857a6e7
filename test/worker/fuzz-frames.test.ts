/**
 * WebSocket frame fuzzing (DESIGN invariant 7; issue 6, "Tests that must exist"): at least
 * 10,000 random and malformed frames per run, on both sides of both objects — visitor and
 * agent chat sockets (participating, monitoring, not yet greeted) of the ChatSession and agent
 * console sockets of the Dispatcher: random JSON, frames of every type with wrong or garbage
 * fields, unknown types, frames around and far above the 16 KB limit, binary frames, deep
 * nesting, prototype-pollution keys, secure-form frames naming real and made-up forms, frames
 * before hello, and reconnects in between.
 *
 * Every reply must be a frame the protocol knows (an `error` with a known code, or a normal
 * frame); the server closes sockets only with 1000 (chat ended) or 1008; reconnects never get
 * a 5xx; afterwards both objects still serve (a fresh socket says hello and gets a message
 * acked; a new chat is offered and accepted), and every event acked before the fuzzing is
 * still there, in order, in the replay and in D1.
 *
 * The "kept" chat never receives a valid `end` (it must stay open to prove the object still
 * acks); the "ending" chat receives everything, `end` included, and is fuzzed on after it ended.
 *
 * Reproduce a run with `VITE_FUZZ_SEED=<seed printed in the log> npx vitest run --project worker …`.
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatClientFrame } from "../../src/protocol/chat-frames.ts";
import { dispatcherClientFrame } from "../../src/protocol/dispatcher-frames.ts";
import {
  ORIGIN,
  PASSWORD,
  postJson,
  recordConsole,
  seedAgent,
  uniqueDepartment,
} from "./helpers.ts";

const FRAMES = 10_000;
/** Chats that must stay open, and chats that the fuzzer may end. */
const KEPT = 12;
const ENDING = 4;
/** A round of ROUND frames lasts at least this long, so the frame budgets refill. */
const ROUND_MS = 500;
/** Frames sent before the sender waits for the objects to catch up. */
const ROUND = 250;
const MAX_FRAME = 16 * 1024;
const viteEnv = (import.meta as { env?: Record<string, string | undefined> }).env ?? {};
const SEED = Number(viteEnv.VITE_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Every frame type and error code the server may send, per object (plus rate limiting). */
const CHAT_FRAMES = new Set(["event", "ack", "ready", "typing", "queue", "secure_form.values"]);
const CONSOLE_FRAMES = new Set([
  "status",
  "queue",
  "offer",
  "offer_withdrawn",
  "assigned",
  "invitation",
  "invitation_withdrawn",
  "invitation_result",
  "transfer_result",
  "agent_message",
]);
const CHAT_ERRORS = new Set(
  "bad_frame frame_too_large hello_required already_greeted chat_ended read_only not_allowed forbidden reauth_required not_found gone already_submitted invalid_secure_form unavailable rate_limited not_owner agent_unavailable no_agents transfer_pending invitation_pending already_participating".split(
    " ",
  ),
);
const CONSOLE_ERRORS = new Set(
  "bad_frame frame_too_large not_offered not_invited at_capacity forbidden unavailable rate_limited".split(
    " ",
  ),
);
/** What a socket that has not said hello may hear: refusals only. */
const BEFORE_HELLO = new Set(["bad_frame", "frame_too_large", "hello_required", "rate_limited"]);

// ── Sockets ───────────────────────────────────────────────────────────────────

type Kind = "chat" | "console";

/** A client socket that records every frame raw, so a non-JSON reply is caught, not thrown. */
class FuzzSocket {
  readonly frames: Record<string, unknown>[] = [];
  /** Ids of the secure forms this socket heard of (its chat's). */
  readonly forms: string[] = [];
  readonly problems: string[] = [];
  closed: { code: number; reason: string } | null = null;
  sent = 0;
  lastHeard = Date.now();
  /** Index in `frames` of the first `ready` (chat sockets). */
  readyAt = -1;
  #waiters: (() => void)[] = [];

  readonly name: string;
  readonly kind: Kind;
  readonly ws: WebSocket;

  constructor(name: string, kind: Kind, ws: WebSocket) {
    this.name = name;
    this.kind = kind;
    this.ws = ws;
    ws.accept();
    ws.addEventListener("message", (event) => {
      this.lastHeard = Date.now();
      if (typeof event.data !== "string") {
        this.problems.push(`${name}: binary frame from the server`);
        return;
      }
      let frame: unknown;
      try {
        frame = JSON.parse(event.data);
      } catch {
        this.problems.push(`${name}: non-JSON frame ${event.data.slice(0, 200)}`);
        return;
      }
      this.#judge(frame);
      this.frames.push(frame as Record<string, unknown>);
      const form = (frame as { form?: { requestId?: unknown } }).form;
      if (typeof form?.requestId === "string") this.forms.push(form.requestId);
      if (this.readyAt < 0 && (frame as { type?: unknown }).type === "ready") {
        this.readyAt = this.frames.length - 1;
      }
      this.#wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      if (event.code !== 1000 && event.code !== 1008) {
        this.problems.push(`${name}: closed with ${event.code} ${event.reason}`);
      }
      this.#wake();
    });
  }

  #judge(frame: unknown): void {
    const f = frame as { type?: unknown; code?: unknown; message?: unknown };
    const known = this.kind === "chat" ? CHAT_FRAMES : CONSOLE_FRAMES;
    const codes = this.kind === "chat" ? CHAT_ERRORS : CONSOLE_ERRORS;
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
      this.problems.push(`${this.name}: not an object ${JSON.stringify(frame)}`);
    } else if (f.type === "error") {
      if (typeof f.code !== "string" || !codes.has(f.code) || typeof f.message !== "string") {
        this.problems.push(`${this.name}: unknown error ${JSON.stringify(frame).slice(0, 300)}`);
      }
    } else if (typeof f.type !== "string" || !known.has(f.type)) {
      this.problems.push(`${this.name}: unknown frame ${JSON.stringify(frame).slice(0, 300)}`);
    }
  }

  /** Sends unless closed; true when sent. */
  send(data: string | Uint8Array): boolean {
    if (this.closed) return false;
    try {
      this.ws.send(data);
      this.sent += 1;
      return true;
    } catch {
      return false;
    }
  }

  async next(match: (f: Record<string, unknown>) => boolean, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: no matching frame; got ${JSON.stringify(this.frames.slice(-5))}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** Opens a socket through the Worker; a refused upgrade throws with its status and body. */
async function open(name: string, kind: Kind, path: string, headers: Record<string, string>) {
  const res = await SELF.fetch(`${ORIGIN}${path}`, {
    headers: { upgrade: "websocket", origin: ORIGIN, ...headers },
  });
  if (!res.webSocket) throw new Error(`${name}: upgrade refused ${res.status} ${await res.text()}`);
  return new FuzzSocket(name, kind, res.webSocket);
}

const PROTOCOL = { "sec-websocket-protocol": "parley.v1" };
const visitorPath = (chatId: string) => `/api/visitor/chats/${chatId}/ws`;
const openVisitor = (name: string, chatId: string, token: string) =>
  open(name, "chat", visitorPath(chatId), {
    "sec-websocket-protocol": `parley.v1, bearer.${token}`,
  });
const openAgentChat = (name: string, chatId: string, cookie: string, mode = "participate") =>
  open(name, "chat", `/api/agent/chats/${chatId}/ws?mode=${mode}`, { cookie, ...PROTOCOL });
const openConsole = (name: string, cookie: string) =>
  open(name, "console", "/api/agent/ws", { cookie, ...PROTOCOL });

async function greet(socket: FuzzSocket, lastSeq = 0): Promise<FuzzSocket> {
  socket.send(JSON.stringify({ type: "hello", lastSeq }));
  await socket.next((f) => f.type === "ready");
  return socket;
}

let ipCounter = 0;
/** A unique documentation address per caller, so no per-IP limit of another test applies. */
const nextIp = () => `2001:db8:${(++ipCounter).toString(16)}:f2a::1`;

async function loginFrom(email: string): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": nextIp() },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}

/** Starts a chat in `department` and has `desk` (online there) accept it. */
async function acceptedChat(desk: FuzzSocket, department: string, label: string) {
  const res = await postJson(
    "/api/visitor/chats",
    { name: `Fuzz ${label}`, department },
    { "cf-connecting-ip": nextIp() },
  );
  if (res.status !== 201) throw new Error(`start chat: ${res.status} ${await res.text()}`);
  const { chatId, token } = (await res.json()) as { chatId: string; token: string };
  await desk.next((f) => f.type === "offer" && f.chatId === chatId);
  desk.send(JSON.stringify({ type: "accept", chatId }));
  await desk.next((f) => f.type === "assigned" && f.chatId === chatId);
  return { chatId, token };
}

/**
 * Sends a message until it is acked: a participant's frame budget is shared by its sockets,
 * so after the flood a fresh socket may be told `rate_limited` first (the resend, with the
 * same clientId, is stored once).
 */
async function sendUntilAcked(socket: FuzzSocket, clientId: string, text: string) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const from = socket.frames.length;
    socket.send(JSON.stringify({ type: "message", clientId, text }));
    const reply = await socket.next(
      (f) =>
        socket.frames.indexOf(f) >= from &&
        ((f.type === "ack" && f.clientId === clientId) ||
          (f.type === "error" && f.code === "rate_limited")),
    );
    if (reply.type === "ack") return reply;
    if (Date.now() > deadline) throw new Error(`${socket.name}: never acked`);
    await new Promise((resolve) => setTimeout(resolve, 600));
  }
}

/** Events of a socket as [seq, kind, text]. */
const eventsOf = (socket: FuzzSocket) =>
  socket.frames.filter((f) => f.type === "event").map((f) => [f.seq, f.kind, f.text ?? null]);

async function storedRows(chatId: string) {
  const { results } = await env.DB.prepare(
    "SELECT seq, kind, sender_role, text FROM messages WHERE chat_id = ?1 ORDER BY seq",
  )
    .bind(chatId)
    .all<{ seq: number; kind: string; sender_role: string; text: string | null }>();
  return results;
}

/** Sends a few messages each way, waits for the acks and for D1; returns the acked events. */
async function seedMessages(visitor: FuzzSocket, agent: FuzzSocket, chatId: string) {
  let lastSeq = 0;
  for (let i = 0; i < 3; i++) {
    visitor.send(JSON.stringify({ type: "message", clientId: `pre-v${i}`, text: `before ${i}` }));
    await visitor.next((f) => f.type === "ack" && f.clientId === `pre-v${i}`);
    agent.send(
      JSON.stringify({ type: "message", clientId: `pre-a${i}`, text: `reply ${i} <i>x</i>` }),
    );
    const ack = await agent.next((f) => f.type === "ack" && f.clientId === `pre-a${i}`);
    lastSeq = Number(ack.seq);
  }
  await visitor.next((f) => f.type === "event" && f.seq === lastSeq);
  await expect
    .poll(async () => (await storedRows(chatId)).length, { timeout: 10_000 })
    .toBe(lastSeq);
  return { events: eventsOf(visitor), rows: await storedRows(chatId) };
}

// ── Generators ────────────────────────────────────────────────────────────────

/** Placeholders replaced at send time by ids the run has seen (forms, chats). */
const REQ = "$REQ$";
const CHAT = "$CHAT$";

const weird = fc.constantFrom<unknown>(
  "",
  " ",
  "\u0000",
  "\ud800",
  "💥",
  "\u202e",
  "<img src=x onerror=alert(1)>",
  "__proto__",
  "constructor",
  "4111 1111 1111 1111",
  -1,
  0,
  1e308,
  -0,
  Number.MAX_SAFE_INTEGER + 2,
  1.5,
  true,
  null,
  [],
  {},
  { __proto__: null },
  "9".repeat(300),
);
const text = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 60 }) },
  { weight: 1, arbitrary: fc.constantFrom(3999, 4000, 4001, 5000).map((n) => "t".repeat(n)) },
);
const garbage: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: weird },
  { weight: 3, arbitrary: text },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);
/** A field: right type mostly, garbage sometimes. */
const or = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 4, arbitrary: good as fc.Arbitrary<unknown> },
    { weight: 1, arbitrary: garbage },
  );
const id = (placeholder: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constant<unknown>(placeholder) },
    { weight: 1, arbitrary: fc.uuid() },
    { weight: 1, arbitrary: garbage },
  );
const slug = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
/** A secure-form field, garbage in one part of `odds`. */
const field = (odds: number) => {
  const maybe = <T>(good: fc.Arbitrary<T>) =>
    fc.oneof(
      { weight: odds, arbitrary: good as fc.Arbitrary<unknown> },
      { weight: 1, arbitrary: garbage },
    );
  return fc.record({
    name: maybe(slug),
    kind: maybe(
      fc.constantFrom("card_number", "expiry", "security_code", "cardholder_name", "text", "ssn"),
    ),
    label: maybe(fc.oneof(fc.stringMatching(/^[A-Za-z][A-Za-z ]{0,15}$/), text)),
  });
};

const shaped: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ type: fc.constant("hello"), lastSeq: or(fc.integer({ min: 0, max: 40 })) }),
  fc.record({
    type: fc.constant("message"),
    clientId: or(fc.string({ minLength: 1, maxLength: 64 })),
    text: or(text),
  }),
  fc.record({ type: fc.constant("typing"), on: or(fc.boolean()) }),
  fc.constant({ type: "end" }),
  fc.record({
    type: fc.constant("secure_form.request"),
    fields: fc.oneof(
      // Mostly a form the agent could really ask for, so submits and views have targets.
      {
        weight: 3,
        arbitrary: fc.uniqueArray(field(20), {
          minLength: 1,
          maxLength: 4,
          selector: (f) => f.name,
        }),
      },
      { weight: 1, arbitrary: or(fc.array(field(3), { maxLength: 10 })) },
    ),
  }),
  fc.record({
    type: fc.constant("secure_form.submit"),
    requestId: id(REQ),
    values: or(
      fc.dictionary(fc.oneof(slug, fc.constantFrom("__proto__", "constructor")), or(text), {
        maxKeys: 9,
      }),
    ),
  }),
  fc.record({ type: fc.constant("secure_form.view"), requestId: id(REQ) }),
  fc.record({ type: fc.constant("status"), status: or(fc.constantFrom("online", "away", "busy")) }),
  fc.record({ type: fc.constant("accept"), chatId: id(CHAT) }),
  fc.record({ type: fc.constant("refuse"), chatId: id(CHAT) }),
  fc.record({ type: fc.constant("accept_invitation"), chatId: id(CHAT) }),
  fc.record({ type: fc.constant("decline_invitation"), chatId: id(CHAT) }),
  fc.record({
    type: fc.constant("whisper"),
    clientId: or(fc.string({ minLength: 1, maxLength: 64 })),
    text: or(text),
  }),
  // Agents and departments that do not exist (or garbage): a real transfer would take a kept
  // chat away from its owner's socket, which the test wants open.
  fc.oneof(
    fc.record({ type: fc.constant("transfer"), agentId: or(fc.uuid()) }),
    fc.record({ type: fc.constant("transfer"), department: or(slug) }),
    fc.record({ type: fc.constant("transfer"), agentId: or(fc.uuid()), department: or(slug) }),
  ),
  fc.record({ type: fc.constant("invite"), agentId: or(fc.uuid()) }),
  fc.constant({ type: "leave" }),
  fc.record({
    type: fc.constantFrom(
      "survey",
      "ping",
      "event",
      "ack",
      "ready",
      "error",
      "offer",
      "HELLO",
      "message ",
      "",
      "__proto__",
    ),
    toAgentId: garbage,
    rating: garbage,
  }),
);

/** Secure-form frames twice as often: their paths (validation of values) are the riskiest. */
const favoured = fc.oneof(
  { weight: 3, arbitrary: shaped },
  {
    weight: 1,
    arbitrary: shaped.filter((f) => String(f.type).startsWith("secure_form.")),
  },
);

/** A shaped frame with an extra key, a dropped key or a replaced type now and then. */
const mutated = fc
  .tuple(
    favoured,
    fc.nat(9),
    fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom("__proto__", "constructor", "prototype", "type"),
    ),
    garbage,
  )
  .map(([frame, dice, key, value]) => {
    let json = JSON.stringify(frame);
    if (dice === 0)
      json = `${json.slice(0, -1)}${json.length > 2 ? "," : ""}${JSON.stringify(key)}:${JSON.stringify(value) ?? "null"}}`;
    if (dice === 1) json = JSON.stringify({ ...frame, type: value });
    if (dice === 2) json = JSON.stringify(Object.fromEntries(Object.entries(frame).slice(1)));
    return json;
  });

/** A frame to send, materialized at send time (so 10,000 descriptors stay small). */
type Frame =
  | { kind: "text"; text: string }
  | { kind: "binary"; bytes: Uint8Array }
  | { kind: "huge"; size: number; shape: "raw" | "message" | "unicode" }
  | { kind: "deep"; depth: number; open: string; close: string };

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 12, arbitrary: mutated.map((t): Frame => ({ kind: "text", text: t })) },
  {
    weight: 2,
    arbitrary: fc
      .jsonValue()
      .map((v): Frame => ({ kind: "text", text: JSON.stringify(v) ?? "null" })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.string({ maxLength: 80 }),
        fc.string({ unit: "binary", maxLength: 80 }),
        fc.constantFrom(
          '{"type":"hello"',
          "{'type':'hello'}",
          "",
          "null",
          '{"type":"message","text":"\u0000"}',
          "\ufeff{}",
          '{"type":"hello","lastSeq":0}{}',
          '{"type":"hello","lastSeq":1e999}',
        ),
      )
      .map((t): Frame => ({ kind: "text", text: t })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.constant(new TextEncoder().encode('{"type":"hello","lastSeq":0}')),
      )
      .map((bytes): Frame => ({ kind: "binary", bytes })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        size: fc.oneof(
          fc.integer({ min: MAX_FRAME - 40, max: MAX_FRAME + 40 }),
          fc.constantFrom(20_000, 65_536, 200_000),
        ),
        shape: fc.constantFrom<"raw" | "message" | "unicode">("raw", "message", "unicode"),
      })
      .map(({ size, shape }): Frame => ({ kind: "huge", size, shape })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({
        depth: fc.oneof(fc.integer({ min: 10, max: 100 }), fc.integer({ min: 2000, max: 8000 })),
        pair: fc.constantFrom(
          ["[", "]"],
          ['{"type":', "}"],
          ['{"type":"message","text":', "}"],
          ['{"values":', "}"],
        ),
      })
      .map(
        ({ depth, pair }): Frame => ({
          kind: "deep",
          depth,
          open: pair[0] ?? "[",
          close: pair[1] ?? "]",
        }),
      ),
  },
);

/** The frame's data; placeholders become a form of the socket's chat and one of `chatIds`. */
function materialize(
  f: Frame,
  forms: string[],
  chatIds: string[],
  pick: number,
): string | Uint8Array {
  switch (f.kind) {
    case "binary":
      return f.bytes;
    case "deep":
      return f.open.repeat(f.depth) + f.close.repeat(f.depth);
    case "huge": {
      if (f.shape === "raw") return "{".repeat(f.size);
      const filler = f.shape === "unicode" ? "€".repeat(f.size) : "m".repeat(f.size);
      return JSON.stringify({
        type: "message",
        clientId: "huge",
        text: filler.slice(0, f.size - 45),
      });
    }
    case "text": {
      const requestId = forms[pick % Math.max(1, forms.length)] ?? crypto.randomUUID();
      const chatId = chatIds[pick % Math.max(1, chatIds.length)] ?? crypto.randomUUID();
      return f.text.replaceAll(REQ, requestId).replaceAll(CHAT, chatId);
    }
  }
}

/** The `type` of a JSON-object frame, else null. */
function typeOf(data: string | Uint8Array): string | null {
  if (typeof data !== "string") return null;
  try {
    const type = (JSON.parse(data) as { type?: unknown })?.type;
    return typeof type === "string" ? type : null;
  } catch {
    return null;
  }
}

/** True for a frame that would end the chat (sent only where ending is part of the test). */
function ends(data: string | Uint8Array): boolean {
  if (typeof data !== "string") return false;
  try {
    return (JSON.parse(data) as { type?: unknown })?.type === "end";
  } catch {
    return false;
  }
}

// ── The run ───────────────────────────────────────────────────────────────────

describe("WebSocket frame fuzzing", () => {
  let recorded: ReturnType<typeof recordConsole>;
  beforeAll(() => {
    recorded = recordConsole(["error"]);
  });
  afterAll(() => recorded.restore());

  it(`answers ${FRAMES} random and malformed frames with known frames, and loses nothing`, async () => {
    const started = Date.now();
    // One administrator (every permission) takes every chat: KEPT chats never get a valid
    // `end`, ENDING chats do. Each participant has its own frame budget per chat, so more
    // chats let more of the flood past the rate limit into the objects' logic.
    const departments = Array.from({ length: KEPT + ENDING }, () => uniqueDepartment());
    const admin = await seedAgent({ groups: ["administrators"], departments, maxChats: 50 });
    const adminCookie = await loginFrom(admin.email);
    const adminDesk = await openConsole("admin console", adminCookie);
    await adminDesk.next((f) => f.type === "status");
    const chats = [];
    for (const [i, department] of departments.entries()) {
      const ends = i >= KEPT;
      const chat = await acceptedChat(adminDesk, department, `${ends ? "ending" : "kept"} ${i}`);
      const name = `${ends ? "ending" : "kept"} ${i}`;
      const visitor = await greet(await openVisitor(`${name} visitor`, chat.chatId, chat.token));
      const agent = await greet(await openAgentChat(`${name} agent`, chat.chatId, adminCookie));
      chats.push({
        ...chat,
        name,
        ends,
        visitor,
        agent,
        before: await seedMessages(visitor, agent, chat.chatId),
      });
    }
    // Only now other agents come online (else the offers above could go to them): a
    // supervisor monitoring the kept chats, and a plain agent (no secure-form permissions).
    const supervisor = await seedAgent({ groups: ["supervisors"], departments });
    const supervisorCookie = await loginFrom(supervisor.email);
    const plain = await seedAgent({ departments: [uniqueDepartment()] });
    const consoles = [
      adminDesk,
      await openConsole("supervisor console", supervisorCookie),
      await openConsole("plain console", await loginFrom(plain.email)),
    ];

    /** Sockets on which a frame that ends the chat is never sent. */
    const keep = new Set<FuzzSocket>();
    /** Sockets of the ending chats: reconnected when the server closed them. */
    const endingSockets = new Map<FuzzSocket, (typeof chats)[number]>();
    /** Sockets that start without hello: they may hear refusals only until their hello. */
    const unGreeted: FuzzSocket[] = [];
    const chatSockets: FuzzSocket[] = [];
    for (const chat of chats) {
      const fresh = await openVisitor(`${chat.name} visitor (no hello)`, chat.chatId, chat.token);
      const freshAgent = await openAgentChat(
        `${chat.name} agent (no hello)`,
        chat.chatId,
        adminCookie,
      );
      unGreeted.push(fresh, freshAgent);
      const sockets = [chat.visitor, chat.agent, fresh, freshAgent];
      if (!chat.ends) {
        sockets.push(
          await greet(
            await openAgentChat(`${chat.name} monitor`, chat.chatId, supervisorCookie, "monitor"),
          ),
        );
        for (const socket of sockets) keep.add(socket);
      } else {
        for (const socket of sockets) endingSockets.set(socket, chat);
      }
      chatSockets.push(...sockets);
    }
    const all: FuzzSocket[] = [...consoles, ...chatSockets];
    const chatIds = chats.map((c) => c.chatId);
    const setupMs = Date.now() - started;

    const specs = fc.sample(fc.tuple(frame, fc.nat(), fc.integer({ min: 0, max: 99 })), {
      numRuns: FRAMES * 2,
      seed: SEED,
    });
    let sent = 0;
    let endsSent = 0;
    const sentTypes = new Map<string, number>();
    let reconnects = 0;
    const reconnectProblems: string[] = [];
    let round = 0;
    let roundStarted = Date.now();
    for (const [f, pick, side] of specs) {
      if (sent >= FRAMES) break;
      const pool = side < 75 ? chatSockets : consoles;
      const index = pick % pool.length;
      const socket = pool[index];
      if (!socket) continue;
      const data = materialize(f, socket.forms, chatIds, pick);
      if (keep.has(socket) && ends(data)) continue;
      if (socket.send(data)) {
        sent += 1;
        const type = typeOf(data);
        if (type !== null) sentTypes.set(type, (sentTypes.get(type) ?? 0) + 1);
        if (ends(data)) endsSent += 1;
      } else {
        const chat = endingSockets.get(socket);
        if (!chat) continue;
        // The ending chat closed its sockets: reconnect (never a 5xx) and fuzz on.
        try {
          const again = await openVisitor(
            `${chat.name} visitor #${++reconnects}`,
            chat.chatId,
            chat.token,
          );
          all.push(again);
          endingSockets.set(again, chat);
          pool[index] = again;
        } catch (error) {
          reconnectProblems.push(String(error));
        }
      }
      if (sent >= (round + 1) * ROUND) {
        round += 1;
        // Let the objects catch up and the budgets refill; reconnect a visitor now and then.
        await quiet(all, 30, 2000);
        await new Promise((resolve) => setTimeout(resolve, roundStarted + ROUND_MS - Date.now()));
        roundStarted = Date.now();
        if (round % 8 === 0) {
          const chat = chats[round % KEPT];
          try {
            if (!chat) throw new Error("no chat");
            const visit = await greet(
              await openVisitor(`${chat.name} reconnect ${round}`, chat.chatId, chat.token),
            );
            visit.ws.close(1000, "done");
            reconnects += 1;
          } catch (error) {
            reconnectProblems.push(String(error));
          }
        }
      }
    }
    await quiet(all, 300, 15_000);
    const fuzzMs = Date.now() - started - setupMs;
    const histogram = new Map<string, number>();
    for (const socket of all) {
      for (const f of socket.frames) {
        const key =
          f.type === "error"
            ? `error:${f.code}`
            : f.type === "event"
              ? `event:${f.kind}`
              : String(f.type);
        histogram.set(key, (histogram.get(key) ?? 0) + 1);
      }
    }
    console.log(
      `fuzz-frames: seed ${SEED}, ${sent} frames sent on ${all.length} sockets (${endsSent} ends), ` +
        `${reconnects} reconnects, ${new Set(all.flatMap((s) => s.forms)).size} secure forms; setup ${setupMs} ms, fuzzing ${fuzzMs} ms; ` +
        `replies ${JSON.stringify(Object.fromEntries([...histogram].sort((a, b) => b[1] - a[1])))}`,
    );
    expect(sent, `seed ${SEED}`).toBeGreaterThanOrEqual(FRAMES);
    // Every frame type of both objects was sent, valid-shaped or not, at least 50 times.
    const types = [...chatClientFrame.options, ...dispatcherClientFrame.options].map(
      (o) => o.shape.type.value as string,
    );
    expect(
      types.filter((t) => (sentTypes.get(t) ?? 0) < 50),
      `seed ${SEED}`,
    ).toEqual([]);

    // Every reply was a known frame; no socket was closed with another code than 1000/1008.
    expect(all.flatMap((s) => s.problems).slice(0, 20), `seed ${SEED}`).toEqual([]);
    expect(reconnectProblems, `seed ${SEED}`).toEqual([]);
    // The kept chats' sockets are all still open.
    expect(
      [...keep].filter((s) => s.closed).map((s) => `${s.name} ${JSON.stringify(s.closed)}`),
    ).toEqual([]);
    // A socket hears nothing but refusals before its hello.
    for (const socket of unGreeted) {
      // The replay (events, in one turn with `ready`) answers the hello; before it, refusals.
      let start = socket.readyAt < 0 ? socket.frames.length : socket.readyAt;
      while (start > 0 && socket.frames[start - 1]?.type === "event") start -= 1;
      const early = socket.frames.slice(0, start);
      const unexpected = early.filter(
        (f) => f.type !== "error" || !BEFORE_HELLO.has(String(f.code)),
      );
      expect(unexpected.slice(0, 5), socket.name).toEqual([]);
    }
    // Nothing failed inside the objects.
    expect(recorded.lines, `seed ${SEED}`).toEqual([]);

    for (const chat of chats) {
      // Every event acked before the fuzzing is still there: in order in a replay, and in D1.
      // An agent replays every event; the visitor the same but for whispers (agents only).
      const full = await greet(
        await openAgentChat(`${chat.name} full replay`, chat.chatId, adminCookie),
      );
      const replay = await greet(
        await openVisitor(`${chat.name} replay`, chat.chatId, chat.token),
        0,
      );
      const events = eventsOf(full);
      expect(events.slice(0, chat.before.events.length), chat.name).toEqual(chat.before.events);
      expect(
        events.map(([seq]) => seq),
        chat.name,
      ).toEqual(events.map((_, i) => i + 1));
      expect(eventsOf(replay), chat.name).toEqual(events.filter(([, kind]) => kind !== "whisper"));
      all.push(full);
      const rows = await storedRows(chat.chatId);
      expect(rows.slice(0, chat.before.rows.length), chat.name).toEqual(chat.before.rows);
      if (chat.ends) continue;
      // The ChatSession still serves: the fresh socket gets a message acked, which the agent's
      // socket (open all along) receives; a fresh agent socket opens and replays it.
      const ack = await sendUntilAcked(replay, `after-${chat.name}`, `still here ${chat.name}`);
      await chat.agent.next((f) => f.type === "event" && f.seq === ack.seq);
      const agentAgain = await greet(
        await openAgentChat(`${chat.name} agent after`, chat.chatId, adminCookie),
      );
      expect(agentAgain.frames.some((f) => f.type === "event" && f.seq === ack.seq)).toBe(true);
      all.push(replay, agentAgain);
    }

    // The Dispatcher still serves: a fresh console goes online and is offered a new chat.
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const desk = await openConsole("console after", await loginFrom(agent.email));
    await desk.next((f) => f.type === "status");
    desk.send(JSON.stringify({ type: "status", status: "online" }));
    await acceptedChat(desk, department, "after");
    all.push(desk);
    expect(all.flatMap((s) => s.problems)).toEqual([]);
    for (const socket of all) if (!socket.closed) socket.ws.close(1000, "done");
    // Let the objects finish what the closes started (flushes, audit rows) before teardown.
    const settled = Date.now() + 3000;
    while (all.some((s) => !s.closed) && Date.now() < settled) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }, 240_000);
});

/** Waits until no socket has heard anything for `idleMs` (or `maxMs` passed). */
async function quiet(sockets: FuzzSocket[], idleMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline) {
    const last = Math.max(...sockets.map((s) => s.lastHeard));
    if (Date.now() - last >= idleMs) return;
    await new Promise((resolve) => setTimeout(resolve, Math.min(idleMs, 50)));
  }
}
