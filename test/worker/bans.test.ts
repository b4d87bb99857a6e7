/**
 * The visitor ban list: the `/api/bans` routes (permission, Origin, validation, audit) and
 * enforcement at chat creation, the visitor socket upgrade and the offline form, with the
 * neutral answers a banned visitor gets. Real HTTP and sockets into the Worker.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  agentOnline,
  apiRequest,
  login,
  ORIGIN,
  openSocket,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

let ipsHandedOut = 0;
/**
 * A fresh address in 198.18.0.0/16 (benchmarking range) on each call. This file's tests share
 * D1 and ban addresses, so no two calls may return the same one: random ones now and then
 * fell inside an earlier test's ban (a /24 among them), and a chat start that should succeed
 * got the banned visitor's neutral "offline". The CIDR test bans in 198.19.0.0/16, which this
 * never hands out.
 */
function testIp(): string {
  ipsHandedOut += 1;
  return `198.18.${Math.floor(ipsHandedOut / 250)}.${1 + (ipsHandedOut % 250)}`;
}

async function banManager() {
  const agent = await seedAgent({ groups: [], grants: ["bans.manage"] });
  return { ...agent, cookie: await login(agent.email) };
}

async function ban(cookie: string, body: Record<string, unknown>) {
  const res = await apiRequest("POST", "/api/bans", cookie, { reason: "abuse", ...body });
  expect(res.status, await res.clone().text()).toBe(201);
  return (await res.json<{ ban: { id: string; value: string } }>()).ban;
}

/** A department with an agent online, so an unbanned visitor gets a chat (201). */
async function staffedDepartment() {
  const department = uniqueDepartment();
  const agent = await seedAgent({ departments: [department] });
  const console = await agentOnline(await login(agent.email));
  return { department, console };
}

function startFrom(ip: string, department: string, extra: Record<string, unknown> = {}) {
  return postJson("/api/visitor/chats", { department, ...extra }, { "cf-connecting-ip": ip });
}

interface AuditRow {
  actor_id: string | null;
  target: string | null;
  outcome: string;
  ip: string | null;
  details: Record<string, unknown>;
}

/** Audit rows of `action` (this file's tests share D1: filter to the test's own rows). */
async function auditRows(action: string, mine: (row: AuditRow) => boolean) {
  const { results } = await env.DB.prepare(
    "SELECT actor_id, target, outcome, ip, details FROM audit_log WHERE action = ?1 ORDER BY id",
  )
    .bind(action)
    .all<Omit<AuditRow, "details"> & { details: string | null }>();
  return results
    .map((row) => ({ ...row, details: JSON.parse(row.details ?? "{}") }) as AuditRow)
    .filter(mine);
}

async function banCount(): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM bans").first<{ n: number }>();
  return row?.n ?? 0;
}

async function chatCount(department: string): Promise<number> {
  const row = await env.DB.prepare("SELECT count(*) AS n FROM chats WHERE department_id = ?1")
    .bind(department)
    .first<{ n: number }>();
  return row?.n ?? 0;
}

