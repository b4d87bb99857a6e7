/**
 * `npm run bench`: end-to-end chat latency and throughput on `wrangler dev`, next to a
 * bare-relay baseline measured in the same run (`bench/relay-worker`: a hibernating Durable
 * Object that forwards frames with no authentication, validation, masking or storage). W1
 * and W2 also run a storing relay (the same, but each frame is first written to the object's
 * SQLite storage): Parley's ratio to it is what its code costs beyond the durable write.
 *
 * - W1: C concurrent 1:1 chats (visitor and agent through the real protocol, the agent
 *   logged in), each side sending a message every P ms for D seconds: client-side latency
 *   from send to the other side's receipt (p50/p90/p99/max), messages/s, lost messages.
 * - W2: one chat watched by N monitoring agents; the agent sends every P ms: latency from
 *   send to the last of the N monitors and the visitor.
 *
 * Settings (environment): BENCH_CHATS (C, 50), BENCH_PERIOD_MS (P, 1000), BENCH_SECONDS
 * (D, 20), BENCH_MONITORS (N, 20), BENCH_PROFILE (1: a CPU profile of workerd during
 * Parley's W1, see `cpu-profile.ts`), BENCH_SEARCH (e.g. `100,200,300`: instead of W1 and W2,
 * W1 at each C for the largest C that keeps p99 under 100 ms),
 * X_LOCAL_OBSERVABILITY_BATCH_SIZE and BENCH_STATE_DIR (see below). Needs `npm run build`.
 *
 * Each workload starts once the server has settled after its setup (`workerdSettled`), for
 * both servers alike.
 */

import { existsSync, statfsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  acceptingAgent,
  nodeSockets,
  type Participant,
  participant,
  signIn,
  startChats,
  until,
} from "../test/helpers/desk-clients.ts";
import { type DevServer, migratedState, startDevServer } from "../test/helpers/dev-server.ts";
import { startCpuProfile } from "./cpu-profile.ts";
import { drive, type Result, report } from "./latency-lanes.ts";
import { machine, percentile } from "./stats.ts";
import { freePort, startBenchWorker } from "./worker-process.ts";

/**
 * wrangler dev's local trace collector (on by default, in the same workerd thread as the
 * servers) keeps the finished spans of every invocation in one batch, up to 20,480 rows, and
 * writes the batch to its SQLite store whenever an invocation ends. The relay's invocations
 * end with every message, so it writes tiny batches. A chat socket of Parley's is one long
 * invocation: its spans pile up until something else ends (the Dispatcher's 5-second session
 * check), and that one write of thousands of rows held the thread 60–90 ms, every 5 seconds —
 * a cost of the local collector's batching, not of either server (production collects traces
 * off the request path). A bounded batch spreads the same writes out; both servers run with
 * it, and `X_LOCAL_OBSERVABILITY_BATCH_SIZE=20480 npm run bench` measures wrangler's default.
 */
process.env.X_LOCAL_OBSERVABILITY_BATCH_SIZE ??= "500";

/**
 * Where both servers keep their local state (Durable Object and D1 SQLite files, wrangler's
 * trace store): a RAM disk by default. Locally, workerd commits every storage write with an
 * `fsync` on the isolate's only thread (strace shows it), so each chat message's commit
 * stops every object on the machine for as long as the disk takes to flush; on this shared
 * VM's virtual disk that made the disk, not the servers, the limit (Parley at C = 300:
 * p50 684 ms at 0.73 cores). Production Durable Objects and D1 confirm a write by
 * replicating it to other machines, with no `fsync` on the thread; the output gate holds only
 * that object's outgoing messages meanwhile, a wait this local bench cannot measure.
 * `BENCH_STATE_DIR=/tmp npm run bench` measures the disk.
 */
const STATE_DIR = process.env.BENCH_STATE_DIR ?? ramDisk() ?? tmpdir();

/** `/dev/shm` when it exists with room for a search's state (containers often give it 64 MB). */
function ramDisk(): string | undefined {
  if (!existsSync("/dev/shm")) return undefined;
  const { bavail, bsize } = statfsSync("/dev/shm");
  return bavail * bsize >= 2 ** 30 ? "/dev/shm" : undefined;
}

const CHATS = Number(process.env.BENCH_CHATS ?? 50);
const PERIOD_MS = Number(process.env.BENCH_PERIOD_MS ?? 1000);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const MONITORS = Number(process.env.BENCH_MONITORS ?? 20);
const PROFILE = process.env.BENCH_PROFILE === "1";
const PACE = { periodMs: PERIOD_MS, seconds: SECONDS };
const PASSWORD = "bench chat passphrase 5";
/** A message's id from its text (`bench <id>`). */
const idOf = (text: string | undefined) => text?.slice("bench ".length) ?? "";

// ── Parley ─────────────────────────────────────────────────────────────────────

