/**
 * The console's navigation and admin screens, in headless Chromium against `wrangler dev`:
 * an administrator creates a department with a grant and an agent in it (the one-time
 * password link is shown), grants the agent a permission and sees the effective-permission
 * preview before and after saving; the navigation works from the keyboard. An agent without
 * permissions sees none of the admin screens in the navigation, opening one by address shows
 * a refusal and no admin controls, and the API answers 403 to calls from that page. A segment
 * is built and edited with its form (and its JSON view) and read back from D1; so is a campaign,
 * read back through the API.
 * Screenshots of each screen go to test-results/ (gitignored) for review, and axe-core finds
 * no serious or critical violation in any of them.
 */
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  launchBrowser,
  reviewConsoleScreen,
  seriousAxeViolations,
  signIn,
  watchPage,
} from "../helpers/browser.ts";
import { startChats } from "../helpers/desk-clients.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

let server: DevServer;
let browser: Browser;
const PASSWORD = "console admin passphrase 7";
const problems: string[] = [];
/** Open browser contexts, closed before their server stops (else their sockets complain). */
const contexts: BrowserContext[] = [];

/** The admin screens; none may show for an agent without permissions. */
const ADMIN_SCREENS = [
  "agents",
  "departments",
  "groups",
  "routing",
  "segments",
  "campaigns",
  "variables",
  "bans",
  "security",
];

async function signedIn(
  name: string,
  email: string,
  role: string,
  expected: string[] = [],
): Promise<Page> {
  await server.createAgent({ email, name, password: PASSWORD, role });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = watchPage(await context.newPage(), name, problems, expected);
  await page.goto(`${server.origin}/console/`);
  await signIn(page, email, PASSWORD);
  await page.getByTestId("nav-workspace").waitFor({ state: "visible" });
  return page;
}

beforeAll(async () => {
  browser = await launchBrowser();
  server = await startDevServer();
});
afterAll(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
  await server?.stop();
  await browser?.close();
});
beforeEach(() => {
  problems.length = 0;
});

