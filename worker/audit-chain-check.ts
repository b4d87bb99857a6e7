/**
 * Verification of the stored audit chain, for `GET /api/audit/verify` and the cron: the walk
 * of D1 from the latest checkpoint, then the writer's tail check (rows cut from the end). A
 * break raises the `audit_chain_broken` alert.
 */
import { getAuditLog } from "../durable-objects/audit-log.ts";
import type { Config } from "../src/config.ts";
import { log } from "../src/observability/log.ts";
import {
  type AuditChainResult,
  checkWriterTail,
  verifyAuditChain,
} from "../src/security/audit-chain.ts";
import { readAuditRowHash, readAuditRows, readLatestCheckpoint } from "../src/store/audit.ts";
import { alertChainBroken } from "./alerts.ts";
import type { Env } from "./env.ts";

/** Rows per D1 query (D1 allows 1,000 queries per invocation: 5 million rows). */
const VERIFY_PAGE = 5000;

/**
 * The cron verifies the chain every this many hours (at 00:07, 06:07, 12:07 and 18:07 UTC):
 * about 1.5 s of CPU per 100,000 rows, so hourly would spend a lot for little. An auditor's
 * `GET /api/audit/verify` checks it on demand in between.
 */
export const CHAIN_CHECK_EVERY_HOURS = 6;

/** Walks the whole stored chain; the result names the first problem, if any. */
export async function verifyStoredAuditChain(env: Env): Promise<AuditChainResult> {
  const db = env.DB;
  const walked = await verifyAuditChain(
    {
      latestCheckpoint: () => readLatestCheckpoint(db),
      page: (afterId, limit) => readAuditRows(db, afterId, limit),
    },
    VERIFY_PAGE,
  );
  const lastAppended = await getAuditLog(env).lastAppended();
  return checkWriterTail(
    walked,
    lastAppended,
    lastAppended ? await readAuditRowHash(db, lastAppended.id) : null,
  );
}

/**
 * The cron's check: on its hours, verifies the chain and alerts on a break. Never throws, so
 * a failing D1 read does not stop the cron's other work.
 */
export async function scheduledChainCheck(env: Env, config: Config, now: number): Promise<void> {
  if (new Date(now).getUTCHours() % CHAIN_CHECK_EVERY_HOURS !== 0) return;
  try {
    const result = await verifyStoredAuditChain(env);
    if (result.problem) await alertChainBroken(env, config, result.problem);
    else log.info("audit chain verified", { checked: result.checked });
  } catch (error) {
    log.error("audit chain check failed", { error });
  }
}
