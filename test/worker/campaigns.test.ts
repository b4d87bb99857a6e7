/**
 * Campaigns over real HTTP and D1: the CRUD API behind `campaigns.manage` (403 with a denied
 * audit row without it), validation, card masking and the audit rows of changes; and the
 * public widget configuration: the campaign chosen by URL rules and priority over the
 * built-in defaults, ETag and 304, Cache-Control, the widget's CORS grant and its rate limit.
 */
import { createExecutionContext, env, SELF } from "cloudflare:test";
import { beforeEach, describe, expect, it } from "vitest";
import {
  DEFAULT_AUTO_INVITE,
  DEFAULT_PRE_CHAT_FORM,
  DEFAULT_WIDGET,
} from "../../src/protocol/campaign-defaults.ts";
import type {
  Campaign,
  CampaignListResponse,
  CampaignResponse,
  WidgetConfig,
} from "../../src/protocol/campaigns.ts";
import { MAX_URL_RULES } from "../../src/protocol/limits.ts";
import { createApp } from "../../worker/app.ts";
import { apiRequest, auditRowsOf, dumpD1, login, ORIGIN, seedAgent } from "./helpers.ts";

const PATH = "/api/campaigns";
const WIDGET_ORIGIN = "https://shop.example";
const CARD = "4111 1111 1111 1111";
const MASKED = "•••• •••• •••• 1111";

// Campaigns are global: each test starts without any.
beforeEach(async () => {
  await env.DB.exec("DELETE FROM campaigns");
});

async function manager() {
  const agent = await seedAgent({ grants: ["campaigns.manage"] });
  return { ...agent, cookie: await login(agent.email) };
}

/** Declares a custom variable (a pre-chat field may fill one that holds text); idempotent. */
async function declare(name: string, type: "string" | "number") {
  const admin = await seedAgent({ grants: ["variables.manage"] });
  const res = await apiRequest("POST", "/api/variables", await login(admin.email), {
    name,
    label: name,
    type,
  });
  expect([201, 409], await res.clone().text()).toContain(res.status);
}

async function create(cookie: string, body: Record<string, unknown>): Promise<Campaign> {
  const res = await apiRequest("POST", PATH, cookie, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<CampaignResponse>()).campaign;
}

function config(page: string, headers: Record<string, string> = {}) {
  return SELF.fetch(`${ORIGIN}/api/widget/config?${new URLSearchParams({ url: page })}`, {
    headers,
  });
}

async function configOf(page: string): Promise<WidgetConfig> {
  const res = await config(page);
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<WidgetConfig>();
}

async function expectInvalid(res: Response, path: string) {
  expect(res.status, await res.clone().text()).toBe(400);
  const body = await res.json<{ error: { code: string; details: { path: string }[] } }>();
  expect(body.error.code).toBe("invalid_request");
  expect(body.error.details.map((d) => d.path)).toContain(path);
}