describe("/api/bans", () => {
  it("creates, lists and lifts bans, each change audited", async () => {
    const manager = await banManager();
    const ipBan = await ban(manager.cookie, {
      kind: "ip",
      value: " 2001:DB8:0:0::7 ",
      reason: "spam 4111 1111 1111 1111",
      expiresInMinutes: 60,
    });
    expect(ipBan).toMatchObject({
      kind: "ip",
      value: "2001:db8::7",
      reason: "spam •••• •••• •••• 1111",
      createdBy: manager.id,
      active: true,
    });
    const visitorId = crypto.randomUUID();
    const byVisitor = await ban(manager.cookie, {
      kind: "visitor",
      value: visitorId.toUpperCase(),
    });
    expect(byVisitor).toMatchObject({ value: visitorId, expiresAt: null, active: true });
    // An expired ban stays listed, flagged inactive, after the active ones.
    const expiredId = crypto.randomUUID();
    await env.DB.prepare(
      "INSERT INTO bans (id, kind, value, reason, created_at, expires_at) VALUES (?1, 'ip', '192.0.2.1', 'old', ?2, ?3)",
    )
      .bind(expiredId, Date.now(), Date.now() - 1000)
      .run();
    const mine = new Set([ipBan.id, byVisitor.id, expiredId]);

    const list = await apiRequest("GET", "/api/bans", manager.cookie);
    expect(list.status).toBe(200);
    const { bans } = await list.json<{ bans: { id: string; active: boolean }[] }>();
    expect(bans.filter((b) => mine.has(b.id)).map((b) => [b.id, b.active])).toEqual([
      [byVisitor.id, true],
      [ipBan.id, true],
      [expiredId, false],
    ]);
    // Active bans of every test come before any expired one.
    expect(bans.findIndex((b) => !b.active)).toBe(bans.filter((b) => b.active).length);

    const lifted = await apiRequest("DELETE", `/api/bans/${ipBan.id}`, manager.cookie);
    expect(lifted.status).toBe(200);
    const again = await apiRequest("DELETE", `/api/bans/${ipBan.id}`, manager.cookie);
    expect(again.status).toBe(404);
    expect(await again.json()).toMatchObject({ error: { code: "ban_not_found" } });

    const byMe = (row: AuditRow) => row.actor_id === manager.id;
    expect(await auditRows("ban.create", byMe)).toMatchObject([
      {
        actor_id: manager.id,
        target: ipBan.id,
        outcome: "success",
        details: { kind: "ip", value: "2001:db8::7", reason: "spam •••• •••• •••• 1111" },
      },
      { target: byVisitor.id, details: { kind: "visitor", value: visitorId, expiresAt: null } },
    ]);
    expect(await auditRows("ban.delete", byMe)).toMatchObject([
      { actor_id: manager.id, target: ipBan.id, details: { value: "2001:db8::7" } },
    ]);
  });

  it("canonicalizes IP values and refuses a second active ban of the same thing", async () => {
    const manager = await banManager();
    expect(await ban(manager.cookie, { kind: "ip", value: "::ffff:203.0.113.9" })).toMatchObject({
      value: "203.0.113.9",
    });
    expect(await ban(manager.cookie, { kind: "ip", value: "2001:db8:a::/48" })).toMatchObject({
      value: "2001:db8:a::/48",
    });
    const dup = await apiRequest("POST", "/api/bans", manager.cookie, {
      kind: "ip",
      value: "203.0.113.9/32",
      reason: "again",
    });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ error: { code: "already_banned" } });
  });

  it.each([
    ["a three-part IPv4", { kind: "ip", value: "1.2.3" }],
    ["a hex IPv4", { kind: "ip", value: "0x7f.0.0.1" }],
    ["a prefix over 32", { kind: "ip", value: "10.0.0.0/33" }],
    ["a zone id", { kind: "ip", value: "fe80::1%eth0" }],
    ["everyone (*)", { kind: "ip", value: "*" }],
    ["everyone (/0)", { kind: "ip", value: "::/0" }],
    ["a visitor id that is not a UUID", { kind: "visitor", value: "visitor-1" }],
    ["an unknown kind", { kind: "email", value: "a@example.com" }],
    ["a missing reason", { kind: "ip", value: "192.0.2.1", reason: undefined }],
    ["a blank reason", { kind: "ip", value: "192.0.2.1", reason: "   " }],
    ["a zero expiry", { kind: "ip", value: "192.0.2.1", expiresInMinutes: 0 }],
    ["a fractional expiry", { kind: "ip", value: "192.0.2.1", expiresInMinutes: 1.5 }],
    ["an unknown field", { kind: "ip", value: "192.0.2.1", permanent: true }],
  ])("refuses %s with 400", async (_, body) => {
    const manager = await banManager();
    const before = await banCount();
    const res = await apiRequest("POST", "/api/bans", manager.cookie, { reason: "x", ...body });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request" } });
    expect(await banCount()).toBe(before);
  });

  it("answers 403 forbidden without bans.manage, with an audit row", async () => {
    const agent = await seedAgent();
    const cookie = await login(agent.email);
    for (const [method, path, body] of [
      ["GET", "/api/bans", undefined],
      ["POST", "/api/bans", { kind: "ip", value: "192.0.2.1", reason: "x" }],
      ["DELETE", `/api/bans/${crypto.randomUUID()}`, undefined],
    ] as const) {
      const res = await apiRequest(method, path, cookie, body);
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "forbidden" } });
    }
    const denied = await env.DB.prepare(
      "SELECT count(*) AS n FROM audit_log WHERE actor_id = ?1 AND action = 'access.denied'",
    )
      .bind(agent.id)
      .first<{ n: number }>();
    expect(denied?.n).toBe(3);
    const anonymous = await SELF.fetch(`${ORIGIN}/api/bans`);
    expect(anonymous.status).toBe(401);
  });

  it("refuses changes from a foreign Origin", async () => {
    const manager = await banManager();
    const res = await SELF.fetch(`${ORIGIN}/api/bans`, {
      method: "POST",
      headers: {
        cookie: manager.cookie,
        origin: "https://evil.example",
        "content-type": "application/json",
      },
      body: JSON.stringify({ kind: "ip", value: "192.0.2.1", reason: "x" }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: { code: "origin_denied" } });
  });
});

