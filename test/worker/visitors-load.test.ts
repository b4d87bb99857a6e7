/**
 * The Visitors object under 1,000 concurrent presence sockets (issue 8: "stays within its
 * limits under 1,000 concurrent visitors"): every visitor says hello and reports a page, the
 * agents' list holds the most recent 500 and counts everyone, an invitation reaches exactly
 * the one invited, and nothing errors or logs an error.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { getVisitors, type Visitors } from "../../durable-objects/visitors.ts";
import type { LiveVisitorsResponse } from "../../src/protocol/visitors.ts";
import { recordConsole } from "./helpers.ts";
import { invited, inviter, liveVisitors, sleep, visitor } from "./presence-helpers.ts";

describe("1,000 concurrent visitors", () => {
  it("tracks them all, lists the most recent, and invites the right one", async () => {
    const COUNT = 1000;
    const logs = recordConsole(["error", "warn"]);
    try {
      const started = Date.now();
      const visitors = await Promise.all(Array.from({ length: COUNT }, () => visitor()));
      const ids = new Set(visitors.map((v) => v.visitorId));
      expect(ids.size).toBe(COUNT);
      visitors.forEach((v, i) => {
        v.socket.send({ type: "page", url: `https://shop.example/crowd/${i}`, title: `Page ${i}` });
      });

      const agent = await inviter();
      const byId = new Map(visitors.map((v, i) => [v.visitorId, i]));
      let list: LiveVisitorsResponse;
      const deadline = Date.now() + 30_000;
      for (;;) {
        list = await liveVisitors(agent.cookie);
        const ours = list.visitors.filter((l) => byId.has(l.visitorId) && l.pageUrl !== null);
        if (ours.length === 500) break;
        if (Date.now() > deadline) throw new Error(`only ${ours.length} listed with pages`);
        await sleep(200);
      }
      // The list holds the 500 most recently active (all ours), the total counts everyone.
      expect(list.visitors).toHaveLength(500);
      expect(list.total).toBeGreaterThanOrEqual(COUNT);
      for (const listed of list.visitors) {
        const i = byId.get(listed.visitorId);
        expect(listed).toMatchObject({ pageUrl: `https://shop.example/crowd/${i}`, visits: 1 });
      }
      const stored = await runInDurableObject(getVisitors(env), (_: Visitors, state) => {
        const pages = new Map(
          state.storage.sql
            .exec<{ visitor_id: string; page_url: string | null }>(
              "SELECT visitor_id, page_url FROM visitors",
            )
            .toArray()
            .map((row) => [row.visitor_id, row.page_url]),
        );
        const sockets = state.getWebSockets();
        const largest = Math.max(
          ...sockets.map((ws) => JSON.stringify(ws.deserializeAttachment()).length),
        );
        return { pages, sockets: sockets.length, largest };
      });
      visitors.forEach((v, i) => {
        expect(stored.pages.get(v.visitorId)).toBe(`https://shop.example/crowd/${i}`);
      });
      expect(stored.sockets).toBeGreaterThanOrEqual(COUNT);
      expect(stored.largest).toBeLessThan(2048);

      const chosen = visitors[777];
      if (!chosen) throw new Error("no visitor 777");
      const { invitationId } = await invited(agent.cookie, chosen.visitorId);
      expect(await chosen.socket.nextOfType("invitation")).toMatchObject({ invitationId });
      await sleep(300);
      const reached = visitors.filter((v) => v.socket.frames.some((f) => f.type === "invitation"));
      expect(reached.map((v) => v.visitorId)).toEqual([chosen.visitorId]);
      expect(visitors.filter((v) => v.socket.frames.some((f) => f.type === "error"))).toEqual([]);
      expect(visitors.every((v) => v.socket.closed === null)).toBe(true);
      expect(logs.lines.filter((line) => line.includes("[parley]"))).toEqual([]);
      expect(Date.now() - started).toBeLessThan(60_000);
      for (const v of visitors) v.socket.ws.close(1000);
    } finally {
      logs.restore();
    }
  }, 90_000);
});
