/** Runs the project's command-line scripts as an operator does: `node scripts/…` from the root. */
import { spawn } from "node:child_process";
import { PROJECT_ROOT } from "../../scripts/lib/wrangler.ts";

/** What a finished script printed, and its exit code. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <script> <args>` with `stdin` piped in (then closed) and captures its output. */
export function runScript(script: string, args: string[], stdin = ""): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      cwd: PROJECT_ROOT,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const run: ScriptRun = { code: null, stdout: "", stderr: "" };
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (run.stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (run.stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ...run, code }));
    child.stdin.end(stdin);
  });
}
