/**
 * The console's data screens in headless Chromium against `wrangler dev`: a chat ended over
 * the desk's real sockets shows up in the transcript search, reads with its whisper marked
 * internal, and is deleted after a confirmation; the audit log lists its rows, the chain
 * verifies, and the CSV export asks to confirm it's you, then downloads; the daily report
 * draws a chart; an offline message is read, marked handled and answered; a live visitor is
 * listed and invited (the invitation reaches their presence socket), and the poll stops when
 * the screen is left; and an agent without `audit.view` is offered no audit screen (and is
 * refused by the API). Each screen is scanned with axe-core (no serious or critical
 * violation) and saved as test-results/console-<screen>.png.
 */
import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { launchBrowser, reviewConsoleScreen, signIn, watchPage } from "../helpers/browser.ts";
import {
  acceptingAgent,
  signIn as apiSignIn,
  nodeSockets,
  participant,
  startChats,
  until,
} from "../helpers/desk-clients.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

const PASSWORD = "console data passphrase 8";
const ADMIN = "ada@example.com";
const AGENT = "abe@example.com";

let server: DevServer;
let browser: Browser;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
/** The chat ended in `beforeAll`, and what was said in it. */
let chatId = "";
const VISITOR_SAYS = "my parcel never arrived";
const WHISPER = "check the courier first";

async function openConsole(name: string, email: string, expected: string[] = []): Promise<Page> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = watchPage(await context.newPage(), name, problems, expected);
  await page.goto(`${server.origin}/console/`);
  await signIn(page, email, PASSWORD);
  await page.getByTestId("screen-nav").waitFor();
  return page;
}

/** Starts a chat as a visitor, has the admin (on a Node socket) answer and whisper, ends it. */
async function endedChat(): Promise<string> {
  const desk = await acceptingAgent(server, await apiSignIn(server, ADMIN, PASSWORD));
  try {
    const [chat] = await startChats(server, 1);
    if (!chat) throw new Error("no chat started");
    await until("the chat assigned", () => desk.chats.has(chat.chatId));
    const visitor = participant(server, "visitor", `/api/visitor/chats/${chat.chatId}/ws`, {
      token: chat.token,
    });
    const agent = participant(server, "agent", `/api/agent/chats/${chat.chatId}/ws`, {
      cookie: desk.cookie,
    });
    await until("both sides connected", () => visitor.events.length > 0 && agent.events.length > 0);
    visitor.connection.send(VISITOR_SAYS);
    await until("the message stored", () => agent.events.some((e) => e.text === VISITOR_SAYS));
    agent.holder.socket?.send(
      JSON.stringify({ type: "whisper", clientId: crypto.randomUUID(), text: WHISPER }),
    );
    await until("the whisper stored", () => agent.events.some((e) => e.kind === "whisper"));
    agent.connection.end();
    await until("the chat ended", () => visitor.events.some((e) => e.kind === "ended"));
    visitor.connection.close();
    agent.connection.close();
    return chat.chatId;
  } finally {
    desk.close();
  }
}

beforeAll(async () => {
  server = await startDevServer();
  browser = await launchBrowser();
  await server.createAgent({
    email: ADMIN,
    name: "Ada Admin",
    password: PASSWORD,
    role: "administrator",
  });
  await server.createAgent({ email: AGENT, name: "Abe Agent", password: PASSWORD, role: "agent" });
  chatId = await endedChat();
}, 180_000);

afterAll(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await browser?.close();
  await server?.stop();
});

beforeEach(() => {
  problems.length = 0;
});

