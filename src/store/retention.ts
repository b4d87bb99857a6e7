/**
 * Retention (issue 9, item 3): what the hourly cron purges, and the legal hold that keeps a
 * chat from it. Ended chats and offline messages older than TRANSCRIPT_RETENTION_DAYS go in
 * bounded batches; audit rows older than AUDIT_RETENTION_DAYS go oldest first, through the
 * audit writer (durable-objects/audit-log.ts `purgeBefore`), behind a `retention` checkpoint
 * so the hash chain still verifies (src/security/audit-chain.ts).
 */
import type { LegalHold } from "../protocol/http.ts";
import {
  AuditChainVerifier,
  type AuditRowContent,
  checkpointRow,
} from "../security/audit-chain.ts";
import { auditRowContent, readLatestCheckpoint } from "./audit.ts";

/**
 * Chats, and offline messages, purged per cron run at most: one D1 transaction, so a run stays
 * far inside a Worker's limits (1,000 chats of 50 events each took about 1.5 s in SQLite with a
 * million indexed messages); a backlog is worked off run by run.
 */
export const TRANSCRIPT_PURGE_BATCH = 1000;
/** Audit rows purged per cron run at most (10,000 took about 0.4 s in SQLite). */
export const AUDIT_PURGE_BATCH = 10_000;

// ── Legal hold ────────────────────────────────────────────────────────────────────────────

/** Places or replaces a chat's legal hold; false when there is no such chat. */
export async function placeLegalHold(
  db: D1Database,
  chatId: string,
  hold: LegalHold,
): Promise<boolean> {
  const result = await db
    .prepare(
      `UPDATE chats SET legal_hold_at = ?2, legal_hold_by = ?3, legal_hold_reason = ?4
       WHERE id = ?1`,
    )
    .bind(chatId, hold.at, hold.by, hold.reason)
    .run();
  return result.meta.changes > 0;
}

/** Lifts a chat's legal hold; answers the hold it lifted, or null when there was none. */
export async function releaseLegalHold(db: D1Database, chatId: string): Promise<LegalHold | null> {
  // One transaction: the hold read is the one the UPDATE lifts.
  const [held] = await db.batch([
    db
      .prepare(
        `SELECT legal_hold_at AS at, legal_hold_by AS by, legal_hold_reason AS reason
         FROM chats WHERE id = ?1 AND legal_hold_at IS NOT NULL`,
      )
      .bind(chatId),
    db
      .prepare(
        `UPDATE chats SET legal_hold_at = NULL, legal_hold_by = NULL, legal_hold_reason = NULL
         WHERE id = ?1`,
      )
      .bind(chatId),
  ]);
  return (held?.results[0] as LegalHold | undefined) ?? null;
}

// ── Transcripts ───────────────────────────────────────────────────────────────────────────

/** What one transcript purge removed. */
export interface TranscriptPurge {
  chats: number;
  /** Stored events of those chats (messages, notes, joins, …): rows of `messages`. */
  messages: number;
  offlineMessages: number;
  /** The purged chats' ids (their ChatSessions' own copies are erased next). */
  chatIds: string[];
}

/**
 * Deletes up to `limit` ended or missed chats that ended before `cutoff` and are not on legal
 * hold, with their events (and, by trigger, their keyword index rows), and up to `limit`
 * offline messages created before `cutoff`, with their replies — oldest first, in one
 * transaction. Every statement re-selects the same candidates inside it, so a hold placed
 * meanwhile keeps the chat whole; child rows are deleted explicitly, as in `deleteEndedChat`,
 * so the counts are exact and nothing depends on foreign-key enforcement.
 */
