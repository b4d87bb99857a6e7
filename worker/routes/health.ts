/**
 * Liveness and readiness for uptime monitors: D1 answers `SELECT 1`, and a round trip to the
 * Durable Objects every chat needs (the Dispatcher) and every audited action needs (the audit
 * writer). Both report their backlog, what waits for D1 while it refuses writes (0 when
 * healthy): the writer its audit rows, the Dispatcher the chats whose events wait in their
 * ChatSessions.
 * Each check is timed and given CHECK_TIMEOUT_MS. A failed or slow check answers
 * `503 {"status":"degraded"}` naming it; the body never holds an error's text (it is logged).
 */
import { Hono } from "hono";
import { getAuditLog } from "../../durable-objects/audit-log.ts";
import { getDispatcher } from "../../durable-objects/dispatcher.ts";
import type { ChatBacklog } from "../../durable-objects/flush-backlog.ts";
import { log } from "../../src/observability/log.ts";
import type { AppEnv } from "../app-env.ts";
import { publicRoute } from "../middleware/access.ts";

/** Longer than this and a check counts as failed: a monitor should not wait on a hung D1. */
export const CHECK_TIMEOUT_MS = 2000;

/** One check's outcome, as answered. */
export type CheckResult =
  | { ok: true; ms: number }
  | { ok: false; ms: number; error: "failed" | "timeout" };

/** `GET /healthz` response body (200 when `ok`, 503 when `degraded`). */
export interface HealthResponse {
  status: "ok" | "degraded";
  d1: CheckResult;
  durableObjects: CheckResult;
  /** Audit rows the writer holds for D1; null when the writer did not answer. */
  auditBacklog: number | null;
  /** Chats whose events wait for D1 in their ChatSession; null when no answer. */
  chatBacklog: ChatBacklog | null;
}

const TIMED_OUT = Symbol("timed out");

/** Runs `check` against the timeout; logs a failure (with its error) under `name`. */
async function timed<T>(
  name: string,
  requestId: string,
  check: () => Promise<T>,
): Promise<{ result: CheckResult; value: T | null }> {
  const started = Date.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), CHECK_TIMEOUT_MS);
  });
  try {
    const value = await Promise.race([check(), timeout]);
    const ms = Date.now() - started;
    if (value === TIMED_OUT) {
      log.error("healthz: check timed out", { requestId, check: name, ms });
      return { result: { ok: false, ms, error: "timeout" }, value: null };
    }
    return { result: { ok: true, ms }, value };
  } catch (error) {
    const ms = Date.now() - started;
    log.error("healthz: check failed", { requestId, check: name, ms, error });
    return { result: { ok: false, ms, error: "failed" }, value: null };
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes = new Hono<AppEnv>();

healthRoutes.get("/", publicRoute(), async (c) => {
  const requestId = c.var.requestId;
  const [d1, objects] = await Promise.all([
    timed("d1", requestId, () => c.env.DB.prepare("SELECT 1").first()),
    timed("durableObjects", requestId, async () => {
      const [audit, chats] = await Promise.all([
        getAuditLog(c.env).backlog(),
        getDispatcher(c.env).chatBacklog(),
      ]);
      return { audit, chats };
    }),
  ]);
  const ok = d1.result.ok && objects.result.ok;
  const body: HealthResponse = {
    status: ok ? "ok" : "degraded",
    d1: d1.result,
    durableObjects: objects.result,
    auditBacklog: objects.value?.audit ?? null,
    chatBacklog: objects.value?.chats ?? null,
  };
  return c.json(body, ok ? 200 : 503);
});
