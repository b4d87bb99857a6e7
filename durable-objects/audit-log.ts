/**
 * AuditLog — the single serialized writer of the audit hash chain (DESIGN invariant 6):
 * one instance per deployment (`idFromName("global")`) appends every row the Worker and the
 * other Durable Objects produce. Concurrent writers would fork the chain, so this object
 * is the only one in the Worker; the admin CLI appends too, and both take ids as
 * "head + 1" so a lost race fails on the primary key instead of forking.
 *
 * An append is first written to a `pending` table in this object's SQLite storage, so a
 * row is never lost once `append` returns, even when D1 fails or the object is evicted
 * mid-flush; the flush then moves pending rows to D1 and an alarm retries with backoff
 * until D1 takes them. The audit retention purge runs here too (`purgeBefore`), so deleting
 * old rows never races an append.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import {
  type AuditRow,
  type AuditRowContent,
  type ChainHead,
  chainAfterHead,
  TRUNCATION_ACTION,
} from "../src/security/audit-chain.ts";
import {
  type AuditEntry,
  auditRowContent,
  insertAuditRowStatement,
  isAuditIdConflict,
  readAuditHead,
  readAuditRowHash,
  readLastChainedRow,
} from "../src/store/audit.ts";
import {
  AUDIT_PURGE_BATCH,
  type AuditPurgePlan,
  auditPurgeRows,
  deleteAuditRowsStatement,
  planAuditPurge,
} from "../src/store/retention.ts";
import type { Env } from "../worker/env.ts";

/** Rows per D1 batch (one INSERT of 13 parameters each; a batch is one transaction). */
const FLUSH_BATCH = 100;
/** Set when rows wait: if the object is evicted before its flush ends, the alarm flushes. */
const SAFETY_ALARM_MS = 30_000;
/** Backoff after a failed flush: 1 s, 2 s, 4 s, … up to 5 minutes. */
const RETRY_BASE_MS = 1_000;
const RETRY_MAX_MS = 5 * 60_000;
/** Lost races for the next id (the admin CLI appended first) retried with a fresh head. */
const ID_RACE_ATTEMPTS = 5;
/** Largest serialized row accepted (details are small summaries, never documents). */
const MAX_ROW_CHARS = 16_384;

const text = (max: number) => z.string().max(max);

/**
 * Entries are checked before they are queued: one that D1 would refuse would otherwise sit
 * at the front of the queue and hold back every row after it.
 */
const auditEntrySchema = z.object({
  actorType: z.enum(["agent", "visitor", "system", "cli", "anonymous"]),
  actorId: text(256).nullable(),
  action: z.string().min(1).max(100),
  target: text(1024).nullable(),
  outcome: z.enum(["success", "failure", "denied"]),
  ip: text(64).nullable(),
  userAgent: text(512).nullable(),
  details: z.record(z.string(), z.unknown()).optional(),
  at: z.number().int().nonnegative(),
  department: text(128).nullable().optional(),
});

/** The writer's record of the last row it appended (detects rows cut from the end). */
export interface AppendedRow {
  id: number;
  hash: string;
}

/** The deployment's one audit writer. */
export function getAuditLog(env: Pick<Env, "AUDIT_LOG">): DurableObjectStub<AuditLog> {
  return env.AUDIT_LOG.get(env.AUDIT_LOG.idFromName("global"));
}

/**
 * Appends one audit row through the writer. Resolves once the row is stored durably (in D1,
 * or — while D1 fails — in the writer's queue, from which an alarm moves it to D1).
 */
export async function appendAudit(env: Pick<Env, "AUDIT_LOG">, entry: AuditEntry): Promise<void> {
  await getAuditLog(env).append([entry]);
}

