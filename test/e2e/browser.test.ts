/**
 * A chat run by hand in a real browser: the console logs in and goes online, a visitor
 * opens the demo page and starts a chat in the widget, the agent accepts the offer and
 * replies, and each side sees the other's messages as inert text.
 */
import type { Browser, ConsoleMessage, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchBrowser } from "../helpers/browser.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

let server: DevServer;
let browser: Browser;
const PASSWORD = "browser agent passphrase 9";
const problems: string[] = [];

function watch(page: Page, name: string): Page {
  page.on("pageerror", (error) => problems.push(`${name}: ${error.message}`));
  page.on("console", (message: ConsoleMessage) => {
    // Failed requests are judged below by URL; every other console error is a problem.
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(`${name} console: ${message.text()}`);
    }
  });
  page.on("response", (response) => {
    // The console asks /api/auth/me before login; that 401 is expected.
    const expected = response.status() === 401 && response.url().endsWith("/api/auth/me");
    if (response.status() >= 400 && !expected)
      problems.push(`${name}: ${response.status()} ${response.url()}`);
  });
  page.on("dialog", (dialog) => {
    problems.push(`${name}: unexpected dialog ${dialog.message()}`);
    void dialog.dismiss();
  });
  return page;
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  await server.createAgent({ email: "bea@example.com", name: "Bea Agent", password: PASSWORD });
});
afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the widget and the console in Chromium", () => {
  it("runs a chat from the demo page to the console and back", async () => {
    const agentPage = watch(await (await browser.newContext()).newPage(), "console");
    await agentPage.goto(`${server.origin}/console/`);
    await agentPage.getByTestId("login-email").fill("bea@example.com");
    await agentPage.getByTestId("login-password").fill(PASSWORD);
    await agentPage.getByTestId("login-submit").click();
    await agentPage.getByTestId("agent-name").filter({ hasText: "Bea Agent" }).waitFor();
    // Online on the Dispatcher before the visitor arrives.
    await expect
      .poll(async () => (await agentPage.getByTestId("connection").textContent()) ?? "")
      .toMatch(/online|connected/i);

    const visitorPage = watch(await (await browser.newContext()).newPage(), "widget");
    await visitorPage.goto(`${server.origin}/`);
    await visitorPage.getByTestId("parley-launcher").click();
    await visitorPage.getByTestId("parley-name").fill("<img src=x onerror=alert(1)>");
    await visitorPage.getByTestId("parley-start").click();

    await agentPage.getByTestId("offer").waitFor();
    await agentPage.getByTestId("accept-offer").click();
    const panel = agentPage.getByTestId("chat-panel");
    await panel.waitFor();

    await visitorPage.getByTestId("parley-input").fill("Hello from the widget <b>bold?</b>");
    await visitorPage.getByTestId("parley-send").click();
    await panel
      .getByTestId("chat-message")
      .filter({ hasText: "Hello from the widget <b>bold?</b>" })
      .waitFor();

    await panel.getByTestId("chat-input").fill("Hi! This is Bea.");
    await panel.getByTestId("chat-send").click();
    const reply = visitorPage.locator('[data-testid="parley-message"][data-role="agent"]', {
      hasText: "Hi! This is Bea.",
    });
    await reply.waitFor();
    expect(await reply.textContent()).toBe("Hi! This is Bea.");

    // Markup arrived as text: no element was injected anywhere.
    expect(await agentPage.locator("b, img[src=x]").count()).toBe(0);
    await agentPage.screenshot({ path: "test-results/console.png" });
    await visitorPage.screenshot({ path: "test-results/widget.png" });
    expect(problems).toEqual([]);
  });
});
