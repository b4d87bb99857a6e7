/** Helpers for worker tests: seed agents, log in, start chats and drive real sockets. */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { vi } from "vitest";
import { getArgon2 } from "../../src/security/argon2-workerd.ts";
import { hashPassword } from "../../src/security/password-hash.ts";

export const ORIGIN = "https://example.com";
export const PASSWORD = "correct horse battery staple";

let counter = 0;

/**
 * Inserts an enabled agent with PASSWORD; returns its id and email. Permissions come from
 * `groups` (presets `administrators`, `supervisors`, `agents`; default `agents`) and from
 * agent-level `grants` (permission ids).
 */
export async function seedAgent(
  options: { groups?: string[]; grants?: string[]; departments?: string[]; maxChats?: number } = {},
): Promise<{ id: string; email: string; name: string }> {
  const id = crypto.randomUUID();
  counter += 1;
  const email = `agent${counter}-${id.slice(0, 8)}@example.com`;
  const name = `Agent ${counter}`;
  const hash = hashPassword(await getArgon2(), PASSWORD);
  await env.DB.prepare(
    `INSERT INTO agents (id, email, name, password_hash, password_changed_at, max_chats, created_at)
     VALUES (?1, ?2, ?3, ?4, ?6, ?5, ?6)`,
  )
    .bind(id, email, name, hash, options.maxChats ?? null, Date.now())
    .run();
  for (const group of options.groups ?? ["agents"]) {
    await env.DB.prepare("INSERT INTO agent_groups (agent_id, group_id) VALUES (?1, ?2)")
      .bind(id, group)
      .run();
  }
  for (const permission of options.grants ?? []) {
    await env.DB.prepare(
      "INSERT INTO grants (subject_type, subject_id, permission) VALUES ('agent', ?1, ?2)",
    )
      .bind(id, permission)
      .run();
  }
  for (const department of options.departments ?? []) {
    await env.DB.prepare(
      "INSERT OR IGNORE INTO departments (id, name, created_at) VALUES (?1, ?1, 0)",
    )
      .bind(department)
      .run();
    await env.DB.prepare("INSERT INTO agent_departments (agent_id, department_id) VALUES (?1, ?2)")
      .bind(id, department)
      .run();
  }
  return { id, email, name };
}

/** Logs in and returns the `Cookie` header value. */
export async function login(email: string, password = PASSWORD): Promise<string> {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.get("set-cookie") ?? "";
  return setCookie.split(";")[0] ?? "";
}

/** POSTs JSON from the demo page's origin. */
export function postJson(path: string, body: unknown, headers: Record<string, string> = {}) {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, ...headers },
    body: JSON.stringify(body),
  });
}

