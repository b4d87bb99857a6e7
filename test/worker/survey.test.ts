/**
 * The post-chat survey over real HTTP, D1 and sockets (issue 7, item 7): stored once per
 * accepted chat with its comment card-masked, shown in the transcript, audited as the
 * visitor; the visitor socket's gates (chat token for this chat, widget Origin and CORS);
 * and every refusal leaves the chat unrated.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type {
  ErrorBody,
  TranscriptResponse,
  TranscriptSearchResponse,
} from "../../src/protocol/http.ts";
import { MAX_SURVEY_COMMENT_CHARS } from "../../src/protocol/inbox.ts";
import {
  acceptedChat,
  agentChatSocket,
  agentOnline,
  apiRequest,
  dumpD1,
  greeted,
  login,
  ORIGIN,
  seedAgent,
  startChat,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

const CARD = "4111 1111 1111 1111";
const MASKED = "•••• •••• •••• 1111";
const WIDGET_ORIGIN = "https://shop.example";

function survey(chatId: string, token: string | null, body: unknown, origin = ORIGIN) {
  return SELF.fetch(`${ORIGIN}/api/visitor/chats/${chatId}/survey`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin,
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify(body),
  });
}

async function stored(chatId: string) {
  return env.DB.prepare("SELECT rating, survey_comment, survey_at FROM chats WHERE id = ?1")
    .bind(chatId)
    .first<{ rating: number | null; survey_comment: string | null; survey_at: number | null }>();
}

const UNRATED = { rating: null, survey_comment: null, survey_at: null };

async function errorCode(res: Response): Promise<string> {
  return (await res.json<ErrorBody>()).error.code;
}

describe("POST /api/visitor/chats/:id/survey", () => {
  it("stores the rating and the masked comment; the transcript shows them; audited as the visitor", async () => {
    const chat = await acceptedChat();
    const before = Date.now();
    const res = await survey(chat.chatId, chat.token, {
      rating: 4,
      comment: `  Quick help. My card ${CARD} works now.  `,
    });
    expect(res.status, await res.clone().text()).toBe(201);
    expect(await res.json()).toEqual({ ok: true });

    const row = await stored(chat.chatId);
    expect(row).toMatchObject({
      rating: 4,
      survey_comment: `Quick help. My card ${MASKED} works now.`,
    });
    expect(row?.survey_at).toBeGreaterThanOrEqual(before);
    expect(await dumpD1()).not.toContain(CARD);

    const supervisor = await seedAgent({ grants: ["transcripts.view_all"] });
    const cookie = await login(supervisor.email);
    const detail = await apiRequest("GET", `/api/transcripts/${chat.chatId}`, cookie);
    expect(detail.status).toBe(200);
    expect((await detail.json<TranscriptResponse>()).transcript).toMatchObject({
      rating: 4,
      surveyComment: `Quick help. My card ${MASKED} works now.`,
      surveyAt: row?.survey_at,
    });
    const list = await apiRequest("GET", `/api/transcripts?department=${chat.department}`, cookie);
    const [summary] = (await list.json<TranscriptSearchResponse>()).transcripts;
    expect(summary).toMatchObject({ id: chat.chatId, rating: 4 });

    const audit = await env.DB.prepare(
      `SELECT actor_type, actor_id, outcome, department, details FROM audit_log
       WHERE action = 'chat.survey' AND target = ?1`,
    )
      .bind(chat.chatId)
      .all();
    expect(audit.results).toEqual([
      {
        actor_type: "visitor",
        actor_id: chat.visitorId,
        outcome: "success",
        department: chat.department,
        details: JSON.stringify({ rating: 4, comment: true }),
      },
    ]);
    chat.console.ws.close();
  });

  it("takes a rating after the chat ended; a blank comment is stored as none", async () => {
    const chat = await acceptedChat();
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    agent.send({ type: "end" });
    await visitor.waitClosed();
    const status = () =>
      env.DB.prepare("SELECT status FROM chats WHERE id = ?1").bind(chat.chatId).first("status");
    await expect.poll(status).toBe("ended");
    const res = await survey(chat.chatId, chat.token, { rating: 1, comment: "   " });
    expect(res.status).toBe(201);
    expect(await stored(chat.chatId)).toMatchObject({ rating: 1, survey_comment: null });
    chat.console.ws.close();
  });

  it("answers a second survey 409 conflict and keeps the first", async () => {
    const chat = await acceptedChat();
    expect((await survey(chat.chatId, chat.token, { rating: 2, comment: "slow" })).status).toBe(
      201,
    );
    const second = await survey(chat.chatId, chat.token, { rating: 5, comment: "great" });
    expect(second.status).toBe(409);
    expect(await errorCode(second)).toBe("conflict");
    expect(await stored(chat.chatId)).toMatchObject({ rating: 2, survey_comment: "slow" });
    chat.console.ws.close();
  });

  it("answers 409 not_rateable for a chat no agent accepted", async () => {
    const department = uniqueDepartment();
    const agent = await seedAgent({ departments: [department] });
    const console = await agentOnline(await login(agent.email));
    const chat = await startChat(department);
    const res = await survey(chat.chatId, chat.token, { rating: 5 });
    expect(res.status).toBe(409);
    expect(await errorCode(res)).toBe("not_rateable");
    // Ended by the visitor while still queued: never accepted, still nothing to rate.
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "end" });
    await visitor.waitClosed();
    const status = () =>
      env.DB.prepare("SELECT status FROM chats WHERE id = ?1").bind(chat.chatId).first("status");
    await expect.poll(status).toBe("ended");
    const ended = await survey(chat.chatId, chat.token, { rating: 5 });
    expect(ended.status).toBe(409);
    expect(await errorCode(ended)).toBe("not_rateable");
    expect(await stored(chat.chatId)).toEqual(UNRATED);
    console.ws.close();
  });

  it("answers 401 invalid_token without this chat's token", async () => {
    const chat = await acceptedChat();
    const other = await acceptedChat();
    for (const token of [null, "", "not-a-jwt", other.token, `${chat.token}x`]) {
      const res = await survey(chat.chatId, token, { rating: 5 });
      expect(res.status, String(token)).toBe(401);
      expect(await errorCode(res)).toBe("invalid_token");
    }
    // The token in the URL or the body is not a token.
    const inBody = await survey(chat.chatId, null, { rating: 5, token: chat.token });
    expect(inBody.status).toBe(401);
    expect(await stored(chat.chatId)).toEqual(UNRATED);
    for (const c of [chat, other]) c.console.ws.close();
  });

  it.each([
    ["rating 0", { rating: 0 }],
    ["rating 6", { rating: 6 }],
    ["a fractional rating", { rating: 3.5 }],
    ["a rating as text", { rating: "4" }],
    ["no rating", {}],
    ["a comment too long", { rating: 4, comment: "x".repeat(MAX_SURVEY_COMMENT_CHARS + 1) }],
    ["a comment not text", { rating: 4, comment: 7 }],
    ["an unknown field", { rating: 4, extra: true }],
  ])("%s → 400 invalid_request, nothing stored", async (_name, body) => {
    const chat = await acceptedChat();
    const res = await survey(chat.chatId, chat.token, body);
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe("invalid_request");
    expect(await stored(chat.chatId)).toEqual(UNRATED);
    chat.console.ws.close();
  });

  it("follows the widget's Origin and CORS rules", async () => {
    const chat = await acceptedChat();
    const path = `${ORIGIN}/api/visitor/chats/${chat.chatId}/survey`;
    const preflight = await SELF.fetch(path, {
      method: "OPTIONS",
      headers: {
        origin: WIDGET_ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();

    for (const origin of ["https://evil.example", "https://console.example"]) {
      const refused = await survey(chat.chatId, chat.token, { rating: 5 }, origin);
      expect(refused.status).toBe(403);
      expect(await errorCode(refused)).toBe("origin_denied");
    }
    expect(await stored(chat.chatId)).toEqual(UNRATED);

    const res = await survey(chat.chatId, chat.token, { rating: 5 }, WIDGET_ORIGIN);
    expect(res.status).toBe(201);
    expect(res.headers.get("access-control-allow-origin")).toBe(WIDGET_ORIGIN);
    chat.console.ws.close();
  });
});
