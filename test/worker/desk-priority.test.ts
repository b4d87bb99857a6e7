/**
 * Segments in routing rules: a department serves the visitors of its priority segments first,
 * in offers and in the queue positions visitors see.
 */
import { describe, expect, it } from "vitest";
import {
  agentChatSocket,
  agentOnline,
  apiRequest,
  greeted,
  login,
  postJson,
  seedAgent,
  uniqueDepartment,
  visitorSocket,
} from "./helpers.ts";

async function admin() {
  const agent = await seedAgent({ groups: ["administrators"] });
  return login(agent.email);
}

describe("priority segments", () => {
  it("serves a visitor of a priority segment ahead of earlier visitors", async () => {
    const department = uniqueDepartment();
    const cookie = await admin();
    const segment = `vip-${department}`;
    const created = await apiRequest("POST", "/api/segments", cookie, {
      id: segment,
      name: "VIP pages",
      rules: { match: "all", conditions: [{ field: "url", op: "contains", value: "/vip" }] },
    });
    expect(created.status, await created.clone().text()).toBe(201);

    // One agent with room for one chat, busy with it.
    const agent = await seedAgent({ departments: [department], maxChats: 1 });
    const agentCookie = await login(agent.email);
    const desk = await agentOnline(agentCookie);
    const start = async (pageUrl: string) => {
      const res = await postJson("/api/visitor/chats", { name: "V", department, pageUrl });
      expect(res.status).toBe(201);
      return (await res.json()) as { chatId: string; token: string; queuePosition: number };
    };
    const busy = await start("https://shop.example/home");
    await desk.nextOfType("offer", (f) => f.chatId === busy.chatId);
    desk.send({ type: "accept", chatId: busy.chatId });
    await desk.nextOfType("assigned");

    // Without the rule, the queue is oldest first.
    const early = await start("https://shop.example/cart");
    const vip = await start("https://shop.example/vip/offer");
    expect([early.queuePosition, vip.queuePosition]).toEqual([1, 2]);

    const rule = await apiRequest("PUT", `/api/routing/rules/${department}`, cookie, {
      prioritySegments: [segment],
    });
    expect(rule.status, await rule.clone().text()).toBe(200);
    expect(await rule.json()).toMatchObject({ rule: { prioritySegments: [segment] } });

    // The VIP visitor moves to the front; the earlier one is told its new place.
    const earlySocket = await greeted(await visitorSocket(early.chatId, early.token));
    const vipSocket = await greeted(await visitorSocket(vip.chatId, vip.token));
    await earlySocket.nextOfType("queue", (f) => f.position === 2);
    await vipSocket.nextOfType("queue", (f) => f.position === 1);
    const queue = await desk.nextOfType("queue", (f) => {
      const chats = f.chats as { chatId: string }[];
      return chats.length === 2 && chats[0]?.chatId === vip.chatId;
    });
    expect((queue.chats as { position: number }[]).map((c) => c.position)).toEqual([1, 2]);

    // When the agent has room again, the VIP chat is offered first.
    const ending = await greeted(await agentChatSocket(busy.chatId, agentCookie));
    ending.send({ type: "end" });
    const offer = await desk.nextOfType("offer", (f) => f.chatId !== busy.chatId);
    expect(offer.chatId).toBe(vip.chatId);
  });
});
