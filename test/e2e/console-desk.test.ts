/**
 * The console's workspace desk (issue 11) in Chromium over `wrangler dev`: an agent accepts a
 * chat, expands a canned message with its `/` shortcut, writes an internal note (whisper) that
 * the visitor never receives, a supervisor monitors the chat read-only from the "Supervise"
 * form, and the agent transfers the chat to a colleague who accepts it from a "Transfer from"
 * offer card (accepted with Alt+Shift+A) and gets the whole history; a message that arrives
 * while he looks elsewhere shows as unread until Alt+Shift+N takes him back to the chat.
 */
import { mkdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seriousAxeViolations } from "../helpers/browser.ts";
import { type ConsoleDesk, setUpConsoleDesk } from "../helpers/console-desk.ts";
import type { DevServer } from "../helpers/dev-server.ts";
import { WsClient } from "../helpers/ws-client.ts";

let desk: ConsoleDesk;
let server: DevServer;
let ids: Record<string, string>;

beforeAll(async () => {
  desk = await setUpConsoleDesk("agent");
  ({ server, ids } = desk);
});
afterAll(async () => {
  await desk?.tearDown();
});

const consolePage = (email: string, problems: string[]) => desk.consolePage(email, problems);

describe("the console's workspace desk", () => {
  it("canned shortcut, whisper, read-only monitor, transfer with history", async () => {
    const problems: string[] = [];
    const alice = await consolePage("alice@example.com", problems);

    // Alice's personal canned message, through the API with her page's session.
    const created = await alice.evaluate(async () => {
      const res = await fetch("/api/canned-messages", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          scope: "personal",
          shortcut: "hi",
          title: "Greeting",
          text: "Hello {visitor.name}, I am {agent.name}.",
        }),
      });
      return res.status;
    });
    expect(created).toBe(201);

    // A visitor starts a chat; Alice (alone online) accepts it in the console.
    const { origin, wsOrigin } = server;
    const start = await fetch(`${origin}/api/visitor/chats`, {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ name: "Vic Visitor" }),
    });
    const { chatId, token } = (await start.json()) as Record<string, string>;
    if (!chatId || !token) throw new Error("no chat");
    const visitor = await WsClient.open(`${wsOrigin}/api/visitor/chats/${chatId}/ws`, {
      protocols: ["parley.v1", `bearer.${token}`],
      headers: { origin },
    });
    visitor.send({ type: "hello", lastSeq: 0 });
    await visitor.next((f) => f.type === "ready");
    await alice.getByTestId("accept-offer").click();
    const panel = alice.locator(`[data-testid="chat-panel"][data-chat-id="${chatId}"]`);
    await panel.waitFor();
    await expect(panel.getByTestId("visitor-panel").textContent()).resolves.toContain("general");

    // `/hi` + Tab expands the canned message with this chat's values; Enter sends it.
    const input = panel.getByTestId("chat-input");
    await input.fill("/hi");
    await input.press("Tab");
    await expect.poll(() => input.inputValue()).toBe("Hello Vic Visitor, I am Alice Agent.");
    await input.press("Enter");
    await visitor.next(
      (f) => f.type === "event" && f.text === "Hello Vic Visitor, I am Alice Agent.",
    );

    // An internal note: shown to Alice as internal, never sent to the visitor.
    await panel.getByTestId("whisper-toggle").check();
    await input.fill("VIP customer, be extra kind");
    await input.press("Enter");
    const note = panel.locator(".msg.internal", { hasText: "VIP customer, be extra kind" });
    await note.waitFor();
    await panel.getByTestId("whisper-toggle").uncheck();

    // Sue monitors from the Supervise form: she sees the note, and cannot write.
    const sue = await consolePage("sue@example.com", problems);
    await sue.getByTestId("supervise-chat-id").fill(chatId);
    await sue.getByTestId("supervise-monitor").click();
    const watched = sue.locator(`[data-testid="chat-panel"][data-mode="monitor"]`);
    await watched.getByTestId("monitoring").waitFor();
    await watched.locator(".msg.internal", { hasText: "VIP customer" }).waitFor();
    expect(await watched.getByTestId("chat-input").count()).toBe(0);
    expect(await watched.getByTestId("end-chat").count()).toBe(0);

    // Bob comes online; Alice transfers the chat to him by id.
    const bob = await consolePage("bob@example.com", problems);
    await panel.getByTestId("transfer").locator("summary").click();
    await panel.getByTestId("transfer-agent").selectOption(ids["bob@example.com"] ?? "");
    await panel.getByTestId("transfer-submit").click();
    const card = bob.locator(`[data-testid="offer"][data-chat-id="${chatId}"]`);
    await expect(card.getByTestId("offer-source").textContent()).resolves.toBe(
      "Transfer from Alice Agent",
    );
    // Alt+Shift+A accepts the oldest offer (the button announces the shortcut).
    await expect(card.getByTestId("accept-offer").getAttribute("aria-keyshortcuts")).resolves.toBe(
      "Alt+Shift+A",
    );
    await bob.keyboard.press("Alt+Shift+A");
    const bobPanel = bob.locator(`[data-testid="chat-panel"][data-chat-id="${chatId}"]`);
    // The whole history, the internal note included, reaches the new owner.
    await bobPanel.locator(".msg.internal", { hasText: "VIP customer" }).waitFor();
    await bobPanel
      .getByTestId("chat-message")
      .filter({ hasText: "Hello Vic Visitor, I am Alice Agent." })
      .waitFor();
    await alice
      .getByTestId("status-notice")
      .filter({ hasText: "Your transfer was accepted." })
      .waitFor();
    expect(await alice.getByTestId("notice").isHidden()).toBe(true);

    // A visitor message while Bob looks elsewhere counts as unread until he comes back;
    // Alt+Shift+N takes him to the chat's composer.
    await bob.getByTestId("offer-sound").focus();
    visitor.send({ type: "message", clientId: "v-unread", text: "Anyone there?" });
    await expect.poll(() => bobPanel.getByTestId("chat-unread").textContent()).toBe("1 new");
    await bob.keyboard.press("Alt+Shift+N");
    await expect
      .poll(() => bob.evaluate(() => document.activeElement?.getAttribute("data-testid")))
      .toBe("chat-input");
    await expect(bobPanel.getByTestId("chat-unread").isHidden()).resolves.toBe(true);
    // The workspace with a chat, its desk controls and the sidebar: no serious axe finding.
    expect(await seriousAxeViolations(bob, "#workspace")).toEqual([]);
    await bobPanel.getByTestId("chat-input").fill("Bob here, taking over.");
    await bobPanel.getByTestId("chat-input").press("Enter");
    await visitor.next((f) => f.type === "event" && f.text === "Bob here, taking over.");
    // The visitor never received the note, live or otherwise.
    expect(JSON.stringify(visitor.frames)).not.toContain("VIP customer");

    await mkdir("test-results", { recursive: true });
    await bob.screenshot({ path: "test-results/console-workspace.png", fullPage: true });
    await sue.screenshot({ path: "test-results/console-monitor.png", fullPage: true });
    await visitor.close();
    expect(problems).toEqual([]);
  });
});
