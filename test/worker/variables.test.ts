/**
 * Custom variables over real HTTP, D1 and sockets: the `/api/variables` routes (permission,
 * validation, audit rows with before and after) and chat start against the declarations —
 * undeclared, too long, wrong type and bad format refused with the variable named; declared
 * ones stored card-masked; hidden ones stored but kept from agents (offer and transcript).
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { TranscriptResponse } from "../../src/protocol/http.ts";
import type {
  CreateVariableRequest,
  VariableDeclaration,
  VariableListResponse,
  VariableResponse,
} from "../../src/protocol/variables.ts";
import {
  agentOnline,
  apiRequest,
  auditRowsOf,
  login,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

const PATH = "/api/variables";
const PAN = "4111 1111 1111 1111";

async function agentCookie(grants: string[], groups: string[] = []) {
  const agent = await seedAgent({ groups, grants });
  return { ...agent, cookie: await login(agent.email) };
}

const manager = () => agentCookie(["variables.manage"]);

/** A variable name unique to one test: the file's tests share D1. */
const uniqueName = (prefix: string) => `${prefix}_${crypto.randomUUID().slice(0, 8)}`;

async function declare(cookie: string, body: CreateVariableRequest): Promise<VariableDeclaration> {
  const res = await apiRequest("POST", PATH, cookie, body);
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<VariableResponse>()).variable;
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status, await res.clone().text()).toBe(status);
  const body = await res.json<{ error: { code: string; message: string; details?: unknown } }>();
  expect(body.error.code).toBe(code);
  return body.error;
}

