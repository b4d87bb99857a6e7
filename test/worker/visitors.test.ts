/**
 * Live visitors and proactive invitations (issue 8, item 2), over real HTTP, presence sockets
 * and console sockets into the Worker: the presence socket's guards (Origin, bans), welcome
 * and returning visitors across connections, page views in the agents' list with their rate
 * and size limits, the permission on the list and on invitations, invitations reaching the
 * right visitor only, accepting one (the chat is offered to the inviting agent first), used
 * and expired ones (routed as usual). 1,000 concurrent visitors: visitors-load.test.ts.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PAGE_VIEWS_PER_MINUTE } from "../../src/protocol/visitor-frames.ts";
import { verifyPresenceToken } from "../../src/security/tokens.ts";
import { visitCount } from "../../src/store/visitor-profiles.ts";
import {
  agentOnline,
  apiRequest,
  auditRowsOf,
  login,
  ORIGIN,
  openSocket,
  postJson,
  seedAgent,
  startChat,
  uniqueDepartment,
} from "./helpers.ts";
import {
  departed,
  invite,
  invited,
  inviter,
  listed,
  liveVisitors,
  objectSql,
  PRESENCE,
  presence,
  runDue,
  sleep,
  visitor,
} from "./presence-helpers.ts";

const KEY = new TextEncoder().encode(env.SESSION_KEY);

describe("the presence socket's handshake", () => {
  it("refuses other origins, plain requests and a missing subprotocol", async () => {
    const evil = await openSocket(PRESENCE, {
      origin: "https://evil.example",
      "sec-websocket-protocol": "parley.v1",
    });
    expect(evil).toBeInstanceOf(Response);
    expect((evil as Response).status).toBe(403);
    expect(await (evil as Response).json()).toMatchObject({ error: { code: "origin_denied" } });

    const noOrigin = await SELF.fetch(`${ORIGIN}${PRESENCE}`, {
      headers: { upgrade: "websocket", "sec-websocket-protocol": "parley.v1" },
    });
    expect(noOrigin.status).toBe(403);

    const plain = await SELF.fetch(`${ORIGIN}${PRESENCE}`, { headers: { origin: ORIGIN } });
    expect(plain.status).toBe(426);

    const noProtocol = await openSocket(PRESENCE, {});
    expect((noProtocol as Response).status).toBe(400);

    // A listed widget origin (WIDGET_ORIGINS) is welcome; the server selects parley.v1.
    const shop = await SELF.fetch(`${ORIGIN}${PRESENCE}`, {
      headers: {
        upgrade: "websocket",
        origin: "https://shop.example",
        "sec-websocket-protocol": "parley.v1",
      },
    });
    expect(shop.status).toBe(101);
    expect(shop.headers.get("sec-websocket-protocol")).toBe("parley.v1");
    shop.webSocket?.accept();
    shop.webSocket?.close(1000);
  });

  it("refuses a banned IP and a banned visitor id, neutrally, with an audit row", async () => {
    const manager = await inviter(["bans.manage"]);
    const ip = `198.18.${crypto.getRandomValues(new Uint8Array(1))[0]}.77`;
    const banned = await apiRequest("POST", "/api/bans", manager.cookie, {
      kind: "ip",
      value: ip,
      reason: "scraping",
    });
    expect(banned.status).toBe(201);
    const refused = await openSocket(PRESENCE, {
      "sec-websocket-protocol": "parley.v1",
      "cf-connecting-ip": ip,
    });
    expect((refused as Response).status).toBe(403);
    expect(await (refused as Response).json()).toMatchObject({ error: { code: "unavailable" } });
    const { results } = await env.DB.prepare(
      "SELECT target, outcome, details FROM audit_log WHERE action = 'visitor.banned' AND ip = ?1",
    )
      .bind(ip)
      .all<{ target: string; outcome: string; details: string }>();
    expect(results).toHaveLength(1);
    expect(results[0]).toMatchObject({ target: "presence", outcome: "denied" });
    expect(JSON.parse(results[0]?.details ?? "{}")).toMatchObject({ where: "socket", kind: "ip" });

    // A visitor id ban applies to a visitor who presents their presence token.
    const known = await visitor();
    const byId = await apiRequest("POST", "/api/bans", manager.cookie, {
      kind: "visitor",
      value: known.visitorId,
      reason: "abuse",
    });
    expect(byId.status).toBe(201);
    const again = await openSocket(PRESENCE, {
      "sec-websocket-protocol": `parley.v1, bearer.${known.token}`,
    });
    expect((again as Response).status).toBe(403);
  });
});

describe("welcome and returning visitors", () => {
  it("keeps the visitor id with the token; returning from the next visit on", async () => {
    const first = await visitor();
    expect(first.returning).toBe(false);
    expect(await verifyPresenceToken(first.token, KEY)).toBe(first.visitorId);
    expect(await visitCount(env.DB, first.visitorId)).toBe(1);

    // A second tab (or the next page) within the visit: same id, same visit.
    const tab = await visitor(first.token);
    expect(tab).toMatchObject({ visitorId: first.visitorId, returning: false });
    expect(await verifyPresenceToken(tab.token, KEY)).toBe(first.visitorId);

    // A forged or foreign token is no identity: a new visitor.
    const forged = await visitor(`${first.token.slice(0, -4)}AAAA`);
    expect(forged.visitorId).not.toBe(first.visitorId);

    // The visitor leaves; after the grace period the departure is written to D1.
    first.socket.ws.close(1000);
    tab.socket.ws.close(1000);
    await departed(first.visitorId);
    await objectSql(
      "UPDATE visitors SET departed_at = departed_at - 60000 WHERE visitor_id = ?",
      first.visitorId,
    );
    await runDue("departures");
    const agent = await inviter();
    expect(
      (await liveVisitors(agent.cookie)).visitors.some((v) => v.visitorId === first.visitorId),
    ).toBe(false);

    // More than 30 minutes later they come back: a second visit, returning.
    await env.DB.prepare(
      "UPDATE visitor_profiles SET last_seen_at = last_seen_at - 31 * 60000 WHERE visitor_id = ?1",
    )
      .bind(first.visitorId)
      .run();
    const back = await visitor(first.token);
    expect(back).toMatchObject({ visitorId: first.visitorId, returning: true });
    expect(await visitCount(env.DB, first.visitorId)).toBe(2);
    expect(await listed(agent.cookie, first.visitorId)).toMatchObject({
      visits: 2,
      returning: true,
    });
  });
});

describe("page views", () => {
  it("show in the agents' list: page, title, first referrer, masked card numbers", async () => {
    const agent = await inviter();
    const { socket, visitorId } = await visitor();
    const before = Date.now();
    socket.send({
      type: "page",
      url: "https://shop.example/pay?card=4111 1111 1111 1111",
      title: "Pay with 4111111111111111",
      referrer: "https://search.example/?q=shoes",
    });
    const first = await listed(agent.cookie, visitorId, (v) => v.pageUrl !== null);
    expect(first).toMatchObject({
      pageUrl: "https://shop.example/pay?card=•••• •••• •••• 1111",
      pageTitle: "Pay with ••••••••••••1111",
      referrer: "https://search.example/?q=shoes",
      visits: 1,
      returning: false,
      chatting: false,
    });
    expect(first.onSiteSince).toBeLessThanOrEqual(first.lastPageAt ?? 0);
    expect(first.lastPageAt).toBeGreaterThanOrEqual(before);

    socket.send({
      type: "page",
      url: "https://shop.example/shoes",
      referrer: "https://shop.example/pay",
    });
    expect(
      await listed(agent.cookie, visitorId, (v) => v.pageUrl === "https://shop.example/shoes"),
    ).toMatchObject({ pageTitle: null, referrer: "https://search.example/?q=shoes" });
    expect(socket.frames.filter((f) => f.type === "error")).toEqual([]);
  });

  it("takes the country from request.cf", async () => {
    const res = await SELF.fetch(`${ORIGIN}${PRESENCE}`, {
      headers: { upgrade: "websocket", origin: ORIGIN, "sec-websocket-protocol": "parley.v1" },
      cf: { country: "DE" },
    } as RequestInit);
    expect(res.status).toBe(101);
    res.webSocket?.accept();
    const agent = await inviter();
    const countries = (await liveVisitors(agent.cookie)).visitors.map((v) => v.country);
    expect(countries).toContain("DE");
  });

  it(`refuses more than ${PAGE_VIEWS_PER_MINUTE} a minute with rate_limited; the socket stays open`, async () => {
    const agent = await inviter();
    const { socket, visitorId, token } = await visitor();
    for (let i = 1; i <= PAGE_VIEWS_PER_MINUTE + 2; i++) {
      socket.send({ type: "page", url: `https://shop.example/p/${i}` });
    }
    await socket.nextOfType("error");
    await sleep(200);
    const errors = socket.frames.filter((f) => f.type === "error");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: "rate_limited", message: expect.any(String) });
    expect(socket.closed).toBeNull();
    expect(await listed(agent.cookie, visitorId)).toMatchObject({
      pageUrl: `https://shop.example/p/${PAGE_VIEWS_PER_MINUTE}`,
    });
    // The budget is the visitor's, not the socket's: another tab gains nothing.
    const tab = await presence(token);
    await tab.nextOfType("welcome");
    tab.send({ type: "page", url: "https://shop.example/other-tab" });
    expect(await tab.nextOfType("error")).toMatchObject({ code: "rate_limited" });
  });

  it("answers oversized and malformed frames with error frames; the socket stays usable", async () => {
    const agent = await inviter();
    const { socket, visitorId } = await visitor();
    const cases: [unknown, string][] = [
      [{ type: "page", url: `https://shop.example/${"x".repeat(7000)}` }, "frame_too_large"],
      [{ type: "page", url: `https://shop.example/${"x".repeat(2100)}` }, "bad_frame"],
      [{ type: "page", url: "javascript:alert(1)" }, "bad_frame"],
      [{ type: "page", url: "https://shop.example/", title: "t".repeat(201) }, "bad_frame"],
      [{ type: "page", url: "https://shop.example/", extra: 1 }, "bad_frame"],
      [{ type: "hello" }, "bad_frame"],
      ["{not json", "bad_frame"],
      [{ type: "invitation.accept", invitationId: crypto.randomUUID() }, "invitation_not_found"],
    ];
    for (const [frame, code] of cases) {
      const seen = socket.frames.length;
      socket.send(frame);
      await socket.next((f) => f.type === "error" && socket.frames.indexOf(f) >= seen);
      expect(socket.frames.at(-1)).toMatchObject({ type: "error", code });
    }
    socket.ws.send(new Uint8Array([1, 2, 3]));
    await socket.next((f) => f.type === "error" && f.message === "Frames are JSON text.");
    expect(socket.closed).toBeNull();
    socket.send({ type: "page", url: "https://shop.example/fine" });
    await listed(agent.cookie, visitorId, (v) => v.pageUrl === "https://shop.example/fine");
  });
});

describe("permission", () => {
  it("refuses the list and invitations without visitors.invite (403, audited)", async () => {
    const agent = await inviter(["chats.accept", "bans.manage"]);
    const { visitorId, socket } = await visitor();
    const list = await apiRequest("GET", "/api/visitors", agent.cookie);
    expect(list.status).toBe(403);
    expect(await list.json()).toMatchObject({ error: { code: "forbidden" } });
    const sent = await invite(agent.cookie, visitorId);
    expect(sent.status).toBe(403);
    const denied = await auditRowsOf(agent.id, "access.denied");
    expect(denied.map((row) => row.target)).toEqual([
      "GET /api/visitors",
      `POST /api/visitors/${visitorId}/invitations`,
    ]);
    expect(denied.every((row) => row.outcome === "denied")).toBe(true);
    await sleep(100);
    expect(socket.frames.filter((f) => f.type === "invitation")).toEqual([]);
  });
});

describe("invitations", () => {
  it("reach every tab of the invited visitor, exactly, and no one else", async () => {
    const agent = await inviter();
    const a = await visitor();
    const aTab = await presence(a.token);
    await aTab.nextOfType("welcome");
    const b = await visitor();

    const { invitationId, expiresAt } = await invited(agent.cookie, a.visitorId, {
      message: "Need help paying with 4111 1111 1111 1111?",
    });
    expect(expiresAt).toBeGreaterThan(Date.now() + 60_000);
    const expected = {
      type: "invitation",
      invitationId,
      agent: { name: agent.name },
      message: "Need help paying with •••• •••• •••• 1111?",
      expiresAt,
    };
    expect(await a.socket.nextOfType("invitation")).toEqual(expected);
    expect(await aTab.nextOfType("invitation")).toEqual(expected);
    await sleep(200);
    expect(b.socket.frames.filter((f) => f.type === "invitation")).toEqual([]);

    expect(await auditRowsOf(agent.id, "visitor.invite")).toEqual([
      {
        action: "visitor.invite",
        target: a.visitorId,
        outcome: "success",
        department: null,
        details: { invitationId, message: "Need help paying with •••• •••• •••• 1111?" },
      },
    ]);

    // One live invitation per visitor; unknown visitors are 404.
    const twice = await invite(agent.cookie, a.visitorId);
    expect(twice.status).toBe(409);
    expect(await twice.json()).toMatchObject({ error: { code: "invitation_pending" } });
    for (const id of [crypto.randomUUID(), "not-a-visitor"]) {
      const res = await invite(agent.cookie, id);
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "visitor_not_found" } });
    }
    const bad = await invite(agent.cookie, b.visitorId, { message: "x".repeat(201) });
    expect(bad.status).toBe(400);

    // Declined in one tab: the other tab hides it, the audit log records it, and the
    // visitor may be invited again; the default message applies.
    a.socket.send({ type: "invitation.decline", invitationId });
    expect(await aTab.nextOfType("invitation_withdrawn")).toEqual({
      type: "invitation_withdrawn",
      invitationId,
      reason: "declined",
    });
    await sleep(100);
    expect(a.socket.frames.filter((f) => f.type === "invitation_withdrawn")).toEqual([]);
    const declined = await auditRowsOf(a.visitorId, "visitor.invitation_declined");
    expect(declined).toMatchObject([
      { target: invitationId, outcome: "success", details: { agentId: agent.id } },
    ]);
    const next = await invited(agent.cookie, a.visitorId);
    expect(
      await a.socket.nextOfType("invitation", (f) => f.invitationId === next.invitationId),
    ).toMatchObject({ message: "Hello! Can we help you with anything?" });
  });

  it("carry over a page load and are withdrawn when they expire", async () => {
    const agent = await inviter();
    const v = await visitor();
    const { invitationId } = await invited(agent.cookie, v.visitorId);
    await v.socket.nextOfType("invitation");
    v.socket.ws.close(1000);
    await departed(v.visitorId);
    // Still listed during the page load, and the next page shows the invitation again.
    await listed(agent.cookie, v.visitorId);
    const next = await presence(v.token);
    await next.nextOfType("welcome");
    expect(await next.nextOfType("invitation")).toMatchObject({ invitationId });

    await objectSql("UPDATE invitations SET expires_at = 1 WHERE id = ?", invitationId);
    await runDue("invitations");
    expect(await next.nextOfType("invitation_withdrawn")).toEqual({
      type: "invitation_withdrawn",
      invitationId,
      reason: "expired",
    });
    next.send({ type: "invitation.accept", invitationId });
    expect(await next.nextOfType("error")).toMatchObject({ code: "invitation_not_found" });
  });
});

/**
 * A department where the inviting agent already has a chat and another agent has none, so
 * least-busy routing alone would pick the other agent.
 */
