/**
 * A CPU profile of the Worker under `wrangler dev`, taken through its DevTools inspector
 * (`BENCH_PROFILE=1 npm run bench`): where workerd spends its time while a workload runs.
 * The raw profile is saved for Chrome DevTools; a self-time table is printed.
 */
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket from "ws";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** A running profile; `stop()` saves it, prints the top functions by self time. */
export interface CpuProfiler {
  stop(rows?: number): Promise<string>;
}

/** Starts sampling every Worker behind the inspector at `port`. */
export async function startCpuProfile(port: number): Promise<CpuProfiler> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
  await new Promise((resolve, reject) => {
    socket.once("open", resolve);
    socket.once("error", reject);
  });
  let nextId = 1;
  const call = <T>(method: string, params: object = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(String(data)) as { id?: number; result?: T; error?: unknown };
        if (message.id !== id) return;
        socket.off("message", onMessage);
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as T);
      };
      socket.on("message", onMessage);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 200 });
  await call("Profiler.start");
  return {
    async stop(rows = 30) {
      const { profile } = await call<{ profile: Profile }>("Profiler.stop");
      socket.close();
      const file = join(tmpdir(), `parley-${Date.now()}.cpuprofile`);
      await writeFile(file, JSON.stringify(profile));
      printSelfTime(profile, rows);
      return file;
    },
  };
}

/** Prints the functions with the most self time (µs summed over samples). */
function printSelfTime(profile: Profile, rows: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    const delta = profile.timeDeltas[i] ?? 0;
    total += delta;
    if (!frame) return;
    const file = frame.url.split("/").slice(-2).join("/");
    const key = `${frame.functionName || "(anonymous)"} ${file}:${frame.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + delta);
  });
  console.log(`CPU profile: ${(total / 1e6).toFixed(1)} s sampled`);
  for (const [key, micros] of [...self].sort((a, b) => b[1] - a[1]).slice(0, rows)) {
    console.log(`  ${((100 * micros) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
}
