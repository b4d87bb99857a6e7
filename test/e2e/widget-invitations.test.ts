/**
 * The widget's presence, invitations and department availability in headless Chromium against
 * `wrangler dev`, with agents on the real protocol: the widget reports its page on the presence
 * socket (an agent sees it in `GET /api/visitors`), and each route of a single-page site, never
 * a URL's fragment; an agent's invitation shows as a card, "Chat now" (by keyboard) opens the
 * pre-chat form and the chat is offered to the inviting agent, under the presence visitor id;
 * "No thanks" ends the invitation on the server; a campaign's auto-invitation appears after its
 * delay, not before, and not again in the tab once dismissed; the pre-chat picker marks
 * departments online or offline, asked at each opening; and with the presence socket refused,
 * the widget gives up on it after a few tries and still chats.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LiveVisitorsResponse } from "../../src/protocol/visitors.ts";
import { launchBrowser } from "../helpers/browser.ts";
import { signIn, until } from "../helpers/desk-clients.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";
import {
  type DeskAgent,
  deskAgent,
  visitors as visitorsOf,
  widgetViolations,
} from "../helpers/widget-fixtures.ts";

let server: DevServer;
let browser: Browser;
/** Invites visitors; in the `outreach` department only, so no widget chat reaches her unasked. */
let ivy: DeskAgent;
let ivyCookie: string;
let adminCookie: string;
const PASSWORD = "widget invitations passphrase 6";
const IVY = "ivy@example.com";
const BILL = "bill@example.com";
const DEMO_TITLE = "Fernleaf Tea Co. · Parley demo";
const visitors = visitorsOf(() => browser);

