/**
 * The widget's chat in headless Chromium against `wrangler dev`, with the agent on the real
 * protocol (desk socket and chat socket, raw frames): the whole visitor flow from the
 * launcher to the end; the network lost mid-chat (`context.setOffline` plus a cut TCP proxy)
 * with messages typed meanwhile on both sides, each delivered once and in order; and a reload
 * mid-chat that resumes the same chat from `sessionStorage`, history shown once.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser, storedText } from "../helpers/browser.ts";
import { until } from "../helpers/desk-clients.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import {
  agentGets,
  agentSays,
  type CuttableProxy,
  cuttableProxy,
  type DeskAgent,
  deskAgent,
  messageTexts,
  startWidgetChat,
  visitors as visitorsOf,
  widgetMessages,
} from "../helpers/widget-fixtures.ts";

let server: DevServer;
let browser: Browser;
let agent: DeskAgent;
let proxy: CuttableProxy;
const EMAIL = "wendy@example.com";
const PASSWORD = "widget chat passphrase 5";
const visitors = visitorsOf(() => browser);

/** How long a message may take to reach D1 (every 2 seconds at most in a busy chat). */
const D1_COPY = { timeout: 10_000 };

/** The chat's stored messages in D1, in seq order. */
async function storedMessages(chatId: string): Promise<string[]> {
  const rows = await server.query(
    `SELECT text FROM messages WHERE chat_id = '${chatId}' AND kind = 'message' ORDER BY seq`,
  );
  return rows.map((row) => String(row.text));
}

/** Sends from the widget's composer with Enter, as a visitor would. */
async function visitorSays(page: Page, text: string): Promise<void> {
  await page.getByTestId("parley-input").fill(text);
  await page.getByTestId("parley-input").press("Enter");
}

/** Waits until the widget shows `texts` as stored messages, then returns what it shows. */
async function widgetShows(page: Page, texts: string[]) {
  await until(
    `the widget to show ${JSON.stringify(texts)}`,
    async () => {
      const shown = (await widgetMessages(page)).map((m) => m.text);
      return texts.every((text) => shown.includes(text));
    },
    60_000,
  );
  return widgetMessages(page);
}

/** Starts a chat in `page` and has the agent accept and join it. */
async function acceptedChat(page: Page, name: string) {
  await startWidgetChat(page, name);
  const chatId = await agent.acceptNext();
  const chat = await agent.join(chatId);
  visitors.keep(chat);
  return { chatId, chat };
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  await server.createAgent({ email: EMAIL, name: "Wendy Agent", password: PASSWORD });
  agent = await deskAgent(server, EMAIL, PASSWORD);
  visitors.keep(agent.desk);
  proxy = await cuttableProxy(server.origin);
});
afterAll(async () => {
  await visitors.close();
  await proxy?.close();
  await browser?.close();
  await server?.stop();
});
beforeEach(() => {
  visitors.problems.length = 0;
});

