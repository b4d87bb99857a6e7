/**
 * Node clients for the whole desk over `wrangler dev`, built on the shared browser client
 * (`src/client`): agents online on reconnecting console sockets that accept every offer, and
 * chat participants on `connectChat`. Used by the chaos test and `npm run bench`.
 */
import { type ChatConnection, connectChat } from "../../src/client/chat-connection.ts";
import { reconnectingSocket } from "../../src/client/reconnecting-socket.ts";
import type { ChatEvent } from "../../src/protocol/chat-frames.ts";
import type { DevServer } from "./dev-server.ts";

/** Where a client keeps the socket it uses now (so a test can drop it). */
export interface SocketHolder {
  socket: WebSocket | null;
}

/**
 * Opens sockets the way a browser would for this client: with an Origin and, for agents, the
 * session cookie. Node's WebSocket (undici) takes headers in an options object.
 */
export function nodeSockets(
  headers: Record<string, string>,
  holder: SocketHolder = { socket: null },
) {
  return (url: string, protocols: string[]): WebSocket => {
    const Ctor = WebSocket as unknown as new (u: string, o: object) => WebSocket;
    const socket = new Ctor(url, { protocols, headers });
    holder.socket = socket;
    return socket;
  };
}

/** Logs an agent in; returns the session cookie. */
export async function signIn(server: DevServer, email: string, password: string): Promise<string> {
  const res = await fetch(`${server.origin}/api/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: server.origin },
    body: JSON.stringify({ email, password }),
  });
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status} ${await res.text()}`);
  return (res.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
}

export interface OnlineAgent {
  cookie: string;
  /** Chats assigned to this agent so far. */
  chats: Set<string>;
  close(): void;
}

/**
 * An agent online on a reconnecting console socket, accepting every offer. Resolves once the
 * Dispatcher has confirmed the agent online: a chat started earlier would find nobody there.
 */
export async function acceptingAgent(server: DevServer, cookie: string): Promise<OnlineAgent> {
  const chats = new Set<string>();
  let resolve = () => {};
  const online = new Promise<void>((done) => (resolve = done));
  const desk = reconnectingSocket({
    url: `${server.wsOrigin}/api/agent/ws`,
    protocols: ["parley.v1"],
    createSocket: nodeSockets({ cookie, origin: server.origin }),
    onOpen: () => desk.send({ type: "status", status: "online" }),
    onFrame: (frame) => {
      const f = frame as { type: string; chatId?: string; status?: string };
      if (f.type === "status" && f.status === "online") resolve();
      if (f.type === "offer") desk.send({ type: "accept", chatId: f.chatId });
      if (f.type === "assigned" && f.chatId) chats.add(f.chatId);
    },
  });
  await online;
  return { cookie, chats, close: () => desk.close() };
}

/** Starts `count` chats as visitors, 10 at a time. */
export async function startChats(
  server: DevServer,
  count: number,
): Promise<{ chatId: string; token: string }[]> {
  const started: { chatId: string; token: string }[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(10, count - i) }, async (_, j) => {
        const res = await fetch(`${server.origin}/api/visitor/chats`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: server.origin },
          body: JSON.stringify({ name: `Visitor ${i + j}` }),
        });
        if (res.status !== 201) throw new Error(`chat start: ${res.status} ${await res.text()}`);
        return (await res.json()) as { chatId: string; token: string };
      }),
    );
    started.push(...batch);
  }
  return started;
}

/** One participant of one chat on the shared client. */
export interface Participant {
  name: string;
  connection: ChatConnection;
  /** Events delivered to the application (the client drops duplicates by seq). */
  events: ChatEvent[];
  /** The `clientId`s this participant sent, and the seq each was acknowledged with. */
  sent: string[];
  acked: Map<string, number>;
  holder: SocketHolder;
  /** Set when the client stopped for good. */
  closedWith: number | null;
  /** Called with each new event as it arrives. */
  onEvent?: (event: ChatEvent) => void;
}

/** Opens a chat socket for a visitor (`token`) or an agent (`cookie`) on the shared client. */
export function participant(
  server: DevServer,
  name: string,
  path: string,
  auth: { token: string } | { cookie: string },
): Participant {
  const holder: SocketHolder = { socket: null };
  const protocols = "token" in auth ? ["parley.v1", `bearer.${auth.token}`] : ["parley.v1"];
  const headers: Record<string, string> = { origin: server.origin };
  if ("cookie" in auth) headers.cookie = auth.cookie;
  const side: Participant = {
    name,
    events: [],
    sent: [],
    acked: new Map(),
    holder,
    closedWith: null,
    connection: null as unknown as ChatConnection, // set right below
  };
  side.connection = connectChat({
    url: `${server.wsOrigin}${path}`,
    protocols,
    createSocket: nodeSockets(headers, holder),
    onEvent: (event) => {
      side.events.push(event);
      side.onEvent?.(event);
    },
    onAck: (clientId, seq) => side.acked.set(clientId, seq),
    onClosed: (code) => {
      side.closedWith = code;
    },
  });
  return side;
}

/** Waits until `check` holds; throws naming `what` (and `explain()`) after `ms`. */
export async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  ms = 60_000,
  explain: () => unknown = () => "",
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what} ${JSON.stringify(explain())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
