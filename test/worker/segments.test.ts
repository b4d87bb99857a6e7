/**
 * Visitor segments over real HTTP, D1 and sockets: the `/api/segments` routes (permission,
 * validation, audit rows with before and after), the visit count they read, and the segments
 * a visitor is in shown in the agent's `offer` at chat start.
 *
 * The file's tests share D1: every segment made here has a condition no other test's visitor
 * meets (a URL with a token of its own), so the offers' segment lists can be compared exactly.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  CreateSegmentRequest,
  Segment,
  SegmentListResponse,
  SegmentResponse,
} from "../../src/protocol/segments.ts";
import { visitCount } from "../../src/store/segments.ts";
import {
  agentOnline,
  apiRequest,
  auditRowsOf,
  login,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

const PATH = "/api/segments";
type Rules = CreateSegmentRequest["rules"];
const PAN = "4111 1111 1111 1111";

async function agentCookie(grants: string[], groups: string[] = []) {
  const agent = await seedAgent({ groups, grants });
  return { ...agent, cookie: await login(agent.email) };
}

const manager = () => agentCookie(["segments.manage", "variables.manage"]);

const token = () => crypto.randomUUID().slice(0, 8);

/** A condition only this test's visitors meet. */
const ownUrl = (t: string): Rules["conditions"][number] => ({
  field: "url",
  op: "contains",
  value: `/${t}/`,
});

async function create(cookie: string, body: CreateSegmentRequest): Promise<Segment> {
  const res = await apiRequest("POST", PATH, cookie, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<SegmentResponse>()).segment;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = await res.json<{ error: { code: string; message: string; details?: unknown } }>();
  expect(body.error.code).toBe(code);
  return body.error;
}