describe("the widget's chat in Chromium", () => {
  it("runs the visitor flow from the launcher to the end with an agent", async () => {
    const page = await visitors.page("widget");
    await page.goto(`${server.origin}/`);
    const launcher = page.getByTestId("parley-launcher");
    await launcher.waitFor();
    expect(await page.getByTestId("parley-panel").isVisible()).toBe(false);
    await launcher.click();
    expect(await launcher.getAttribute("aria-expanded")).toBe("true");
    await page.getByTestId("parley-name").fill("Vera Visitor");
    await page.getByTestId("parley-email").fill("vera@example.com");
    await page.getByTestId("parley-start").click();

    const offer = agent.desk.next((f) => f.type === "offer" && f.visitor !== undefined, 60_000);
    expect((await offer).visitor).toMatchObject({
      name: "Vera Visitor",
      email: "vera@example.com",
    });
    const chatId = await agent.acceptNext();
    const chat = await agent.join(chatId);
    visitors.keep(chat);
    // The agent's name reaches the widget (the joined notice and the author of replies).
    const panel = page.getByTestId("parley-panel");
    await until("the agent's name in the widget", async () =>
      ((await panel.textContent()) ?? "").includes("Wendy Agent"),
    );

    await visitorSays(page, "Hello, is my order on its way?");
    await agentGets(chat, "Hello, is my order on its way?");
    await agentSays(chat, "a1", "Yes, it left this morning.");
    const reply = page.locator('[data-testid="parley-message"][data-role="agent"]', {
      hasText: "Yes, it left this morning.",
    });
    await reply.waitFor();
    expect(await reply.textContent()).toBe("Yes, it left this morning.");
    await visitorSays(page, "Thank you!");
    await agentGets(chat, "Thank you!");

    const expected = ["Hello, is my order on its way?", "Yes, it left this morning.", "Thank you!"];
    expect((await widgetShows(page, expected)).map((m) => m.text)).toEqual(expected);
    expect(messageTexts(chat)).toEqual(expected);

    await page.getByTestId("parley-end").click();
    await chat.next((f) => f.type === "event" && f.kind === "ended", 30_000);
    await page.locator('[data-testid="parley-message"][data-kind="ended"]').waitFor();
    expect(await page.getByTestId("parley-input").isDisabled()).toBe(true);
    // The chat is over: a reload starts afresh rather than rejoining it.
    expect(await storedText(page)).not.toContain(chatId);
    await expect.poll(() => storedMessages(chatId), D1_COPY).toEqual(expected);
    const [row] = await server.query(`SELECT status FROM chats WHERE id = '${chatId}'`);
    expect(row?.status).toBe("ended");
    // The widget sets no cookie of its own.
    expect(await page.context().cookies()).toEqual([]);
    await page.screenshot({ path: "test-results/widget-flow.png" });
    expect(visitors.problems).toEqual([]);
  });

  it("delivers every message once and in order across a lost network", async () => {
    const page = await visitors.page("offline widget");
    // Through the proxy, so the widget's socket really drops when the network goes.
    await page.goto(`${proxy.origin}/`);
    const { chatId, chat } = await acceptedChat(page, "Otto Offline");
    await visitorSays(page, "before 1");
    await agentGets(chat, "before 1");
    await agentSays(chat, "b2", "before 2");
    await widgetShows(page, ["before 1", "before 2"]);

    proxy.cut();
    await page.context().setOffline(true);
    // The widget knows it is not connected (its status line is shown until it is back).
    await page.getByTestId("parley-status").waitFor({ state: "visible" });
    for (const text of ["offline 1", "offline 2", "offline 3"]) await visitorSays(page, text);
    // The visitor sees what they typed, waiting to be sent (no seq yet).
    const waiting = page.locator('[data-testid="parley-message"]:not([data-seq])');
    expect(await waiting.allTextContents()).toEqual(["offline 1", "offline 2", "offline 3"]);
    // Meanwhile the agent writes too.
    await agentSays(chat, "away1", "agent while away 1");
    await agentSays(chat, "away2", "agent while away 2");
    // Nothing typed offline left the page.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(messageTexts(chat).filter((text) => text.startsWith("offline"))).toEqual([]);
    expect((await widgetMessages(page)).map((m) => m.text)).toEqual(["before 1", "before 2"]);

    proxy.restore();
    await page.context().setOffline(false);
    const expected = [
      "before 1",
      "before 2",
      "agent while away 1",
      "agent while away 2",
      "offline 1",
      "offline 2",
      "offline 3",
    ];
    await until(
      "the agent to receive the offline messages",
      () => messageTexts(chat).includes("offline 3"),
      90_000,
      () => messageTexts(chat),
    );
    const shown = await widgetShows(page, expected);
    // Exactly once, in order, everywhere: the widget, the agent's socket and D1.
    expect(shown.map((m) => m.text)).toEqual(expected);
    const seqs = shown.map((m) => m.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
    expect(messageTexts(chat)).toEqual(expected);
    await expect.poll(() => storedMessages(chatId), D1_COPY).toEqual(expected);
    // No copy is left pending, and the status line is gone with the outage.
    expect(await waiting.count()).toBe(0);
    await page.getByTestId("parley-status").waitFor({ state: "hidden" });
    // Chromium logs each refused reconnection attempt; anything else is a problem.
    expect(visitors.problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual(
      [],
    );
  });

  it("resumes the same chat after a reload, history shown once", async () => {
    const page = await visitors.page("reloaded widget");
    await page.goto(`${server.origin}/`);
    const { chatId, chat } = await acceptedChat(page, "Rita Reload");
    await visitorSays(page, "first");
    await agentGets(chat, "first");
    await agentSays(chat, "r2", "second");
    await visitorSays(page, "third");
    await agentGets(chat, "third");
    const before = await widgetShows(page, ["first", "second", "third"]);
    // The chat is kept for this tab only: in sessionStorage, not localStorage.
    const storage = (name: "sessionStorage" | "localStorage") =>
      page.evaluate((n) => JSON.stringify(Object.entries(window[n])), name);
    expect(await storage("sessionStorage")).toContain(chatId);
    expect(await storage("localStorage")).not.toContain(chatId);
    const chats = await server.query("SELECT COUNT(*) AS n FROM chats");

    await page.reload();
    // The widget reopens on the same chat and shows its history, once.
    const after = await widgetShows(page, ["first", "second", "third"]);
    expect(after).toEqual(before);
    await visitorSays(page, "fourth, after the reload");
    await agentGets(chat, "fourth, after the reload");
    await agentSays(chat, "r5", "fifth");
    const expected = ["first", "second", "third", "fourth, after the reload", "fifth"];
    expect((await widgetShows(page, expected)).map((m) => m.text)).toEqual(expected);
    expect(messageTexts(chat)).toEqual(expected);
    await expect.poll(() => storedMessages(chatId), D1_COPY).toEqual(expected);
    // No new chat was started, and no second offer reached the agent.
    expect(await server.query("SELECT COUNT(*) AS n FROM chats")).toEqual(chats);
    expect(agent.desk.frames.filter((f) => f.type === "offer" && f.chatId === chatId)).toHaveLength(
      1,
    );
    expect(visitors.problems).toEqual([]);
  });
});