/** A console API call from Node, as the console would make it. */
function api(method: string, path: string, cookie: string, body?: unknown): Promise<Response> {
  return fetch(`${server.origin}${path}`, {
    method,
    headers: { cookie, origin: server.origin, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** The visitor id the presence socket gave this page (the `sub` of its stored token). */
async function presenceVisitorId(page: Page): Promise<string> {
  const token = await page
    .waitForFunction(() => localStorage.getItem("parley.presence"), null, { timeout: 30_000 })
    .then((handle) => handle.jsonValue());
  const payload = String(token).split(".")[1] ?? "";
  return JSON.parse(Buffer.from(payload, "base64url").toString()).sub;
}

type LiveVisitor = LiveVisitorsResponse["visitors"][number];

/**
 * The visitor as `GET /api/visitors` shows it to Ivy, once it has reported a page (or once
 * `shows` holds).
 */
async function listedVisitor(
  visitorId: string,
  shows: (visitor: LiveVisitor) => boolean = (v) => v.pageUrl !== null,
) {
  let found: LiveVisitor | undefined;
  await until("the visitor's page on the live list", async () => {
    const res = await api("GET", "/api/visitors", ivyCookie);
    // Polling can meet the API's rate limit: that is not an answer, ask again.
    if (!res.ok) return false;
    const body = (await res.json()) as LiveVisitorsResponse;
    found = body.visitors.find((v) => v.visitorId === visitorId && shows(v));
    return found !== undefined;
  });
  return found as LiveVisitor;
}

async function invite(visitorId: string, message: string): Promise<Response> {
  return api("POST", `/api/visitors/${visitorId}/invitations`, ivyCookie, { message });
}

/** Audit rows of `action` about `target` (written asynchronously: polled). */
async function auditRows(action: string, target: string, at_least = 1) {
  let rows: Record<string, unknown>[] = [];
  await until(`audit ${action}`, async () => {
    rows = await server.query(
      `SELECT actor_id, details FROM audit_log WHERE action = '${action}' AND target = '${target}'`,
    );
    return rows.length >= at_least;
  });
  return rows;
}

/** The labels the department picker shows, by option value. */
function pickerLabels(page: Page): Promise<Record<string, string>> {
  return page
    .getByTestId("parley-department")
    .locator("option")
    .evaluateAll((options) =>
      Object.fromEntries(
        options.map((o) => [(o as HTMLOptionElement).value, (o as HTMLOptionElement).label]),
      ),
    );
}

beforeAll(async () => {
  [server, browser] = await Promise.all([startDevServer(), launchBrowser()]);
  const ivyId = await server.createAgent({ email: IVY, name: "Ivy Agent", password: PASSWORD });
  const billId = await server.createAgent({ email: BILL, name: "Bill Agent", password: PASSWORD });
  await server.createAgent({
    email: "ada@example.com",
    name: "Ada Admin",
    password: PASSWORD,
    role: "administrator",
  });
  const now = Date.now();
  await server.query(
    `INSERT INTO departments (id, name, created_at) VALUES ('outreach', 'Outreach', ${now}),
       ('billing', 'Billing', ${now}), ('sales', 'Sales', ${now})`,
  );
  await server.query(
    `DELETE FROM agent_departments WHERE agent_id IN ('${ivyId}', '${billId}');
     INSERT INTO agent_departments (agent_id, department_id)
       VALUES ('${ivyId}', 'outreach'), ('${billId}', 'billing')`,
  );
  ivy = await deskAgent(server, IVY, PASSWORD);
  visitors.keep(ivy.desk);
  ivyCookie = await signIn(server, IVY, PASSWORD);
  adminCookie = await signIn(server, "ada@example.com", PASSWORD);
  // Campaigns apply by URL, so each test's page picks its own.
  for (const campaign of [
    {
      name: "Auto-invite",
      urlRules: [{ op: "contains", value: "auto-invite" }],
      autoInvite: {
        enabled: true,
        afterSeconds: 5,
        urlRules: [],
        message: "Need a hand choosing a tea?",
      },
    },
    {
      name: "Picker",
      urlRules: [{ op: "contains", value: "picker" }],
      preChatForm: {
        enabled: true,
        fields: [
          { key: "name", label: "Name", required: false },
          { key: "department", label: "Topic", required: false },
        ],
      },
    },
  ]) {
    const res = await api("POST", "/api/campaigns", adminCookie, campaign);
    expect(res.status, await res.text()).toBe(201);
  }
});
afterAll(async () => {
  await visitors.close();
  await browser?.close();
  await server?.stop();
});
beforeEach(() => {
  visitors.problems.length = 0;
});

describe("agents' invitations in the widget", () => {
  it("reports the page; an accepted invitation starts a chat offered to the inviting agent", async () => {
    const page = await visitors.page("accepting visitor");
    await page.goto(`${server.origin}/?from=invitation`);
    const visitorId = await presenceVisitorId(page);
    const listed = await listedVisitor(visitorId);
    expect(listed).toMatchObject({
      pageUrl: `${server.origin}/?from=invitation`,
      pageTitle: DEMO_TITLE,
      chatting: false,
    });

    const sent = await invite(visitorId, "Hello! Looking for a gift?");
    expect(sent.status, await sent.clone().text()).toBe(201);
    const { invitationId } = (await sent.json()) as { invitationId: string };
    const card = page.getByTestId("parley-invitation");
    await card.waitFor();
    expect(await card.textContent()).toContain("Ivy Agent");
    expect(await card.textContent()).toContain("Hello! Looking for a gift?");
    // Announced without taking the focus from the page.
    expect(await page.getByTestId("parley-announce").textContent()).toContain(
      "Hello! Looking for a gift?",
    );
    expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
    expect(await widgetViolations(page)).toEqual([]);

    // By keyboard: the card's buttons are the Tab stops just before the launcher.
    await page.getByTestId("parley-launcher").focus();
    await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Shift+Tab");
    expect(
      await page.getByTestId("parley-invitation-accept").evaluate((el) => {
        return (el.getRootNode() as ShadowRoot).activeElement === el;
      }),
    ).toBe(true);
    await page.keyboard.press("Enter");
    await page.getByTestId("parley-name").waitFor();
    expect(await card.isHidden()).toBe(true);
    await page.getByTestId("parley-name").fill("Gina Gift");
    const start = page.waitForRequest((r) => r.url().endsWith("/api/visitor/chats"));
    await page.getByTestId("parley-start").click();
    const body = (await start).postDataJSON();
    expect(body).toMatchObject({ invitationId, name: "Gina Gift" });
    expect(typeof body.presenceToken).toBe("string");

    // Ivy is not in the chat's department (general): only the invitation brings it to her.
    const chatId = await ivy.acceptNext();
    const [chat] = await server.query(`SELECT visitor_id FROM chats WHERE id = '${chatId}'`);
    expect(chat?.visitor_id).toBe(visitorId);
    const [accepted] = await auditRows("visitor.invitation_accepted", invitationId);
    expect(JSON.parse(String(accepted?.details))).toMatchObject({ agentId: expect.any(String) });
    await page.getByTestId("parley-input").waitFor();
    expect(visitors.problems).toEqual([]);
  });

  it("'No thanks' ends the invitation on the server", async () => {
    const page = await visitors.page("declining visitor");
    await page.goto(`${server.origin}/?from=decline`);
    const visitorId = await presenceVisitorId(page);
    await listedVisitor(visitorId);
    const sent = await invite(visitorId, "Fancy a chat?");
    expect(sent.status).toBe(201);
    const { invitationId } = (await sent.json()) as { invitationId: string };
    // One pending invitation at a time.
    expect((await invite(visitorId, "Another one?")).status).toBe(409);

    await page.getByTestId("parley-invitation-decline").click();
    expect(await page.getByTestId("parley-invitation").isHidden()).toBe(true);
    expect(await page.getByTestId("parley-panel").isHidden()).toBe(true);
    const [declined] = await auditRows("visitor.invitation_declined", invitationId);
    expect(declined?.actor_id).toBe(visitorId);
    // Gone: a new invitation may be sent at once, and it shows.
    const again = await invite(visitorId, "Second thoughts?");
    expect(again.status, await again.clone().text()).toBe(201);
    await page.getByTestId("parley-invitation").getByText("Second thoughts?").waitFor();
    expect(visitors.problems).toEqual([]);
  });
});

describe("the widget on a single-page site", () => {
  it("reports each new route as a page view, never a URL's fragment, and starts the chat on the route the visitor is on", async () => {
    const page = await visitors.page("single-page visitor");
    // A fragment is the page's own state and can hold a secret: it is never reported.
    await page.goto(`${server.origin}/?from=spa#access_token=fragment-secret`);
    const visitorId = await presenceVisitorId(page);
    const loaded = await listedVisitor(visitorId);
    expect(loaded.pageUrl).toBe(`${server.origin}/?from=spa`);

    // A framework's route change: the URL by pushState, the title a moment after.
    await page.evaluate(() => {
      history.pushState({}, "", "/teas/oolong#reviews");
      setTimeout(() => {
        document.title = "Oolong teas";
      }, 50);
    });
    const routed = await listedVisitor(
      visitorId,
      (v) => v.pageUrl === `${server.origin}/teas/oolong`,
    );
    expect(routed.pageTitle).toBe("Oolong teas");
    // Back (popstate) is a route too.
    await page.goBack();
    await listedVisitor(visitorId, (v) => v.pageUrl === `${server.origin}/?from=spa`);

    await page.evaluate(() => history.pushState({}, "", "/checkout#step-2"));
    await page.getByTestId("parley-launcher").click();
    await page.getByTestId("parley-name").fill("Sam Spa");
    const start = page.waitForRequest((r) => r.url().endsWith("/api/visitor/chats"));
    await page.getByTestId("parley-start").click();
    expect((await start).postDataJSON()).toMatchObject({
      pageUrl: `${server.origin}/checkout`,
      name: "Sam Spa",
    });
    expect(visitors.problems).toEqual([]);
  });
});

describe("the campaign's auto-invitation", () => {
  it("appears after afterSeconds, not before; dismissed, not again in the tab", async () => {
    const page = await visitors.page("auto-invited visitor");
    await page.goto(`${server.origin}/?auto-invite`);
    const card = page.getByTestId("parley-invitation");
    await page.waitForFunction(() => performance.now() > 2000);
    expect(await card.isHidden()).toBe(true);
    await card.waitFor({ timeout: 15_000 });
    const shownAt = await page.evaluate(() => performance.now());
    expect(shownAt).toBeGreaterThanOrEqual(5000);
    expect(shownAt).toBeLessThan(9000);
    expect(await card.textContent()).toContain("Need a hand choosing a tea?");

    await page.getByTestId("parley-invitation-decline").click();
    expect(await card.isHidden()).toBe(true);
    await page.reload();
    await page.getByTestId("parley-launcher").waitFor();
    await page.waitForFunction(() => performance.now() > 7000, null, { timeout: 15_000 });
    expect(await card.isHidden()).toBe(true);

    // Another tab is asked again; "Chat now" opens the pre-chat form.
    const other = await visitors.page("auto-invited visitor, second tab");
    await other.goto(`${server.origin}/?auto-invite`);
    await other.getByTestId("parley-invitation-accept").click({ timeout: 15_000 });
    await other.getByTestId("parley-name").waitFor();
    expect(await other.getByTestId("parley-panel").isVisible()).toBe(true);
    expect(visitors.problems).toEqual([]);
  });
});

describe("the department picker", () => {
  it("marks departments online or offline, asked at each opening", async () => {
    const page = await visitors.page("picker visitor");
    const asked = () => {
      let count = 0;
      page.on("request", (r) => {
        if (r.url().endsWith("/api/widget/availability")) count++;
      });
      return () => count;
    };
    const availabilityRequests = asked();
    await page.goto(`${server.origin}/?picker`);
    // The configuration's form (with the picker) is drawn before the visitor opens it.
    await page.getByTestId("parley-department").waitFor({ state: "attached" });
    expect(availabilityRequests()).toBe(0);
    await page.getByTestId("parley-launcher").click();
    await until("both departments marked", async () => {
      const labels = await pickerLabels(page);
      return labels.billing !== "Billing" && labels.sales !== "Sales";
    });
    expect(await pickerLabels(page)).toMatchObject({
      billing: "Billing (offline)",
      sales: "Sales (offline)",
    });

    const bill = await deskAgent(server, BILL, PASSWORD);
    visitors.keep(bill.desk);
    await page.getByTestId("parley-minimize").click();
    await page.getByTestId("parley-launcher").click();
    await until(
      "billing online",
      async () => (await pickerLabels(page)).billing !== "Billing (offline)",
    );
    expect(await pickerLabels(page)).toMatchObject({
      billing: "Billing \u2014 online",
      sales: "Sales (offline)",
    });
    expect(availabilityRequests()).toBe(2);
    expect(await widgetViolations(page)).toEqual([]);
    expect(visitors.problems).toEqual([]);
  });

  it("chats without presence when its socket is refused, after a few tries", async () => {
    const page = await visitors.page("visitor without presence");
    let attempts = 0;
    await page.routeWebSocket(/\/api\/visitor\/presence\/ws$/, (ws) => {
      attempts++;
      ws.close({ code: 1011, reason: "refused by the test" });
    });
    await page.goto(`${server.origin}/?picker`);
    await page.getByTestId("parley-launcher").click();
    await page.getByTestId("parley-department").selectOption("billing");
    await page.getByTestId("parley-name").fill("Nina Nopresence");
    const start = page.waitForRequest((r) => r.url().endsWith("/api/visitor/chats"));
    await page.getByTestId("parley-start").click();
    expect((await start).postDataJSON().presenceToken).toBeUndefined();
    await page.getByTestId("parley-input").waitFor();
    // Five attempts (the first and four retries, backed off), then quiet.
    await until("presence given up", () => attempts >= 5, 30_000);
    await page.waitForTimeout(10_000);
    expect(attempts).toBe(5);
    expect(visitors.problems).toEqual([]);
  });
});
