/**
 * Security alerts (issue 9, monitoring and incident response; PCI DSS 4.0.1 10.7, 12.10.5):
 * a burst of failed logins, lockouts or IP-allowlist denials, and a broken audit chain, raise
 * an alert that is logged, audited and — with ALERT_WEBHOOK_URL — POSTed, signed
 * (src/security/alerts.ts), to the operator's receiver.
 *
 * Counting reuses the RateLimiter object's exact sliding window, one object per deployment
 * name and event type: `take(threshold, window)` is refused from the event that goes over the
 * threshold on, and a second window of limit 1 lets only the first of those refusals raise
 * the alert. A flood thus gives one alert per window, not one per event; refused takes are
 * not counted, so `count` is the threshold + 1.
 *
 * Everything here runs after the answer (`waitUntil`) and never throws: an alert must never
 * delay or fail the request that caused it.
 */
import type { Context } from "hono";
import { appendAudit } from "../durable-objects/audit-log.ts";
import { getRateLimiter } from "../durable-objects/rate-limiter.ts";
import type { Config } from "../src/config.ts";
import { log } from "../src/observability/log.ts";
import { type AlertPayload, type AlertType, alertHeaders } from "../src/security/alerts.ts";
import type { AuditChainProblem } from "../src/security/audit-chain.ts";
import type { AppEnv } from "./app-env.ts";
import type { Env } from "./env.ts";
import { MINUTE_MS } from "./middleware/rate-limit.ts";

/** How long the receiver has to answer before the alert counts as failed. */
export const ALERT_TIMEOUT_MS = 5000;

type AlertSettings = Config["alerts"];

/** The counted events: the setting that holds the threshold, and the window. */
const BURSTS = {
  failed_logins: {
    threshold: (a: AlertSettings) => a.failedLoginsPer5Min,
    windowMs: 5 * MINUTE_MS,
  },
  lockouts: { threshold: (a: AlertSettings) => a.lockoutsPerHour, windowMs: 60 * MINUTE_MS },
  ip_denials: { threshold: (a: AlertSettings) => a.ipDenialsPer5Min, windowMs: 5 * MINUTE_MS },
};

/** Each verification finds a broken chain again: alert at most once an hour. */
const CHAIN_ALERT_WINDOW_MS = 60 * MINUTE_MS;

export type BurstType = keyof typeof BURSTS;

/** Counts one security event of the request, after the answer (see the module comment). */
export function countSecurityEvent(c: Context<AppEnv>, type: BurstType): void {
  c.executionCtx.waitUntil(countEvent(c.env, c.var.config, type));
}

/** Raises `audit_chain_broken` (at most once an hour). Never throws. */
export async function alertChainBroken(
  env: Env,
  config: Config,
  problem: AuditChainProblem,
): Promise<void> {
  try {
    if (!(await firstInWindow(env, config, "audit_chain_broken", CHAIN_ALERT_WINDOW_MS))) return;
    await raiseAlert(env, config, {
      type: "audit_chain_broken",
      count: 1,
      window: CHAIN_ALERT_WINDOW_MS / 1000,
      problem: { id: problem.id, kind: problem.problem },
    });
  } catch (error) {
    log.error("alert: raising failed", { type: "audit_chain_broken", error });
  }
}

async function countEvent(env: Env, config: Config, type: BurstType): Promise<void> {
  try {
    const { threshold, windowMs } = BURSTS[type];
    const limit = threshold(config.alerts);
    const counted = await getRateLimiter(env, "alert", counterKey(config, type)).take(
      limit,
      windowMs,
    );
    if (counted.allowed) return;
    if (!(await firstInWindow(env, config, type, windowMs))) return;
    await raiseAlert(env, config, { type, count: limit + 1, window: windowMs / 1000 });
  } catch (error) {
    log.error("alert: counting failed", { type, error });
  }
}

/**
 * Counters are keyed by the deployment name as well as the type (a rename starts them afresh;
 * the tests, which share objects, give each case a name of its own).
 */
function counterKey(config: Config, type: AlertType): string {
  return config.alerts.deployment ? `${config.alerts.deployment}:${type}` : type;
}

/** True for the first call per window: that one raises the alert, later ones stay quiet. */
async function firstInWindow(
  env: Env,
  config: Config,
  type: AlertType,
  windowMs: number,
): Promise<boolean> {
  const sent = await getRateLimiter(env, "alert-raised", counterKey(config, type)).take(
    1,
    windowMs,
  );
  return sent.allowed;
}

/** Logs, sends (with a webhook) and audits one alert. */
async function raiseAlert(
  env: Env,
  config: Config,
  alert: Pick<AlertPayload, "type" | "count" | "window" | "problem">,
): Promise<void> {
  const now = Date.now();
  const { webhook, deployment } = config.alerts;
  const payload: AlertPayload = {
    type: alert.type,
    count: alert.count,
    window: alert.window,
    at: new Date(now).toISOString(),
    ...(deployment ? { deployment } : {}),
    ...(alert.problem ? { problem: alert.problem } : {}),
  };
  const delivery = webhook ? await deliver(webhook, payload, now) : null;
  const details = {
    count: payload.count,
    window: payload.window,
    ...(deployment ? { deployment } : {}),
    ...(payload.problem ? { problem: payload.problem } : {}),
    ...delivery,
  };
  let action: string;
  if (delivery === null) {
    action = "alert.logged";
    log.warn("security alert", { ...payload, delivery: "log" });
  } else if (delivery.ok) {
    action = "alert.sent";
    log.warn("security alert", { ...payload, delivery: "webhook", status: delivery.status });
  } else {
    action = "alert.failed";
    log.error("security alert: webhook failed", { ...payload, reason: delivery.reason });
  }
  await appendAudit(env, {
    actorType: "system",
    actorId: null,
    action,
    target: payload.type,
    outcome: delivery === null || delivery.ok ? "success" : "failure",
    ip: null,
    userAgent: null,
    details,
    at: now,
  });
}

type Delivery = { ok: true; status: number } | { ok: false; reason: string };

/**
 * POSTs the alert. The URL is never logged (a Slack-style URL is itself a secret), nor is a
 * network error's text, which could quote it: the reason is `status N`, `timeout` or the
 * error's name.
 */
async function deliver(
  webhook: NonNullable<AlertSettings["webhook"]>,
  payload: AlertPayload,
  now: number,
): Promise<Delivery> {
  const body = JSON.stringify(payload);
  try {
    const res = await fetch(webhook.url, {
      method: "POST",
      headers: await alertHeaders(webhook.secret, body, now),
      body,
      // A redirect would take the signed alert somewhere nobody configured.
      redirect: "manual",
      signal: AbortSignal.timeout(ALERT_TIMEOUT_MS),
    });
    await res.body?.cancel();
    return res.ok
      ? { ok: true, status: res.status }
      : { ok: false, reason: `status ${res.status}` };
  } catch (error) {
    const name = error instanceof Error ? error.name : "Error";
    return { ok: false, reason: name === "TimeoutError" ? "timeout" : name };
  }
}