describe("/api/variables", () => {
  it("declares, lists, changes and removes variables, with audit rows of before and after", async () => {
    const admin = await manager();
    const name = uniqueName("plan");
    const created = await declare(admin.cookie, { name, label: "Plan", type: "string" });
    expect(created).toMatchObject({
      name,
      label: "Plan",
      type: "string",
      maxLength: 500,
      visibleToAgents: true,
      updatedBy: admin.id,
    });
    const list = await apiRequest("GET", PATH, admin.cookie);
    expect(list.status).toBe(200);
    expect((await list.json<VariableListResponse>()).variables).toContainEqual(created);

    await expectError(
      await apiRequest("POST", PATH, admin.cookie, { name, label: "Again", type: "number" }),
      409,
      "variable_exists",
    );

    const put = await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, {
      label: `Card ${PAN}`,
      type: "number",
      visibleToAgents: false,
    });
    expect(put.status, await put.clone().text()).toBe(200);
    expect((await put.json<VariableResponse>()).variable).toMatchObject({
      name,
      label: "Card •••• •••• •••• 1111",
      type: "number",
      maxLength: null,
      visibleToAgents: false,
      createdAt: created.createdAt,
    });

    expect((await apiRequest("DELETE", `${PATH}/${name}`, admin.cookie)).status).toBe(200);
    await expectError(
      await apiRequest("DELETE", `${PATH}/${name}`, admin.cookie),
      404,
      "variable_not_found",
    );
    await expectError(
      await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, { label: "x", type: "boolean" }),
      404,
      "variable_not_found",
    );

    const string = { label: "Plan", type: "string", maxLength: 500, visibleToAgents: true };
    const number = {
      label: "Card •••• •••• •••• 1111",
      type: "number",
      maxLength: null,
      visibleToAgents: false,
    };
    expect(await auditRowsOf(admin.id, "variable.%")).toEqual([
      {
        action: "variable.create",
        target: name,
        outcome: "success",
        department: null,
        details: { before: null, after: string },
      },
      {
        action: "variable.update",
        target: name,
        outcome: "success",
        department: null,
        details: { before: string, after: number },
      },
      {
        action: "variable.delete",
        target: name,
        outcome: "success",
        department: null,
        details: { before: number, after: null },
      },
    ]);
  });

  it.each([
    ["a name starting with a digit", { name: "1plan" }],
    ["a name with a space", { name: "my plan" }],
    ["a name over 64 characters", { name: `p${"x".repeat(64)}` }],
    ["__proto__", { name: "__proto__" }],
    ["an empty label", { label: " " }],
    ["a label over 100 characters", { label: "x".repeat(101) }],
    ["a label with a control character", { label: "a\u0007b" }],
    ["an unknown type", { type: "date" }],
    ["maxLength 0", { maxLength: 0 }],
    ["maxLength over 500", { maxLength: 501 }],
    ["maxLength on a number", { type: "number", maxLength: 10 }],
    ["maxLength on a boolean", { type: "boolean", maxLength: 10 }],
    ["a non-boolean visibleToAgents", { visibleToAgents: "no" }],
    ["an unknown field", { secret: true }],
  ])("refuses %s with 400", async (_, patch) => {
    const admin = await manager();
    const body = { name: uniqueName("v"), label: "Label", type: "string", ...patch };
    await expectError(await apiRequest("POST", PATH, admin.cookie, body), 400, "invalid_request");
  });

  it("keeps a variable that campaigns or segments use: 409 naming them, until they let go", async () => {
    const admin = await agentCookie(["variables.manage", "campaigns.manage", "segments.manage"]);
    const name = uniqueName("company");
    await declare(admin.cookie, { name, label: "Company", type: "string" });
    const campaign = await apiRequest("POST", "/api/campaigns", admin.cookie, {
      name: "Needs the company",
      preChatForm: { enabled: true, fields: [{ key: name, label: "Company" }] },
    }).then((r) => r.json<{ campaign: { id: string } }>());
    const segmentId = uniqueName("segment").toLowerCase();
    const segment = await apiRequest("POST", "/api/segments", admin.cookie, {
      id: segmentId,
      name: "Has a company",
      rules: { match: "all", conditions: [{ field: "variable", name, op: "exists" }] },
    });
    expect(segment.status, await segment.clone().text()).toBe(201);

    // Removed: both would break (every chat start refused, a segment never matching).
    const gone = await expectError(
      await apiRequest("DELETE", `${PATH}/${name}`, admin.cookie),
      409,
      "variable_in_use",
    );
    expect(gone.details).toEqual({ campaigns: [campaign.campaign.id], segments: [segmentId] });
    // Retyped to a number: the pre-chat form sends text, so the campaign is named.
    const retyped = await expectError(
      await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, {
        label: "Company",
        type: "number",
      }),
      409,
      "variable_in_use",
    );
    expect(retyped.details).toEqual({ campaigns: [campaign.campaign.id], segments: [] });
    // Another text type is fine; the declaration is still there and still text.
    const url = await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, {
      label: "Company site",
      type: "url",
    });
    expect(url.status, await url.clone().text()).toBe(200);

    // Once the campaign and the segment let go, it can go.
    const path = `/api/campaigns/${campaign.campaign.id}`;
    expect((await apiRequest("DELETE", path, admin.cookie)).status).toBe(200);
    expect((await apiRequest("DELETE", `/api/segments/${segmentId}`, admin.cookie)).status).toBe(
      200,
    );
    expect((await apiRequest("DELETE", `${PATH}/${name}`, admin.cookie)).status).toBe(200);
  });

  it("refuses an invalid change with 400 and leaves the declaration as it was", async () => {
    const admin = await manager();
    const name = uniqueName("tier");
    const created = await declare(admin.cookie, { name, label: "Tier", type: "number" });
    await expectError(
      await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, {
        label: "Tier",
        type: "number",
        maxLength: 5,
      }),
      400,
      "invalid_request",
    );
    await expectError(
      await apiRequest("PUT", `${PATH}/${name}`, admin.cookie, {
        name: "other",
        label: "Tier",
        type: "number",
      }),
      400,
      "invalid_request",
    );
    const { variables } = await (
      await apiRequest("GET", PATH, admin.cookie)
    ).json<VariableListResponse>();
    expect(variables.find((v) => v.name === name)).toEqual(created);
  });

  it("refuses every route without variables.manage, with a denied audit row each", async () => {
    const admin = await manager();
    const name = uniqueName("plan");
    await declare(admin.cookie, { name, label: "Plan", type: "string" });
    // Other permissions do not help (segments.manage is the nearest one).
    const agent = await agentCookie(["segments.manage"], ["supervisors"]);
    const calls: [string, string, unknown?][] = [
      ["GET", PATH],
      ["POST", PATH, { name: uniqueName("x"), label: "X", type: "string" }],
      ["PUT", `${PATH}/${name}`, { label: "Y", type: "string" }],
      ["DELETE", `${PATH}/${name}`],
    ];
    for (const [method, path, body] of calls) {
      const error = await expectError(
        await apiRequest(method, path, agent.cookie, body),
        403,
        "forbidden",
      );
      expect(error.details).toEqual({ required: ["variables.manage"] });
    }
    expect(await auditRowsOf(agent.id, "access.denied")).toEqual(
      calls.map(([method, path]) => ({
        action: "access.denied",
        target: `${method} ${path}`,
        outcome: "denied",
        department: null,
        details: { required: ["variables.manage"] },
      })),
    );
    const { variables } = await (
      await apiRequest("GET", PATH, admin.cookie)
    ).json<VariableListResponse>();
    expect(variables.find((v) => v.name === name)).toMatchObject({ label: "Plan" });
  });
});

/** A declared set of one variable per type, with names unique to the test. */
async function declaredSet() {
  const admin = await manager();
  const names = {
    code: uniqueName("code"),
    note: uniqueName("note"),
    seats: uniqueName("seats"),
    trial: uniqueName("trial"),
    contact: uniqueName("contact"),
    site: uniqueName("site"),
    internal: uniqueName("internal"),
  };
  await declare(admin.cookie, { name: names.code, label: "Code", type: "string", maxLength: 5 });
  await declare(admin.cookie, { name: names.note, label: "Note", type: "string" });
  await declare(admin.cookie, { name: names.seats, label: "Seats", type: "number" });
  await declare(admin.cookie, { name: names.trial, label: "Trial", type: "boolean" });
  await declare(admin.cookie, { name: names.contact, label: "Contact", type: "email" });
  await declare(admin.cookie, { name: names.site, label: "Site", type: "url" });
  await declare(admin.cookie, {
    name: names.internal,
    label: "Internal",
    type: "string",
    visibleToAgents: false,
  });
  return { admin, names };
}

