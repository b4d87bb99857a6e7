/**
 * Agent, department and group management through the real API: set-password links, the
 * "nobody grants what they do not hold" rule, re-authentication, audit rows, and grant
 * changes taking effect on the next action — also on open sockets.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  agentChatSocket,
  agentOnline,
  apiRequest,
  login,
  ORIGIN,
  PASSWORD,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";

const NEW_PASSWORD = "a fresh and long passphrase 42";

async function admin() {
  const agent = await seedAgent({ groups: ["administrators"] });
  return { ...agent, cookie: await login(agent.email) };
}

async function auditRows(action: string, target: string) {
  const { results } = await env.DB.prepare(
    "SELECT actor_id, outcome, details FROM audit_log WHERE action = ?1 AND target = ?2 ORDER BY id",
  )
    .bind(action, target)
    .all<{ actor_id: string; outcome: string; details: string | null }>();
  return results;
}

async function me(cookie: string) {
  const res = await SELF.fetch(`${ORIGIN}/api/auth/me`, { headers: { cookie } });
  return (await res.json<{ agent: { permissions: string[] } }>()).agent;
}

describe("creating agents", () => {
  it("creates an agent whose one-time link sets the first password", async () => {
    const boss = await admin();
    const department = uniqueDepartment();
    await apiRequest("POST", "/api/departments", boss.cookie, { id: department, name: "Sales" });
    const email = `new-${crypto.randomUUID().slice(0, 8)}@example.com`;
    const res = await apiRequest("POST", "/api/agents", boss.cookie, {
      email,
      name: "Nia New",
      departments: [department],
      groups: ["agents"],
    });
    expect(res.status).toBe(201);
    const body = await res.json<{
      agent: { id: string; departments: string[]; permissions: string[] };
      link: string;
    }>();
    expect(body.agent.departments).toEqual([department]);
    expect(body.agent.permissions).toContain("chats.accept");
    const token = new URL(body.link).hash.replace("#reset=", "");
    expect(token).toMatch(/^[\w-]{43}$/);
    // Only the token's hash is stored.
    const stored = await env.DB.prepare(
      "SELECT token_hash, purpose FROM password_tokens WHERE agent_id = ?1",
    )
      .bind(body.agent.id)
      .first<{ token_hash: string; purpose: string }>();
    expect(stored?.purpose).toBe("set");
    expect(stored?.token_hash).not.toContain(token);

    // Nobody can log in before the link is used.
    const early = await postJson("/api/auth/login", { email, password: NEW_PASSWORD });
    expect(early.status).toBe(401);
    const set = await postJson("/api/auth/password/reset", { token, newPassword: NEW_PASSWORD });
    expect(set.status).toBe(200);
    const cookie = await login(email, NEW_PASSWORD);
    expect((await me(cookie)).permissions).toContain("chats.accept");
    expect(await auditRows("agent.create", body.agent.id)).toMatchObject([
      { actor_id: boss.id, outcome: "success" },
    ]);
  });

  it("refuses a taken email, an unknown department and bad input with clear 4xx errors", async () => {
    const boss = await admin();
    const taken = await apiRequest("POST", "/api/agents", boss.cookie, {
      email: boss.email,
      name: "Twin",
    });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ error: { code: "email_taken" } });
    const unknown = await apiRequest("POST", "/api/agents", boss.cookie, {
      email: "x@example.com",
      name: "X",
      departments: ["no-such-department"],
    });
    expect(unknown.status).toBe(400);
    const badPermission = await apiRequest("POST", "/api/agents", boss.cookie, {
      email: "y@example.com",
      name: "Y",
      permissions: ["chats.fly"],
    });
    expect(badPermission.status).toBe(400);
    expect(await badPermission.json()).toMatchObject({ error: { code: "invalid_request" } });
    const extra = await apiRequest("POST", "/api/agents", boss.cookie, {
      email: "z@example.com",
      name: "Z",
      role: "administrator",
    });
    expect(extra.status).toBe(400);
  });
});

describe("nobody gives or takes what they do not hold", () => {
  it("lets a manager of agents grant only permissions they hold", async () => {
    const manager = await seedAgent({ groups: [], grants: ["agents.manage", "chats.accept"] });
    const cookie = await login(manager.email);
    const target = await seedAgent({ groups: [] });
    const ok = await apiRequest("PUT", `/api/agents/${target.id}/grants`, cookie, {
      permissions: ["chats.accept"],
    });
    expect(ok.status).toBe(200);
    const beyond = await apiRequest("PUT", `/api/agents/${target.id}/grants`, cookie, {
      permissions: ["chats.accept", "audit.view"],
    });
    expect(beyond.status).toBe(403);
    expect(await beyond.json()).toMatchObject({
      error: { code: "forbidden", details: { permissions: ["audit.view"] } },
    });
    // Joining the administrators group would grant everything: refused too.
    const viaGroup = await apiRequest("PUT", `/api/agents/${target.id}/groups`, cookie, {
      groups: ["administrators"],
    });
    expect(viaGroup.status).toBe(403);
    // Nor can the manager take away what they do not hold.
    const admin2 = await seedAgent({ groups: ["administrators"] });
    const strip = await apiRequest("PUT", `/api/agents/${admin2.id}/groups`, cookie, {
      groups: [],
    });
    expect(strip.status).toBe(403);
    expect(await auditRows("agent.groups", target.id)).toMatchObject([{ outcome: "denied" }]);
    const row = await env.DB.prepare(
      "SELECT count(*) AS n FROM grants WHERE subject_type = 'agent' AND subject_id = ?1",
    )
      .bind(target.id)
      .first<{ n: number }>();
    expect(row?.n).toBe(1);
  });

  it("reviews department and group grants the same way", async () => {
    const manager = await seedAgent({ groups: [], grants: ["groups.manage", "chats.accept"] });
    const cookie = await login(manager.email);
    const group = `grp-${crypto.randomUUID().slice(0, 8)}`;
    expect((await apiRequest("POST", "/api/groups", cookie, { id: group, name: "G" })).status).toBe(
      201,
    );
    const ok = await apiRequest("PUT", `/api/groups/${group}/grants`, cookie, {
      permissions: ["chats.accept"],
    });
    expect(ok.status).toBe(200);
    const beyond = await apiRequest("PUT", `/api/groups/${group}/grants`, cookie, {
      permissions: ["bans.manage"],
    });
    expect(beyond.status).toBe(403);
    const preset = await apiRequest("DELETE", "/api/groups/administrators", cookie);
    expect(preset.status).toBe(403);
  });
});

describe("grant changes apply from the next action", () => {
  it("a department grant reaches its members without a new login", async () => {
    const boss = await admin();
    const department = uniqueDepartment();
    const member = await seedAgent({ groups: [], departments: [department] });
    const cookie = await login(member.email);
    expect((await apiRequest("GET", "/api/audit", cookie)).status).toBe(403);
    const grant = await apiRequest("PUT", `/api/departments/${department}/grants`, boss.cookie, {
      permissions: ["audit.view"],
    });
    expect(grant.status).toBe(200);
    expect((await apiRequest("GET", "/api/audit", cookie)).status).toBe(200);
    expect((await me(cookie)).permissions).toEqual(["audit.view"]);
  });

  it("an open console socket loses accept the moment the grant is withdrawn", async () => {
    const boss = await admin();
    const department = uniqueDepartment();
    const agent = await seedAgent({ groups: ["agents"], departments: [department] });
    const cookie = await login(agent.email);
    const socket = await agentOnline(cookie);
    const chat = await startChat(department);
    await socket.nextOfType("offer", (f) => f.chatId === chat.chatId);
    const withdraw = await apiRequest("PUT", `/api/agents/${agent.id}/groups`, boss.cookie, {
      groups: [],
    });
    expect(withdraw.status).toBe(200);
    socket.send({ type: "accept", chatId: chat.chatId });
    expect(await socket.nextOfType("error")).toMatchObject({ code: "forbidden" });
    expect(socket.frames.some((f) => f.type === "assigned")).toBe(false);
    // The pending offer was taken back, and it is not offered to them again.
    await socket.nextOfType("offer_withdrawn", (f) => f.chatId === chat.chatId);
    socket.ws.close();
  });

  it.each([
    ["the permission", { groups: ["agents"] }],
    ["the chat's department", { departments: ["general"] }],
  ] as const)("closes an open monitor socket once %s is withdrawn", async (_, change) => {
    const boss = await admin();
    const department = uniqueDepartment();
    const owner = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(owner.email));
    const chat = await startChat(department);
    await console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    console.send({ type: "accept", chatId: chat.chatId });
    await console.nextOfType("assigned");
    const supervisor = await seedAgent({ groups: ["supervisors"], departments: [department] });
    const monitor = await agentChatSocket(chat.chatId, await login(supervisor.email), "monitor");
    monitor.send({ type: "hello", lastSeq: 0 });
    await monitor.nextOfType("ready");
    const [path, body] =
      "groups" in change
        ? ["groups", { groups: change.groups }]
        : ["departments", { departments: change.departments }];
    const withdraw = await apiRequest(
      "PUT",
      `/api/agents/${supervisor.id}/${path}`,
      boss.cookie,
      body,
    );
    expect(withdraw.status).toBe(200);
    expect(await monitor.waitClosed(8000)).toMatchObject({
      code: 1008,
      reason: "permission withdrawn",
    });
    console.ws.close();
  });
});

describe("disable, enable and links", () => {
  it("disabling ends the agent's sessions at once; enabling lets them back in", async () => {
    const boss = await admin();
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    const disabled = await apiRequest("POST", `/api/agents/${agent.id}/disable`, boss.cookie);
    expect(disabled.status).toBe(200);
    expect(await disabled.json()).toMatchObject({ agent: { disabledAt: expect.any(Number) } });
    expect((await apiRequest("GET", "/api/auth/me", cookie)).status).toBe(401);
    const enabled = await apiRequest("POST", `/api/agents/${agent.id}/enable`, boss.cookie);
    expect(enabled.status).toBe(200);
    await login(agent.email);
    expect((await auditRows("agent.disable", agent.id))[0]).toMatchObject({ outcome: "success" });
    expect((await auditRows("agent.enable", agent.id))[0]).toMatchObject({ outcome: "success" });
  });

  it("issues at most PASSWORD_RESETS_PER_DAY reset links a day", async () => {
    const boss = await admin();
    const agent = await seedAgent();
    for (let i = 0; i < 3; i += 1) {
      const res = await apiRequest("POST", `/api/agents/${agent.id}/password-link`, boss.cookie);
      expect(res.status).toBe(200);
    }
    const fourth = await apiRequest("POST", `/api/agents/${agent.id}/password-link`, boss.cookie);
    expect(fourth.status).toBe(429);
    expect(await fourth.json()).toMatchObject({ error: { code: "reset_limit" } });
  });

  it("asks for a recent re-authentication before a change", async () => {
    const boss = await admin();
    const agent = await seedAgent();
    await env.DB.prepare("UPDATE sessions SET authenticated_at = ?2 WHERE agent_id = ?1")
      .bind(boss.id, Date.now() - 6 * 60_000)
      .run();
    const res = await apiRequest("POST", `/api/agents/${agent.id}/disable`, boss.cookie);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "reauth_required" } });
    // Reading needs no re-authentication.
    expect((await apiRequest("GET", "/api/agents", boss.cookie)).status).toBe(200);
  });

  it("refuses changes from a foreign origin", async () => {
    const boss = await admin();
    const agent = await seedAgent();
    const res = await SELF.fetch(`${ORIGIN}/api/agents/${agent.id}/disable`, {
      method: "POST",
      headers: { cookie: boss.cookie, origin: "https://evil.example" },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_denied" } });
  });
});

describe("unlock", () => {
  it("lets a manager of agents lift a lockout early", async () => {
    const boss = await admin();
    const agent = await seedAgent();
    // The state ten failures leave behind (login-hardening.test.ts drives the real path).
    await env.DB.prepare(
      `INSERT INTO login_failures (kind, key, failures, last_failure, locked_until)
       VALUES ('account', ?1, 10, ?2, ?3)`,
    )
      .bind(agent.email.toLowerCase(), Date.now(), Date.now() + 30 * 60_000)
      .run();
    const refused = await postJson("/api/auth/login", { email: agent.email, password: PASSWORD });
    expect(await refused.json()).toMatchObject({ error: { code: "account_locked" } });
    const listed = await apiRequest("GET", `/api/agents/${agent.id}`, boss.cookie);
    expect(await listed.json()).toMatchObject({ agent: { lockedUntil: expect.any(Number) } });
    const unlock = await apiRequest("POST", `/api/agents/${agent.id}/unlock`, boss.cookie);
    expect(unlock.status).toBe(200);
    expect(await unlock.json()).toMatchObject({ agent: { lockedUntil: null } });
    await login(agent.email);
    expect((await auditRows("agent.unlock", agent.id))[0]).toMatchObject({ outcome: "success" });
  });
});

describe("acting on an account that holds more", () => {
  it("refuses disable, enable, unlock and password links for an agent above the actor", async () => {
    const manager = await seedAgent({ groups: [], grants: ["agents.manage", "chats.accept"] });
    const cookie = await login(manager.email);
    const boss = await seedAgent({ groups: ["administrators"] });
    for (const action of ["disable", "enable", "unlock", "password-link"]) {
      const res = await apiRequest("POST", `/api/agents/${boss.id}/${action}`, cookie);
      expect(res.status, action).toBe(403);
      const body = await res.json<{
        error: { code: string; details: { permissions: string[] } };
      }>();
      expect(body.error.code).toBe("forbidden");
      expect(body.error.details.permissions).toContain("audit.view");
    }
    const links = await env.DB.prepare(
      "SELECT count(*) AS n FROM password_tokens WHERE agent_id = ?1",
    )
      .bind(boss.id)
      .first<{ n: number }>();
    expect(links?.n).toBe(0);
    // An agent holding no more than the manager is fine.
    const peer = await seedAgent({ groups: [], grants: ["chats.accept"] });
    expect((await apiRequest("POST", `/api/agents/${peer.id}/password-link`, cookie)).status).toBe(
      200,
    );
  });
});

describe("the queue", () => {
  it("is shown only to agents who may accept chats", async () => {
    const department = uniqueDepartment();
    const watcher = await seedAgent({
      groups: [],
      grants: ["chats.monitor"],
      departments: [department],
    });
    const socket = await agentOnline(await login(watcher.email));
    const taker = await seedAgent({ departments: [department] });
    const takerSocket = await agentOnline(await login(taker.email));
    const chat = await startChat(department);
    await takerSocket.nextOfType("queue", (f) => (f.chats as unknown[]).length > 0);
    const queues = socket.frames.filter((f) => f.type === "queue");
    expect(queues.length).toBeGreaterThan(0);
    for (const frame of queues) expect(frame.chats).toEqual([]);
    expect(JSON.stringify(socket.frames)).not.toContain(chat.chatId);
    socket.ws.close();
    takerSocket.ws.close();
  });
});
