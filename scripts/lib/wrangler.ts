/** Runs the project's own wrangler (never a global one) from the project root, offline-friendly. */
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (wrangler.toml lives here). */
export const PROJECT_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Path of wrangler's JS entry point, run with this very Node (wrangler needs Node 22+). */
export function wranglerEntry(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve("wrangler/package.json")), "bin", "wrangler.js");
}

/**
 * The environment for wrangler: no request to Cloudflare for `request.cf` data and no metrics,
 * so local commands work offline.
 */
export function wranglerEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CLOUDFLARE_CF_FETCH_ENABLED: "false",
    WRANGLER_SEND_METRICS: "false",
    ...extra,
  };
}

/** For one-shot commands: CI=true makes wrangler take the default answer of every prompt. */
const BATCH_ENV = wranglerEnv({ CI: "true" });

/** Starts wrangler with the given arguments (cwd: the project root). */
export function spawnWrangler(args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(process.execPath, [wranglerEntry(), ...args], {
    cwd: PROJECT_ROOT,
    env: wranglerEnv(),
    ...options,
  });
}

/** What a finished wrangler run printed. */
export interface WranglerResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs wrangler to completion with stdin closed, capturing its output. */
export function runWrangler(args: string[]): Promise<WranglerResult> {
  return new Promise((resolve, reject) => {
    const child = spawnWrangler(args, { stdio: ["ignore", "pipe", "pipe"], env: BATCH_ENV });
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Runs wrangler with stdin closed and its output shown to the user; resolves its exit code. */
export function runWranglerInteractive(args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnWrangler(args, { stdio: ["ignore", "inherit", "inherit"], env: BATCH_ENV });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