export async function purgeTranscripts(
  db: D1Database,
  cutoff: number,
  limit = TRANSCRIPT_PURGE_BATCH,
): Promise<TranscriptPurge> {
  const chats = `SELECT id FROM chats
    WHERE ended_at < ?1 AND status IN ('ended', 'missed') AND legal_hold_at IS NULL
    ORDER BY ended_at LIMIT ?2`;
  const offline =
    "SELECT id FROM offline_messages WHERE created_at < ?1 ORDER BY created_at LIMIT ?2";
  const statement = (sql: string) => db.prepare(sql).bind(cutoff, limit);
  const [counted, purged] = await db.batch([
    statement(
      `SELECT (SELECT count(*) FROM (${chats})) AS chats,
              (SELECT count(*) FROM messages WHERE chat_id IN (${chats})) AS messages,
              (SELECT count(*) FROM (${offline})) AS offlineMessages`,
    ),
    statement(`SELECT id FROM (${chats})`),
    statement(`DELETE FROM messages WHERE chat_id IN (${chats})`),
    statement(`DELETE FROM chats WHERE id IN (${chats})`),
    statement(`DELETE FROM offline_message_replies WHERE offline_message_id IN (${offline})`),
    statement(`DELETE FROM offline_messages WHERE id IN (${offline})`),
  ]);
  const counts = counted?.results[0] as Omit<TranscriptPurge, "chatIds"> | undefined;
  return {
    chats: counts?.chats ?? 0,
    messages: counts?.messages ?? 0,
    offlineMessages: counts?.offlineMessages ?? 0,
    chatIds: ((purged?.results ?? []) as { id: string }[]).map((row) => row.id),
  };
}

// ── Audit log ─────────────────────────────────────────────────────────────────────────────

/** What one audit purge removes: the rows with id ≤ `through`. */
export interface AuditPurgePlan {
  through: number;
  count: number;
  /**
   * Row `through`'s hash, the anchor of the `retention` checkpoint; null when verification
   * already starts after `through` (rows that predate the chain), so no checkpoint is needed.
   */
  anchor: string | null;
}

/**
 * The oldest rows older than `cutoff`, up to `limit`: the longest run from the first row (by
 * id) whose every row is older, so what remains is one unbroken chain. A row out of time
 * order (a clock a little behind) waits until the rows before it are old enough too.
 * Null when nothing is due. Throws when the last row to purge has no hash although
 * verification covers it: the chain is already broken there (verification names it), and a
 * checkpoint could not anchor on it.
 */
export async function planAuditPurge(
  db: D1Database,
  cutoff: number,
  limit = AUDIT_PURGE_BATCH,
): Promise<AuditPurgePlan | null> {
  const last = await db
    .prepare(
      `WITH oldest AS (SELECT id, at FROM audit_log ORDER BY id LIMIT ?2),
            due AS (SELECT max(id) AS id FROM oldest
                    WHERE id < coalesce((SELECT min(id) FROM oldest WHERE at >= ?1), id + 1))
       SELECT a.id, a.hash, (SELECT count(*) FROM oldest WHERE id <= a.id) AS count
       FROM due JOIN audit_log a ON a.id = due.id`,
    )
    .bind(cutoff, limit)
    .first<{ id: number; hash: string | null; count: number }>();
  if (!last) return null;
  const start = new AuditChainVerifier(await readLatestCheckpoint(db)).startAfterId;
  if (last.id <= start) return { through: last.id, count: last.count, anchor: null };
  if (last.hash === null) {
    throw new Error(`audit row ${last.id} has no hash (written outside the chain): nothing purged`);
  }
  return { through: last.id, count: last.count, anchor: last.hash };
}

/**
 * The rows a purge appends, in the same transaction as its DELETE: the `retention`
 * checkpoint (when needed), then `audit.retention_purge` with the count and the cutoff.
 */
export function auditPurgeRows(
  plan: AuditPurgePlan,
  cutoff: number,
  now: number,
): AuditRowContent[] {
  const record = auditRowContent(
    {
      actorType: "system",
      actorId: null,
      action: "audit.retention_purge",
      target: null,
      outcome: "success",
      ip: null,
      userAgent: null,
      details: { count: plan.count, cutoff, through: plan.through },
      at: now,
    },
    0,
  );
  if (plan.anchor === null) return [record];
  const checkpoint = { reason: "retention", after: plan.through, anchor: plan.anchor } as const;
  return [checkpointRow(checkpoint, now), record];
}

/** Deletes the rows a purge removes (their keyword index rows go by trigger). */
export function deleteAuditRowsStatement(db: D1Database, through: number): D1PreparedStatement {
  return db.prepare("DELETE FROM audit_log WHERE id <= ?1").bind(through);
}