describe("the widget configuration", () => {
  it("answers the built-in defaults when no campaign applies", async () => {
    const body = await configOf("https://shop.example/");
    expect(body).toMatchObject({
      campaignId: null,
      widget: DEFAULT_WIDGET,
      preChatForm: DEFAULT_PRE_CHAT_FORM,
      survey: true,
      autoInvite: DEFAULT_AUTO_INVITE,
    });
    expect(body.departments).toContainEqual({ id: "general", name: "General" });
    expect(Object.keys(body).sort()).toEqual([
      "autoInvite",
      "campaignId",
      "departments",
      "preChatForm",
      "survey",
      "widget",
    ]);
  });

  it("chooses the campaign by URL rules: priority order, disabled ones skipped, no rules for every page", async () => {
    const { cookie } = await manager();
    await declare("plan", "string");
    const shoes = await create(cookie, {
      name: "Shoes",
      priority: 10,
      urlRules: [{ op: "glob", value: "https://shop.example/*/shoes*" }],
      widget: { color: "#AA0000", greeting: "Need help with shoes?" },
      preChatForm: {
        enabled: true,
        fields: [
          { key: "email", label: "Your email", required: true },
          { key: "department", label: "Topic" },
          { key: "plan", label: "Your plan" },
        ],
      },
      survey: false,
      autoInvite: {
        enabled: true,
        afterSeconds: 20,
        urlRules: [{ op: "contains", value: "SALE" }],
        message: "Shoes are on sale!",
      },
    });
    const disabled = await create(cookie, {
      name: "Off",
      enabled: false,
      priority: 1,
      urlRules: [{ op: "contains", value: "/shoes" }],
    });
    const cheaperTie = await create(cookie, {
      name: "Cart",
      priority: 10,
      urlRules: [
        { op: "starts_with", value: "HTTPS://SHOP.EXAMPLE/cart" },
        { op: "equals", value: "https://shop.example/checkout" },
      ],
    });
    const everywhere = await create(cookie, { name: "Everywhere", priority: 50 });

    const onShoes = await configOf("https://shop.example/men/shoes?size=42#reviews");
    expect(onShoes.campaignId).toBe(shoes.id);
    expect(onShoes.widget).toEqual({
      ...DEFAULT_WIDGET,
      color: "#aa0000",
      greeting: "Need help with shoes?",
    });
    expect(onShoes.preChatForm.fields).toEqual([
      { key: "email", label: "Your email", required: true },
      { key: "department", label: "Topic", required: false },
      { key: "plan", label: "Your plan", required: false },
    ]);
    expect(onShoes.survey).toBe(false);
    // The auto-invitation's own rules do not match this page: off, without its rules.
    expect(onShoes.autoInvite).toEqual({
      enabled: false,
      afterSeconds: 20,
      message: "Shoes are on sale!",
    });
    expect((await configOf("https://shop.example/men/shoes/sale")).autoInvite.enabled).toBe(true);

    expect((await configOf("https://shop.example/cart/1")).campaignId).toBe(cheaperTie.id);
    expect((await configOf("https://shop.example/checkout")).campaignId).toBe(cheaperTie.id);
    // No rules: every other page; its unset parts are the defaults.
    const elsewhere = await configOf("https://shop.example/about");
    expect(elsewhere).toMatchObject({
      campaignId: everywhere.id,
      widget: DEFAULT_WIDGET,
      preChatForm: DEFAULT_PRE_CHAT_FORM,
      survey: true,
      autoInvite: DEFAULT_AUTO_INVITE,
    });

    // Enabling the priority-1 campaign makes it win where it matches.
    const res = await apiRequest("PUT", `${PATH}/${disabled.id}`, cookie, {
      name: "On",
      priority: 1,
      urlRules: disabled.urlRules,
    });
    expect(res.status).toBe(200);
    expect((await configOf("https://shop.example/men/shoes")).campaignId).toBe(disabled.id);
    expect((await apiRequest("DELETE", `${PATH}/${everywhere.id}`, cookie)).status).toBe(200);
    expect((await configOf("https://shop.example/about")).campaignId).toBeNull();
  });

  it("has a strong ETag (SHA-256 of the body), answers 304 to If-None-Match, and is cached a minute", async () => {
    const first = await config("https://shop.example/");
    expect(first.status).toBe(200);
    const tag = first.headers.get("etag") ?? "";
    const text = await first.text();
    const digest = new Uint8Array(
      await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
    );
    expect(tag).toBe(`"${[...digest].map((b) => b.toString(16).padStart(2, "0")).join("")}"`);
    expect(first.headers.get("cache-control")).toBe("public, max-age=60");

    const again = await config("https://shop.example/", {
      "if-none-match": tag,
      origin: WIDGET_ORIGIN,
    });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe("");
    expect(again.headers.get("etag")).toBe(tag);
    expect(again.headers.get("cache-control")).toBe("public, max-age=60");
    expect(again.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    // A list of tags, and a weak form of the same tag, match too.
    expect(
      (await config("https://shop.example/", { "if-none-match": `"x", W/${tag}` })).status,
    ).toBe(304);

    // A change makes a new body: the old tag no longer matches.
    const { cookie } = await manager();
    await create(cookie, { name: "New look", widget: { title: "Hello" } });
    const changed = await config("https://shop.example/", { "if-none-match": tag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).not.toBe(tag);
    expect((await changed.json<WidgetConfig>()).widget.title).toBe("Hello");
  });

  it("grants CORS to widget origins only, and answers without an Origin", async () => {
    const fromWidget = await config("https://shop.example/", { origin: WIDGET_ORIGIN });
    expect(fromWidget.status).toBe(200);
    expect(fromWidget.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    expect(fromWidget.headers.get("access-control-allow-credentials")).toBeNull();
    expect(fromWidget.headers.get("vary")).toContain("Origin");

    const foreign = await config("https://shop.example/", { origin: "https://evil.example" });
    expect(foreign.status).toBe(200);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    // The console's origin is not a widget origin.
    const console = await config("https://shop.example/", { origin: "https://console.example" });
    expect(console.headers.get("access-control-allow-origin")).toBeNull();

    const preflight = await SELF.fetch(`${ORIGIN}/api/widget/config?url=x`, {
      method: "OPTIONS",
      headers: { origin: WIDGET_ORIGIN, "access-control-request-method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    expect(preflight.headers.get("access-control-allow-methods")).toBe("GET,POST");

    expect((await config("https://shop.example/")).status).toBe(200);
  });

  it("refuses a missing or bad url with 400, never cached", async () => {
    const bare = await SELF.fetch(`${ORIGIN}/api/widget/config`);
    await expectInvalid(bare, "url");
    expect(bare.headers.get("cache-control")).toBe("no-store");
    expect(bare.headers.get("etag")).toBeNull();
    for (const url of [
      "not a url",
      "ftp://shop.example/",
      "javascript:alert(1)",
      `https://a.example/${"x".repeat(2048)}`,
    ]) {
      await expectInvalid(await config(url), "url");
    }
    const twice = await SELF.fetch(
      `${ORIGIN}/api/widget/config?url=https://a.example/&url=https://b.example/`,
    );
    expect(twice.status).toBe(400);
    const extra = await SELF.fetch(`${ORIGIN}/api/widget/config?url=https://a.example/&x=1`);
    expect(extra.status).toBe(400);
  });

  it("is rate limited per client IP (RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE)", async () => {
    const app = createApp();
    const call = (ip: string) =>
      app.fetch(
        new Request(`${ORIGIN}/api/widget/config?url=https://shop.example/`, {
          headers: { "cf-connecting-ip": ip },
        }),
        { ...env, RATE_WIDGET_CONFIG_PER_IP_PER_MINUTE: "2" },
        createExecutionContext(),
      );
    expect((await call("192.0.2.77")).status).toBe(200);
    expect((await call("192.0.2.77")).status).toBe(200);
    const limited = await call("192.0.2.77");
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await limited.json()).toMatchObject({ error: { code: "rate_limited" } });
    expect((await call("192.0.2.78")).status).toBe(200);
  });
});

describe("the campaigns API", () => {
  it("creates, reads, lists, replaces and deletes campaigns, auditing each change", async () => {
    const admin = await manager();
    const created = await create(admin.cookie, {
      name: "Spring",
      priority: 3,
      urlRules: [{ op: "contains", value: "/spring" }],
      widget: { position: "left" },
    });
    expect(created).toMatchObject({
      name: "Spring",
      enabled: true,
      priority: 3,
      urlRules: [{ op: "contains", value: "/spring" }],
      widget: { position: "left" },
      preChatForm: null,
      survey: null,
      autoInvite: null,
      createdBy: admin.id,
      updatedBy: admin.id,
    });
    const other = await create(admin.cookie, { name: "Default" });
    expect(other.priority).toBe(100);

    const one = await apiRequest("GET", `${PATH}/${created.id}`, admin.cookie);
    expect((await one.json<CampaignResponse>()).campaign).toEqual(created);
    const list = await apiRequest("GET", PATH, admin.cookie);
    expect((await list.json<CampaignListResponse>()).campaigns.map((c) => c.id)).toEqual([
      created.id,
      other.id,
    ]);

    const replaced = await apiRequest("PUT", `${PATH}/${created.id}`, admin.cookie, {
      name: "Spring sale",
      priority: 3,
      enabled: false,
      survey: false,
    });
    expect(replaced.status).toBe(200);
    const after = (await replaced.json<CampaignResponse>()).campaign;
    // A whole replacement: what the body leaves out is back to its default.
    expect(after).toMatchObject({
      id: created.id,
      name: "Spring sale",
      enabled: false,
      urlRules: [],
      widget: {},
      survey: false,
      createdAt: created.createdAt,
    });
    expect((await apiRequest("DELETE", `${PATH}/${created.id}`, admin.cookie)).status).toBe(200);
    for (const [method, body] of [
      ["GET", undefined],
      ["PUT", { name: "x" }],
      ["DELETE", undefined],
    ] as const) {
      const res = await apiRequest(method, `${PATH}/${created.id}`, admin.cookie, body);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "campaign_not_found" } });
    }

    expect(await auditRowsOf(admin.id, "campaign.%")).toEqual([
      {
        action: "campaign.create",
        target: created.id,
        outcome: "success",
        department: null,
        details: {
          before: null,
          after: {
            name: "Spring",
            enabled: true,
            priority: 3,
            urlRules: 1,
            widget: ["position"],
            preChatForm: null,
            survey: null,
            autoInvite: null,
          },
        },
      },
      expect.objectContaining({ action: "campaign.create", target: other.id }),
      expect.objectContaining({
        action: "campaign.update",
        target: created.id,
        outcome: "success",
        details: {
          changed: ["name", "enabled", "urlRules", "widget", "survey"],
          before: expect.objectContaining({ name: "Spring", enabled: true, urlRules: 1 }),
          after: expect.objectContaining({ name: "Spring sale", enabled: false, urlRules: 0 }),
        },
      }),
      expect.objectContaining({
        action: "campaign.delete",
        target: created.id,
        outcome: "success",
        details: { before: expect.objectContaining({ name: "Spring sale" }), after: null },
      }),
    ]);
  });

  it("answers 403 forbidden without campaigns.manage, with a denied audit row", async () => {
    const agent = await seedAgent({ groups: ["supervisors"] });
    const cookie = await login(agent.email);
    const id = crypto.randomUUID();
    for (const [method, path, body] of [
      ["GET", PATH, undefined],
      ["GET", `${PATH}/${id}`, undefined],
      ["POST", PATH, { name: "x" }],
      ["PUT", `${PATH}/${id}`, { name: "x" }],
      ["DELETE", `${PATH}/${id}`, undefined],
    ] as const) {
      const res = await apiRequest(method, path, cookie, body);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({
        error: { code: "forbidden", details: { required: ["campaigns.manage"] } },
      });
    }
    const rows = await auditRowsOf(agent.id, "access.denied");
    expect(rows.map((r) => [r.action, r.target, r.outcome])).toEqual([
      ["access.denied", "GET /api/campaigns", "denied"],
      ["access.denied", `GET /api/campaigns/${id}`, "denied"],
      ["access.denied", "POST /api/campaigns", "denied"],
      ["access.denied", `PUT /api/campaigns/${id}`, "denied"],
      ["access.denied", `DELETE /api/campaigns/${id}`, "denied"],
    ]);
    expect(await env.DB.prepare("SELECT count(*) AS n FROM campaigns").first("n")).toBe(0);
    expect((await SELF.fetch(`${ORIGIN}${PATH}`)).status).toBe(401);
  });

  it("refuses invalid campaigns with 400 naming the field", async () => {
    const { cookie } = await manager();
    const rule = { op: "contains", value: "/x" };
    const field = (key: string) => ({ key, label: key });
    const invite = { enabled: true, afterSeconds: 30, message: "Hi" };
    const cases: [Record<string, unknown>, string][] = [
      [{}, "name"],
      [{ name: "x".repeat(101) }, "name"],
      [{ name: "a", widget: { color: "red" } }, "widget.color"],
      [{ name: "a", widget: { color: "#12345" } }, "widget.color"],
      [{ name: "a", widget: { position: "top" } }, "widget.position"],
      [{ name: "a", widget: { greeting: "x".repeat(201) } }, "widget.greeting"],
      [{ name: "a", widget: { sound: true } }, "widget"],
      [{ name: "a", urlRules: Array(MAX_URL_RULES + 1).fill(rule) }, "urlRules"],
      [{ name: "a", urlRules: [{ op: "regex", value: "^/x$" }] }, "urlRules.0.op"],
      [{ name: "a", urlRules: [{ op: "equals", value: "" }] }, "urlRules.0.value"],
      [
        { name: "a", preChatForm: { enabled: true, fields: [field("email"), field("email")] } },
        "preChatForm.fields",
      ],
      [
        {
          name: "a",
          preChatForm: {
            enabled: true,
            fields: Array.from({ length: 11 }, (_, i) => field(`v${i}`)),
          },
        },
        "preChatForm.fields",
      ],
      [
        { name: "a", preChatForm: { enabled: true, fields: [field("1st")] } },
        "preChatForm.fields.0.key",
      ],
      [{ name: "a", autoInvite: { ...invite, afterSeconds: 4 } }, "autoInvite.afterSeconds"],
      [{ name: "a", autoInvite: { ...invite, afterSeconds: 3601 } }, "autoInvite.afterSeconds"],
      [{ name: "a", autoInvite: { ...invite, afterSeconds: 10.5 } }, "autoInvite.afterSeconds"],
      [
        { name: "a", autoInvite: { ...invite, urlRules: [{ op: "matches", value: "x" }] } },
        "autoInvite.urlRules.0.op",
      ],
      [{ name: "a", priority: -1 }, "priority"],
      [{ name: "a", id: crypto.randomUUID() }, ""],
    ];
    for (const [body, path] of cases) {
      await expectInvalid(await apiRequest("POST", PATH, cookie, body), path);
    }
    expect(
      (await apiRequest("GET", PATH, cookie).then((r) => r.json<CampaignListResponse>())).campaigns,
    ).toEqual([]);
  });

  it("refuses a pre-chat field that fills no declared text variable, naming it", async () => {
    const { cookie } = await manager();
    const t = crypto.randomUUID().slice(0, 8);
    await declare(`company_${t}`, "string");
    await declare(`seats_${t}`, "number");
    const form = (...keys: string[]) => ({
      name: "Pre-chat",
      preChatForm: { enabled: true, fields: keys.map((key) => ({ key, label: key })) },
    });
    // The chat start's own fields and a text variable: taken.
    const taken = await create(cookie, form("email", "department", `company_${t}`));
    // Undeclared, or a number the visitor's typed text could never be: 400, on create and on
    // replace, and the stored campaign is unchanged.
    for (const [body, path] of [
      [form("email", `nope_${t}`), "preChatForm.fields.1.key"],
      [form(`seats_${t}`), "preChatForm.fields.0.key"],
    ] as const) {
      await expectInvalid(await apiRequest("POST", PATH, cookie, body), path);
      await expectInvalid(await apiRequest("PUT", `${PATH}/${taken.id}`, cookie, body), path);
    }
    const list = await apiRequest("GET", PATH, cookie).then((r) => r.json<CampaignListResponse>());
    expect(list.campaigns).toEqual([taken]);
  });

  it("masks card numbers in every text before it is stored, audited or served", async () => {
    const admin = await manager();
    const campaign = await create(admin.cookie, {
      name: `Promo ${CARD}`,
      widget: { greeting: `Pay with ${CARD} today`, title: "Hi" },
      preChatForm: { enabled: true, fields: [{ key: "name", label: `Card ${CARD}` }] },
      autoInvite: {
        enabled: true,
        afterSeconds: 10,
        urlRules: [{ op: "contains", value: "card=4111-1111-1111-1111" }],
        message: `Use ${CARD}`,
      },
    });
    expect(campaign.name).toBe(`Promo ${MASKED}`);
    expect(campaign.widget.greeting).toBe(`Pay with ${MASKED} today`);
    expect(campaign.preChatForm?.fields[0]?.label).toBe(`Card ${MASKED}`);
    expect(campaign.autoInvite?.message).toBe(`Use ${MASKED}`);
    expect(campaign.autoInvite?.urlRules).toEqual([
      { op: "contains", value: "card=••••-••••-••••-1111" },
    ]);
    const served = await configOf("https://shop.example/");
    expect(served.widget.greeting).toBe(`Pay with ${MASKED} today`);
    expect(served.autoInvite.enabled).toBe(false);
    // A page URL is masked like the rule, so the masked rule still matches it.
    const onCardPage = await configOf("https://shop.example/?card=4111-1111-1111-1111");
    expect(onCardPage.autoInvite.enabled).toBe(true);
    const everything = `${await dumpD1()}${JSON.stringify(await auditRowsOf(admin.id))}`;
    expect(everything).not.toContain(CARD);
    expect(everything).not.toContain("4111-1111-1111-1111");
  });

  it("refuses changes from a foreign Origin", async () => {
    const { cookie } = await manager();
    const res = await SELF.fetch(`${ORIGIN}${PATH}`, {
      method: "POST",
      headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_denied" } });
  });
});
