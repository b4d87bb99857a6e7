/**
 * The measuring half of `npm run bench` (`chat.ts`): lanes that send on a fixed pace, the
 * latency, loss and CPU figures of one workload, and the report that sets Parley's figures
 * beside the relays' of the same run.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { until } from "../test/helpers/desk-clients.ts";
import { workerdCpuSeconds, workerdSettled } from "./server-cpu.ts";
import { percentile } from "./stats.ts";

/** After the last send, receivers get this long before a message counts as lost. */
const DRAIN_MS = 5000;

/** A sender and the endpoints that must receive what it sends. */
export interface Lane {
  send(id: string): void;
  /** Registers the receivers: `received(id)` is called once per receiver per message. */
  receivers: number;
}

export interface Result {
  latencies: number[];
  sent: number;
  received: number;
  lost: number;
  seconds: number;
  /** The bench process's own event-loop delay (p99, ms): high means the client lagged. */
  clientDelayP99: number;
  /** CPU seconds the server (its workerd processes) used while the lanes sent. */
  serverCpuSeconds: number;
  /** CPU seconds this process (every client of the workload) used meanwhile. */
  clientCpuSeconds: number;
  /** How long the server took to settle after the workload's setup. */
  settledSeconds: number;
}

/** How the lanes send: each every `periodMs`, for `seconds`. */
export interface Pace {
  periodMs: number;
  seconds: number;
}

/**
 * Drives the lanes: each sends every `periodMs` for `seconds` (staggered), and `arrived(id)`
 * records each receipt. For W2 the latency counts at the last receiver.
 */
export async function drive(
  lanes: Lane[],
  wire: (arrived: (id: string) => void) => void,
  { periodMs, seconds: duration }: Pace,
): Promise<Result> {
  const sentAt = new Map<string, number>();
  const pending = new Map<string, number>();
  const latencies: number[] = [];
  let received = 0;
  const settledSeconds = await workerdSettled();
  const clientDelay = monitorEventLoopDelay({ resolution: 5 });
  clientDelay.enable();
  wire((id) => {
    const left = pending.get(id);
    const at = sentAt.get(id);
    if (left === undefined || at === undefined) return;
    received += 1;
    if (left > 1) pending.set(id, left - 1);
    else {
      pending.delete(id);
      latencies.push(performance.now() - at);
    }
  });
  const start = performance.now();
  const cpuAtStart = await workerdCpuSeconds();
  const clientCpuAtStart = process.cpuUsage();
  const rounds = Math.floor((duration * 1000) / periodMs);
  await Promise.all(
    lanes.map(async (lane, l) => {
      await new Promise((resolve) => setTimeout(resolve, (periodMs * l) / lanes.length));
      for (let r = 0; r < rounds; r++) {
        const id = `${l}.${r}`;
        sentAt.set(id, performance.now());
        pending.set(id, lane.receivers);
        lane.send(id);
        await new Promise((resolve) => setTimeout(resolve, periodMs));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  const clientCpu = process.cpuUsage(clientCpuAtStart);
  const serverCpuSeconds = (await workerdCpuSeconds()) - cpuAtStart;
  await until("the drain", () => pending.size === 0, DRAIN_MS).catch(() => undefined);
  clientDelay.disable();
  const clientDelayP99 = clientDelay.percentile(99) / 1e6;
  return {
    latencies,
    sent: sentAt.size,
    received,
    lost: pending.size,
    seconds,
    clientDelayP99,
    serverCpuSeconds,
    clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
    settledSeconds,
  };
}

/**
 * Prints the workload's rows and Parley's ratios to the bare relay (the targets) and,
 * when measured, to the storing relay (what is left once the durable write is in both).
 */
export function report(name: string, ours: Result, relay: Result, storing?: Result): void {
  const ms = (value: number) => `${value.toFixed(1).padStart(7)} ms`;
  const row = (who: string, r: Result) =>
    [
      `  ${who.padEnd(7)}`,
      `p50 ${ms(percentile(r.latencies, 50))}`,
      `p90 ${ms(percentile(r.latencies, 90))}`,
      `p99 ${ms(percentile(r.latencies, 99))}`,
      `max ${ms(Math.max(...r.latencies))}`,
      `${(r.received / r.seconds).toFixed(1).padStart(7)} msg/s`,
      `lost ${r.lost}/${r.sent}`,
      `server CPU ${(r.serverCpuSeconds / r.seconds).toFixed(2)} cores`,
      `${((r.serverCpuSeconds * 1000) / r.sent).toFixed(2)} ms/msg`,
      `client CPU ${(r.clientCpuSeconds / r.seconds).toFixed(2)} cores`,
      `client lag p99 ${r.clientDelayP99.toFixed(1)} ms`,
      `settled in ${r.settledSeconds.toFixed(1)} s`,
    ].join("  ");
  const ratios = (base: string, r: Result) => {
    const at = (p: number) =>
      (percentile(ours.latencies, p) / percentile(r.latencies, p)).toFixed(2);
    const cpu = (ours.serverCpuSeconds / ours.sent / (r.serverCpuSeconds / r.sent)).toFixed(2);
    return `  ratio Parley/${base}: p50 ${at(50)}×  p90 ${at(90)}×  p99 ${at(99)}×  CPU per message ${cpu}×`;
  };
  console.log(`${name}`);
  console.log(row("Parley", ours));
  console.log(row("relay", relay));
  if (storing) console.log(row("storing", storing));
  console.log(ratios("relay", relay));
  if (storing) console.log(ratios("storing relay", storing));
  console.log("");
}
