/**
 * The permission matrix, generated from the declarations themselves: every `/api` route of
 * the app declares its access (a route without one fails here), and for every declared
 * permission × route and every socket action, an agent holding just that permission — by
 * agent, department or group grant in turn — is let through, and an agent holding every
 * other permission gets 403 `forbidden` (or an `error` frame) and an audit row. All calls
 * are real HTTP and WebSocket requests into the Worker.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chatClientFrame } from "../../src/protocol/chat-frames.ts";
import { dispatcherClientFrame } from "../../src/protocol/dispatcher-frames.ts";
import {
  CHAT_ACTIONS,
  CHAT_SOCKET_MODES,
  DISPATCHER_ACTIONS,
} from "../../src/security/action-permissions.ts";
import { PERMISSION_IDS, type Permission } from "../../src/security/permissions.ts";
import { declaredRoutes } from "./declared-routes.ts";
import {
  agentOnline,
  apiRequest,
  login,
  openSocket,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

type Level = "agent" | "department" | "group";
const LEVELS: Level[] = ["agent", "department", "group"];

/** An agent holding exactly `permissions`, granted at `level`, in its own department. */
async function agentHolding(permissions: readonly Permission[], level: Level) {
  const department = uniqueDepartment();
  const holder = await seedAgent({
    groups: [],
    departments: [department],
    grants: level === "agent" ? [...permissions] : [],
  });
  if (level !== "agent") {
    const subject = level === "department" ? department : `grp-${crypto.randomUUID().slice(0, 8)}`;
    if (level === "group") {
      await env.DB.prepare("INSERT INTO groups (id, name, created_at) VALUES (?1, ?1, 0)")
        .bind(subject)
        .run();
      await env.DB.prepare("INSERT INTO agent_groups (agent_id, group_id) VALUES (?1, ?2)")
        .bind(holder.id, subject)
        .run();
    }
    for (const p of permissions) {
      await env.DB.prepare(
        "INSERT INTO grants (subject_type, subject_id, permission) VALUES (?1, ?2, ?3)",
      )
        .bind(level, subject, p)
        .run();
    }
  }
  return { ...holder, department, cookie: await login(holder.email) };
}

/** A concrete path for a route pattern: ids that do not exist (the guard runs first). */
function concrete(path: string): string {
  return path.replace(/:[a-z]+/gi, "00000000-0000-4000-8000-000000000000");
}