describe("custom variables at chat start", () => {
  type Names = Awaited<ReturnType<typeof declaredSet>>["names"];
  it.each<[string, keyof Names | null, unknown, string]>([
    ["undeclared", null, "x", "undeclared"],
    ["too long", "code", "abcdef", "too_long"],
    ["a string for a number", "seats", "3", "wrong_type"],
    ["a number for a string", "code", 12, "wrong_type"],
    ["a string for a boolean", "trial", "true", "wrong_type"],
    ["a boolean for an email", "contact", true, "wrong_type"],
    ["a malformed email", "contact", "not-an-email", "invalid_format"],
    ["a javascript: url", "site", "javascript:alert(1)", "invalid_format"],
  ])(
    "refuses a variable that is %s with 400 invalid_variables naming it",
    async (_, key, value, problem) => {
      const { names } = await declaredSet();
      const name = key === null ? uniqueName("nope") : names[key];
      const res = await postJson("/api/visitor/chats", {
        department: uniqueDepartment(),
        variables: { [name]: value },
      });
      const error = await expectError(res, 400, "invalid_variables");
      expect(error.details).toEqual({ fields: { [name]: problem } });
      expect(error.message).toContain(name);
    },
  );

  it("names every refused variable at once and stores no chat", async () => {
    const { names } = await declaredSet();
    const undeclared = uniqueName("nope");
    const department = uniqueDepartment();
    const res = await postJson("/api/visitor/chats", {
      department,
      variables: {
        [names.code]: "ok",
        [names.seats]: "many",
        [undeclared]: 1,
        [names.note]: "fine",
      },
    });
    const error = await expectError(res, 400, "invalid_variables");
    expect(error.details).toEqual({
      fields: { [names.seats]: "wrong_type", [undeclared]: "undeclared" },
    });
    const row = await env.DB.prepare("SELECT count(*) AS n FROM chats WHERE department_id = ?1")
      .bind(department)
      .first<{ n: number }>();
    expect(row?.n).toBe(0);
  });

  it("keeps the old shape rules: more than 20 variables or an object value is invalid_request", async () => {
    const many = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`v${i}`, "x"]));
    await expectError(
      await postJson("/api/visitor/chats", { variables: many }),
      400,
      "invalid_request",
    );
    await expectError(
      await postJson("/api/visitor/chats", { variables: { plan: ["a"] } }),
      400,
      "invalid_request",
    );
  });

  it("stores declared variables card-masked, offers only the visible ones and hides the others in the transcript", async () => {
    const { admin, names } = await declaredSet();
    const department = uniqueDepartment();
    const agent = await seedAgent({
      departments: [department],
      grants: ["transcripts.view_department"],
    });
    const cookie = await login(agent.email);
    const console = await agentOnline(cookie);
    const variables = {
      [names.code]: "AB-12",
      [names.note]: `card ${PAN}`,
      [names.seats]: 12.5,
      [names.trial]: false,
      [names.contact]: "buyer@example.com",
      [names.site]: "https://shop.example/account?id=7",
      [names.internal]: "credit risk: high",
    };
    const chat = await startChat(department, { variables });
    const masked = { ...variables, [names.note]: "card •••• •••• •••• 1111" };
    const { [names.internal]: _hidden, ...visible } = masked;

    const offer = await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect((offer.visitor as { variables?: unknown }).variables).toEqual(visible);
    const row = await env.DB.prepare("SELECT variables FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ variables: string }>();
    expect(JSON.parse(row?.variables ?? "null")).toEqual(masked);
    expect(row?.variables).not.toContain("4111");

    const view = async () => {
      const res = await apiRequest("GET", `/api/transcripts/${chat.chatId}`, cookie);
      expect(res.status).toBe(200);
      return (await res.json<TranscriptResponse>()).transcript.variables;
    };
    expect(await view()).toEqual(visible);

    // Hiding a variable later hides it in transcripts too; removing a declaration hides its
    // stored values (fails closed) — they stay in D1.
    const hide = await apiRequest("PUT", `${PATH}/${names.trial}`, admin.cookie, {
      label: "Trial",
      type: "boolean",
      visibleToAgents: false,
    });
    expect(hide.status).toBe(200);
    expect((await apiRequest("DELETE", `${PATH}/${names.seats}`, admin.cookie)).status).toBe(200);
    const { [names.trial]: _trial, [names.seats]: _seats, ...stillVisible } = visible;
    expect(await view()).toEqual(stillVisible);
    const after = await env.DB.prepare("SELECT variables FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ variables: string }>();
    expect(JSON.parse(after?.variables ?? "null")).toEqual(masked);
    console.ws.close();
  });

  it("offers no variables field when every variable the site set is hidden", async () => {
    const { names } = await declaredSet();
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(agent.email));
    const chat = await startChat(department, { variables: { [names.internal]: "secret" } });
    const offer = await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer.visitor).not.toHaveProperty("variables");
    console.ws.close();
  });
});
