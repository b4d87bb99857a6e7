/**
 * The Worker's cron handler (wrangler.toml `[triggers]`): disables accounts inactive for
 * ACCOUNT_INACTIVE_DAYS (their sockets then close within 5 s, see session-activity.ts) and
 * purges expired login state; purges transcripts, offline messages and audit rows past their
 * retention (src/store/retention.ts), and visitor profiles unseen for longer than a presence
 * token lives; every few hours it verifies the audit chain (an alert on
 * a break, audit-chain-check.ts). Idempotent: running it twice changes nothing more.
 */

import { appendAudit, getAuditLog } from "../durable-objects/audit-log.ts";
import { eraseChatCopies } from "../durable-objects/chat-erase.ts";
import { type Config, ConfigError, parseConfig } from "../src/config.ts";
import { log } from "../src/observability/log.ts";
import { PRESENCE_TOKEN_SECONDS } from "../src/security/tokens.ts";
import { disableInactiveAgents, purgeLoginState } from "../src/store/maintenance.ts";
import { purgeTranscripts } from "../src/store/retention.ts";
import { purgeStaleProfiles } from "../src/store/visitor-profiles.ts";
import { scheduledChainCheck } from "./audit-chain-check.ts";
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
  await purgeExpired(env, config, now);
  await scheduledChainCheck(env, config, now);
}

/**
 * The retention purges (0 days = keep forever), and that of visitor profiles no presence token
 * can name any more. Each is bounded per run and logs its own failure instead of throwing, so
 * one never stops the others or the chain check.
 */
async function purgeExpired(env: Env, config: Config, now: number): Promise<void> {
  const { transcriptMs, auditMs } = config.retention;
  if (transcriptMs > 0) {
    const cutoff = now - transcriptMs;
    try {
      const { chatIds, ...purged } = await purgeTranscripts(env.DB, cutoff);
      // Their ChatSessions' own copies go too: chats that ended before the erase alarm
      // existed still hold one. A failure is logged and shows in the audit row's counts.
      const failed = await eraseChatCopies(env, chatIds);
      if (failed.length > 0) log.error("erasing purged chats' own copies failed", { failed });
      if (purged.chats + purged.offlineMessages > 0) {
        await appendAudit(env, {
          actorType: "system",
          actorId: null,
          action: "retention.purge",
          target: null,
          outcome: "success",
          ip: null,
          userAgent: null,
          details: { ...purged, cutoff, copiesErased: chatIds.length - failed.length },
          at: now,
        });
      }
    } catch (error) {
      log.error("transcript retention purge failed", { error });
    }
  }
  // Not a setting: a profile is useless once no presence token can name its visitor.
  try {
    const cutoff = now - PRESENCE_TOKEN_SECONDS * 1000;
    const profiles = await purgeStaleProfiles(env.DB, cutoff);
    if (profiles > 0) {
      await appendAudit(env, {
        actorType: "system",
        actorId: null,
        action: "retention.visitor_profiles",
        target: null,
        outcome: "success",
        ip: null,
        userAgent: null,
        details: { profiles, cutoff },
        at: now,
      });
    }
  } catch (error) {
    log.error("visitor profile purge failed", { error });
  }
  if (auditMs > 0) {
    try {
      await getAuditLog(env).purgeBefore(now - auditMs, now);
    } catch (error) {
      log.error("audit retention purge failed", { error });
    }
  }
}
