/**
 * Chaos over `wrangler dev` (issue 9, DESIGN invariant 6): 100 concurrent chats, every
 * participant on the shared client (`src/client/chat-connection.ts`, the widget's and the
 * console's), which reconnects with backoff and resumes from `lastSeq`. While both sides of
 * every chat send messages, a random 20 % of the chat sockets are dropped at random moments,
 * and the whole `wrangler dev` process is killed and started again once, mid-run, on the same
 * state folder. Afterwards every acknowledged message has reached both participants exactly
 * once and in order, and the D1 transcript holds every event.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  acceptingAgent,
  type OnlineAgent,
  participant,
  signIn,
  startChats,
  until,
} from "../helpers/desk-clients.ts";
import { type DevServer, startDevServer } from "../helpers/dev-server.ts";

const CHATS = 100;
const AGENTS = 5;
const MESSAGES_PER_SIDE = 5;
const RUN_MS = 20_000;
const DROP_SHARE = 0.2;
const PASSWORD = "chaos run passphrase 11";

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({
    vars: {
      AGENT_MAX_CHATS: String(CHATS / AGENTS),
      // The requeue of an absent agent's chats is proven elsewhere; here the restart may take
      // its time on a slow machine without moving any chat.
      AGENT_RECONNECT_GRACE_SECONDS: "600",
    },
  });
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("chaos over wrangler dev", () => {
  it("loses and repeats nothing across dropped sockets and a restart", async () => {
    // Agents online on reconnecting console sockets, accepting every offer.
    const agents: OnlineAgent[] = [];
    for (let i = 0; i < AGENTS; i++) {
      const email = `chaos${i}@example.com`;
      await server.createAgent({ email, name: `Chaos Agent ${i}`, password: PASSWORD });
      agents.push(await acceptingAgent(server, await signIn(server, email, PASSWORD)));
    }
    // 100 visitors start chats; every one is accepted.
    const started = await startChats(server, CHATS);
    await until("every chat assigned", () =>
      started.every((chat) => agents.some((agent) => agent.chats.has(chat.chatId))),
    );

    // Both sides of every chat on the shared client.
    const chats = started.map(({ chatId, token }, i) => {
      const owner = agents.find((agent) => agent.chats.has(chatId));
      const path = `/api/agent/chats/${chatId}/ws`;
      return {
        chatId,
        visitor: participant(server, `visitor ${i}`, `/api/visitor/chats/${chatId}/ws`, { token }),
        agent: participant(server, `agent ${i}`, path, { cookie: owner?.cookie ?? "" }),
      };
    });
    const sides = chats.flatMap((chat) => [chat.visitor, chat.agent]);
    await until("every side greeted", () => sides.every((side) => side.events.length > 0));

    // The run: messages at random moments, 20 % of the sockets dropped, one restart.
    const runStart = Date.now();
    const jobs: Promise<void>[] = [];
    for (const side of sides) {
      for (let n = 0; n < MESSAGES_PER_SIDE; n++) {
        jobs.push(
          pause(Math.random() * RUN_MS).then(() => {
            side.sent.push(side.connection.send(`${side.name} says ${n}`));
          }),
        );
      }
    }
    const dropped = [...sides].sort(() => Math.random() - 0.5).slice(0, sides.length * DROP_SHARE);
    for (const side of dropped) {
      jobs.push(
        pause(Math.random() * RUN_MS).then(() => {
          // A dropped connection: the socket goes, the client resumes on a new one.
          side.connection.reconnect();
        }),
      );
    }
    jobs.push(pause(RUN_MS / 2).then(() => server.restart()));
    await Promise.all(jobs);
    expect(Date.now() - runStart).toBeGreaterThanOrEqual(RUN_MS * 0.9);

    // Every message sent was acknowledged (queued ones were sent after reconnecting).
    const stuck = () =>
      sides
        .filter((side) => side.closedWith !== null || side.sent.some((c) => !side.acked.has(c)))
        .slice(0, 5)
        .map((side) => ({
          name: side.name,
          closedWith: side.closedWith,
          unacked: side.sent.filter((c) => !side.acked.has(c)).length,
          readyState: side.holder.socket?.readyState,
        }));
    await until(
      "every message acknowledged",
      () => sides.every((side) => side.sent.every((clientId) => side.acked.has(clientId))),
      120_000,
      stuck,
    );
    // …and reached both participants.
    await until(
      "every message delivered",
      () =>
        chats.every(({ visitor, agent }) => {
          const last = Math.max(...[...visitor.acked.values(), ...agent.acked.values()]);
          return [visitor, agent].every((side) => (side.events.at(-1)?.seq ?? 0) >= last);
        }),
      120_000,
    );

    for (const { chatId, visitor, agent } of chats) {
      const sent = [...visitor.sent, ...agent.sent];
      expect(sent).toHaveLength(2 * MESSAGES_PER_SIDE);
      const seqs = new Set([...visitor.acked.values(), ...agent.acked.values()]);
      expect(seqs.size, `${chatId}: one seq per message`).toBe(sent.length);
      for (const side of [visitor, agent]) {
        // In order, no gap, no repeat: exactly 1..N.
        expect(
          side.events.map((e) => e.seq),
          side.name,
        ).toEqual(side.events.map((_, i) => i + 1));
        // Each message exactly once.
        const delivered = side.events.filter((e) => e.kind === "message").map((e) => e.clientId);
        expect([...delivered].sort(), side.name).toEqual([...sent].sort());
      }
      expect(visitor.events).toEqual(agent.events);
    }

    // The D1 transcript is complete (flushed within moments of the last event).
    const expected = chats.reduce((n, chat) => n + chat.agent.events.length, 0);
    await until(
      "the D1 transcript",
      async () => {
        const rows = await server.query("SELECT count(*) AS n FROM messages");
        return Number(rows[0]?.n) >= expected;
      },
      60_000,
    );
    const rows = await server.query(
      "SELECT chat_id, seq, kind, text FROM messages ORDER BY chat_id, seq",
    );
    expect(rows).toHaveLength(expected);
    for (const { chatId, agent } of chats) {
      expect(
        rows.filter((r) => r.chat_id === chatId).map((r) => [r.seq, r.kind, r.text ?? undefined]),
      ).toEqual(agent.events.map((e) => [e.seq, e.kind, e.text]));
    }

    for (const side of sides) side.connection.close();
    for (const agent of agents) agent.close();
  }, 300_000);
});