async function busyInviterDesk() {
  const department = uniqueDepartment();
  const x = await seedAgent({ departments: [department], grants: ["visitors.invite"] });
  const xCookie = await login(x.email);
  const xConsole = await agentOnline(xCookie);
  const first = await startChat(department);
  await xConsole.nextOfType("offer", (f) => f.chatId === first.chatId);
  xConsole.send({ type: "accept", chatId: first.chatId });
  await xConsole.nextOfType("assigned", (f) => f.chatId === first.chatId);
  const y = await seedAgent({ departments: [department] });
  const yConsole = await agentOnline(await login(y.email));
  return { department, x: { ...x, cookie: xCookie, console: xConsole }, yConsole };
}

async function chatFrom(department: string, extra: Record<string, unknown>) {
  const res = await postJson("/api/visitor/chats", { department, ...extra });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<{ chatId: string; visitorId: string }>();
}

describe("accepting an invitation", () => {
  it("starts a chat offered to the inviting agent first, even when another is less busy", async () => {
    const desk = await busyInviterDesk();
    const v = await visitor();
    const tab = await presence(v.token);
    await tab.nextOfType("welcome");
    const { invitationId } = await invited(desk.x.cookie, v.visitorId);
    await v.socket.nextOfType("invitation");

    // The visitor clicks: the other tab hides it; the pre-chat form is next.
    v.socket.send({ type: "invitation.accept", invitationId });
    expect(await tab.nextOfType("invitation_withdrawn")).toMatchObject({ reason: "accepted" });

    const chat = await chatFrom(desk.department, { invitationId, presenceToken: v.token });
    expect(chat.visitorId).toBe(v.visitorId);
    const offer = await desk.x.console.nextOfType("offer", (f) => f.chatId === chat.chatId);
    expect(offer).toMatchObject({ chatId: chat.chatId });
    expect(desk.yConsole.frames.some((f) => f.type === "offer" && f.chatId === chat.chatId)).toBe(
      false,
    );
    const row = await env.DB.prepare("SELECT visitor_id FROM chats WHERE id = ?1")
      .bind(chat.chatId)
      .first<{ visitor_id: string }>();
    expect(row?.visitor_id).toBe(v.visitorId);
    expect(await auditRowsOf(v.visitorId, "visitor.invitation_accepted")).toMatchObject([
      { target: invitationId, outcome: "success", details: { agentId: desk.x.id } },
    ]);
    expect(await listed(desk.x.cookie, v.visitorId, (l) => l.chatting)).toMatchObject({
      chatting: true,
    });

    // Used once: the same invitation again starts an ordinary chat, routed least-busy.
    const again = await chatFrom(desk.department, { invitationId, presenceToken: v.token });
    await desk.yConsole.nextOfType("offer", (f) => f.chatId === again.chatId);
    expect(desk.x.console.frames.some((f) => f.type === "offer" && f.chatId === again.chatId)).toBe(
      false,
    );
    expect(await auditRowsOf(v.visitorId, "visitor.invitation_invalid")).toMatchObject([
      { target: invitationId, outcome: "failure", details: { reason: "not_found" } },
    ]);
  });

  it("does not route an expired invitation, or one presented by another visitor", async () => {
    const desk = await busyInviterDesk();
    const v = await visitor();
    const other = await visitor();
    const { invitationId } = await invited(desk.x.cookie, v.visitorId);

    // Another visitor's token (or none) does not make the invitation theirs.
    for (const extra of [{ presenceToken: other.token }, {}]) {
      const chat = await chatFrom(desk.department, { invitationId, ...extra });
      await desk.yConsole.nextOfType("offer", (f) => f.chatId === chat.chatId);
      desk.yConsole.send({ type: "refuse", chatId: chat.chatId });
    }
    expect(await auditRowsOf(other.visitorId, "visitor.invitation_invalid")).toHaveLength(1);

    await objectSql("UPDATE invitations SET expires_at = 1 WHERE id = ?", invitationId);
    const late = await chatFrom(desk.department, { invitationId, presenceToken: v.token });
    expect(late.visitorId).toBe(v.visitorId);
    await desk.yConsole.nextOfType("offer", (f) => f.chatId === late.chatId);
    expect(desk.x.console.frames.some((f) => f.type === "offer" && f.chatId === late.chatId)).toBe(
      false,
    );
  });
});