export class AuditLog extends DurableObject<Env> {
  readonly #sql: SqlStorage;
  /**
   * The flush mutex: awaiting D1 opens the input gate, so without it two appends would read
   * the same head and one would lose the id race on every row.
   */
  #lock: Promise<void> = Promise.resolve();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    this.#sql.exec(
      `CREATE TABLE IF NOT EXISTS pending (
         seq INTEGER PRIMARY KEY AUTOINCREMENT,
         row TEXT NOT NULL
       )`,
    );
    this.#sql.exec("CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  }

  // ── RPC ─────────────────────────────────────────────────────────────────────

  /**
   * Queues the entries durably, then flushes them to D1 in order. A D1 failure does not
   * reject: the rows stay queued and the alarm retries. Invalid entries reject (a bug in
   * the caller) and nothing of the call is queued.
   */
  async append(entries: AuditEntry[]): Promise<void> {
    const rows = entries.map((entry) => {
      const parsed = auditEntrySchema.safeParse(entry);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new TypeError(`invalid audit entry: ${issue?.path.join(".")}: ${issue?.message}`);
      }
      const content = JSON.stringify(auditRowContent(parsed.data, 0));
      if (content.length > MAX_ROW_CHARS) {
        throw new RangeError(`audit row for ${entry.action} exceeds ${MAX_ROW_CHARS} characters`);
      }
      return content;
    });
    if (rows.length === 0) return;
    for (const row of rows) this.#sql.exec("INSERT INTO pending (row) VALUES (?)", row);
    if ((await this.ctx.storage.getAlarm()) === null) {
      await this.ctx.storage.setAlarm(Date.now() + SAFETY_ALARM_MS);
    }
    await this.#flushOrRetryLater();
  }

  /** Rows queued but not yet in D1 (reported by /healthz). */
  backlog(): number {
    return this.#sql.exec<{ n: number }>("SELECT count(*) AS n FROM pending").one().n;
  }

  /** The last row this writer appended, or null. */
  lastAppended(): AppendedRow | null {
    const value = this.#state("last");
    return value === null ? null : (JSON.parse(value) as AppendedRow);
  }

  /**
   * The audit retention purge (AUDIT_RETENTION_DAYS, run by the cron): deletes the oldest
   * rows older than `cutoff`, up to `limit`, and appends a `retention` checkpoint anchored on
   * the last of them plus an `audit.retention_purge` row, all in one D1 transaction, so the
   * chain still verifies from the checkpoint and a row missing anywhere after it is still a
   * gap. It runs here, under the flush mutex, so it never races this writer's appends; the
   * admin CLI only appends, and a lost race for the next id is retried as for any append.
   * Answers what was purged, or null when nothing was due.
   */
  async purgeBefore(
    cutoff: number,
    now: number,
    limit = AUDIT_PURGE_BATCH,
  ): Promise<AuditPurgePlan | null> {
    let purged: AuditPurgePlan | null = null;
    await this.#exclusive(async () => {
      // Settles a batch in flight and appends the queue first: the purge's own rows then
      // record the latest state, and `inflight` is free for them.
      await this.#flush();
      const plan = await planAuditPurge(this.env.DB, cutoff, limit);
      if (!plan) return;
      const written = await this.#write(auditPurgeRows(plan, cutoff, now), 0, [
        deleteAuditRowsStatement(this.env.DB, plan.through),
      ]);
      this.#done(0, written);
      purged = plan;
    });
    return purged;
  }

  /** Retries the flush (safety net after an eviction, or backoff after a D1 failure). */
  override async alarm(): Promise<void> {
    await this.#flushOrRetryLater();
  }

  // ── Flush ───────────────────────────────────────────────────────────────────

  async #flushOrRetryLater(): Promise<void> {
    try {
      await this.#exclusive(() => this.#flush());
    } catch (error) {
      const retries = Number(this.#state("retries") ?? 0) + 1;
      this.#setState("retries", String(retries));
      const delay = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(retries - 1, 20));
      console.error(
        `[parley] audit: D1 append failed (${this.backlog()} rows kept, retry in ${delay} ms)`,
        error,
      );
      await this.ctx.storage.setAlarm(Date.now() + delay);
    }
  }

  #exclusive(task: () => Promise<void>): Promise<void> {
    const run = this.#lock.then(task);
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /**
   * Moves the rows queued so far to D1, oldest first. Rows queued meanwhile are left to the
   * flush of their own append (waiting on the lock), so one caller never drains forever.
   */
  async #flush(): Promise<void> {
    await this.#settleInflight();
    const upTo = this.#sql
      .exec<{ seq: number | null }>("SELECT max(seq) AS seq FROM pending")
      .one().seq;
    if (upTo !== null) {
      for (;;) {
        const batch = this.#sql
          .exec<{ seq: number; row: string }>(
            "SELECT seq, row FROM pending WHERE seq <= ? ORDER BY seq LIMIT ?",
            upTo,
            FLUSH_BATCH,
          )
          .toArray();
        const last = batch.at(-1);
        if (!last) break;
        const written = await this.#write(
          batch.map((item) => JSON.parse(item.row) as AuditRowContent),
          last.seq,
        );
        this.#done(last.seq, written);
      }
    }
    this.#sql.exec("DELETE FROM state WHERE key = 'retries'");
    // Storage calls keep the input gate closed: no append can queue between check and delete.
    if (this.backlog() === 0) await this.ctx.storage.deleteAlarm();
  }

  /**
   * Appends the rows to D1 after the current head, in one batch with `after` (the purge's
   * DELETE); returns the last row. The batch is recorded as in flight first, so a commit whose
   * answer was lost (or an eviction right after it) is recognised by the next flush instead of
   * being appended twice. `lastSeq` 0: rows that never were in the queue.
   */
  async #write(
    contents: AuditRowContent[],
    lastSeq: number,
    after: D1PreparedStatement[] = [],
  ): Promise<AppendedRow> {
    const db = this.env.DB;
    for (let attempt = 1; ; attempt++) {
      const rows = await this.#chainAfterHead(contents);
      const last = rows.at(-1);
      if (!last?.hash) throw new Error("nothing to append");
      const written = { id: last.id, hash: last.hash };
      this.#setState("inflight", JSON.stringify({ ...written, seq: lastSeq }));
      try {
        await db.batch([...rows.map((row) => insertAuditRowStatement(db, row)), ...after]);
        return written;
      } catch (error) {
        if (isAuditIdConflict(error) && attempt < ID_RACE_ATTEMPTS) continue;
        throw error;
      }
    }
  }

  /** A batch in flight when a flush failed or the object stopped: D1 has it or it retries. */
  async #settleInflight(): Promise<void> {
    const value = this.#state("inflight");
    if (value === null) return;
    const inflight = JSON.parse(value) as AppendedRow & { seq: number };
    // The hash covers the row's id and content: a match proves this very batch committed.
    const stored = await readAuditRowHash(this.env.DB, inflight.id);
    if (stored === inflight.hash)
      this.#done(inflight.seq, { id: inflight.id, hash: inflight.hash });
    else this.#sql.exec("DELETE FROM state WHERE key = 'inflight'");
  }

  /** Rows up to `seq` are in D1, the last of them `written`. */
  #done(seq: number, written: AppendedRow): void {
    this.#sql.exec("DELETE FROM pending WHERE seq <= ?", seq);
    this.#setState("last", JSON.stringify(written));
    this.#sql.exec("DELETE FROM state WHERE key = 'inflight'");
  }

  /**
   * Gives the rows ids and hashes after D1's head, read afresh every time (never cached:
   * the admin CLI appends too).
   */
  async #chainAfterHead(rowsToAppend: AuditRowContent[]): Promise<AuditRow[]> {
    let contents = rowsToAppend;
    const db = this.env.DB;
    const head = await readAuditHead(db);
    const lastAppended = this.lastAppended();
    if (lastAppended && (head?.id ?? 0) < lastAppended.id) {
      // Rows are never held back, so the chain goes on — after a row that records the cut,
      // which verification reports from then on.
      console.error(
        `[parley] audit: rows up to ${lastAppended.id} were removed (head ${head?.id})`,
      );
      contents = [truncationRow(head?.id ?? 0, lastAppended), ...contents];
    }
    let lastChained: ChainHead["lastChained"] = null;
    if (head?.hash) lastChained = { id: head.id, hash: head.hash };
    else if (head) {
      lastChained = await readLastChainedRow(db);
      if (lastChained) {
        console.error(`[parley] audit: row ${head.id} has no hash (written outside the chain)`);
      }
    }
    return chainAfterHead({ head, lastChained }, contents, Date.now());
  }

  #state(key: string): string | null {
    const rows = this.#sql
      .exec<{ value: string }>("SELECT value FROM state WHERE key = ?", key)
      .toArray();
    return rows[0]?.value ?? null;
  }

  #setState(key: string, value: string): void {
    this.#sql.exec("INSERT OR REPLACE INTO state (key, value) VALUES (?, ?)", key, value);
  }
}

/** The row that records rows missing from the end of the log (see TRUNCATION_ACTION). */
function truncationRow(headId: number, lastAppended: AppendedRow): AuditRowContent {
  return {
    id: 0, // assigned when chained
    at: Date.now(),
    actor_type: "system",
    actor_id: null,
    action: TRUNCATION_ACTION,
    target: null,
    outcome: "failure",
    ip: null,
    user_agent: null,
    details: JSON.stringify({
      missingFrom: headId + 1,
      missingTo: lastAppended.id,
      lastHash: lastAppended.hash,
    }),
    department: null,
  };
}
