/** Runs a bench-only Worker (`bench/<name>/wrangler.toml`) under `wrangler dev` on loopback. */
import { createServer } from "node:net";
import { spawnWrangler } from "../scripts/lib/wrangler.ts";

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface BenchWorker {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string;
  stop(): void;
}

/**
 * Starts the Worker of `config` and waits until `readyPath` answers 200. Its local state goes
 * to `persistTo` when given (else wrangler's default, `.wrangler/state` beside the config).
 */
export async function startBenchWorker(
  config: string,
  readyPath = "/",
  persistTo?: string,
): Promise<BenchWorker> {
  const port = await freePort();
  const child = spawnWrangler(
    [
      "dev",
      "--config",
      config,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      ...(persistTo ? ["--persist-to", persistTo] : []),
      "--show-interactive-dev-session=false",
    ],
    { stdio: "ignore", detached: true },
  );
  const origin = `http://127.0.0.1:${port}`;
  const stop = () => {
    if (child.pid && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
  };
  for (let i = 0; i < 400; i++) {
    if (child.exitCode !== null) throw new Error(`bench worker ${config} exited`);
    try {
      if ((await fetch(`${origin}${readyPath}`)).ok) return { origin, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  stop();
  throw new Error(`bench worker ${config} did not start`);
}