describe("/api/segments", () => {
  it("creates, lists, changes and removes segments, with audit rows of before and after", async () => {
    const admin = await manager();
    const t = token();
    const id = `vip-${t}`;
    const rules: Rules = { match: "all", conditions: [ownUrl(t)] };
    const created = await create(admin.cookie, { id, name: "VIP", rules });
    expect(created).toMatchObject({ id, name: "VIP", rules, updatedBy: admin.id });
    const list = await apiRequest("GET", PATH, admin.cookie);
    expect(list.status).toBe(200);
    expect((await list.json<SegmentListResponse>()).segments).toContainEqual(created);

    await expectError(
      await apiRequest("POST", PATH, admin.cookie, { id, name: "Twice", rules }),
      409,
      "segment_exists",
    );

    const changed = {
      match: "any",
      conditions: [
        { ...ownUrl(t), op: "glob", value: `*/${t}/${PAN.replaceAll(" ", "")}*` },
        { field: "country", op: "in", values: ["de", "FR"] },
      ],
    };
    const put = await apiRequest("PUT", `${PATH}/${id}`, admin.cookie, {
      name: `Card ${PAN}`,
      rules: changed,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    // Texts are card-masked like the page URL they are compared with; countries upper-cased.
    const stored = {
      match: "any",
      conditions: [
        { field: "url", op: "glob", value: `*/${t}/••••••••••••1111*` },
        { field: "country", op: "in", values: ["DE", "FR"] },
      ],
    };
    expect((await put.json<SegmentResponse>()).segment).toMatchObject({
      id,
      name: "Card •••• •••• •••• 1111",
      rules: stored,
      createdAt: created.createdAt,
    });

    expect((await apiRequest("DELETE", `${PATH}/${id}`, admin.cookie)).status).toBe(200);
    await expectError(
      await apiRequest("DELETE", `${PATH}/${id}`, admin.cookie),
      404,
      "segment_not_found",
    );
    await expectError(
      await apiRequest("PUT", `${PATH}/${id}`, admin.cookie, { name: "x", rules }),
      404,
      "segment_not_found",
    );
    await expectError(
      await apiRequest("DELETE", `${PATH}/Not-A-Slug`, admin.cookie),
      404,
      "segment_not_found",
    );

    const before = { name: "VIP", rules };
    const after = { name: "Card •••• •••• •••• 1111", rules: stored };
    expect(await auditRowsOf(admin.id, "segment.%")).toEqual([
      {
        action: "segment.create",
        target: id,
        outcome: "success",
        department: null,
        details: { before: null, after: before },
      },
      {
        action: "segment.update",
        target: id,
        outcome: "success",
        department: null,
        details: { before, after },
      },
      {
        action: "segment.delete",
        target: id,
        outcome: "success",
        department: null,
        details: { before: after, after: null },
      },
    ]);
  });

  const url = { field: "url", op: "contains", value: "/x/" };
  it.each<[string, Record<string, unknown>]>([
    ["an id that is not a slug", { id: "VIP Customers" }],
    ["an empty name", { name: "" }],
    ["a name over 100 characters", { name: "x".repeat(101) }],
    ["an unknown match", { rules: { match: "most", conditions: [] } }],
    ["21 conditions", { rules: { match: "all", conditions: Array(21).fill(url) } }],
    ["an unknown field", { rules: { match: "all", conditions: [{ field: "ip", op: "in" }] } }],
    ["an unknown URL op", { rules: { match: "all", conditions: [{ ...url, op: "regex" }] } }],
    ["an empty URL value", { rules: { match: "all", conditions: [{ ...url, value: "" }] } }],
    [
      "a URL value over 500 characters",
      { rules: { match: "all", conditions: [{ ...url, value: "x".repeat(501) }] } },
    ],
    [
      "a URL value with a control character",
      { rules: { match: "all", conditions: [{ ...url, value: "/a\u0000b/" }] } },
    ],
    [
      "a country that is not alpha-2",
      { rules: { match: "all", conditions: [{ field: "country", op: "in", values: ["DEU"] }] } },
    ],
    [
      "no countries",
      { rules: { match: "all", conditions: [{ field: "country", op: "in", values: [] }] } },
    ],
    [
      "a negative visit count",
      { rules: { match: "all", conditions: [{ field: "visits", op: "gte", value: -1 }] } },
    ],
    [
      "a fractional visit count",
      { rules: { match: "all", conditions: [{ field: "visits", op: "eq", value: 1.5 }] } },
    ],
    [
      "gte on a text value",
      {
        rules: {
          match: "all",
          conditions: [{ field: "variable", name: "plan", op: "gte", value: "3" }],
        },
      },
    ],
    [
      "exists with a value",
      {
        rules: {
          match: "all",
          conditions: [{ field: "variable", name: "plan", op: "exists", value: 1 }],
        },
      },
    ],
    [
      "an extra key in a condition",
      { rules: { match: "all", conditions: [{ ...url, values: ["DE"] }] } },
    ],
    ["an unknown top-level field", { priority: 1 }],
  ])("refuses %s with 400", async (_, patch) => {
    const admin = await manager();
    const body = {
      id: `s-${token()}`,
      name: "Segment",
      rules: { match: "all", conditions: [url] },
    };
    await expectError(
      await apiRequest("POST", PATH, admin.cookie, { ...body, ...patch }),
      400,
      "invalid_request",
    );
  });

  it("bounds the rules so that a change's audit row (before and after) always fits", async () => {
    const admin = await manager();
    const t = token();
    // Backslashes count four times once escaped twice, as in the audit row: 1,960 each.
    const heavy = { field: "url", op: "contains", value: "\\".repeat(490) } as const;
    const rules = (n: number): Rules => ({
      match: "any",
      conditions: [ownUrl(t), ...Array.from({ length: n }, () => heavy)],
    });
    const error = await expectError(
      await apiRequest("POST", PATH, admin.cookie, { id: `s-${t}`, name: "Big", rules: rules(4) }),
      400,
      "invalid_request",
    );
    expect(error.message).toMatch(/^rules: the rules are too long/);
    // Just under the bound: created, then changed with a before and an after that size.
    await create(admin.cookie, { id: `s-${t}`, name: "Big", rules: rules(3) });
    const put = await apiRequest("PUT", `${PATH}/s-${t}`, admin.cookie, {
      name: "Bigger",
      rules: rules(3),
    });
    expect(put.status, await put.clone().text()).toBe(200);
    const rows = await auditRowsOf(admin.id, "segment.update");
    expect(rows).toMatchObject([{ target: `s-${t}`, details: { after: { name: "Bigger" } } }]);
  });

  it("refuses a condition on a variable that is not declared, naming the condition", async () => {
    const admin = await manager();
    const declared = `tier_${token()}`;
    const res = await apiRequest("POST", "/api/variables", admin.cookie, {
      name: declared,
      label: "Tier",
      type: "number",
    });
    expect(res.status).toBe(201);
    const t = token();
    const conditions: Rules["conditions"] = [
      ownUrl(t),
      { field: "variable", name: declared, op: "gte", value: 3 },
      { field: "variable", name: `nope_${t}`, op: "exists" },
    ];
    const error = await expectError(
      await apiRequest("POST", PATH, admin.cookie, {
        id: `s-${t}`,
        name: "Tiered",
        rules: { match: "all", conditions },
      }),
      400,
      "invalid_request",
    );
    expect(error.details).toEqual([
      { path: "rules.conditions.2.name", message: "no custom variable has this name" },
    ]);
    await create(admin.cookie, {
      id: `s-${t}`,
      name: "Tiered",
      rules: { match: "all", conditions: conditions.slice(0, 2) },
    });
  });

  it("refuses every route without segments.manage, with a denied audit row each", async () => {
    const admin = await manager();
    const t = token();
    const id = `s-${t}`;
    const rules: Rules = { match: "all", conditions: [ownUrl(t)] };
    await create(admin.cookie, { id, name: "Mine", rules });
    // Other permissions do not help (variables.manage is the nearest one).
    const agent = await agentCookie(["variables.manage"], ["supervisors"]);
    const calls: [string, string, unknown?][] = [
      ["GET", PATH],
      ["POST", PATH, { id: `t-${t}`, name: "X", rules }],
      ["PUT", `${PATH}/${id}`, { name: "Y", rules }],
      ["DELETE", `${PATH}/${id}`],
    ];
    for (const [method, path, body] of calls) {
      const error = await expectError(
        await apiRequest(method, path, agent.cookie, body),
        403,
        "forbidden",
      );
      expect(error.details).toEqual({ required: ["segments.manage"] });
    }
    expect(await auditRowsOf(agent.id, "access.denied")).toEqual(
      calls.map(([method, path]) => ({
        action: "access.denied",
        target: `${method} ${path}`,
        outcome: "denied",
        department: null,
        details: { required: ["segments.manage"] },
      })),
    );
    const list = await (await apiRequest("GET", PATH, admin.cookie)).json<SegmentListResponse>();
    expect(list.segments.find((s) => s.id === id)).toMatchObject({ name: "Mine" });
  });
});

describe("segments at chat start", () => {
  it("shows the segments the visitor is in, by id, in the agent's offer", async () => {
    const admin = await manager();
    const t = token();
    const tier = `tier_${t}`;
    const plan = `plan_${t}`;
    for (const [name, type] of [
      [tier, "number"],
      [plan, "string"],
    ] as const) {
      const res = await apiRequest("POST", "/api/variables", admin.cookie, {
        name,
        label: name,
        type,
        visibleToAgents: type === "number",
      });
      expect(res.status).toBe(201);
    }
    const page = `https://shop.example/${t}/cart?step=2`;
    const ids = {
      shop: `a-shop-${t}`,
      germany: `b-germany-${t}`,
      first: `c-first-${t}`,
      cartOrDe: `d-cart-or-de-${t}`,
      hiddenPlan: `e-hidden-plan-${t}`,
      returning: `f-returning-${t}`,
      wrongPlan: `g-wrong-plan-${t}`,
    };
    const segments: CreateSegmentRequest[] = [
      { id: ids.shop, name: "Shop", rules: { match: "all", conditions: [ownUrl(t)] } },
      {
        // Tests and dev have no request.cf: the country is unknown and never matches.
        id: ids.germany,
        name: "Germany",
        rules: {
          match: "all",
          conditions: [ownUrl(t), { field: "country", op: "in", values: ["DE"] }],
        },
      },
      {
        id: ids.first,
        name: "First visit, big account",
        rules: {
          match: "all",
          conditions: [
            ownUrl(t),
            { field: "visits", op: "eq", value: 1 },
            { field: "variable", name: tier, op: "gte", value: 3 },
          ],
        },
      },
      {
        id: ids.cartOrDe,
        name: "Cart or Germany",
        rules: {
          match: "any",
          conditions: [
            { field: "url", op: "glob", value: `https://*/${t}/cart*` },
            { field: "country", op: "in", values: ["DE"] },
          ],
        },
      },
      {
        // Hidden variables are not shown to agents but still place the visitor.
        id: ids.hiddenPlan,
        name: "Enterprise",
        rules: {
          match: "all",
          conditions: [ownUrl(t), { field: "variable", name: plan, op: "contains", value: "ent" }],
        },
      },
      {
        id: ids.returning,
        name: "Returning",
        rules: { match: "all", conditions: [ownUrl(t), { field: "visits", op: "gte", value: 2 }] },
      },
      {
        id: ids.wrongPlan,
        name: "Plan equals a number",
        rules: {
          match: "all",
          conditions: [ownUrl(t), { field: "variable", name: tier, op: "equals", value: "5" }],
        },
      },
    ];
    for (const segment of segments) await create(admin.cookie, segment);

    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(agent.email));
    const chat = await startChat(department, {
      pageUrl: page,
      variables: { [tier]: 5, [plan]: "enterprise" },
    });
    const offer = await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer.visitor).toMatchObject({
      pageUrl: page,
      variables: { [tier]: 5 },
      segments: [ids.shop, ids.first, ids.cartOrDe, ids.hiddenPlan],
    });

    // A visitor on another page, without variables, is in none of them.
    const other = await startChat(department, { pageUrl: "https://shop.example/elsewhere" });
    const otherOffer = await console.nextOfType("offer", (f) => f.chatId === other.chatId);
    expect(otherOffer.visitor).toMatchObject({ segments: [] });
    expect(otherOffer.visitor).not.toHaveProperty("variables");
    console.ws.close();
  });

  it("counts a visit as the visitor's earlier chats plus this one", async () => {
    const visitorId = crypto.randomUUID();
    expect(await visitCount(env.DB, visitorId)).toBe(1);
    const department = uniqueDepartment();
    await env.DB.prepare(
      "INSERT OR IGNORE INTO departments (id, name, created_at) VALUES (?1, ?1, 0)",
    )
      .bind(department)
      .run();
    for (const at of [1, 2]) {
      await env.DB.prepare(
        `INSERT INTO chats (id, visitor_id, department_id, status, created_at)
         VALUES (?1, ?2, ?3, 'ended', ?4)`,
      )
        .bind(crypto.randomUUID(), visitorId, department, at)
        .run();
    }
    expect(await visitCount(env.DB, visitorId)).toBe(3);
    expect(await visitCount(env.DB, crypto.randomUUID())).toBe(1);
  });
});
