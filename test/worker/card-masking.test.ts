/**
 * DESIGN invariant 1 end to end: card numbers typed anywhere a visitor or agent writes are
 * masked before anything else sees them — the sender's own copy, the other participants,
 * the Durable Object's storage and D1.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  acceptedChat,
  agentChatSocket,
  dumpD1,
  dumpObjectStorage,
  flushedThrough,
  greeted,
  postJson,
  visitorSocket,
} from "./helpers.ts";

const PAN = "4111 1111 1111 1111";
const DIGITS = "411111111111";
const AMEX = "3782-822463-10005";

describe("card numbers in chat", () => {
  it("are masked for everyone, the sender included, and never stored in clear", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    const agent = await greeted(await agentChatSocket(chat.chatId, chat.cookie));
    visitor.send({
      type: "message",
      clientId: "card",
      text: `my card is ${PAN}, and amex ${AMEX}`,
    });
    const own = await visitor.nextOfType("event", (f) => f.clientId === "card");
    const seen = await agent.nextOfType("event", (f) => f.clientId === "card");
    expect(own.text).toBe("my card is •••• •••• •••• 1111, and amex ••••-••••••-•0005");
    expect(seen.text).toBe(own.text);
    await flushedThrough(chat.chatId, Number(own.seq));
    const d1 = await dumpD1();
    expect(d1).toContain("•••• •••• •••• 1111");
    expect(d1.replace(/\D/g, "")).not.toContain(DIGITS);
    expect(d1).not.toContain("378282246310005");
    const stored = await dumpObjectStorage(
      env.CHAT_SESSION.get(env.CHAT_SESSION.idFromName(chat.chatId)),
    );
    expect(stored).toContain("1111");
    expect(stored.replace(/\D/g, "")).not.toContain(DIGITS);
  });

  it("are masked in a client id too (it is echoed to every participant)", async () => {
    const chat = await acceptedChat();
    const visitor = await greeted(await visitorSocket(chat.chatId, chat.token));
    visitor.send({ type: "message", clientId: "4111111111111111", text: "hi" });
    const ack = await visitor.nextOfType("ack");
    expect(ack.clientId).toBe("••••••••••••1111");
  });

  it("are masked in the pre-chat form, custom variables, the page URL and offline messages", async () => {
    const start = await postJson("/api/visitor/offline-messages", {
      name: `Card ${PAN}`,
      email: "4111111111111111@example.com",
      message: `please charge ${PAN}`,
      pageUrl: `https://shop.example/pay?pan=${PAN.replaceAll(" ", "")}`,
    });
    expect(start.status).toBe(201);
    const { id } = await start.json<{ id: string }>();
    const row = await env.DB.prepare(
      "SELECT name, email, message, page_url FROM offline_messages WHERE id = ?1",
    )
      .bind(id)
      .first<Record<string, string>>();
    expect(row).toEqual({
      name: "Card •••• •••• •••• 1111",
      email: "••••••••••••1111@example.com",
      message: "please charge •••• •••• •••• 1111",
      page_url: "https://shop.example/pay?pan=••••••••••••1111",
    });

    // An agent online in a department, so the chat is created rather than missed.
    const { department } = await acceptedChat();
    // Chat start takes declared custom variables only.
    await env.DB.prepare(
      `INSERT OR IGNORE INTO custom_variables (name, label, type, max_length, created_at, updated_at)
       VALUES ('note', 'Note', 'string', 500, 0, 0)`,
    ).run();
    const res = await postJson("/api/visitor/chats", {
      name: `Vera ${PAN}`,
      department,
      variables: { note: `card ${PAN}` },
    });
    const { chatId } = await res.json<{ chatId: string }>();
    const chatRow = await env.DB.prepare("SELECT visitor_name, variables FROM chats WHERE id = ?1")
      .bind(chatId)
      .first<Record<string, string>>();
    expect(chatRow?.visitor_name).toBe("Vera •••• •••• •••• 1111");
    expect(chatRow?.variables).toBe('{"note":"card •••• •••• •••• 1111"}');
  });
});