describe("console admin screens in Chromium", () => {
  it("an administrator creates a department and an agent, grants a permission and sees the preview", async () => {
    // Answers the test provokes on purpose (a re-authentication below), added as known.
    const expected: string[] = [];
    const page = await signedIn("Ada Admin", "ada@example.com", "administrator", expected);
    for (const id of ADMIN_SCREENS) {
      await expect(page.getByTestId(`nav-${id}`).isVisible()).resolves.toBe(true);
    }
    await expect(page.getByTestId("nav-workspace").getAttribute("aria-current")).resolves.toBe(
      "page",
    );

    // Keyboard: from the workspace link, Tab reaches the next screen's link and Enter opens it.
    await page.getByTestId("nav-workspace").focus();
    await page.keyboard.press("Tab");
    const next = await page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
    expect(next).toMatch(/^nav-(?!workspace)/);
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/console/#/${next?.slice(4)}`);
    // The navigation renders after the hash changes: wait for it rather than read it at once.
    await page.locator(`[data-testid="${next}"][aria-current="page"]`).waitFor();
    await page.locator("#workspace").waitFor({ state: "hidden" });
    expect(await seriousAxeViolations(page, "#screen-nav")).toEqual([]);

    // A department whose members may view reports.
    await page.getByTestId("nav-departments").click();
    await page.getByTestId("department-id").fill("billing");
    await page.getByTestId("department-name").fill("Billing");
    await page.getByTestId("department-submit").click();
    await page.getByTestId("department-edit-billing").click();
    await page.getByTestId("department-grant-reports.view").check();
    await page.getByTestId("department-save-grants").click();
    await page.getByText("Grants saved.").waitFor();
    expect(await reviewConsoleScreen(page, "departments")).toEqual([]);
    const departmentGrants = await server.query(
      "SELECT permission FROM grants WHERE subject_type = 'department' AND subject_id = 'billing'",
    );
    expect(departmentGrants.map((row) => row.permission)).toEqual(["reports.view"]);

    // An agent in it: the one-time password link is shown once.
    await page.getByTestId("nav-agents").click();
    await page.getByTestId("agent-email").fill("bea@example.com");
    await page.getByTestId("agent-name-input").fill("Bea Billing");
    await page.getByTestId("agent-create-department-billing").check();
    await page.getByTestId("agent-submit").click();
    const link = await page.getByTestId("password-link").inputValue();
    expect(link).toMatch(/\/console\/#reset=[A-Za-z0-9_-]{43}$/);
    expect(await reviewConsoleScreen(page, "agents")).toEqual([]);

    // The preview shows the department's grant, then an own grant before it is saved.
    const row = page.getByTestId("agent-row-bea@example.com");
    await row.getByTestId("agent-edit").click();
    const preview = page.getByTestId("effective-preview");
    await preview.locator('[data-permission="reports.view"]').waitFor();
    await expect(
      preview.locator('[data-permission="reports.view"]').textContent(),
    ).resolves.toContain("department Billing");
    await page.getByTestId("agent-grant-audit.view").check();
    await expect(
      preview.locator('[data-permission="audit.view"]').textContent(),
    ).resolves.toContain("own grant");
    expect(await reviewConsoleScreen(page, "agent-editor")).toEqual([]);
    // The sign-in is no longer recent: the grant asks "confirm it's you", then goes through.
    const [bea] = await server.query("SELECT id FROM agents WHERE email = 'bea@example.com'");
    expected.push(`403 /api/agents/${String(bea?.id)}/grants`);
    await server.query(
      "UPDATE sessions SET authenticated_at = 0 WHERE agent_id = (SELECT id FROM agents WHERE email = 'ada@example.com')",
    );
    await page.getByTestId("agent-save").click();
    await page.getByTestId("reauth-password").fill(PASSWORD);
    await page.getByTestId("reauth-submit").click();
    await page.getByText("Saved: 2 effective permissions.").waitFor();
    const agentGrants = await server.query(
      `SELECT permission FROM grants WHERE subject_type = 'agent' AND subject_id = '${String(bea?.id)}'`,
    );
    expect(agentGrants.map((r) => r.permission)).toEqual(["audit.view"]);

    await page.getByTestId("nav-groups").click();
    await page.getByTestId("group-row-administrators").waitFor();
    expect(await reviewConsoleScreen(page, "groups")).toEqual([]);

    // A ban through its form, then every other admin screen loads (and is photographed).
    await page.getByTestId("nav-bans").click();
    await page.getByTestId("ban-value").fill("203.0.113.0/24");
    await page.getByTestId("ban-reason").fill("abusive messages");
    await page.getByTestId("ban-submit").click();
    await page.getByTestId("ban-row").getByText("203.0.113.0/24").waitFor();
    expect(await reviewConsoleScreen(page, "bans")).toEqual([]);
    // A segment and a campaign from the editors' templates (the server validates the JSON).
    await page.getByTestId("nav-segments").click();
    await page.getByTestId("segment-new").click();
    await page.getByTestId("segment-save").click();
    await page.getByTestId("segments-table").getByText("new-segment").waitFor();
    expect(await reviewConsoleScreen(page, "segments")).toEqual([]);
    await page.getByTestId("nav-campaigns").click();
    await page.getByTestId("campaign-new").click();
    await page.getByTestId("campaign-save").click();
    await page.getByTestId("campaigns-table").getByText("New campaign").waitFor();
    expect(await reviewConsoleScreen(page, "campaigns")).toEqual([]);
    // The other screens load: each shows what it should once its data came, and no error.
    for (const [id, table, shown] of [
      ["canned-messages", "canned-table", "Canned messages"],
      ["routing", "routing-table", "Billing"],
      ["variables", "variables-table", "Custom variables"],
      ["security", "allowlist-agent", "Agent console and API"],
      ["tokens", "tokens-table", "Your API tokens"],
    ] as const) {
      await page.getByTestId(`nav-${id}`).click();
      await page.getByTestId(table).getByText(shown).waitFor();
      await expect(page.locator("[role=alert]:visible").count()).resolves.toBe(0);
      expect(await reviewConsoleScreen(page, id)).toEqual([]);
    }

    // A chat offered while another screen shows is announced on the workspace's link.
    await startChats(server, 1);
    await page.getByTestId("nav-offers").getByText("1 offered").waitFor();
    await page.getByTestId("nav-workspace").click();
    await page.locator("#offers button").first().waitFor();
    expect(problems).toEqual([]);
  }, 180_000);

  // Each outcome below is read back from the server (the screens reload after a change).
  it("the other admin actions go through from their screens", async () => {
    const page = await signedIn("Ola Owner", "ola@example.com", "administrator");
    await server.createAgent({ email: "dan@example.com", name: "Dan Desk", password: PASSWORD });

    // An agent: disabled, enabled again, and a new password link (shown once).
    await page.getByTestId("nav-agents").click();
    const dan = page.getByTestId("agent-row-dan@example.com");
    await dan.getByTestId("agent-disable").click();
    await dan.getByText("disabled").waitFor();
    await dan.getByTestId("agent-enable").click();
    await dan.getByText("active").waitFor();
    await dan.getByTestId("agent-password-link").click();
    await expect(page.getByTestId("password-link").inputValue()).resolves.toMatch(/#reset=/);

    // A group: created, then deleted after the confirmation.
    await page.getByTestId("nav-groups").click();
    await page.getByTestId("group-id").fill("night-shift");
    await page.getByTestId("group-name").fill("Night shift");
    await page.getByTestId("group-submit").click();
    await page.getByTestId("group-edit-night-shift").click();
    await page.getByTestId("group-delete-open").click();
    await page.getByTestId("group-delete-confirm").click();
    await page.getByTestId("group-row-night-shift").waitFor({ state: "detached" });

    // Routing: a department's strategy…
    await page.getByTestId("nav-routing").click();
    await page.getByTestId("routing-edit-general").click();
    await page.getByTestId("routing-strategy").selectOption("round_robin");
    await page.getByTestId("routing-save").click();
    await page.getByTestId("routing-status").getByText("Saved.").waitFor();
    await page.getByTestId("routing-table").getByText("Round robin").waitFor();
    // …and an agent's capacity, the agent picked from the list.
    const danId = String(
      (await server.query("SELECT id FROM agents WHERE email = 'dan@example.com'"))[0]?.id,
    );
    await page.getByTestId("capacity-agent").selectOption(danId);
    await page.getByTestId("agent-max-chats").fill("3");
    await page.getByRole("button", { name: "Set capacity" }).click();
    await page.getByText("Capacity in effect: 3 chats.").waitFor();

    // A custom variable and a global canned message.
    await page.getByTestId("nav-variables").click();
    await page.getByTestId("variable-name").fill("plan");
    await page.getByTestId("variable-label").fill("Plan");
    await page.getByTestId("variable-submit").click();
    await page.getByTestId("variables-table").getByText("plan", { exact: true }).waitFor();
    await page.getByTestId("nav-canned-messages").click();
    await page.getByTestId("canned-create").locator("select[name=scope]").selectOption("global");
    await page.getByTestId("canned-title").fill("Greeting");
    await page.getByTestId("canned-text").fill("Hello, how can I help?");
    await page.getByTestId("canned-submit").click();
    await page.getByTestId("canned-table").getByText("Hello, how can I help?").waitFor();

    // The agent allowlist narrowed to this machine, then the narrowing lifted.
    await page.getByTestId("nav-security").click();
    await page.getByTestId("allowlist-agent-narrowed").fill("127.0.0.0/8");
    await page.getByTestId("allowlist-agent-save").click();
    await page.getByTestId("allowlist-agent-status").getByText("Saved.").waitFor();
    await page.getByTestId("allowlist-agent-lift").click();
    await page.getByTestId("allowlist-agent-status").getByText("Narrowing lifted.").waitFor();

    // An API token, shown once.
    await page.getByTestId("nav-tokens").click();
    await page.getByTestId("token-name").fill("phone");
    await page.getByTestId("token-submit").click();
    await expect(page.getByTestId("token-value").inputValue()).resolves.toMatch(/^\S{20,}$/);

    expect(problems).toEqual([]);
  }, 180_000);

  it("builds a segment with the form, shows the server's refusal, and edits it as JSON", async () => {
    const page = await signedIn("Sam Segments", "sam@example.com", "administrator", [
      "400 /api/segments",
    ]);
    const stored = async () => {
      const [row] = await server.query("SELECT name, rules FROM segments WHERE id = 'dach-buyers'");
      return row ? { name: row.name, rules: JSON.parse(String(row.rules)) } : null;
    };
    // Segments compare declared variables only; this one is a number.
    const declared = await page.request.post(`${server.origin}/api/variables`, {
      headers: { origin: server.origin },
      data: { name: "seats", label: "Seats bought", type: "number" },
    });
    expect(declared.status()).toBe(201);
    await page.getByTestId("nav-segments").click();
    await page.getByTestId("segment-new").click();
    const form = page.getByTestId("segment-form");
    await form.getByTestId("segment-id").fill("dach-buyers");
    await form.getByTestId("segment-name").fill("Buyers from DACH");
    await form.getByTestId("segment-match").selectOption("any");
    // Condition 1 is the template's (visits): made "exactly 3", committed when focus leaves.
    await form.getByTestId("condition-op-0").selectOption("eq");
    await form.getByTestId("condition-value-0").fill("3");
    await form.getByTestId("condition-value-0").press("Tab");
    // A URL pattern.
    await form.getByTestId("condition-add").click();
    await form.getByTestId("condition-op-1").selectOption("glob");
    await form.getByTestId("condition-value-1").fill("https://shop.example/pricing*");
    // Countries, typed the way people do.
    await form.getByTestId("condition-add").click();
    await form.getByTestId("condition-field-2").selectOption("country");
    await form.getByTestId("condition-value-2").fill("de, at ch");
    await form.getByTestId("condition-value-2").press("Tab");
    // The declared variable, offered by name: its value box is a number box, no Type asked.
    await form.getByTestId("condition-add").click();
    await form.getByTestId("condition-field-3").selectOption("variable");
    expect(await form.locator('#segment-variables option[value="seats"]').count()).toBe(1);
    await form.getByTestId("condition-name-3").fill("seats");
    await form.getByTestId("condition-op-3").selectOption("equals");
    expect(await form.getByTestId("condition-type-3").count()).toBe(0);
    expect(await form.getByTestId("condition-value-3").getAttribute("type")).toBe("number");
    await form.getByTestId("condition-value-3").fill("42");
    await form.getByTestId("condition-value-3").press("Tab");
    // A URL condition left empty: the server refuses it and says which field.
    await form.getByTestId("condition-add").click();
    await page.getByTestId("segment-save").click();
    await page.getByTestId("segment-error").filter({ hasText: "rules.conditions.4" }).waitFor();
    expect(await stored()).toBeNull();

    // Removing the first condition moves the others up, values and all.
    await form.getByTestId("condition-remove-4").click();
    await form.getByTestId("condition-remove-0").click();
    expect(await form.getByTestId("condition-value-1").inputValue()).toBe("DE, AT, CH");
    expect(await reviewConsoleScreen(page, "segment-form")).toEqual([]);
    await page.getByTestId("segment-save").click();
    await page.getByTestId("segments-table").getByText("any of 3 conditions").waitFor();
    const rules = {
      match: "any",
      conditions: [
        { field: "url", op: "glob", value: "https://shop.example/pricing*" },
        { field: "country", op: "in", values: ["DE", "AT", "CH"] },
        { field: "variable", name: "seats", op: "equals", value: 42 },
      ],
    };
    expect(await stored()).toEqual({ name: "Buyers from DACH", rules });

    // Edited as JSON, back to the form, saved: the form keeps what the JSON said.
    await page.getByRole("button", { name: "Edit segment dach-buyers" }).click();
    await expect(form.getByTestId("segment-id").count()).resolves.toBe(0);
    await page.getByTestId("segment-json-toggle").click();
    const json = page.getByTestId("segment-json");
    expect(JSON.parse(await json.inputValue())).toEqual({ name: "Buyers from DACH", rules });
    // JSON the form cannot draw: the form says so, the screen keeps working.
    await json.fill(JSON.stringify({ name: "Odd", rules: { match: "all", conditions: "none" } }));
    await page.getByTestId("segment-json-toggle").click();
    await page.getByTestId("segment-form-error").waitFor();
    await page.getByTestId("segment-json-toggle").click();
    await json.fill(JSON.stringify({ name: "DACH buyers", rules: { ...rules, match: "all" } }));
    await page.getByTestId("segment-json-toggle").click();
    expect(await form.getByTestId("segment-name").inputValue()).toBe("DACH buyers");
    expect(await form.getByTestId("segment-match").inputValue()).toBe("all");
    await page.getByTestId("segment-save").click();
    await page.getByTestId("segments-table").getByText("DACH buyers").waitFor();
    expect(await stored()).toEqual({ name: "DACH buyers", rules: { ...rules, match: "all" } });
    expect(problems).toEqual([]);
  }, 120_000);

  it("builds a campaign with the form, shows the defaults, and puts them back", async () => {
    const page = await signedIn("Cleo Campaigns", "cleo@example.com", "administrator", [
      "400 /api/campaigns",
    ]);
    const stored = async () => {
      const res = await page.request.get(`${server.origin}/api/campaigns`);
      const { campaigns } = (await res.json()) as { campaigns: Record<string, unknown>[] };
      const found = campaigns.find((c) => c.name === "Pricing pages");
      if (!found) return null;
      const {
        id: _i,
        createdAt: _c,
        createdBy: _cb,
        updatedAt: _u,
        updatedBy: _ub,
        ...body
      } = found;
      return body;
    };
    // A text variable the pre-chat form may fill.
    const declared = await page.request.post(`${server.origin}/api/variables`, {
      headers: { origin: server.origin },
      data: { name: "company", label: "Company", type: "string" },
    });
    expect(declared.status()).toBe(201);
    await page.getByTestId("nav-campaigns").click();
    await page.getByTestId("campaign-new").click();
    const form = page.getByTestId("campaign-form");
    await form.getByTestId("campaign-name").fill("Pricing pages");
    await form.getByTestId("campaign-enabled").check();
    await form.getByTestId("campaign-priority").fill("10");
    await form.getByTestId("campaign-priority").press("Tab");
    // The template's page rule, made a pattern.
    await form.getByTestId("campaign-pages-op-0").selectOption("glob");
    await form.getByTestId("campaign-pages-value-0").fill("https://shop.example/pricing*");
    // The widget: what is left empty shows (and stays) the default.
    expect(await form.getByTestId("campaign-greeting").getAttribute("placeholder")).toBe(
      "Questions? We're here to help.",
    );
    await form.getByTestId("campaign-color").fill("#12AB34");
    await form.getByTestId("campaign-position").selectOption("left");
    await form.getByTestId("campaign-title").fill("Talk to sales");
    // This campaign's pre-chat form: the default's fields, then a required work email and the
    // company, a declared variable the form offers.
    await form.getByTestId("campaign-prechat").selectOption("custom");
    await form.getByTestId("campaign-prechat-label-1").fill("Work email");
    await form.getByTestId("campaign-prechat-required-1").check();
    await form.getByTestId("campaign-prechat-remove-0").click();
    await form.getByTestId("campaign-prechat-add").click();
    expect(await form.locator('#campaign-prechat-keys option[value="company"]').count()).toBe(1);
    await form.getByTestId("campaign-prechat-key-1").fill("company");
    await form.getByTestId("campaign-prechat-label-1").fill("Company");
    await form.getByTestId("campaign-survey").selectOption("off");
    // An invitation too soon for the server's rules (at least 5 s), on enterprise pages.
    await form.getByTestId("campaign-invite").selectOption("custom");
    await form.getByTestId("campaign-invite-after").fill("3");
    await form.getByTestId("campaign-invite-after").press("Tab");
    await form.getByTestId("campaign-invite-message").fill("Need a quote?");
    await form.getByTestId("campaign-invite-pages-add").click();
    await form.getByTestId("campaign-invite-pages-op-0").selectOption("contains");
    await form.getByTestId("campaign-invite-pages-value-0").fill("/enterprise");
    expect(await reviewConsoleScreen(page, "campaign-form")).toEqual([]);
    await page.getByTestId("campaign-save").click();
    await page
      .getByTestId("campaign-error")
      .filter({ hasText: "autoInvite.afterSeconds" })
      .waitFor();
    expect(await stored()).toBeNull();

    await form.getByTestId("campaign-invite-after").fill("20");
    await form.getByTestId("campaign-invite-after").press("Tab");
    await page.getByTestId("campaign-save").click();
    await page.getByTestId("campaigns-table").getByText("Pricing pages").waitFor();
    const saved = {
      name: "Pricing pages",
      enabled: true,
      priority: 10,
      urlRules: [{ op: "glob", value: "https://shop.example/pricing*" }],
      widget: { color: "#12ab34", position: "left", title: "Talk to sales" },
      preChatForm: {
        enabled: true,
        fields: [
          { key: "email", label: "Work email", required: true },
          { key: "company", label: "Company", required: false },
        ],
      },
      survey: false,
      autoInvite: {
        enabled: true,
        afterSeconds: 20,
        message: "Need a quote?",
        urlRules: [{ op: "contains", value: "/enterprise" }],
      },
    };
    expect(await stored()).toEqual(saved);

    // Emptied fields and "the default" choices go back to the built-in defaults.
    await page.getByRole("button", { name: "Edit campaign Pricing pages" }).click();
    expect(await form.getByTestId("campaign-title").inputValue()).toBe("Talk to sales");
    await form.getByTestId("campaign-title").fill("");
    await form.getByTestId("campaign-position").selectOption("");
    await form.getByTestId("campaign-prechat").selectOption("default");
    await form.getByTestId("campaign-survey").selectOption("default");
    await form.getByTestId("campaign-invite").selectOption("default");
    await page.getByTestId("campaign-save").click();
    await page.getByTestId("campaign-form").waitFor({ state: "detached" });
    expect(await stored()).toEqual({
      ...saved,
      widget: { color: "#12ab34" },
      preChatForm: null,
      survey: null,
      autoInvite: null,
    });
    expect(problems).toEqual([]);
  }, 120_000);

  it("an agent without permissions sees no admin screen, and the API refuses", async () => {
    const page = await signedIn("Carl Chat", "carl@example.com", "agent", [
      "403 /api/agents",
      "403 /api/departments",
    ]);
    for (const id of ADMIN_SCREENS) {
      await expect(page.getByTestId(`nav-${id}`).count()).resolves.toBe(0);
    }
    // Straight to the address: a refusal, and no admin controls at all.
    await page.goto(`${server.origin}/console/#/agents`);
    await page.getByTestId("screen-denied").waitFor({ state: "visible" });
    for (const testId of ["agents-table", "agent-create", "department-create"]) {
      await expect(page.getByTestId(testId).count()).resolves.toBe(0);
    }
    expect(await reviewConsoleScreen(page, "denied")).toEqual([]);
    // The server decides: the same calls from this page are refused.
    const answers = await page.evaluate(async () => {
      const list = await fetch("/api/agents");
      const create = await fetch("/api/departments", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: "sneaky", name: "Sneaky" }),
      });
      return [
        { status: list.status, body: await list.json() },
        { status: create.status, body: await create.json() },
      ];
    });
    for (const answer of answers) {
      expect(answer.status).toBe(403);
      expect(answer.body.error.code).toBe("forbidden");
    }
    expect(await server.query("SELECT id FROM departments WHERE id = 'sneaky'")).toEqual([]);
    expect(problems).toEqual([]);
  }, 120_000);
});
