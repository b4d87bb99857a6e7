/**
 * Starts the whole system the way `npm start` does — `wrangler dev` (workerd) with D1 and
 * the Durable Objects — on a free loopback port with its own fresh state folder.
 */
import type { ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAgent } from "../../scripts/lib/agents.ts";
import { d1Query, type Row } from "../../scripts/lib/d1.ts";
import { runWrangler, spawnWrangler } from "../../scripts/lib/wrangler.ts";

export interface DevServer {
  /** e.g. `http://127.0.0.1:41234` */
  origin: string;
  /** e.g. `ws://127.0.0.1:41234` */
  wsOrigin: string;
  persistTo: string;
  /** Creates an agent through the admin CLI's code path; returns its id. */
  createAgent(options: {
    email: string;
    name: string;
    password: string;
    role?: string;
  }): Promise<string>;
  /** Runs SQL against the server's local D1. */
  query(sql: string): Promise<Row[]>;
  /** Output captured so far (for failure messages). */
  logs(): string;
  /**
   * Kills the wrangler dev process and starts it again on the same port with the same state
   * folder and keys, as a deploy or a crash would: sockets drop, sessions and chats survive.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function waitForHealth(
  origin: string,
  child: ChildProcess,
  logs: () => string,
): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited:\n${logs()}`);
    try {
      // Bounded: whatever else holds the port may accept and never answer.
      const res = await fetch(`${origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`wrangler dev did not become healthy:\n${logs()}`);
}

export interface DevServerOptions {
  /**
   * An existing state folder with the migrations applied (e.g. seeded by the caller, see
   * `migratedState`); it is left in place by `stop()`. Default: a fresh one, removed by `stop()`.
   */
  persistTo?: string;
  /**
   * Extra `--var NAME:value` bindings, e.g. `{ ALTCHA_MAX_COUNTER: "50" }` for a quick CAPTCHA.
   * They override `wrangler.toml` (and the generated keys, if named).
   */
  vars?: Record<string, string>;
  /** The DevTools inspector port (e.g. for `BENCH_PROFILE`); default: any free port. */
  inspectorPort?: number;
}

/**
 * A fresh local state folder (under `parent`, the temporary directory by default) with every
 * migration applied to its D1 database: what the CLI tests and the benchmarks run against.
 * The caller removes it.
 */
export async function migratedState(prefix = "parley-e2e-", parent = tmpdir()): Promise<string> {
  const persistTo = await mkdtemp(join(parent, prefix));
  const migrated = await runWrangler([
    ...["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo],
  ]);
  if (migrated.code !== 0) {
    await rm(persistTo, { recursive: true, force: true });
    throw new Error(`migrations failed:\n${migrated.stdout}\n${migrated.stderr}`);
  }
  return persistTo;
}

/**
 * Every e2e client is 127.0.0.1 (wrangler dev sets CF-Connecting-IP), so per-IP limits
 * would couple unrelated tests; the limits themselves are proven in the worker tests and a
 * test may set these back through `vars`.
 */
const E2E_RATE_LIMITS: Record<string, string> = {
  RATE_CHAT_START_PER_IP_PER_MINUTE: "1000",
  RATE_LOGIN_PER_IP_PER_MINUTE: "1000",
  RATE_LOGIN_PER_ACCOUNT_PER_MINUTE: "1000",
  RATE_MESSAGES_PER_SOCKET_PER_10S: "1000",
};

/** Starts a server; call `stop()` when done. Requires `npm run build` first (dist/). */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const persistTo = options.persistTo ?? (await migratedState());
  // Free when asked, but another process (a parallel test's workerd) may take it before
  // wrangler binds it: the first start then tries another (see `start` below).
  let port = await freePort();
  const keys = {
    SESSION_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"),
    CAPTCHA_KEY: Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("base64"),
  };
  const vars = { ...keys, ...E2E_RATE_LIMITS, ...options.vars };
  let output = "";
  const originOf = (p: number) => `http://127.0.0.1:${p}`;
  const logs = () => output;

  const spawn = async (): Promise<ChildProcess> => {
    const child = spawnWrangler(
      [
        "dev",
        "--ip",
        "127.0.0.1",
        "--port",
        String(port),
        "--persist-to",
        persistTo,
        ...Object.entries(vars).flatMap(([name, value]) => ["--var", `${name}:${value}`]),
        "--show-interactive-dev-session=false",
        "--inspector-port",
        String(options.inspectorPort ?? (await freePort())),
      ],
      { stdio: ["ignore", "pipe", "pipe"], detached: true },
    );
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    try {
      await waitForHealth(originOf(port), child, logs);
    } catch (error) {
      if (child.pid) process.kill(-child.pid, "SIGKILL");
      throw error;
    }
    return child;
  };
  const kill = async (child: ChildProcess) => {
    if (!child.pid || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
    if (child.exitCode === null) process.kill(-child.pid, "SIGKILL");
  };

  /**
   * The first start: a port taken between `freePort()` and wrangler's bind (its own or the
   * inspector's) is retried on fresh ports, twice. A restart keeps the port its clients know.
   */
  const start = async (): Promise<ChildProcess> => {
    for (let attempt = 1; ; attempt++) {
      const before = output.length;
      try {
        return await spawn();
      } catch (error) {
        if (attempt >= 3 || !output.slice(before).includes("Address already in use")) throw error;
        port = await freePort();
      }
    }
  };
  let child = await start();
  const origin = originOf(port);
  const target = { remote: false, persistTo };
  return {
    origin,
    wsOrigin: origin.replace(/^http/, "ws"),
    persistTo,
    async createAgent({ email, name, password, role = "agent" }) {
      const created = await createAgent(
        target,
        { email, name, role, departments: [], password },
        {},
      );
      return created.id;
    },
    async query(sql) {
      return d1Query(target, sql);
    },
    logs,
    async restart() {
      await kill(child);
      child = await spawn();
    },
    async stop() {
      await kill(child);
      if (!options.persistTo) await rm(persistTo, { recursive: true, force: true });
    },
  };
}
