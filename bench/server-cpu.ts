/**
 * CPU time used by the `workerd` processes of this machine (Linux `/proc`), for the chat
 * bench: latency on a shared 2-core VM swings with other jobs, while the CPU a server spends
 * per message does not, so it is the figure to compare changes and servers by. The bench runs
 * one server at a time, so the processes' total over a workload is that server's.
 */
import { readdir, readFile } from "node:fs/promises";

/** Clock ticks per second of `/proc/<pid>/stat` (USER_HZ, 100 on every Linux build we use). */
const TICKS_PER_SECOND = 100;

/** Seconds of CPU (user + system) used so far by every live `workerd` process. */
export async function workerdCpuSeconds(): Promise<number> {
  let ticks = 0;
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid …": comm may hold spaces, so split after its closing parenthesis.
    const close = stat.lastIndexOf(")");
    if (stat.slice(stat.indexOf("(") + 1, close) !== "workerd") continue;
    const fields = stat.slice(close + 2).split(" ");
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after "(comm) ".
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS_PER_SECOND;
}

/** A server counts as settled once its `workerd` processes use less than this of a core… */
const SETTLED_CORES = 0.15;
/** …over this window. */
const SETTLE_WINDOW_MS = 500;

/**
 * Waits until the server has finished the work its setup started (starting C chats leaves
 * D1 writes, audit rows and first flushes running for a second or two): until its `workerd`
 * processes used less than SETTLED_CORES over SETTLE_WINDOW_MS, or `maxMs` passed. Returns
 * the seconds waited. Measuring from there times the messages, not the tail of the setup.
 */
export async function workerdSettled(maxMs = 20_000): Promise<number> {
  const start = performance.now();
  let before = await workerdCpuSeconds();
  while (performance.now() - start < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_WINDOW_MS));
    const now = await workerdCpuSeconds();
    if ((now - before) / (SETTLE_WINDOW_MS / 1000) < SETTLED_CORES) break;
    before = now;
  }
  return (performance.now() - start) / 1000;
}
