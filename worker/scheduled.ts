/**
 * The Worker's cron handler (wrangler.toml `[triggers]`): disables accounts inactive for
 * ACCOUNT_INACTIVE_DAYS (their sockets then close within 5 s, see session-activity.ts) and
 * purges expired login state. Idempotent: running it twice changes nothing more.
 */

import { appendAudit } from "../durable-objects/audit-log.ts";
import { ConfigError, parseConfig } from "../src/config.ts";
import { disableInactiveAgents, purgeLoginState } from "../src/store/maintenance.ts";
import type { Env } from "./env.ts";

/** Runs the periodic housekeeping. */
export async function runScheduled(env: Env, now = Date.now()): Promise<void> {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(env as unknown as Record<string, unknown>);
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`[parley] scheduled: ${error.message}`);
      return;
    }
    throw error;
  }
  const disabled = await disableInactiveAgents(env.DB, now - config.accountInactiveMs, now);
  for (const id of disabled) {
    await appendAudit(env, {
      actorType: "system",
      actorId: null,
      action: "agent.disable_inactive",
      target: id,
      outcome: "success",
      ip: null,
      userAgent: null,
      details: { inactiveDays: Math.round(config.accountInactiveMs / 86_400_000) },
      at: now,
    });
  }
  await purgeLoginState(env.DB, now);
}