async function parleyW1(server: DevServer, cookies: string[], chats: number): Promise<Result> {
  const agents = await Promise.all(cookies.map((cookie) => acceptingAgent(server, cookie)));
  const started = await startChats(server, chats);
  await until("every chat assigned", () =>
    started.every((c) => agents.some((a) => a.chats.has(c.chatId))),
  );
  const pairs = started.map(({ chatId, token }, i) => {
    const owner = agents.find((a) => a.chats.has(chatId))?.cookie ?? "";
    return [
      participant(server, `visitor ${i}`, `/api/visitor/chats/${chatId}/ws`, { token }),
      participant(server, `agent ${i}`, `/api/agent/chats/${chatId}/ws`, { cookie: owner }),
    ] as const;
  });
  const all = pairs.flat();
  await until("every participant greeted", () => all.every((p) => p.events.length > 0));
  const lanes = all.map((p) => ({
    send: (id: string) => p.connection.send(`bench ${id}`),
    receivers: 1,
  }));
  const result = await drive(
    lanes,
    (arrived) => {
      for (const [visitor, agent] of pairs) {
        visitor.onEvent = (e) => e.from.role === "agent" && arrived(idOf(e.text));
        agent.onEvent = (e) => e.from.role === "visitor" && arrived(idOf(e.text));
      }
    },
    PACE,
  );
  // End the chats (frees the agents' capacity for a next run), then leave.
  for (const [visitor] of pairs) visitor.connection.end();
  await until("every chat ended", () => all.every((p) => p.events.some((e) => e.kind === "ended")));
  for (const p of all) p.connection.close();
  for (const a of agents) a.close();
  return result;
}

async function parleyW2(server: DevServer, agentCookie: string, supervisorCookie: string) {
  const agent = await acceptingAgent(server, agentCookie);
  const [chat] = await startChats(server, 1);
  if (!chat) throw new Error("no chat");
  await until("the chat assigned", () => agent.chats.has(chat.chatId));
  const path = `/api/agent/chats/${chat.chatId}/ws`;
  const sender = participant(server, "agent", path, { cookie: agentCookie });
  const watchers: Participant[] = [
    participant(server, "visitor", `/api/visitor/chats/${chat.chatId}/ws`, chat),
    ...Array.from({ length: MONITORS }, (_, i) =>
      participant(server, `monitor ${i}`, `${path}?mode=monitor`, { cookie: supervisorCookie }),
    ),
  ];
  await until("every watcher greeted", () => watchers.every((w) => w.events.length > 0));
  const lane = {
    send: (id: string) => sender.connection.send(`bench ${id}`),
    receivers: watchers.length,
  };
  const result = await drive(
    [lane],
    (arrived) => {
      for (const w of watchers) w.onEvent = (e) => e.kind === "message" && arrived(idOf(e.text));
    },
    PACE,
  );
  for (const p of [sender, ...watchers]) p.connection.close();
  agent.close();
  return result;
}

// ── The relays ─────────────────────────────────────────────────────────────────

/** `rooms` is the relay's rooms URL: `ws://…/rooms` (bare) or `ws://…/stored-rooms`. */
async function relaySocket(rooms: string, room: string, onId: (id: string) => void) {
  const socket = nodeSockets({})(`${rooms}/${room}`, []);
  socket.onmessage = (e) => onId(String(e.data));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error("relay socket failed"));
  });
  return socket;
}

async function relayW1(rooms: string, chats: number): Promise<Result> {
  let arrived: (id: string) => void = () => undefined;
  const sockets = await Promise.all(
    Array.from({ length: chats * 2 }, (_, i) =>
      relaySocket(rooms, `chat-${Math.floor(i / 2)}`, (id) => arrived(id)),
    ),
  );
  const lanes = sockets.map((s) => ({ send: (id: string) => s.send(id), receivers: 1 }));
  const result = await drive(lanes, (a) => (arrived = a), PACE);
  for (const s of sockets) s.close();
  return result;
}

async function relayW2(rooms: string): Promise<Result> {
  let arrived: (id: string) => void = () => undefined;
  const sender = await relaySocket(rooms, "fanout", () => undefined);
  const watchers = await Promise.all(
    Array.from({ length: MONITORS + 1 }, () => relaySocket(rooms, "fanout", (id) => arrived(id))),
  );
  const lane = { send: (id: string) => sender.send(id), receivers: watchers.length };
  const result = await drive([lane], (a) => (arrived = a), PACE);
  for (const s of [sender, ...watchers]) s.close();
  return result;
}

// ── Run ────────────────────────────────────────────────────────────────────────

/**
 * W1 at each C of BENCH_SEARCH, ascending (target b): for Parley and the relay, the largest C
 * up to which every step kept p99 under 100 ms with nothing lost. A step that fails is run
 * once more, for each side alike: on a shared machine one stall of another job can push a
 * 10-second run's p99 over the line (the relay's too), and that is not the server's capacity.
 * Stops once both failed.
 */