async function deniedRows(actorId: string): Promise<number> {
  const row = await env.DB.prepare(
    "SELECT count(*) AS n FROM audit_log WHERE actor_id = ?1 AND outcome = 'denied'",
  )
    .bind(actorId)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

const routes = declaredRoutes();
const guarded = routes.flatMap((route) =>
  route.access?.kind === "permission" ? [{ ...route, anyOf: route.access.anyOf }] : [],
);

describe("route declarations", () => {
  it("every /api route declares who may call it", () => {
    expect(routes.length).toBeGreaterThan(20);
    const undeclared = routes.filter((route) => route.access === undefined);
    expect(undeclared.map((r) => `${r.method} ${r.path}`)).toEqual([]);
  });

  it("only the own-account and public endpoints are open without a permission", () => {
    // A route downgraded from a permission to "any agent" or "public" fails here.
    const open = routes
      .filter((route) => route.access?.kind !== "permission")
      .map((route) => `${route.method} ${route.path} ${route.access?.kind}`)
      .sort();
    expect(open).toEqual([
      "DELETE /api/auth/sessions/:id agent",
      "DELETE /api/auth/tokens/:id agent",
      "DELETE /api/canned-messages/:id agent",
      "GET /api/agent/chats/:id/ws agent",
      "GET /api/agent/colleagues agent",
      "GET /api/agent/ws agent",
      "GET /api/auth/captcha public",
      "GET /api/auth/me agent",
      "GET /api/auth/sessions agent",
      "GET /api/auth/tokens agent",
      "GET /api/canned-messages agent",
      "GET /api/visitor/chats/:id/ws public",
      "GET /api/visitor/presence/ws public",
      "GET /api/widget/availability public",
      "GET /api/widget/config public",
      "POST /api/auth/login public",
      "POST /api/auth/logout agent",
      "POST /api/auth/mfa/confirm agent",
      "POST /api/auth/mfa/disable agent",
      "POST /api/auth/mfa/setup agent",
      "POST /api/auth/password agent",
      "POST /api/auth/password/reset public",
      "POST /api/auth/reauth agent",
      "POST /api/auth/tokens agent",
      "POST /api/canned-messages agent",
      "POST /api/visitor/chats public",
      "POST /api/visitor/chats/:id/survey public",
      "POST /api/visitor/offline-messages public",
      "PUT /api/canned-messages/:id agent",
    ]);
  });

  it("every socket frame type declares its permission (or none)", () => {
    const dispatcherTypes = dispatcherClientFrame.options.map((o) => o.shape.type.value).sort();
    expect(Object.keys(DISPATCHER_ACTIONS).sort()).toEqual(dispatcherTypes);
    const chatTypes = chatClientFrame.options.map((o) => o.shape.type.value).sort();
    expect(Object.keys(CHAT_ACTIONS).sort()).toEqual(chatTypes);
  });

  it("seeds the presets as ordinary groups, the administrators holding the whole catalogue", async () => {
    const { results } = await env.DB.prepare(
      "SELECT subject_id, permission FROM grants WHERE subject_type = 'group'",
    ).all<{ subject_id: string; permission: string }>();
    const of = (group: string) =>
      results
        .filter((r) => r.subject_id === group)
        .map((r) => r.permission)
        .sort();
    expect(of("administrators")).toEqual([...PERMISSION_IDS].sort());
    for (const row of results) expect(PERMISSION_IDS).toContain(row.permission);
    expect(of("supervisors")).toContain("chats.monitor");
    expect(of("agents")).not.toContain("chats.monitor");
  });

  it("declares only permissions of the catalogue", () => {
    const used = [
      ...guarded.flatMap((r) => r.anyOf),
      ...Object.values(DISPATCHER_ACTIONS),
      ...Object.values(CHAT_ACTIONS).map((a) => a.agent || null),
      ...Object.values(CHAT_SOCKET_MODES),
    ].filter((p): p is Permission => p !== null);
    for (const p of used) expect(PERMISSION_IDS).toContain(p);
  });
});

describe("HTTP permission matrix", () => {
  // The grant level rotates over the cases, so each level carries a third of the matrix.
  const cases = guarded
    .flatMap((route) => route.anyOf.map((permission) => ({ route, permission })))
    .map((c, i) => ({ ...c, level: LEVELS[i % LEVELS.length] as Level }));

  it.each(cases)(
    "$route.method $route.path with $permission (granted to the $level)",
    async ({ route, permission, level }) => {
      const holder = await agentHolding([permission], level);
      const body = ["GET", "DELETE"].includes(route.method) ? undefined : {};
      const allowed = await apiRequest(route.method, concrete(route.path), holder.cookie, body);
      expect(allowed.status, await allowed.clone().text()).not.toBe(403);
      expect(allowed.status).not.toBe(401);

      const others = PERMISSION_IDS.filter((p) => !route.anyOf.includes(p));
      const lacking = await agentHolding(others, level);
      const denied = await apiRequest(route.method, concrete(route.path), lacking.cookie, body);
      expect(denied.status).toBe(403);
      expect(await denied.json()).toMatchObject({
        error: { code: "forbidden", details: { required: route.anyOf } },
      });
      expect(await deniedRows(lacking.id)).toBe(1);
    },
  );
});

describe("socket permission matrix", () => {
  it.each(LEVELS)("accept needs chats.accept (granted to the %s)", async (level) => {
    const holder = await agentHolding([DISPATCHER_ACTIONS.accept], level);
    const online = await agentOnline(holder.cookie);
    const chat = await startChat(holder.department);
    await online.nextOfType("offer", (f) => f.chatId === chat.chatId);
    online.send({ type: "accept", chatId: chat.chatId });
    await online.nextOfType("assigned", (f) => f.chatId === chat.chatId);
    online.ws.close();

    const lacking = await agentHolding(
      PERMISSION_IDS.filter((p) => p !== "chats.accept"),
      level,
    );
    const socket = await agentOnline(lacking.cookie);
    // Nobody who can accept is online in that department: the visitor is told "offline".
    const offline = await apiRequest("POST", "/api/visitor/chats", "", {
      department: lacking.department,
    });
    expect(await offline.json()).toMatchObject({ offline: true });
    socket.send({ type: "accept", chatId: chat.chatId });
    expect(await socket.nextOfType("error")).toMatchObject({ code: "forbidden" });
    expect(socket.frames.some((f) => f.type === "offer")).toBe(false);
    expect(await deniedRows(lacking.id)).toBe(1);
    socket.ws.close();
  });

  it.each(LEVELS)("refuse needs chats.refuse (granted to the %s)", async (level) => {
    const holder = await agentHolding(["chats.accept", DISPATCHER_ACTIONS.refuse], level);
    const online = await agentOnline(holder.cookie);
    const chat = await startChat(holder.department);
    await online.nextOfType("offer", (f) => f.chatId === chat.chatId);
    online.send({ type: "refuse", chatId: chat.chatId });
    expect(await online.nextOfType("offer_withdrawn")).toMatchObject({ reason: "refused" });
    online.ws.close();

    const lacking = await agentHolding(
      PERMISSION_IDS.filter((p) => p !== "chats.refuse"),
      level,
    );
    const socket = await agentOnline(lacking.cookie);
    const second = await startChat(lacking.department);
    await socket.nextOfType("offer", (f) => f.chatId === second.chatId);
    socket.send({ type: "refuse", chatId: second.chatId });
    expect(await socket.nextOfType("error")).toMatchObject({ code: "forbidden" });
    expect(socket.frames.some((f) => f.type === "offer_withdrawn")).toBe(false);
    expect(await deniedRows(lacking.id)).toBe(1);
    socket.ws.close();
  });

  it.each(LEVELS)("monitor needs chats.monitor (granted to the %s)", async (level) => {
    const owner = await agentHolding(["chats.accept"], "agent");
    const department = owner.department;
    const online = await agentOnline(owner.cookie);
    const chat = await startChat(department);
    await online.nextOfType("offer", (f) => f.chatId === chat.chatId);
    online.send({ type: "accept", chatId: chat.chatId });
    await online.nextOfType("assigned");

    const monitorOf = async (permissions: Permission[]) => {
      const agent = await agentHolding(permissions, level);
      await env.DB.prepare(
        "INSERT INTO agent_departments (agent_id, department_id) VALUES (?1, ?2)",
      )
        .bind(agent.id, department)
        .run();
      const socket = await openSocket(`/api/agent/chats/${chat.chatId}/ws?mode=monitor`, {
        cookie: agent.cookie,
        "sec-websocket-protocol": "parley.v1",
      });
      return { agent, socket };
    };
    const allowed = await monitorOf([CHAT_SOCKET_MODES.monitor]);
    expect(allowed.socket).not.toBeInstanceOf(Response);
    const denied = await monitorOf(PERMISSION_IDS.filter((p) => p !== "chats.monitor"));
    expect(denied.socket).toBeInstanceOf(Response);
    expect((denied.socket as Response).status).toBe(403);
    expect(await deniedRows(denied.agent.id)).toBe(1);
    online.ws.close();
  });
});
