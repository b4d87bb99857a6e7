/**
 * The PCI secure form and card masking in real browsers, against `wrangler dev` (DESIGN
 * invariants 1 and 2): an administrator asks for card details from the console; the widget
 * shows them in its own marked panel with payment autofill hints, refuses an invalid number
 * without sending anything, submits a valid one once and keeps only the masked summary (also
 * after a reload); the agent views the values (again after re-authenticating once the sign-in
 * is old) until the chat ends. A card number typed into the chat leaves the widget masked and
 * shows masked on both sides; the full number never reaches either page's transcript, storage
 * or console output.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  launchBrowser,
  recordSentFrames,
  signIn,
  storedText,
  watchPage,
} from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

let server: DevServer;
let browser: Browser;
const EMAIL = "sam@example.com";
const PASSWORD = "secure form passphrase 3";
const problems: string[] = [];
/** Open browser contexts, closed before their server stops (else their sockets complain). */
const contexts: BrowserContext[] = [];

/** Visa test numbers: one for the form, one typed into the chat. */
const CARD = "4111 1111 1111 1111";
const CHAT_CARD = "5555 5555 5555 4444";
/** A month that is two years ahead, as the visitor types it (no slash) and as stored. */
const YY = String((new Date().getUTCFullYear() + 2) % 100).padStart(2, "0");
const EXPIRY_TYPED = `12${YY}`;
const EXPIRY = `12/${YY}`;

/** True when `text` holds the digits of `card`, however they are grouped. */
const holds = (text: string, card: string) =>
  text.replace(/[\s-]/g, "").includes(card.replace(/\s/g, ""));

async function newPage(name: string, consoleText: string[]): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = watchPage(await context.newPage(), name, problems);
  page.on("console", (message) => consoleText.push(message.text()));
  return page;
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  // Administrators hold every permission, secure_form.request and secure_form.view included.
  await server.createAgent({
    email: EMAIL,
    name: "Sam Admin",
    password: PASSWORD,
    role: "administrator",
  });
});
afterAll(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await browser?.close();
  await server?.stop();
});
// Every request comes from 127.0.0.1: start from a clean per-IP failure record.
beforeEach(async () => {
  problems.length = 0;
  await server.query("DELETE FROM login_failures WHERE kind = 'ip'");
});

