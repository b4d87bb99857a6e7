/**
 * Fixtures for the widget's browser tests: an agent on the real protocol (desk socket that
 * accepts offers, chat socket that records raw frames), the widget's confirmed messages as the
 * page shows them, an axe-core scan of the widget, a TCP proxy whose connections a test can
 * cut like a failing network, and the visitors' pages and agents' sockets a test file closes.
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { seriousAxeViolations, watchPage } from "./browser.ts";
import { signIn } from "./desk-clients.ts";
import type { DevServer } from "./dev-server.ts";
import { type Frame, WsClient } from "./ws-client.ts";

/**
 * The visitors and agents' sockets of one widget test file. Each visitor gets a browser
 * context of its own (its own storage, as separate people have) and a page whose console
 * errors go to `problems`; `close()` closes every context and socket.
 */
export interface Visitors {
  problems: string[];
  page(name: string): Promise<Page>;
  /** Closes `socket` with the rest at the end; returns it. */
  keep(socket: WsClient): WsClient;
  close(): Promise<void>;
}

/** Visitors for the browser that `browser()` returns (launched in `beforeAll`). */
export function visitors(browser: () => Browser): Visitors {
  const problems: string[] = [];
  const contexts: BrowserContext[] = [];
  const sockets: WsClient[] = [];
  return {
    problems,
    async page(name) {
      const context = await browser().newContext();
      contexts.push(context);
      return watchPage(await context.newPage(), name, problems);
    },
    keep(socket) {
      sockets.push(socket);
      return socket;
    },
    async close() {
      await Promise.all(contexts.splice(0).map((context) => context.close()));
      await Promise.all(sockets.splice(0).map((socket) => socket.close()));
    },
  };
}

/** An agent online on the desk socket, who accepts offers one at a time. */
export interface DeskAgent {
  desk: WsClient;
  /** Waits for the next offer (after those already accepted), accepts it; returns its chatId. */
  acceptNext(): Promise<string>;
  /** Opens the agent's chat socket (raw frames, no dedupe) and waits for its replay. */
  join(chatId: string): Promise<WsClient>;
}

/** Signs an agent in and puts them online through the console's socket. */
export async function deskAgent(
  server: DevServer,
  email: string,
  password: string,
): Promise<DeskAgent> {
  const cookie = await signIn(server, email, password);
  const headers = { cookie, origin: server.origin };
  const desk = await WsClient.open(`${server.wsOrigin}/api/agent/ws`, {
    protocols: ["parley.v1"],
    headers,
  });
  await desk.next((f) => f.type === "status" && f.status === "online");
  let seen = 0;
  return {
    desk,
    async acceptNext() {
      const offer = await desk.next((f) => f.type === "offer", 60_000, seen);
      seen = desk.frames.indexOf(offer) + 1;
      const chatId = String(offer.chatId);
      desk.send({ type: "accept", chatId });
      await desk.next((f) => f.type === "assigned" && f.chatId === chatId, 30_000);
      return chatId;
    },
    async join(chatId) {
      const chat = await WsClient.open(
        `${server.wsOrigin}/api/agent/chats/${chatId}/ws?mode=participate`,
        { protocols: ["parley.v1"], headers },
      );
      chat.send({ type: "hello", lastSeq: 0 });
      await chat.next((f) => f.type === "ready");
      return chat;
    },
  };
}

/** Sends a message on an agent's chat socket and waits for the server's ack. */
export async function agentSays(chat: WsClient, clientId: string, text: string): Promise<void> {
  const from = chat.frames.length;
  chat.send({ type: "message", clientId, text });
  await chat.next((f) => f.type === "ack" && f.clientId === clientId, 30_000, from);
}

/** Waits (generously: the machine may be busy) for a message event with `text` on a socket. */
export function agentGets(chat: WsClient, text: string): Promise<Frame> {
  return chat.next((f) => f.type === "event" && f.kind === "message" && f.text === text, 30_000);
}

/** The texts of every message event a socket received, in arrival order (duplicates kept). */
export function messageTexts(client: WsClient): string[] {
  return client.frames
    .filter((f: Frame) => f.type === "event" && f.kind === "message")
    .map((f) => String(f.text));
}

/**
 * The messages the widget shows as stored by the server (`data-seq` set; pending copies have
 * none), in page order, with their seq.
 */
export function widgetMessages(page: Page): Promise<{ seq: number; text: string }[]> {
  return page
    .locator('[data-testid="parley-message"][data-seq]:not([data-kind])')
    .evaluateAll((els) =>
      els.map((el) => ({ seq: Number(el.getAttribute("data-seq")), text: el.textContent ?? "" })),
    );
}

/** Opens the widget on the current page, gives a name in the pre-chat form and starts a chat. */
export async function startWidgetChat(page: Page, name: string): Promise<void> {
  await page.getByTestId("parley-launcher").click();
  await page.getByTestId("parley-name").fill(name);
  await page.getByTestId("parley-start").click();
}

/**
 * axe-core's serious and critical violations in the widget (axe walks its open shadow root),
 * judged once its animations are over: mid-fade colours are blended and fail contrast checks.
 */
export async function widgetViolations(page: Page): Promise<string[]> {
  await page.evaluate(async () => {
    const root = document.getElementById("parley-widget")?.shadowRoot;
    await Promise.all(root?.getAnimations().map((a) => a.finished) ?? []);
  });
  return seriousAxeViolations(page, "#parley-widget");
}

/** A loopback TCP proxy; `cut()` kills its connections and refuses new ones until `restore()`. */
export interface CuttableProxy {
  /** e.g. `http://127.0.0.1:41235`: load pages from here to route them through the proxy. */
  origin: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/**
 * Starts a proxy to `target` (an `http://127.0.0.1:port` origin). Chromium's offline emulation
 * leaves open WebSockets alive (it only holds their traffic), so a test that wants the widget
 * to see a real drop cuts the TCP connections here as well.
 */
export async function cuttableProxy(target: string): Promise<CuttableProxy> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    if (down) return client.destroy();
    const upstream = tcpConnect(Number(port), hostname);
    for (const [a, b] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      open.add(a);
      a.pipe(b);
      a.on("error", () => b.destroy());
      a.on("close", () => {
        open.delete(a);
        b.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const listening = typeof address === "object" && address ? address.port : 0;
  return {
    origin: `http://127.0.0.1:${listening}`,
    cut() {
      down = true;
      for (const socket of open) socket.destroy();
    },
    restore() {
      down = false;
    },
    close() {
      for (const socket of open) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