async function search(server: DevServer, cookies: string[], relayRooms: string, steps: number[]) {
  const best = { parley: 0, relay: 0 };
  const passing = { parley: true, relay: true };
  const within = (r: Result) => r.lost === 0 && percentile(r.latencies, 99) < 100;
  const step = async (name: string, run: () => Promise<Result>) => {
    const first = await run();
    if (within(first)) return first;
    console.log(
      `  (${name} over the line, p99 ${percentile(first.latencies, 99).toFixed(1)} ms: once more)`,
    );
    return run();
  };
  for (const chats of steps) {
    const parley = passing.parley
      ? await step("Parley", () => parleyW1(server, cookies, chats))
      : await parleyW1(server, cookies, chats);
    const relay = passing.relay
      ? await step("relay", () => relayW1(relayRooms, chats))
      : await relayW1(relayRooms, chats);
    report(`W1 search: C=${chats}`, parley, relay);
    passing.parley &&= within(parley);
    passing.relay &&= within(relay);
    if (passing.parley) best.parley = chats;
    if (passing.relay) best.relay = chats;
    if (!passing.parley && !passing.relay) break;
  }
  console.log(
    `Largest C with p99 < 100 ms and nothing lost: Parley ${best.parley}, relay ${best.relay}` +
      ` (ratio ${(best.parley / Math.max(best.relay, 1)).toFixed(2)}; steps ${steps.join(", ")})`,
  );
}

const SEARCH = (process.env.BENCH_SEARCH ?? "")
  .split(",")
  .filter((step) => step.trim() !== "")
  .map((step) => {
    const chats = Number(step);
    if (!Number.isInteger(chats) || chats < 1) {
      throw new Error(`BENCH_SEARCH takes chat counts, e.g. 50,100,200 (got "${step}")`);
    }
    return chats;
  })
  .sort((a, b) => a - b);
const MOST_CHATS = Math.max(CHATS, ...SEARCH);

console.log(`Machine: ${machine()}`);
console.log(
  `wrangler dev's local trace batch: ${process.env.X_LOCAL_OBSERVABILITY_BATCH_SIZE} rows (X_LOCAL_OBSERVABILITY_BATCH_SIZE)`,
);
console.log(`Local state of both servers under ${STATE_DIR} (BENCH_STATE_DIR)`);
console.log(
  SEARCH.length > 0
    ? `W1 at C = ${SEARCH.join(", ")} chats, P=${PERIOD_MS} ms, D=${SECONDS} s\n`
    : `C=${CHATS} chats, P=${PERIOD_MS} ms, D=${SECONDS} s, N=${MONITORS} monitors (W2)\n`,
);
const relayState = await mkdtemp(join(STATE_DIR, "parley-bench-relay-"));
const relay = await startBenchWorker("bench/relay-worker/wrangler.toml", "/", relayState);
const inspectorPort = await freePort();
const persistTo = await migratedState("parley-bench-", STATE_DIR);
const server = await startDevServer({
  vars: {
    AGENT_MAX_CHATS: "50",
    AGENT_RECONNECT_GRACE_SECONDS: "600",
    // Every chat starts from 127.0.0.1; a search step and its rerun start 2 C within a minute.
    RATE_CHAT_START_PER_IP_PER_MINUTE: String(Math.max(1000, 3 * MOST_CHATS)),
  },
  inspectorPort,
  persistTo,
});
try {
  const cookies: string[] = [];
  for (let i = 0; i < Math.ceil(MOST_CHATS / 50); i++) {
    const email = `bench${i}@example.com`;
    await server.createAgent({ email, name: `Bench Agent ${i}`, password: PASSWORD });
    cookies.push(await signIn(server, email, PASSWORD));
  }
  const supervisor = "supervisor@example.com";
  await server.createAgent({
    email: supervisor,
    name: "Bench Supervisor",
    password: PASSWORD,
    role: "supervisor",
  });
  const relayWs = relay.origin.replace(/^http/, "ws");
  const [bare, storing] = [`${relayWs}/rooms`, `${relayWs}/stored-rooms`];
  if (SEARCH.length > 0) {
    await search(server, cookies, bare, SEARCH);
  } else {
    const profiler = PROFILE ? await startCpuProfile(inspectorPort) : undefined;
    const w1 = await parleyW1(server, cookies.slice(0, Math.ceil(CHATS / 50)), CHATS);
    if (profiler) console.log(`Saved ${await profiler.stop()}\n`);
    report(
      `W1: ${CHATS} concurrent 1:1 chats, both sides sending`,
      w1,
      await relayW1(bare, CHATS),
      await relayW1(storing, CHATS),
    );
    // A fresh agent for W2 (W1's agents may still be finishing their chats).
    await server.createAgent({
      email: "fanout@example.com",
      name: "Fanout Agent",
      password: PASSWORD,
    });
    const w2Agent = await signIn(server, "fanout@example.com", PASSWORD);
    report(
      `W2: one chat, ${MONITORS} monitors + the visitor (latency to the last receiver)`,
      await parleyW2(server, w2Agent, await signIn(server, supervisor, PASSWORD)),
      await relayW2(bare),
      await relayW2(storing),
    );
  }
} finally {
  await server.stop();
  relay.stop();
  await rm(persistTo, { recursive: true, force: true });
  await rm(relayState, { recursive: true, force: true, maxRetries: 5 });
}