describe("the secure form in Chromium", () => {
  it("collects card details in the widget and shows them to the agent only on View", async () => {
    const consoleText: string[] = [];
    const agentPage = await newPage("console", consoleText);
    await agentPage.goto(`${server.origin}/console/`);
    await signIn(agentPage, EMAIL, PASSWORD);
    await agentPage.getByTestId("agent-name").filter({ hasText: "Sam Admin" }).waitFor();
    await expect
      .poll(async () => (await agentPage.getByTestId("connection").textContent()) ?? "")
      .toBe("Connected");

    const visitorPage = await newPage("widget", consoleText);
    const sent = recordSentFrames(visitorPage);
    await visitorPage.goto(`${server.origin}/`);
    await visitorPage.getByTestId("parley-launcher").click();
    await visitorPage.getByTestId("parley-start").click();

    await agentPage.getByTestId("accept-offer").click();
    const panel = agentPage.getByTestId("chat-panel");
    await panel.getByTestId("chat-message").filter({ hasText: "Sam Admin joined" }).waitFor();

    // ── The agent asks; the widget opens its own, clearly marked panel. ──
    await panel.getByTestId("request-card").click();
    const form = visitorPage.getByTestId("parley-secure-form");
    await form.waitFor();
    expect(await form.getByRole("heading").textContent()).toContain("Secure payment form");
    expect(await form.textContent()).toContain("never stored");
    // Apart from the messages, which only note the request.
    const messages = visitorPage.getByTestId("parley-messages");
    expect(await messages.getByTestId("parley-secure-form").count()).toBe(0);
    await messages
      .locator('[data-kind="secure_form.requested"]')
      .filter({ hasText: "Secure form requested: Card number, Expiry date" })
      .waitFor();
    const input = (name: string) => visitorPage.getByTestId(`parley-secure-${name}`);
    const hints = {
      card_number: ["cc-number", "numeric"],
      expiry: ["cc-exp", "numeric"],
      security_code: ["cc-csc", "numeric"],
      cardholder_name: ["cc-name", null],
    };
    for (const [name, [autocomplete, inputmode]] of Object.entries(hints)) {
      expect(await input(name).getAttribute("autocomplete")).toBe(autocomplete);
      expect(await input(name).getAttribute("inputmode")).toBe(inputmode);
    }
    await visitorPage.screenshot({ path: "test-results/widget-secure-form.png" });

    // ── An invalid number (Luhn) is refused in the page: nothing is sent. ──
    await input("card_number").fill("4111 1111 1111 1112");
    await input("expiry").fill(EXPIRY_TYPED);
    expect(await input("expiry").inputValue()).toBe(EXPIRY);
    await input("security_code").fill("123");
    await input("cardholder_name").fill("Ada Lovelace");
    await visitorPage.getByTestId("parley-secure-submit").click();
    const card = input("card_number");
    await expect.poll(() => card.getAttribute("aria-invalid")).toBe("true");
    const errorId = (await card.getAttribute("aria-describedby")) ?? "";
    const cardError = visitorPage.locator(`[id="${errorId}"]`);
    expect(await cardError.textContent()).toBe("This card number is not valid.");
    expect(await cardError.isVisible()).toBe(true);
    expect(await input("expiry").getAttribute("aria-invalid")).toBeNull();
    expect(sent.filter((frame) => frame.includes("secure_form.submit"))).toEqual([]);

    // ── A valid number goes once; the panel becomes the masked summary, with no inputs. ──
    await card.fill(CARD);
    await visitorPage.getByTestId("parley-secure-submit").click();
    const summary = visitorPage.getByTestId("parley-secure-summary");
    await summary.filter({ hasText: "•••• 1111" }).waitFor();
    expect(await summary.textContent()).toBe(
      `Secure form submitted: card •••• 1111, exp ${EXPIRY}, security code provided, Name on card provided`,
    );
    const widgetPanel = visitorPage.getByTestId("parley-panel");
    expect(await widgetPanel.locator("input").count()).toBe(0);
    const submits = sent.filter((frame) => frame.includes("secure_form.submit"));
    expect(submits).toHaveLength(1);
    expect(holds(submits[0] ?? "", CARD)).toBe(true);
    await visitorPage.screenshot({ path: "test-results/widget-secure-summary.png" });

    // ── The console notes the submission; View shows the values in a marked box. ──
    const line = panel.getByTestId("secure-form-item");
    await line.filter({ hasText: "card •••• 1111" }).waitFor();
    await panel.locator('[data-kind="secure_form.submitted"]').waitFor();
    await panel.getByTestId("secure-form-view").click();
    const values = panel.getByTestId("secure-form-values");
    await values.waitFor();
    expect(await values.getByTestId("secure-form-value").allTextContents()).toEqual([
      CARD,
      EXPIRY,
      "123",
      "Ada Lovelace",
    ]);
    expect(await values.getByTestId("secure-form-countdown").textContent()).toMatch(
      /^Hidden in 1[45]:\d\d$/,
    );
    await agentPage.screenshot({ path: "test-results/console-secure-values.png" });

    // ── Hidden, then viewed again with an old sign-in: re-authenticate, then see them. ──
    await values.getByRole("button", { name: "Hide" }).click();
    expect(await values.count()).toBe(0);
    await server.query(
      `UPDATE sessions SET authenticated_at = authenticated_at - 600000
       WHERE agent_id = (SELECT id FROM agents WHERE email = '${EMAIL}')`,
    );
    await panel.getByTestId("secure-form-view").click();
    const dialog = agentPage.getByTestId("reauth-dialog");
    await dialog.waitFor();
    expect(await values.count()).toBe(0);
    await dialog.getByTestId("reauth-password").fill(PASSWORD);
    await dialog.getByTestId("reauth-submit").click();
    await values.waitFor();
    expect(await dialog.count()).toBe(0);
    expect(holds((await values.textContent()) ?? "", CARD)).toBe(true);

    // ── A card number typed into the chat leaves the widget masked; both sides show it so. ──
    await visitorPage.getByTestId("parley-input").fill(`My other card is ${CHAT_CARD}, thanks`);
    await visitorPage.getByTestId("parley-send").click();
    const masked = "My other card is •••• •••• •••• 4444, thanks";
    await visitorPage
      .locator('[data-testid="parley-message"][data-seq]')
      .filter({ hasText: masked })
      .waitFor();
    await panel.getByTestId("chat-message").filter({ hasText: masked }).waitFor();
    expect(sent.some((frame) => frame.includes("•••• •••• •••• 4444"))).toBe(true);
    expect(sent.some((frame) => holds(frame, CHAT_CARD))).toBe(false);

    // ── The full numbers are in no transcript, no storage and no console output. ──
    // textContent, not innerText: hidden text counts too.
    const widgetLog = `${await messages.textContent()}${await widgetPanel.textContent()}`;
    const agentLog = (await panel.locator('[role="log"]').textContent()) ?? "";
    for (const text of [widgetLog, agentLog]) {
      expect(holds(text, CARD)).toBe(false);
      expect(holds(text, CHAT_CARD)).toBe(false);
    }
    for (const page of [visitorPage, agentPage]) {
      const stored = await storedText(page);
      expect(holds(stored, CARD)).toBe(false);
      expect(holds(stored, CHAT_CARD)).toBe(false);
    }
    expect(consoleText.filter((text) => holds(text, CARD) || holds(text, CHAT_CARD))).toEqual([]);

    // ── A reload cannot reopen the form: the replay brings back only the summary. ──
    await visitorPage.reload();
    await summary.filter({ hasText: "•••• 1111" }).waitFor();
    expect(await widgetPanel.locator("input").count()).toBe(0);

    // ── The chat ends: the values box goes, and nothing more can be viewed. ──
    await panel.getByTestId("end-chat").click();
    await panel.getByTestId("close-chat").waitFor();
    expect(await values.count()).toBe(0);
    expect(await panel.getByTestId("secure-form-view").isDisabled()).toBe(true);
    expect(await line.textContent()).toContain("deleted when the chat ended");
    expect(problems).toEqual([]);
  });
});