describe("ban enforcement at chat creation", () => {
  it("answers a banned IP exactly like 'nobody available', and audits the truth", async () => {
    const manager = await banManager();
    const { department, console } = await staffedDepartment();
    const ip = testIp();
    const b = await ban(manager.cookie, { kind: "ip", value: ip });

    const banned = await startFrom(ip, department, { name: "Mallory" });
    expect(banned.status).toBe(200);
    expect(await banned.json()).toEqual({ offline: true, reason: "no_agents" });
    expect(await chatCount(department)).toBe(0);
    expect(console.frames.some((f) => f.type === "offer")).toBe(false);
    expect(await auditRows("visitor.banned", (row) => row.ip === ip)).toMatchObject([
      { outcome: "denied", ip, details: { where: "chat_start", banId: b.id, kind: "ip" } },
    ]);

    const other = await startFrom(testIp(), department);
    expect(other.status).toBe(201);
    console.ws.close();
  });

  it("bans a whole CIDR range, IPv4 and IPv6 (and IPv4-mapped IPv6)", async () => {
    const manager = await banManager();
    const { department, console } = await staffedDepartment();
    const net = `198.19.${Math.floor(Math.random() * 256)}`;
    const hextet = Math.floor(Math.random() * 0xfff0).toString(16);
    await ban(manager.cookie, { kind: "ip", value: `${net}.0/24` });
    await ban(manager.cookie, { kind: "ip", value: `2001:db8:${hextet}::/48` });
    for (const ip of [`${net}.7`, `${net}.250`, `::ffff:${net}.9`, `2001:db8:${hextet}::1`]) {
      expect(await (await startFrom(ip, department)).json()).toEqual({
        offline: true,
        reason: "no_agents",
      });
    }
    const next = (parseInt(hextet, 16) + 1).toString(16);
    for (const ip of ["192.0.2.77", `2001:db8:${next}::1`]) {
      expect((await startFrom(ip, department)).status).toBe(201);
    }
    console.ws.close();
  });

  it("bans a returning visitor by visitor id", async () => {
    const manager = await banManager();
    const { department, console } = await staffedDepartment();
    const first = await startChat(department);
    await ban(manager.cookie, { kind: "visitor", value: first.visitorId });

    const again = await startFrom(testIp(), department, { visitorId: first.visitorId });
    expect(await again.json()).toEqual({ offline: true, reason: "no_agents" });
    const rows = await auditRows("visitor.banned", (row) => row.actor_id === first.visitorId);
    expect(rows).toMatchObject([{ details: { where: "chat_start", kind: "visitor" } }]);
    const stranger = await startFrom(testIp(), department, { visitorId: crypto.randomUUID() });
    expect(stranger.status).toBe(201);
    console.ws.close();
  });

  it("ignores an expired ban", async () => {
    const { department, console } = await staffedDepartment();
    const ip = testIp();
    await env.DB.prepare(
      "INSERT INTO bans (id, kind, value, reason, created_at, expires_at) VALUES (?1, 'ip', ?2, 'was', ?3, ?4)",
    )
      .bind(crypto.randomUUID(), ip, Date.now() - 120_000, Date.now() - 60_000)
      .run();
    expect((await startFrom(ip, department)).status).toBe(201);
    expect(await auditRows("visitor.banned", (row) => row.ip === ip)).toEqual([]);
    console.ws.close();
  });

  it("takes a banned visitor's offline message without keeping it", async () => {
    const manager = await banManager();
    const ip = testIp();
    await ban(manager.cookie, { kind: "ip", value: ip });
    const res = await postJson(
      "/api/visitor/offline-messages",
      { email: "m@example.com", message: "let me in" },
      { "cf-connecting-ip": ip },
    );
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ id: expect.any(String) });
    const stored = await env.DB.prepare("SELECT count(*) AS n FROM offline_messages WHERE ip = ?1")
      .bind(ip)
      .first<{ n: number }>();
    expect(stored?.n).toBe(0);
    expect(await auditRows("visitor.banned", (row) => row.ip === ip)).toMatchObject([
      { ip, details: { where: "offline_message" } },
    ]);
  });
});

