/**
 * The widget's forms in headless Chromium against `wrangler dev`, from the widget's side
 * (`secure-form.test.ts` covers the console's side, the autofill hints, validation, masking and
 * a reload): the offline-message form when nobody is online; and, with the agent on the real
 * protocol, the secure form replaced by a newer request, submitted once, its masked summary
 * kept when the panel is closed and reopened with nothing to fill in again, and an unsubmitted
 * form taken away when the chat ends. axe-core checks both forms.
 */
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser, recordSentFrames } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import {
  deskAgent,
  messageTexts,
  startWidgetChat,
  visitors as visitorsOf,
  widgetViolations,
} from "../helpers/widget-fixtures.ts";
import type { Frame, WsClient } from "../helpers/ws-client.ts";

let server: DevServer;
let browser: Browser;
const EMAIL = "fiona@example.com";
const PASSWORD = "widget forms passphrase 4";
const visitors = visitorsOf(() => browser);

const CARD_FIELDS = [
  { name: "card_number", kind: "card_number", label: "Card number" },
  { name: "expiry", kind: "expiry", label: "Expiry date" },
  { name: "security_code", kind: "security_code", label: "Security code" },
];
const CARD = "4111111111111111";
const EXPIRY = `12${String((new Date().getUTCFullYear() + 2) % 100).padStart(2, "0")}`;

/** Asks for card details on the agent's chat socket; returns the request's id. */
async function requestCard(chat: WsClient): Promise<string> {
  const from = chat.frames.length;
  chat.send({ type: "secure_form.request", fields: CARD_FIELDS });
  const event = await chat.next(
    (f) => f.type === "event" && f.kind === "secure_form.requested",
    30_000,
    from,
  );
  return String((event.form as { requestId: string }).requestId);
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  await server.createAgent({ email: EMAIL, name: "Fiona Agent", password: PASSWORD });
});
afterAll(async () => {
  await visitors.close();
  await browser?.close();
  await server?.stop();
});
beforeEach(() => {
  visitors.problems.length = 0;
});

describe("the widget's forms in Chromium", () => {
  // First, while no agent is online.
  it("takes an offline message when nobody is online", async () => {
    const page = await visitors.page("offline form");
    const posts: Request[] = [];
    page.on("request", (request) => {
      if (request.url().endsWith("/api/visitor/offline-messages")) posts.push(request);
    });
    await page.goto(`${server.origin}/`);
    await startWidgetChat(page, "Nora Nobody");
    const message = page.getByTestId("parley-offline-message");
    await message.waitFor();
    // The name given in the pre-chat form is carried over.
    expect(await page.getByTestId("parley-offline-name").inputValue()).toBe("Nora Nobody");
    expect(await widgetViolations(page)).toEqual([]);

    // An email is required to reply: the browser refuses the form, nothing is sent.
    await message.fill(`Please call me back about card ${CARD}.`);
    await page.getByTestId("parley-offline-send").click();
    expect(
      await page.getByTestId("parley-offline-email").evaluate((el) => el.matches(":invalid")),
    ).toBe(true);
    expect(posts).toEqual([]);

    await page.getByTestId("parley-offline-email").fill("nora@example.com");
    await page.getByTestId("parley-offline-send").click();
    await page.getByTestId("parley-offline-thanks").waitFor();
    expect(posts).toHaveLength(1);
    // The thank-you note takes the focus, so a screen reader announces it.
    expect(
      await page.getByTestId("parley-offline-thanks").evaluate((el) => {
        return (el.getRootNode() as ShadowRoot).activeElement === el;
      }),
    ).toBe(true);
    const rows = await server.query(
      "SELECT name, email, message FROM offline_messages WHERE email = 'nora@example.com'",
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ name: "Nora Nobody", email: "nora@example.com" });
    expect(String(rows[0]?.message)).toContain("Please call me back about card");
    expect(String(rows[0]?.message).replace(/\D/g, "")).not.toContain(CARD);
    expect(visitors.problems).toEqual([]);
  });

  it("keeps one secure form at a time, submits it once and never reopens it", async () => {
    const agent = await deskAgent(server, EMAIL, PASSWORD);
    visitors.keep(agent.desk);
    const page = await visitors.page("secure form");
    const sent = recordSentFrames(page);
    await page.goto(`${server.origin}/`);
    await startWidgetChat(page, "Sue Secure");
    const chatId = await agent.acceptNext();
    const chat = await agent.join(chatId);
    visitors.keep(chat);

    // A second request replaces the first, still empty, form.
    await requestCard(chat);
    const form = page.getByTestId("parley-secure-form");
    await form.waitFor();
    const second = await requestCard(chat);
    await page.locator('[data-kind="secure_form.requested"]').nth(1).waitFor();
    expect(await form.count()).toBe(1);
    expect(await widgetViolations(page)).toEqual([]);

    await page.getByTestId("parley-secure-card_number").fill(CARD);
    await page.getByTestId("parley-secure-expiry").fill(EXPIRY);
    await page.getByTestId("parley-secure-security_code").fill("123");
    await page.getByTestId("parley-secure-submit").click();
    const summary = page.getByTestId("parley-secure-summary");
    await summary.waitFor();
    expect(await summary.textContent()).toContain("1111");
    const submitted = await chat.next(
      (f) => f.type === "event" && f.kind === "secure_form.submitted",
      30_000,
    );
    expect((submitted.form as { requestId: string }).requestId).toBe(second);
    const submits = sent.filter((frame) => frame.includes('"secure_form.submit"'));
    expect(submits).toHaveLength(1);
    expect(submits[0]).toContain(second);

    // Closed and opened again (Escape, then the launcher): the summary, nothing to fill in.
    await page.getByTestId("parley-input").press("Escape");
    await page.getByTestId("parley-panel").waitFor({ state: "hidden" });
    await page.getByTestId("parley-launcher").click();
    await summary.waitFor();
    const panel = page.getByTestId("parley-panel");
    expect(await panel.locator("input").count()).toBe(0);
    expect(await page.getByTestId("parley-secure-submit").count()).toBe(0);

    // A new request the visitor leaves unanswered goes away when the chat ends.
    await requestCard(chat);
    await page.getByTestId("parley-secure-card_number").waitFor();
    chat.send({ type: "end" });
    await page.locator('[data-testid="parley-message"][data-kind="ended"]').waitFor();
    expect(await panel.locator("input").count()).toBe(0);
    expect(await page.getByTestId("parley-secure-submit").count()).toBe(0);
    // The one submission stays on record, as a notice in the messages.
    expect(await page.locator('[data-kind="secure_form.submitted"]').count()).toBe(1);

    // No card number reached the agent outside the submission's masked summary.
    const agentText = JSON.stringify(chat.frames.filter((f: Frame) => f.type === "event"));
    expect(agentText).not.toContain(CARD);
    expect(messageTexts(chat)).toEqual([]);
    expect(visitors.problems).toEqual([]);
  });
});