describe("console data screens in Chromium", () => {
  it("finds the ended chat's transcript and shows the whisper as internal", async () => {
    const page = await openConsole("transcripts", ADMIN);
    await page.getByTestId("nav-transcripts").click();
    const row = page.locator(`[data-testid="transcript-row"][data-id="${chatId}"]`);
    await row.waitFor();
    await page.getByTestId("transcripts-q").fill("parcel");
    await page.getByTestId("transcripts-search").click();
    await page.waitForFunction(
      () => document.querySelectorAll('[data-testid="transcript-row"]').length === 1,
    );
    await row.getByRole("button", { name: "View" }).click();
    const view = page.getByTestId("transcript-view");
    await view.waitFor();
    const said = view.locator('[data-testid="transcript-event"][data-kind="message"]');
    await expect(said.first().textContent()).resolves.toContain(VISITOR_SAYS);
    const whisper = view.locator('[data-testid="transcript-event"][data-kind="whisper"]');
    expect(await whisper.getAttribute("class")).toContain("internal");
    expect(await whisper.textContent()).toContain("Internal");
    expect(await whisper.textContent()).toContain(WHISPER);
    expect(await reviewConsoleScreen(page, "transcripts")).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("lists audit rows and verifies the chain", async () => {
    const page = await openConsole("audit", ADMIN, ["403 /api/audit/export"]);
    await page.getByTestId("nav-audit").click();
    await page.locator('[data-testid="audit-verify"][data-state="ok"]').waitFor();
    expect(await page.getByTestId("audit-verify").textContent()).toMatch(/Chain verified: \d+/);
    // The chat of beforeAll left its trail: the admin's login among the rows.
    await page.locator('[data-testid="audit-row"][data-action="auth.login"]').first().waitFor();
    await page.getByTestId("audit-q").fill("transcript.view");
    await page.getByTestId("audit-search").click();
    await page.waitForFunction(() =>
      [...document.querySelectorAll('[data-testid="audit-row"]')].every(
        (row) => row.getAttribute("data-action") === "transcript.view",
      ),
    );
    expect(await reviewConsoleScreen(page, "audit")).toEqual([]);
    // The export needs a recent sign-in: with an old one, the "confirm it's you" form comes
    // first, then the file downloads.
    await server.query(
      `UPDATE sessions SET authenticated_at = 0 WHERE agent_id = (SELECT id FROM agents WHERE email = '${ADMIN}')`,
    );
    await page.getByTestId("audit-export").click();
    await page.getByTestId("reauth-form").waitFor();
    await page.getByTestId("reauth-password").fill(PASSWORD);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByTestId("reauth-submit").click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const lines = (await readFile(await download.path(), "utf8")).trim().split("\n");
    expect(lines[0]).toMatch(/^id,at,/);
    expect(lines.length).toBeGreaterThan(1);
    expect(lines.slice(1).every((line) => line.includes("transcript.view"))).toBe(true);
    expect(problems).toEqual([]);
  });

  it("draws the daily report as a chart, with today's chat in it", async () => {
    const page = await openConsole("reports", ADMIN);
    await page.getByTestId("nav-reports").click();
    const chart = page.locator('[data-testid="chart"][data-kind="line"]');
    await chart.waitFor();
    // Seven days, one point per day and series; the chat of beforeAll counts in `total`.
    expect(await chart.locator("g.series-0 circle").count()).toBe(7);
    const titles = await chart.locator("g.series-0 circle title").allTextContents();
    expect(titles.some((t) => t.endsWith(": 1"))).toBe(true);
    const csv = await page.getByTestId("report-csv").getAttribute("href");
    expect(csv).toMatch(/^\/api\/reports\/daily\.csv\?from=/);
    expect(await reviewConsoleScreen(page, "reports")).toEqual([]);
    // The per-agent table too.
    await page.getByTestId("report-name").selectOption("agents");
    await page.getByTestId("report-show").click();
    await page.getByTestId("report-table").getByText("Ada Admin").waitFor();
    expect(problems).toEqual([]);
  });

  it("reads an offline message, marks it handled and records a reply", async () => {
    const res = await fetch(`${server.origin}/api/visitor/offline-messages`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: server.origin },
      body: JSON.stringify({ email: "vic@example.com", message: "call me back please" }),
    });
    expect(res.status).toBe(201);
    const page = await openConsole("offline", ADMIN);
    await page.getByTestId("nav-offline-messages").click();
    const row = page.getByTestId("offline-message-row").filter({ hasText: "call me back" });
    await row.getByRole("button", { name: "View" }).click();
    await page.getByTestId("offline-message-view").waitFor();
    expect(await page.getByTestId("offline-message-status").textContent()).toBe("Open");
    await page.getByTestId("offline-message-handled").click();
    await page.getByTestId("offline-message-status").getByText("Handled by Ada Admin").waitFor();
    // The reply the agent sent by phone or email is recorded with the message.
    await page.getByRole("textbox", { name: "Reply you sent" }).fill("Called back at 10:00");
    await page.getByRole("button", { name: "Record reply" }).click();
    await page.getByRole("list", { name: "Replies" }).getByText("Called back at 10:00").waitFor();
    expect(await reviewConsoleScreen(page, "offline-messages")).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("lists a live visitor, invites them, and polls only while the screen is open", async () => {
    // A visitor on the site: a presence socket, as the widget opens, reporting a page.
    const frames: { type: string; message?: string }[] = [];
    const presence = nodeSockets({ origin: server.origin })(
      `${server.wsOrigin}/api/visitor/presence/ws`,
      ["parley.v1"],
    );
    presence.addEventListener("message", (event) => frames.push(JSON.parse(String(event.data))));
    presence.addEventListener("open", () =>
      presence.send(
        JSON.stringify({ type: "page", url: "https://shop.test/pricing", title: "Pricing" }),
      ),
    );
    try {
      const page = await openConsole("visitors", ADMIN);
      const polls: number[] = [];
      page.on("request", (request) => {
        if (new URL(request.url()).pathname === "/api/visitors") polls.push(Date.now());
      });
      await page.getByTestId("nav-visitors").click();
      const row = page.getByTestId("visitor-row").filter({ hasText: "Pricing" });
      await row.waitFor();
      await row.getByTestId("visitor-invite").click();
      await page.getByTestId("invite-form").getByRole("textbox").fill("Questions about plans?");
      await page
        .getByTestId("invite-form")
        .getByRole("button", { name: "Send invitation" })
        .click();
      await page.getByTestId("invite-sent").waitFor();
      await until("the invitation on the presence socket", () =>
        frames.some((f) => f.type === "invitation" && f.message === "Questions about plans?"),
      );
      await until("a second poll", () => polls.length >= 2, 20_000);
      expect(await reviewConsoleScreen(page, "visitors")).toEqual([]);
      await page.getByTestId("nav-workspace").click();
      const left = polls.length;
      await new Promise((resolve) => setTimeout(resolve, 7000));
      expect(polls.length).toBe(left);
      expect(problems).toEqual([]);
    } finally {
      presence.close();
    }
  });

  it("deletes the transcript after a confirmation", async () => {
    const page = await openConsole("delete", ADMIN);
    await page.getByTestId("nav-transcripts").click();
    const row = page.locator(`[data-testid="transcript-row"][data-id="${chatId}"]`);
    await row.getByRole("button", { name: "View" }).click();
    await page.getByTestId("transcript-delete").click();
    const dialog = page.getByTestId("transcript-delete-dialog");
    await dialog.waitFor();
    // Cancelling keeps it.
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await row.count()).toBe(1);
    await page.getByTestId("transcript-delete").click();
    await page.getByTestId("transcript-delete-dialog-confirm").click();
    await row.waitFor({ state: "detached" });
    const rows = await server.query(`SELECT id FROM chats WHERE id = '${chatId}'`);
    expect(rows).toEqual([]);
    expect(problems).toEqual([]);
  });

  it("offers no audit screen to an agent without audit.view, and the API refuses", async () => {
    const page = await openConsole("agent", AGENT, ["403 /api/audit"]);
    await page.getByTestId("nav-workspace").waitFor();
    expect(await page.getByTestId("nav-audit").count()).toBe(0);
    expect(await page.getByTestId("nav-transcripts").count()).toBe(0);
    expect(await page.getByTestId("nav-visitors").count()).toBe(1);
    await page.evaluate(() => {
      location.hash = "#/audit";
    });
    await page.getByTestId("screen-denied").waitFor();
    const status = await page.evaluate(async () => (await fetch("/api/audit")).status);
    expect(status).toBe(403);
    expect(await reviewConsoleScreen(page, "audit-denied")).toEqual([]);
    expect(problems).toEqual([]);
  });
});