describe("ban enforcement at the visitor socket", () => {
  async function chatThenBan(kind: "ip" | "visitor") {
    const manager = await banManager();
    const { department, console } = await staffedDepartment();
    const ip = testIp();
    const res = await startFrom(ip, department);
    expect(res.status).toBe(201);
    const chat = await res.json<{ chatId: string; token: string; visitorId: string }>();
    const b = await ban(manager.cookie, { kind, value: kind === "ip" ? ip : chat.visitorId });
    return { chat, ip, ban: b, console };
  }

  it.each(["ip", "visitor"] as const)(
    "refuses the upgrade of a %s-banned visitor neutrally",
    async (kind) => {
      const { chat, ip, ban: b, console } = await chatThenBan(kind);
      const refused = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
        "sec-websocket-protocol": `parley.v1, bearer.${chat.token}`,
        "cf-connecting-ip": ip,
      });
      expect(refused).toBeInstanceOf(Response);
      const res = refused as Response;
      expect(res.status).toBe(403);
      const body = await res.json<{ error: { code: string; message: string } }>();
      expect(body.error.code).toBe("unavailable");
      expect(body.error.message).not.toMatch(/ban/i);
      expect(await auditRows("visitor.banned", (row) => row.target === chat.chatId)).toMatchObject([
        {
          actor_id: chat.visitorId,
          target: chat.chatId,
          outcome: "denied",
          details: { where: "socket", banId: b.id, kind },
        },
      ]);
      console.ws.close();
    },
  );

  it("lets the visitor in again once the ban is lifted", async () => {
    const { chat, ip, ban: b, console } = await chatThenBan("ip");
    const manager = await banManager();
    expect((await apiRequest("DELETE", `/api/bans/${b.id}`, manager.cookie)).status).toBe(200);
    const socket = await visitorSocket(chat.chatId, chat.token);
    socket.ws.close();
    const fromIp = await openSocket(`/api/visitor/chats/${chat.chatId}/ws`, {
      "sec-websocket-protocol": `parley.v1, bearer.${chat.token}`,
      "cf-connecting-ip": ip,
    });
    expect(fromIp).not.toBeInstanceOf(Response);
    if (!(fromIp instanceof Response)) fromIp.ws.close();
    console.ws.close();
  });
});