/** A client socket that records every frame it receives. */
export class TestSocket {
  readonly frames: Record<string, unknown>[] = [];
  closed: { code: number; reason: string } | null = null;
  readonly ws: WebSocket;
  #waiters: (() => void)[] = [];

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.accept();
    ws.addEventListener("message", (event) => {
      this.frames.push(JSON.parse(event.data as string));
      this.#wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake();
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits until a received frame matches; returns it. */
  async next(
    match: (frame: Record<string, unknown>) => boolean,
    timeoutMs = 5000,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(`no matching frame; got ${JSON.stringify(this.frames)}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Waits for a frame of `type` (and optional extra match) after index `from`. */
  nextOfType(type: string, extra: (frame: Record<string, unknown>) => boolean = () => true) {
    return this.next((frame) => frame.type === type && extra(frame));
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }
}

/** Opens a socket through the Worker; returns the response when the upgrade is refused. */
export async function openSocket(
  path: string,
  headers: Record<string, string>,
): Promise<TestSocket | Response> {
  const res = await SELF.fetch(`${ORIGIN}${path}`, {
    headers: { upgrade: "websocket", origin: ORIGIN, ...headers },
  });
  if (!res.webSocket) return res;
  return new TestSocket(res.webSocket);
}

/** Opens a socket that must succeed. */
export async function mustOpen(path: string, headers: Record<string, string>): Promise<TestSocket> {
  const socket = await openSocket(path, headers);
  if (socket instanceof Response) {
    throw new Error(`upgrade refused: ${socket.status} ${await socket.text()}`);
  }
  return socket;
}

/** An agent online on the Dispatcher socket. */
export async function agentOnline(cookie: string): Promise<TestSocket> {
  const socket = await mustOpen("/api/agent/ws", { cookie, "sec-websocket-protocol": "parley.v1" });
  await socket.nextOfType("status");
  return socket;
}

/** The visitor's chat socket. */
export function visitorSocket(chatId: string, token: string): Promise<TestSocket> {
  return mustOpen(`/api/visitor/chats/${chatId}/ws`, {
    "sec-websocket-protocol": `parley.v1, bearer.${token}`,
  });
}

/** A department unique to one test, so tests sharing the Dispatcher never see each other's chats. */
export function uniqueDepartment(): string {
  return `dept-${crypto.randomUUID().slice(0, 8)}`;
}

/** Starts a chat in `department`; expects 201 and returns its body. */
export async function startChat(
  department: string,
  form: Record<string, unknown> = {},
): Promise<{ chatId: string; token: string; visitorId: string; queuePosition: number }> {
  const res = await postJson("/api/visitor/chats", { name: "Vera Visitor", department, ...form });
  if (res.status !== 201) throw new Error(`start chat: ${res.status} ${await res.text()}`);
  return res.json();
}

/** An agent online in a fresh department, a visitor's chat offered and accepted. */
export async function acceptedChat() {
  const department = uniqueDepartment();
  const agent = await seedAgent({ departments: [department] });
  const cookie = await login(agent.email);
  const console = await agentOnline(cookie);
  const chat = await startChat(department);
  await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
  console.send({ type: "accept", chatId: chat.chatId });
  await console.nextOfType("assigned", (f) => f.chatId === chat.chatId);
  return { department, agent, cookie, console, ...chat };
}

/** The agent's chat socket. */
export function agentChatSocket(chatId: string, cookie: string, mode = "participate") {
  return mustOpen(`/api/agent/chats/${chatId}/ws?mode=${mode}`, {
    cookie,
    "sec-websocket-protocol": "parley.v1",
  });
}

/** The `event` frames a socket received. */
export function events(socket: TestSocket) {
  return socket.frames.filter((f) => f.type === "event") as {
    seq: number;
    kind: string;
    text?: string;
  }[];
}

/** Sends hello and waits for the replay to finish. */
export async function greeted(socket: TestSocket, lastSeq = 0) {
  socket.send({ type: "hello", lastSeq });
  await socket.nextOfType("ready");
  return socket;
}

/** The account's consecutive login failures (0 when it has none). */
export async function accountFailures(email: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT failures FROM login_failures WHERE kind = 'account' AND key = ?1",
  )
    .bind(email.toLowerCase())
    .first<{ failures: number }>();
  return row?.failures ?? 0;
}

/** Calls the API as a signed-in agent from the Worker's own origin; `body` is sent as JSON. */
export function apiRequest(method: string, path: string, cookie: string, body?: unknown) {
  return SELF.fetch(`${ORIGIN}${path}`, {
    method,
    headers: {
      cookie,
      origin: ORIGIN,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

/**
 * Waits until D1 holds the chat's events through `seq`. A ChatSession copies them about 50 ms
 * after a message in a quiet chat and at most every 2 seconds in a busy one, so a test reads D1
 * only after this (never after a fixed sleep).
 */
export async function flushedThrough(
  chatId: string,
  seq: number,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await env.DB.prepare("SELECT max(seq) AS seq FROM messages WHERE chat_id = ?1")
      .bind(chatId)
      .first<{ seq: number | null }>();
    if ((row?.seq ?? 0) >= seq) return;
    if (Date.now() > deadline)
      throw new Error(`chat ${chatId}: D1 has seq ${row?.seq}, not ${seq}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Every row of every D1 table (FTS shadow tables included), as text, for absence scans. */
export async function dumpD1(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'd1_%'",
  ).all<{ name: string }>();
  let dump = "";
  for (const { name } of tables.results) {
    const rows = await env.DB.prepare(`SELECT * FROM "${name}"`).all();
    dump += JSON.stringify(rows.results, blobsAsText);
  }
  return dump;
}

/** Every row of every table in a Durable Object's SQLite storage, as text. */
export function dumpObjectStorage(stub: DurableObjectStub): Promise<string> {
  return runInDurableObject(stub, (_, state) => {
    let dump = "";
    for (const table of state.storage.sql.exec<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '_cf_%' AND name NOT LIKE 'sqlite_%'",
    )) {
      dump += JSON.stringify(
        state.storage.sql.exec(`SELECT * FROM "${table.name}"`).toArray(),
        blobsAsText,
      );
    }
    return dump;
  });
}

/** JSON replacer: binary cells (FTS segments, hashes) become latin-1 text, so text in them is found. */
function blobsAsText(_key: string, value: unknown): unknown {
  const bytes =
    value instanceof ArrayBuffer
      ? new Uint8Array(value)
      : ArrayBuffer.isView(value)
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : null;
  if (!bytes) return value;
  let text = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return text;
}

type ConsoleMethod = "log" | "info" | "warn" | "error" | "debug";

/**
 * Records what the Worker and its Durable Objects (same isolate in these tests) print
 * through `methods`, still printing it. Call `restore()` when done.
 */
export function recordConsole(
  methods: readonly ConsoleMethod[] = ["log", "info", "warn", "error", "debug"],
): { lines: string[]; restore(): void } {
  const lines: string[] = [];
  const spies = methods.map((method) => {
    const original = console[method].bind(console);
    return vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(
        args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "),
      );
      original(...args);
    });
  });
  return {
    lines,
    restore: () => {
      for (const spy of spies) spy.mockRestore();
    },
  };
}

/**
 * An actor's audit rows, oldest first, `details` parsed; `action` filters with SQL LIKE
 * (`"canned_message.%"` for a family of actions).
 */
export async function auditRowsOf(actorId: string, action?: string) {
  const { results } = await env.DB.prepare(
    `SELECT action, target, outcome, department, details FROM audit_log
     WHERE actor_id = ?1 AND (?2 IS NULL OR action LIKE ?2) ORDER BY id`,
  )
    .bind(actorId, action ?? null)
    .all<{
      action: string;
      target: string | null;
      outcome: string;
      department: string | null;
      details: string | null;
    }>();
  return results.map((row) => ({
    ...row,
    details: row.details ? (JSON.parse(row.details) as Record<string, unknown>) : null,
  }));
}
