/**
 * Issue 11's whole flow in Chromium over `wrangler dev`, every step through the UI: a visitor
 * starts a chat in the widget on the demo page; Alice accepts it in her console and they talk;
 * she transfers it to Bob, who accepts; Sue monitors it; Bob asks for card details, the
 * visitor fills the secure form, Bob views the values; Bob ends the chat; the administrator
 * finds the transcript in the Transcripts screen, and the Audit log screen shows each step.
 */
import { mkdir } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConsoleDesk, setUpConsoleDesk } from "../helpers/console-desk.ts";
import type { DevServer } from "../helpers/dev-server.ts";
import { startWidgetChat } from "../helpers/widget-fixtures.ts";

/** A test card number of the public corpus (Visa), and what the transcript keeps of it. */
const CARD = "4111 1111 1111 1111";
let desk: ConsoleDesk;
let server: DevServer;
let ids: Record<string, string>;

beforeAll(async () => {
  desk = await setUpConsoleDesk("administrator");
  ({ server, ids } = desk);
});
afterAll(async () => {
  await desk?.tearDown();
});

const consolePage = (email: string, problems: string[]) => desk.consolePage(email, problems);

describe("the console's main flow, end to end", () => {
  it("widget chat → accept → transfer → monitor → secure form → end → search → audit", async () => {
    const problems: string[] = [];
    // Bob and Sue sign in after Alice took the chat, so the first offer is hers.
    const alice = await consolePage("alice@example.com", problems);
    const visitor = await desk.newPage("visitor", problems);
    await visitor.goto(`${server.origin}/`);
    await startWidgetChat(visitor, "Vera Visitor");

    await alice.getByTestId("accept-offer").click();
    const alicePanel = alice.getByTestId("chat-panel");
    await alicePanel.getByTestId("chat-input").fill("Hello Vera, how can I help?");
    await alicePanel.getByTestId("chat-input").press("Enter");
    await visitor
      .getByTestId("parley-message")
      .filter({ hasText: "Hello Vera, how can I help?" })
      .waitFor();
    await visitor.getByTestId("parley-input").fill("I would like to pay my invoice.");
    await visitor.getByTestId("parley-input").press("Enter");
    await alicePanel
      .getByTestId("chat-message")
      .filter({ hasText: "I would like to pay my invoice." })
      .waitFor();
    const chatId = (await alicePanel.getAttribute("data-chat-id")) ?? "";

    // Transfer to Bob, who accepts from his offers.
    const bob = await consolePage("bob@example.com", problems);
    await alicePanel.getByTestId("transfer").locator("summary").click();
    await alicePanel.getByTestId("transfer-agent").selectOption(ids["bob@example.com"] ?? "");
    await alicePanel.getByTestId("transfer-submit").click();
    await bob
      .getByTestId("offer-source")
      .filter({ hasText: "Transfer from Alice Agent" })
      .waitFor();
    await bob.getByTestId("accept-offer").click();
    const bobPanel = bob.locator(`[data-testid="chat-panel"][data-chat-id="${chatId}"]`);
    await bobPanel
      .getByTestId("chat-message")
      .filter({ hasText: "I would like to pay my invoice." })
      .waitFor();

    // Sue monitors, read-only.
    const sue = await consolePage("sue@example.com", problems);
    await sue.getByTestId("supervise-chat-id").fill(chatId);
    await sue.getByTestId("supervise-monitor").click();
    const suePanel = sue.locator('[data-testid="chat-panel"][data-mode="monitor"]');
    await suePanel
      .getByTestId("chat-message")
      .filter({ hasText: "I would like to pay my invoice." })
      .waitFor();

    // The secure form: requested by Bob, filled in the widget, viewed by Bob.
    await bobPanel.getByTestId("request-card").click();
    const field = (name: string) => visitor.getByTestId(`parley-secure-${name}`);
    await field("card_number").fill(CARD);
    await field("expiry").fill("12/29");
    await field("security_code").fill("123");
    await field("cardholder_name").fill("Vera Visitor");
    await visitor.getByTestId("parley-secure-submit").click();
    await visitor.getByTestId("parley-secure-summary").waitFor();
    await bobPanel.locator('[data-kind="secure_form.submitted"]').waitFor();
    await bobPanel.getByTestId("secure-form-view").click();
    await expect
      .poll(() => bobPanel.getByTestId("secure-form-value").allTextContents())
      .toContain(CARD);
    // The monitor sees that a form was submitted, never its values.
    await suePanel.locator('[data-kind="secure_form.submitted"]').waitFor();
    expect(await suePanel.getByTestId("secure-form-value").count()).toBe(0);

    // Bob ends the chat; every side sees it.
    await bobPanel.getByTestId("end-chat").click();
    await bobPanel.getByTestId("close-chat").waitFor();
    await visitor.getByTestId("parley-new-chat").waitFor();

    // Alice (an administrator) finds the transcript and reads the audit trail.
    await alice.getByTestId("nav-transcripts").click();
    const row = alice.locator(`[data-testid="transcript-row"][data-id="${chatId}"]`);
    await row.waitFor();
    await row.getByRole("button", { name: "View" }).click();
    const transcript = alice.getByTestId("transcript-view");
    await transcript
      .getByTestId("transcript-event")
      .filter({ hasText: "I would like to pay my invoice." })
      .waitFor();
    // The transcript keeps the form's masked summary only.
    expect(await transcript.textContent()).not.toContain(CARD);
    await alice.getByTestId("nav-audit").click();
    await alice.getByTestId("audit-q").fill(chatId);
    await alice.getByTestId("audit-search").click();
    const actions = async () =>
      alice
        .locator('[data-testid="audit-row"]')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-action")));
    for (const action of [
      "chat.accept",
      "chat.transfer",
      "chat.monitor",
      "secure_form.request",
      "secure_form.submit",
      "secure_form.view",
      "chat.end",
    ]) {
      await expect.poll(actions).toContain(action);
    }
    await mkdir("test-results", { recursive: true });
    await alice.screenshot({ path: "test-results/console-flow-audit.png", fullPage: true });
    expect(problems).toEqual([]);
  });
});
